// From the decision graph to classic BPF. Each threaded test becomes a load (only when some path into it
// leaves something else in A: loads are never assumed across a join unless every predecessor leaves the same
// word — the libseccomp 2.5.4 miscompile), an optional `and` and a conditional jump; peephole.ts then cleans
// the instructions up as a graph. The layout places chains of load-and-test in reverse post-order, so every
// edge points forward, and a jump farther than 255 instructions goes through a shared trampoline: the
// nearest equal `ret` or `ja` within reach, else a new one right after the jump.

import { type Endianness, BPF_MAXINSNS, BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W, argOffset, insn, OFFSET_ARCH, OFFSET_NR, type Insn } from "./bpf.js";
import { wordKey, type DNode, type JumpOp, type Word } from "./lower.js";
import { InsFactory, isJump, isRet, isStraight, peephole, programGraph, successors, type Ins } from "./peephole.js";
import { threadJumps, type TNode } from "./thread.js";
import { topoOrder } from "./topo-order.js";

const JUMP: Readonly<Record<JumpOp, number>> = { jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET };

/** Where a word sits in `seccomp_data`: an argument's halves swap places on a big-endian machine. */
function offsetOf(w: Word, endianness: Endianness): number {
  return w.kind === "nr" ? OFFSET_NR : w.kind === "arch" ? OFFSET_ARCH : argOffset(w.arg, w.hi, endianness);
}

/** What A holds: a word, possibly masked. */
const stateOf = (n: Extract<TNode, { kind: "test" }>) => `${wordKey(n.word)}&${n.mask ?? ""}`;

interface Slot {
  code: number;
  k: number;
  /** For conditional jumps: the slots jumped to; for `ja`: `jt` only. */
  jt?: Slot;
  jf?: Slot;
  comment?: string;
}

export interface Generated {
  /** Empty when the program would exceed BPF_MAXINSNS; `size` then says by how much. */
  readonly program: Insn[];
  readonly size: number;
  /** A note per pc, for the disassembly. */
  readonly comments: ReadonlyMap<number, string>;
}

export interface GenerateOptions {
  /** The byte order of the arch's seccomp_data: where each half of an argument lies. */
  readonly endianness?: Endianness;
  /** Run the peephole pass (peephole.ts); off only to compare with it. */
  readonly peephole?: boolean;
}

export function generate(dag: DNode, options: GenerateOptions = {}): Generated {
  const endianness = options.endianness ?? "little";
  const root = threadJumps(dag);
  // Reverse post-order: every edge points forward. Children are visited yes-then-no, so `no` usually falls through.
  const nodes = topoOrder(root, (n) => (n.kind === "test" ? [n.yes, n.no] : []));
  // The A state on entry to each node: known only when every predecessor leaves the same one.
  const entry = new Map<number, string | null>();
  entry.set(root.id, null);
  for (const n of nodes) {
    if (n.kind !== "test") continue;
    const out = stateOf(n);
    for (const c of [n.yes, n.no]) {
      if (!entry.has(c.id)) entry.set(c.id, out);
      else if (entry.get(c.id) !== out) entry.set(c.id, null);
    }
  }

  const head = new Map<number, Slot>();
  const slots: Slot[] = [];
  const pending: { slot: Slot; yes: TNode; no: TNode }[] = [];
  for (const n of nodes) {
    if (n.kind === "ret") {
      const s: Slot = { code: BPF_RET | BPF_K, k: n.value };
      head.set(n.id, s);
      slots.push(s);
      continue;
    }
    const first = slots.length;
    if (entry.get(n.id) !== stateOf(n)) {
      slots.push({ code: BPF_LD | BPF_W | BPF_ABS, k: offsetOf(n.word, endianness) });
      if (n.mask !== undefined) slots.push({ code: BPF_ALU | BPF_AND | BPF_K, k: n.mask });
    }
    const j: Slot = { code: BPF_JMP | JUMP[n.op] | BPF_K, k: n.k, ...(n.note ? { comment: n.note } : {}) };
    slots.push(j);
    head.set(n.id, slots[first]!);
    pending.push({ slot: j, yes: n.yes, no: n.no });
  }
  for (const p of pending) {
    p.slot.jt = head.get(p.yes.id)!;
    p.slot.jf = head.get(p.no.id)!;
  }

  let graph = slotGraph(slots);
  if (options.peephole !== false) graph = peephole(graph);
  return layout(graph);
}

