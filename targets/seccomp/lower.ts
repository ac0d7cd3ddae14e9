// Lowering the IR to a decision graph for one filter: the Kafel-style middle representation. Every syscall
// number of each arch gets a verdict — a constant action, or a graph of 32-bit word tests over its arguments
// ending in actions — and the numbers are partitioned into ranges of equal verdict. Nodes are hash-consed,
// so identical verdicts (and identical argument programs) are one node, and a test whose two outcomes are
// the same node disappears.

import { ACTION_STRICTNESS, stricterAction } from "../../compiler/evaluator/evaluate.js";
import type { Action, ArgCondition, IR } from "../../compiler/ir/types.js";
import { syscallTable, type Arch } from "../../compiler/linux-abi/index.js";
import { actionValue } from "./actions.js";
import { X32_SYSCALL_BIT } from "./bpf.js";
import { networkSyscalls, type Implications, type NetworkSyscallOptions } from "../../compiler/evaluator/network-syscalls.js";
import { AUDIT_ARCH, foreignAction } from "./semantics.js";

/** What a test looks at: the syscall number, the arch, or one 32-bit half of an argument. */
export type Word = { readonly kind: "nr" } | { readonly kind: "arch" } | { readonly kind: "arg"; readonly arg: number; readonly hi: boolean };

export type JumpOp = "jeq" | "jgt" | "jge" | "jset";

export type DNode =
  | { readonly kind: "ret"; readonly id: number; readonly action: Action; readonly value: number }
  | {
      readonly kind: "test";
      readonly id: number;
      readonly word: Word;
      /** Applied with ALU AND before the jump. */
      readonly mask?: number;
      readonly op: JumpOp;
      readonly k: number;
      readonly yes: DNode;
      readonly no: DNode;
      /** For the disassembly: what this test means. */
      readonly note?: string;
    };

export function wordKey(w: Word): string {
  return w.kind === "arg" ? `a${w.arg}${w.hi ? "h" : "l"}` : w.kind;
}

/** Hash-consing builder: equal structure, equal object. */
export class Graph {
  private readonly nodes = new Map<string, DNode>();
  private next = 0;

  ret(action: Action): DNode {
    const value = actionValue(action);
    const key = `r${value}`;
    let n = this.nodes.get(key);
    if (!n) this.nodes.set(key, (n = { kind: "ret", id: this.next++, action, value }));
    return n;
  }

  test(word: Word, op: JumpOp, k: number, yes: DNode, no: DNode, mask?: number, note?: string): DNode {
    if (yes === no) return yes;
    k >>>= 0;
    const m = mask === undefined || mask >>> 0 === 0xffffffff ? undefined : mask >>> 0;
    const key = `t${wordKey(word)}|${m ?? ""}|${op}|${k}|${yes.id}|${no.id}`;
    let n = this.nodes.get(key);
    if (!n) this.nodes.set(key, (n = { kind: "test", id: this.next++, word, ...(m !== undefined ? { mask: m } : {}), op, k, yes, no, ...(note ? { note } : {}) }));
    return n;
  }
}

const LO = 0xffffffffn;
const split = (v: bigint) => ({ hi: Number((v >> 32n) & LO), lo: Number(v & LO) });

/** One 64-bit condition as word tests, exiting to `t` when it holds and `f` when it does not. */
export function lowerCondition(g: Graph, c: ArgCondition, t: DNode, f: DNode): DNode {
  const v = BigInt(c.value);
  const { hi, lo } = split(v);
  const H: Word = { kind: "arg", arg: c.arg, hi: true };
  const L: Word = { kind: "arg", arg: c.arg, hi: false };
  const note = `arg${c.arg} ${c.op === "&==" ? `& ${c.mask} ==` : c.op} ${c.value}`;
  const MAX = (1n << 64n) - 1n;
  switch (c.op) {
    case "==":
      return g.test(H, "jeq", hi, g.test(L, "jeq", lo, t, f, undefined, note), f, undefined, note);
    case "!=":
      return lowerCondition(g, { ...c, op: "==" }, f, t);
    case ">":
      if (v === MAX) return f;
      return g.test(H, "jgt", hi, t, g.test(H, "jeq", hi, g.test(L, "jgt", lo, t, f, undefined, note), f, undefined, note), undefined, note);
    case ">=":
      if (v === 0n) return t;
      return g.test(H, "jgt", hi, t, g.test(H, "jeq", hi, g.test(L, "jge", lo, t, f, undefined, note), f, undefined, note), undefined, note);
    case "<":
      return lowerCondition(g, { ...c, op: ">=" }, f, t);
    case "<=":
      return lowerCondition(g, { ...c, op: ">" }, f, t);
    case "&==": {
      const m = BigInt(c.mask!);
      if ((v & ~m) !== 0n) return f; // bits outside the mask can never compare equal
      const mh = split(m).hi;
      const ml = split(m).lo;
      const word = (w: Word, mask: number, want: number, yes: DNode, no: DNode): DNode => {
        if (mask === 0) return yes; // want is 0 here: checked above
        if (want === 0) return g.test(w, "jset", mask, no, yes, undefined, note); // no bit of the mask set
        if (want === mask && (mask & (mask - 1)) === 0) return g.test(w, "jset", mask, yes, no, undefined, note); // the one bit set
        return g.test(w, "jeq", want, yes, no, mask, note);
      };
      return word(H, mh, split(v).hi, word(L, ml, split(v).lo, t, f), f);
    }
  }
}

