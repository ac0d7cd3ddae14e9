// From the decision graph to classic BPF. Nodes are laid out in reverse post-order, so every edge points
// forward; a test loads its word only when some path into it leaves something else in A (loads are never
// assumed across a join unless every predecessor leaves the same word — the libseccomp 2.5.4 miscompile);
// a jump farther than 255 instructions goes through a `ja` trampoline, or through a copy of the RET it
// targets, which costs the same and runs one instruction less.

import { BPF_MAXINSNS, BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W, argOffset, insn, OFFSET_ARCH, OFFSET_NR, type Insn } from "./bpf.js";
import { wordKey, type DNode, type JumpOp, type Word } from "./lower.js";
import { threadJumps, type TNode } from "./thread.js";
import { topoOrder } from "./topo-order.js";

const JUMP: Readonly<Record<JumpOp, number>> = { jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET };

function offsetOf(w: Word): number {
  return w.kind === "nr" ? OFFSET_NR : w.kind === "arch" ? OFFSET_ARCH : argOffset(w.arg, w.hi);
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

export function generate(dag: DNode): Generated {
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
      slots.push({ code: BPF_LD | BPF_W | BPF_ABS, k: offsetOf(n.word) });
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

  // Past the kernel's limit there is nothing to lay out: the caller reports the size.
  if (slots.length > BPF_MAXINSNS) return { program: [], comments: new Map(), size: slots.length };

  // Far jumps: retarget through a trampoline placed right after the jump, until every offset fits in 8 bits.
  // Each pass fixes every far jump it sees (inserting from the end, so earlier indexes stay valid).
  for (;;) {
    const pc = new Map<Slot, number>(slots.map((s, i) => [s, i]));
    const far: { at: number; side: "jt" | "jf" }[] = [];
    slots.forEach((s, i) => {
      if ((s.code & 0x07) !== BPF_JMP || (s.code & 0xf0) === BPF_JA) return;
      for (const side of ["jt", "jf"] as const) if (pc.get(s[side]!)! - i - 1 > 255) far.push({ at: i, side });
    });
    if (!far.length) break;
    for (let n = far.length - 1; n >= 0; n--) {
      const { at, side } = far[n]!;
      const s = slots[at]!;
      const target = s[side]!;
      const isRet = (target.code & 0x07) === BPF_RET;
      const tramp: Slot = isRet ? { code: target.code, k: target.k } : { code: BPF_JMP | BPF_JA, k: 0, jt: target };
      slots.splice(at + 1, 0, tramp);
      s[side] = tramp;
    }
    if (slots.length > BPF_MAXINSNS) return { program: [], comments: new Map(), size: slots.length };
  }

  const pc = new Map<Slot, number>(slots.map((s, i) => [s, i]));
  const comments = new Map<number, string>();
  const program = slots.map((s, i) => {
    if (s.comment) comments.set(i, s.comment);
    if ((s.code & 0x07) !== BPF_JMP) return insn(s.code, s.k);
    if ((s.code & 0xf0) === BPF_JA) return insn(s.code, pc.get(s.jt!)! - i - 1);
    const jt = pc.get(s.jt!)! - i - 1;
    const jf = pc.get(s.jf!)! - i - 1;
    if (jt < 0 || jf < 0 || jt > 255 || jf > 255) throw new Error(`internal: jump offsets ${jt}/${jf} at ${i}`);
    return insn(s.code, s.k, jt, jf);
  });
  return { program, comments, size: program.length };
}