/** The slots as instruction nodes: a load or `and` continues with the slot after it. */
function slotGraph(slots: readonly Slot[]): Ins {
  const f = new InsFactory();
  const node = new Map<Slot, Ins>(slots.map((s) => [s, f.make(s.code, s.k, s.comment)]));
  slots.forEach((s, i) => {
    const n = node.get(s)!;
    if (isJump(n)) {
      n.jt = node.get(s.jt!)!;
      n.jf = node.get(s.jf!)!;
    } else if (!isRet(n)) n.next = node.get(slots[i + 1]!)!;
  });
  return node.get(slots[0]!)!;
}

/**
 * Places the instructions so every jump points forward: chains (a load or `and` followed by the instruction
 * it falls into) in reverse post-order of the graph of chains, children visited true-then-false, so the
 * false side usually comes next. An instruction that more than one load or `and` falls into is reached from
 * the others through a `ja` (or a copy, when it is a `ret`). Then far jumps get trampolines.
 */
export function layout(root: Ins): Generated {
  const order = topoOrder(root, successors);
  if (order.length > BPF_MAXINSNS) return { program: [], comments: new Map(), size: order.length };
  // Who falls into each instruction: the first load or `and` in order that continues with it.
  const fallIn = new Map<Ins, Ins>();
  for (const n of order) if (isStraight(n) && !fallIn.has(n.next!)) fallIn.set(n.next!, n);
  type Chain = { id: number; nodes: Ins[] };
  const chainOf = new Map<Ins, Chain>();
  for (const n of order) {
    if (fallIn.has(n)) continue; // inside the chain of the instruction that falls into it
    const chain: Chain = { id: n.id, nodes: [n] };
    chainOf.set(n, chain);
    for (let cur = n; isStraight(cur) && fallIn.get(cur.next!) === cur; cur = cur.next!) {
      chain.nodes.push(cur.next!);
      chainOf.set(cur.next!, chain);
    }
  }
  // A `ret` that is a chain of its own goes right after the last chain that jumps to it (and is copied as a
  // trampoline for earlier jumps that cannot reach it): placed in the graph's order it would drift to the
  // end of the program, far from every jump to it.
  const lone = (c: Chain) => c.nodes.length === 1 && isRet(c.nodes[0]!);
  const exits = (c: Chain) => successors(c.nodes[c.nodes.length - 1]!).map((n) => chainOf.get(n)!);
  const chains = topoOrder(chainOf.get(root)!, (c) => exits(c).filter((k) => !lone(k)));
  const rets = new Map<Chain, Chain[]>(); // by the last chain that jumps to them
  const retSeen = new Set<Chain>();
  for (let i = chains.length - 1; i >= 0; i--) {
    for (const k of exits(chains[i]!)) {
      if (!lone(k) || retSeen.has(k)) continue;
      retSeen.add(k);
      const list = rets.get(chains[i]!) ?? [];
      list.push(k);
      rets.set(chains[i]!, list);
    }
  }
  const placed = lone(chainOf.get(root)!) ? [chainOf.get(root)!] : chains.flatMap((c) => [c, ...(rets.get(c) ?? [])]);
  const slotOf = new Map<Ins, Slot>();
  const slots: Slot[] = [];
  const links: { slot: Slot; jt: Ins; jf?: Ins }[] = [];
  for (const chain of placed) {
    for (const n of chain.nodes) {
      const s: Slot = { code: n.code, k: n.k, ...(n.comment ? { comment: n.comment } : {}) };
      slotOf.set(n, s);
      slots.push(s);
      if (isJump(n)) links.push({ slot: s, jt: n.jt!, jf: n.jf! });
    }
    const last = chain.nodes[chain.nodes.length - 1]!;
    if (isStraight(last)) {
      // Falls into an instruction placed elsewhere.
      const to = last.next!;
      if (isRet(to)) slots.push({ code: to.code, k: to.k });
      else {
        const s: Slot = { code: BPF_JMP | BPF_JA, k: 0 };
        slots.push(s);
        links.push({ slot: s, jt: to });
      }
    }
  }
  for (const l of links) {
    l.slot.jt = slotOf.get(l.jt)!;
    if (l.jf) l.slot.jf = slotOf.get(l.jf)!;
  }
  if (slots.length > BPF_MAXINSNS) return { program: [], comments: new Map(), size: slots.length };
  const program = farJumps(slots);
  if (program.length > BPF_MAXINSNS) return { program: [], comments: new Map(), size: program.length };

  const pc = new Map<Slot, number>(program.map((s, i) => [s, i]));
  const comments = new Map<number, string>();
  const out = program.map((s, i) => {
    if (s.comment) comments.set(i, s.comment);
    if ((s.code & 0x07) !== BPF_JMP) return insn(s.code, s.k);
    if ((s.code & 0xf0) === BPF_JA) return insn(s.code, pc.get(s.jt!)! - i - 1);
    const jt = pc.get(s.jt!)! - i - 1;
    const jf = pc.get(s.jf!)! - i - 1;
    if (jt < 0 || jf < 0 || jt > 255 || jf > 255) throw new Error(`internal: jump offsets ${jt}/${jf} at ${i}`);
    return insn(s.code, s.k, jt, jf);
  });
  return { program: out, comments, size: out.length };
}