export function lowerConjunction(g: Graph, conds: readonly ArgCondition[], t: DNode, f: DNode): DNode {
  let node = t;
  for (let i = conds.length - 1; i >= 0; i--) node = lowerCondition(g, conds[i]!, node, f);
  return node;
}

/** Replace each leaf of `n` by `leaf(action)`. */
function mapLeaves(g: Graph, n: DNode, leaf: (a: Action) => DNode, memo = new Map<number, DNode>()): DNode {
  const hit = memo.get(n.id);
  if (hit) return hit;
  const out = n.kind === "ret" ? leaf(n.action) : g.test(n.word, n.op, n.k, mapLeaves(g, n.yes, leaf, memo), mapLeaves(g, n.no, leaf, memo), n.mask, n.note);
  memo.set(n.id, out);
  return out;
}

/** The verdict of one syscall: the policy's rules as a first-match list in precedence order, then the implied rules. */
export function syscallVerdict(g: Graph, ir: IR, imp: Implications, name: string): DNode {
  const candidates = ir.syscalls.rules
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => rule.syscalls.includes(name))
    // The evaluator's precedence as a total order: later layer, then stricter action, then later rule.
    .sort((a, b) => b.rule.layer - a.rule.layer || ACTION_STRICTNESS[b.rule.action.type] - ACTION_STRICTNESS[a.rule.action.type] || b.index - a.index);
  // Within a run of equal layer and strictness whose rules all have the same action, the order cannot
  // change the answer; source order tests the values as the author listed them (often the common first).
  for (let i = 0; i < candidates.length; ) {
    let j = i + 1;
    const same = (k: number) =>
      candidates[k]!.rule.layer === candidates[i]!.rule.layer && actionValue(candidates[k]!.rule.action) === actionValue(candidates[i]!.rule.action);
    while (j < candidates.length && same(j)) j++;
    const run = candidates.slice(i, j).sort((a, b) => a.index - b.index);
    candidates.splice(i, j - i, ...run);
    i = j;
  }
  let policy = g.ret(ir.syscalls.defaultAction);
  const firstUnconditional = candidates.findIndex((c) => c.rule.conditions.length === 0);
  const live = firstUnconditional >= 0 ? candidates.slice(0, firstUnconditional + 1) : candidates;
  for (let i = live.length - 1; i >= 0; i--) policy = lowerConjunction(g, live[i]!.rule.conditions, g.ret(live[i]!.rule.action), policy);

  const implied = imp.rules.filter((r) => r.syscall === name);
  if (!implied.length) return policy;
  let impliedNode = g.ret({ type: "allow" });
  for (let i = implied.length - 1; i >= 0; i--) impliedNode = lowerConjunction(g, implied[i]!.conditions, g.ret(implied[i]!.action), impliedNode);
  const byAction = new Map<number, DNode>();
  return mapLeaves(g, policy, (a) => {
    const key = actionValue(a);
    let n = byAction.get(key);
    if (!n) byAction.set(key, (n = mapLeaves(g, impliedNode, (b) => g.ret(stricterAction(a, b)))));
    return n;
  });
}

export interface Range {
  readonly lo: number;
  readonly hi: number;
  readonly verdict: DNode;
}

/** Every u32 syscall number of one arch, as maximal ranges of equal verdict. */
export function syscallRanges(g: Graph, ir: IR, imp: Implications, arch: Arch): Range[] {
  const byNumber = new Map<number, DNode>();
  for (const [name, nr] of Object.entries(syscallTable(arch))) byNumber.set(nr, syscallVerdict(g, ir, imp, name));
  const dflt = g.ret(ir.syscalls.defaultAction);
  const points = [...byNumber.keys()].sort((a, b) => a - b);
  const ranges: Range[] = [];
  const push = (lo: number, hi: number, verdict: DNode) => {
    if (lo > hi) return;
    const last = ranges[ranges.length - 1];
    if (last && last.verdict === verdict && last.hi + 1 === lo) ranges[ranges.length - 1] = { lo: last.lo, hi, verdict };
    else ranges.push({ lo, hi, verdict });
  };
  let at = 0;
  for (const p of points) {
    push(at, p - 1, dflt);
    push(p, p, byNumber.get(p)!);
    at = p + 1;
  }
  if (arch === "x86_64") {
    // x32 syscalls share AUDIT_ARCH_X86_64 and set bit 30 of the number: never let them reach the default.
    push(at, X32_SYSCALL_BIT - 1, dflt);
    push(X32_SYSCALL_BIT, 0xfffffffe, g.ret(foreignAction(ir)));
    // -1 is what a tracer writes to skip a syscall: the default action, as for any non-syscall number.
    push(0xffffffff, 0xffffffff, dflt);
  } else push(at, 0xffffffff, dflt);
  return ranges;
}

