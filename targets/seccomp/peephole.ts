// The final clean-up of a filter, on its instructions as a graph (every edge explicit, no layout yet). Jump
// threading leaves behind what only shows once tests became instructions: conditional jumps whose two targets
// are the same instruction, loads of the word A already holds on every path into them, loads nobody reads,
// and identical sub-programs (threading turns the tails of different rules into equal copies). Each step
// below keeps the filter's answer on every input; together they run until nothing changes.
//
// - A `ja`, and a conditional jump with one target twice, is skipped: edges go straight to the target.
// - A load (or an `and`) that leaves A as every path into it already has it is skipped (the state of A is
//   known at an instruction only when every predecessor leaves the same one: the libseccomp 2.5.4 miscompile
//   assumed it across a join).
// - A load or `and` whose result no path reads before the next load or `ret #k` is skipped.
// - Instructions with the same opcode, constant and successors are one instruction (bottom-up, so equal
//   tails of any length become one), whatever path reaches them: what an instruction does depends only on
//   the machine state and its successors.
// Opcodes other than `ld [k]`, `and #k`, the jumps and `ret` are kept as they are and assumed to read and
// change anything.

import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, type Insn } from "./bpf.js";
import { topoOrder } from "./topo-order.js";

/** One instruction with explicit successors. */
export interface Ins {
  readonly id: number;
  readonly code: number;
  readonly k: number;
  /** Straight-line instructions: the one after it; `ja`: its target. */
  next?: Ins;
  /** Conditional jumps: the targets when the test holds and when it does not. */
  jt?: Ins;
  jf?: Ins;
  /** A note for the disassembly (dropped when instructions with different notes become one). */
  comment?: string;
}

const LD_ABS = BPF_LD | BPF_W | BPF_ABS;
const AND_K = BPF_ALU | BPF_AND | BPF_K;
const JA = BPF_JMP | BPF_JA;
const FULL = 0xffffffff;

export const isRet = (n: { code: number }) => (n.code & 0x07) === BPF_RET;
export const isJump = (n: { code: number }) => (n.code & 0x07) === BPF_JMP && n.code !== JA;
/** Falls through to `next` (everything that is not a jump or a ret). */
export const isStraight = (n: { code: number }) => !isRet(n) && (n.code & 0x07) !== BPF_JMP;

export function successors(n: Ins): Ins[] {
  if (isJump(n)) return [n.jt!, n.jf!];
  return n.next ? [n.next] : [];
}

/** Builds instruction nodes with fresh ids. */
export class InsFactory {
  private next = 0;
  make(code: number, k: number, comment?: string): Ins {
    return { id: this.next++, code, k: k >>> 0, ...(comment ? { comment } : {}) };
  }
}

/** A classic BPF program (already verified: every jump forward and in range) as a graph. */
export function programGraph(program: readonly Insn[]): Ins {
  const f = new InsFactory();
  const nodes = program.map((i) => f.make(i.code, i.k));
  program.forEach((i, pc) => {
    const n = nodes[pc]!;
    if (n.code === JA) n.next = nodes[pc + 1 + (i.k >>> 0)]!;
    else if (isJump(n)) {
      n.jt = nodes[pc + 1 + i.jt]!;
      n.jf = nodes[pc + 1 + i.jf]!;
    } else if (!isRet(n)) n.next = nodes[pc + 1]!;
  });
  return nodes[0]!;
}

/** Children before parents. */
const bottomUp = (root: Ins) => topoOrder(root, successors).reverse();

/** Rewrites every edge through `to` (children first), skipping `ja`s and same-target tests; the new root. */
function redirect(root: Ins, skip: ReadonlyMap<Ins, Ins>): Ins {
  const to = new Map<Ins, Ins>();
  const dest = (n: Ins) => to.get(n) ?? n;
  for (const n of bottomUp(root)) {
    if (n.next) n.next = dest(n.next);
    if (n.jt) n.jt = dest(n.jt);
    if (n.jf) n.jf = dest(n.jf);
    const s = skip.get(n);
    if (n.code === JA) to.set(n, n.next!);
    else if (isJump(n) && n.jt === n.jf) to.set(n, n.jt!);
    else if (s) to.set(n, dest(s));
  }
  return dest(root);
}

/** What A holds: word `off` of seccomp_data ANDed with `mask`, as a key; null when not known. */
type AState = string | null;
const state = (off: number, mask: number) => `${off}&${mask >>> 0}`;
const parse = (s: string) => s.split("&").map(Number) as [number, number];

/** Loads and `and`s that change nothing, or whose result nobody reads: each with where its edges should go. */
function uselessInstructions(root: Ins): Map<Ins, Ins> {
  const order = topoOrder(root, successors);
  const entry = new Map<Ins, AState>([[root, null]]);
  const skip = new Map<Ins, Ins>();
  for (const n of order) {
    const s = entry.get(n)!;
    let out: AState = null;
    if (n.code === LD_ABS) {
      out = state(n.k, FULL);
      if (s === out) skip.set(n, n.next!);
      else if (s !== null && n.next!.code === AND_K && s === state(n.k, n.next!.k)) skip.set(n, n.next!.next!); // `ld; and` back to the same
    } else if (n.code === AND_K) {
      if (s !== null) {
        const [off, mask] = parse(s);
        out = state(off, mask & n.k);
        if (out === s) skip.set(n, n.next!);
      }
    } else if (n.code === JA || isJump(n)) out = s;
    for (const c of successors(n)) {
      if (!entry.has(c)) entry.set(c, out);
      else if (entry.get(c) !== out) entry.set(c, null);
    }
  }
  // Liveness: does some path from here read A before overwriting it or returning a constant?
  const live = new Map<Ins, boolean>();
  for (const n of [...order].reverse()) {
    let reads: boolean;
    if (isRet(n)) reads = n.code !== (BPF_RET | BPF_K);
    else if (isJump(n)) reads = true;
    else if (n.code === JA) reads = live.get(n.next!)!;
    else if (n.code === LD_ABS || n.code === AND_K) {
      const used = live.get(n.next!)!;
      if (!used && !skip.has(n)) skip.set(n, n.next!);
      reads = n.code === AND_K && used;
    } else reads = true;
    live.set(n, reads);
  }
  return skip;
}

/** Makes instructions with equal opcode, constant and successors one instruction; the new root. */
function share(root: Ins): Ins {
  const to = new Map<Ins, Ins>();
  const seen = new Map<string, Ins>();
  for (const n of bottomUp(root)) {
    if (n.next) n.next = to.get(n.next)!;
    if (n.jt) n.jt = to.get(n.jt)!;
    if (n.jf) n.jf = to.get(n.jf)!;
    const key = `${n.code},${n.k},${n.next?.id ?? ""},${n.jt?.id ?? ""},${n.jf?.id ?? ""}`;
    const same = seen.get(key);
    if (same) {
      if (same.comment !== n.comment) delete same.comment;
      to.set(n, same);
    } else {
      seen.set(key, n);
      to.set(n, n);
    }
  }
  return to.get(root)!;
}

export const countInstructions = (root: Ins) => topoOrder(root, successors).length;

/** Runs every step until the graph stops changing; the new root. The graph is changed in place. */
export function peephole(root: Ins): Ins {
  let size = countInstructions(root);
  for (;;) {
    root = share(redirect(root, uselessInstructions(root)));
    const now = countInstructions(root);
    if (now === size) return root;
    size = now;
  }
}