/**
 * Retargets every conditional jump farther than 255 instructions through a trampoline: the nearest equal
 * `ret` or `ja` to the same target within reach (so many far jumps share one), else a new one right after
 * the jump (a copy of the `ret`, or a `ja`). Built from the end: a trampoline placed right after a jump never
 * moves anything that jump or any later one reaches, so one pass suffices.
 */
function farJumps(slots: readonly Slot[]): Slot[] {
  const isRetSlot = (s: Slot) => (s.code & 0x07) === BPF_RET;
  const isJa = (s: Slot) => s.code === (BPF_JMP | BPF_JA);
  /** What reaching a slot means: any equal `ret` will do; a `ja` is its target. */
  const meaning = (s: Slot): Slot | string => (isRetSlot(s) ? `${s.code},${s.k}` : isJa(s) ? meaning(s.jt!) : s);
  const reversed: Slot[] = [];
  const fromEnd = new Map<Slot, number>(); // slots after it
  const nearest = new Map<Slot | string, Slot>(); // the slot standing for a meaning that is nearest the front
  const put = (s: Slot) => {
    fromEnd.set(s, reversed.length);
    reversed.push(s);
    nearest.set(meaning(s), s);
  };
  for (let i = slots.length - 1; i >= 0; i--) {
    const s = slots[i]!;
    if ((s.code & 0x07) === BPF_JMP && !isJa(s)) {
      for (let fixed = false; !fixed; ) {
        fixed = true;
        for (const side of ["jt", "jf"] as const) {
          const target = s[side]!;
          if (reversed.length - fromEnd.get(target)! - 1 <= 255) continue;
          const m = meaning(target);
          const near = nearest.get(m)!;
          if (reversed.length - fromEnd.get(near)! - 1 <= 255) s[side] = near;
          else {
            const tramp: Slot = typeof m === "string" ? { code: target.code, k: target.k } : { code: BPF_JMP | BPF_JA, k: 0, jt: m };
            put(tramp);
            s[side] = tramp;
            fixed = false; // the other side is one farther now
          }
        }
      }
    }
    put(s);
  }
  return reversed.reverse();
}

/** The peephole pass on a finished (verified) program, laid out again; the program itself if that would not fit. */
export function peepholeProgram(program: readonly Insn[]): Insn[] {
  const out = layout(peephole(programGraph(program)));
  return out.size > BPF_MAXINSNS ? [...program] : out.program;
}