/** Above this many ranges the optimal tree search is skipped for the plain balanced tree (cost grows as n³). */
const OPTIMAL_TREE_LIMIT = 96;

/**
 * The dispatch tree over ranges. Its depth is that of a balanced `jge` tree (⌈log2 ranges⌉ tests for every
 * number, allowed or denied), and within that depth it uses as few tests as possible: a span made of one
 * background verdict and a few isolated numbers is a chain of `jeq` (one test per number instead of two
 * `jge`), chosen by dynamic programming over spans and depth budgets.
 */
export function rangeTree(g: Graph, ranges: readonly Range[], names: (nr: number) => string | undefined): DNode {
  const n = ranges.length;
  const label = (op: string, v: number) => {
    const name = names(v);
    return `nr ${op} ${v}${name ? ` (${name})` : ""}`;
  };
  const jge = (mid: number, hi: DNode, lo: DNode) => g.test({ kind: "nr" }, "jge", ranges[mid]!.lo, hi, lo, undefined, label(">=", ranges[mid]!.lo));
  const balanced = (i: number, j: number): DNode => {
    if (i === j) return ranges[i]!.verdict;
    const mid = (i + j + 1) >> 1;
    return jge(mid, balanced(mid, j), balanced(i, mid - 1));
  };
  if (n > OPTIMAL_TREE_LIMIT) return balanced(0, n - 1);

  /** Span i..j as one background verdict plus single numbers of other verdicts: those numbers, or undefined. */
  const isolated = (i: number, j: number): { background: DNode; singles: Range[] } | undefined => {
    let background: DNode | undefined;
    for (let k = i; k <= j && !background; k++) if (ranges[k]!.lo !== ranges[k]!.hi) background = ranges[k]!.verdict;
    background ??= ranges[j]!.verdict;
    const singles: Range[] = [];
    for (let k = i; k <= j; k++) {
      const r = ranges[k]!;
      if (r.verdict === background) continue;
      if (r.lo !== r.hi) return undefined;
      singles.push(r);
    }
    return { background, singles };
  };

  const budget = Math.ceil(Math.log2(n));
  type Plan = { cost: number; kind: "leaf" } | { cost: number; kind: "chain" } | { cost: number; kind: "split"; mid: number };
  const memo = new Map<number, Plan | null>();
  const plan = (i: number, j: number, d: number): Plan | null => {
    if (i === j) return { cost: 0, kind: "leaf" };
    if (d === 0) return null;
    const key = (i * n + j) * (budget + 1) + d;
    if (memo.has(key)) return memo.get(key)!;
    let best: Plan | null = null;
    const iso = isolated(i, j);
    if (iso && iso.singles.length <= d) best = { cost: iso.singles.length, kind: "chain" };
    for (let mid = i + 1; mid <= j; mid++) {
      const a = plan(i, mid - 1, d - 1);
      if (!a || (best && a.cost + 1 >= best.cost)) continue;
      const b = plan(mid, j, d - 1);
      if (!b) continue;
      const cost = 1 + a.cost + b.cost;
      // Prefer the split nearest the middle on a tie, so equal trees come out the same on every run.
      if (!best || cost < best.cost) best = { cost, kind: "split", mid };
    }
    memo.set(key, best);
    return best;
  };
  const build = (i: number, j: number, d: number): DNode => {
    const p = plan(i, j, d)!;
    if (p.kind === "leaf") return ranges[i]!.verdict;
    if (p.kind === "chain") {
      const iso = isolated(i, j)!;
      let node = iso.background;
      for (let k = iso.singles.length - 1; k >= 0; k--) {
        const s = iso.singles[k]!;
        node = g.test({ kind: "nr" }, "jeq", s.lo, s.verdict, node, undefined, label("==", s.lo));
      }
      return node;
    }
    return jge(p.mid, build(p.mid, j, d - 1), build(i, p.mid - 1, d - 1));
  };
  return build(0, n - 1, budget);
}

export interface LoweredFilter {
  readonly root: DNode;
  readonly implications: Implications;
  readonly rangeCount: Readonly<Record<string, number>>;
}

export function lowerFilter(ir: IR, arches: readonly Arch[], names: (arch: Arch, nr: number) => string | undefined, options: NetworkSyscallOptions = {}): LoweredFilter {
  const g = new Graph();
  const imp = networkSyscalls(ir, options);
  const rangeCount: Record<string, number> = {};
  let root = g.ret(foreignAction(ir));
  for (let i = arches.length - 1; i >= 0; i--) {
    const arch = arches[i]!;
    const ranges = syscallRanges(g, ir, imp, arch);
    rangeCount[arch] = ranges.length;
    const tree = rangeTree(g, ranges, (nr) => names(arch, nr));
    root = g.test({ kind: "arch" }, "jeq", AUDIT_ARCH[arch], tree, root, undefined, `arch == ${arch}`);
  }
  return { root, implications: imp, rangeCount };
}
