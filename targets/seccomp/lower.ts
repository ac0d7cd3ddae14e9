// Lowering the IR to a decision graph for one filter: the Kafel-style middle representation. Every syscall
// number of each arch gets a verdict — a constant action, or a graph of 32-bit word tests over its arguments
// (only the bits the kernel reads of each: arg-widths.ts) ending in actions — and the numbers are partitioned into ranges of equal verdict. Nodes are hash-consed,
// so identical verdicts (and identical argument programs) are one node, and a test whose two outcomes are
// the same node disappears.

import { ACTION_STRICTNESS, stricterAction } from "../../ir/evaluator/evaluate.js";
import type { Action, ArgCondition, IR } from "../../ir/types.js";
import { argBits, argDeclaration, narrowCondition, type ArgBits } from "../../ir/arg-widths.js";
import { ARCH_INFO, syscallNumber, syscallTable, X32_SYSCALL_BIT, type Arch } from "../../linux-abi/index.js";
import { actionValue } from "./actions.js";
import { networkSyscalls, type Implications, type NetworkSyscallOptions } from "../../ir/evaluator/network-syscalls.js";
import { entriesName, isNewerCall, namedNumbers, newerCalls, SKIP_NR } from "../../ir/evaluator/syscall-numbers.js";
import { isMultiplexer, MULTIPLEXERS, multiplexerHasRules, subCallVerdict, type Multiplexer } from "./multiplexers.js";
import { foreignAction } from "./semantics.js";
import { topoOrder } from "./topo-order.js";

/**
 * What a test looks at: the syscall number, the arch, or one 32-bit half of an argument — by meaning, not by
 * offset: where the high half sits depends on the machine's byte order, which only the code generator knows.
 */
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

/** How much of each argument the kernel reads, for the syscall being lowered (ir/arg-widths.ts). */
export interface ArgShape {
  readonly bits: ArgBits;
  /** The parameter as the kernel declares it (`unsigned int cmd`), for the disassembly. */
  readonly decl?: string;
}

export const WIDE_ARG: ArgShape = { bits: 64 };

const hex = (v: bigint) => `0x${v.toString(16)}`;

/**
 * One condition as word tests, exiting to `t` when it holds and `f` when it does not. A 64-bit argument is
 * compared high word, then low word. A narrower one (an `int`, a `umode_t`) only in its low word — the kernel
 * never reads the high word, so testing it would let a caller dodge a rule by setting bits the kernel drops —
 * with an ALU AND first when it is narrower than 32 bits. The meaning is narrowCondition's, as in the evaluator.
 */
export function lowerCondition(g: Graph, c: ArgCondition, t: DNode, f: DNode, shape: ArgShape = WIDE_ARG): DNode {
  const n = narrowCondition(c, shape.bits);
  const v = n.value;
  const { hi, lo } = split(v);
  const H: Word = { kind: "arg", arg: c.arg, hi: true };
  const L: Word = { kind: "arg", arg: c.arg, hi: false };
  const arg = `arg${c.arg}${shape.decl ? ` (${shape.decl})` : ""}`;
  const MAX = (1n << 64n) - 1n;
  if (shape.bits === 64) {
    const note = `${arg} ${c.op === "&==" ? `& ${c.mask} ==` : c.op} ${c.value}`;
    switch (c.op) {
      case "==":
        return g.test(H, "jeq", hi, g.test(L, "jeq", lo, t, f, undefined, note), f, undefined, note);
      case "!=":
        return lowerCondition(g, { ...c, op: "==" }, f, t, shape);
      case ">":
        if (v === MAX) return f;
        return g.test(H, "jgt", hi, t, g.test(H, "jeq", hi, g.test(L, "jgt", lo, t, f, undefined, note), f, undefined, note), undefined, note);
      case ">=":
        if (v === 0n) return t;
        return g.test(H, "jgt", hi, t, g.test(H, "jeq", hi, g.test(L, "jge", lo, t, f, undefined, note), f, undefined, note), undefined, note);
      case "<":
        return lowerCondition(g, { ...c, op: ">=" }, f, t, shape);
      case "<=":
        return lowerCondition(g, { ...c, op: ">" }, f, t, shape);
      case "&==": {
        const m = BigInt(c.mask!);
        if ((v & ~m) !== 0n) return f; // bits outside the mask can never compare equal
        return maskedWord(g, H, split(m).hi, hi, maskedWord(g, L, split(m).lo, lo, t, f, note), f, note);
      }
    }
  }
  // Narrow: the argument as the kernel reads it has a zero high word, so every high-word test is decided here.
  const top = (1n << BigInt(shape.bits)) - 1n;
  const andMask = shape.bits < 32 ? Number(top) : undefined;
  const note = `${arg} ${c.op === "&==" ? `& ${hex(n.mask!)} ==` : c.op} ${hex(v)}, low ${shape.bits} bits`;
  switch (c.op) {
    case "==":
      return hi !== 0 ? f : g.test(L, "jeq", lo, t, f, andMask, note);
    case "!=":
      return hi !== 0 ? t : g.test(L, "jeq", lo, f, t, andMask, note);
    case ">":
      return v >= top ? f : g.test(L, "jgt", lo, t, f, andMask, note);
    case ">=":
      if (v === 0n) return t;
      return v > top ? f : g.test(L, "jge", lo, t, f, andMask, note);
    case "<":
      if (v === 0n) return f;
      return v > top ? t : g.test(L, "jge", lo, f, t, andMask, note);
    case "<=":
      return v >= top ? t : g.test(L, "jgt", lo, f, t, andMask, note);
    case "&==": {
      const m = n.mask!;
      if ((v & ~m) !== 0n) return f; // bits outside the (reduced) mask, or above the width: never equal
      return maskedWord(g, L, Number(m), lo, t, f, note);
    }
  }
}

/** One word of a masked compare: `word & mask == want`. */
function maskedWord(g: Graph, w: Word, mask: number, want: number, yes: DNode, no: DNode, note: string): DNode {
  if (mask === 0) return yes; // want is 0 here: checked by the caller
  if (want === 0) return g.test(w, "jset", mask, no, yes, undefined, note); // no bit of the mask set
  if (want === mask && (mask & (mask - 1)) === 0) return g.test(w, "jset", mask, yes, no, undefined, note); // the one bit set
  return g.test(w, "jeq", want, yes, no, mask, note);
}

export function lowerConjunction(g: Graph, conds: readonly ArgCondition[], t: DNode, f: DNode, shape: (arg: number) => ArgShape = () => WIDE_ARG): DNode {
  let node = t;
  for (let i = conds.length - 1; i >= 0; i--) node = lowerCondition(g, conds[i]!, node, f, shape(conds[i]!.arg));
  return node;
}

/** Replace each leaf of `n` by `leaf(action)`. Children before parents, without recursion: rule chains can be thousands deep. */
export function mapLeaves(g: Graph, n: DNode, leaf: (a: Action) => DNode): DNode {
  const out = new Map<number, DNode>();
  for (const m of topoOrder(n, (d) => (d.kind === "test" ? [d.yes, d.no] : [])).reverse()) {
    out.set(m.id, m.kind === "ret" ? leaf(m.action) : g.test(m.word, m.op, m.k, out.get(m.yes.id)!, out.get(m.no.id)!, m.mask, m.note));
  }
  return out.get(n.id)!;
}

/**
 * The verdict of one syscall number of one arch (the table's number: an x32 call without its bit; `name`: its
 * name there, if it has one): the policy's rules that name it (by name or as `arch:nr`) as a first-match list
 * in precedence order, then the implied rules. With no rule, `syscalls.newer` for a call newer than the
 * policy, else the default. `nr` undefined: a call this arch has only behind a multiplexer (i386's `semop`),
 * named by its name alone and never newer. Conditions compare what the kernel reads on `arch` (arg-widths.ts).
 */
export function syscallVerdict(g: Graph, ir: IR, imp: Implications, arch: Arch, nr: number | undefined, name: string | undefined): DNode {
  const shape = (arg: number): ArgShape => {
    if (name === undefined) return WIDE_ARG;
    const decl = argDeclaration(arch, name, arg);
    return { bits: argBits(arch, name, arg), ...(decl ? { decl } : {}) };
  };
  const candidates = ir.syscalls.rules
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => (nr === undefined ? name !== undefined && rule.syscalls.includes(name) : entriesName(rule.syscalls, arch, nr, name)))
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
  let policy = g.ret(!candidates.length && nr !== undefined && isNewerCall(ir, arch, nr) ? ir.syscalls.newerAction! : ir.syscalls.defaultAction);
  const firstUnconditional = candidates.findIndex((c) => c.rule.conditions.length === 0);
  const live = firstUnconditional >= 0 ? candidates.slice(0, firstUnconditional + 1) : candidates;
  for (let i = live.length - 1; i >= 0; i--) policy = lowerConjunction(g, live[i]!.rule.conditions, g.ret(live[i]!.rule.action), policy, shape);

  const implied = name === undefined ? [] : imp.rules.filter((r) => r.syscall === name);
  if (!implied.length) return policy;
  let impliedNode = g.ret({ type: "allow" });
  for (let i = implied.length - 1; i >= 0; i--) impliedNode = lowerConjunction(g, implied[i]!.conditions, g.ret(implied[i]!.action), impliedNode, shape);
  const byAction = new Map<number, DNode>();
  return mapLeaves(g, policy, (a) => {
    const key = actionValue(a);
    let n = byAction.get(key);
    if (!n) byAction.set(key, (n = mapLeaves(g, impliedNode, (b) => g.ret(stricterAction(a, b)))));
    return n;
  });
}

/**
 * The verdict of the multiplexer `m` (multiplexers.ts): a dispatch on the sub-call number in the first
 * argument's low word (masked as the kernel reads it); each sub-call gets its direct call's verdict, or the
 * strictest action that verdict can give, combined with the rules on `m` itself; other numbers get `m`'s own.
 */
function multiplexerVerdict(g: Graph, ir: IR, imp: Implications, m: Multiplexer, arch: Arch): DNode {
  const info = MULTIPLEXERS[m];
  const own = syscallVerdict(g, ir, imp, arch, syscallNumber(arch, m), m);
  const withOwn = multiplexerHasRules(ir, imp, m);
  const byCall: Range[] = [];
  for (const [nr, name] of [...info.calls].sort(([a], [b]) => a - b)) {
    const v = subCallVerdict(ir, imp, name);
    const direct = v.strictest ? g.ret(v.action) : syscallVerdict(g, ir, imp, arch, syscallNumber(arch, name), name);
    const verdict = withOwn ? mapLeaves(g, own, (a) => mapLeaves(g, direct, (b) => g.ret(stricterAction(a, b)))) : direct;
    byCall.push({ lo: nr, hi: nr, verdict });
  }
  const ranges = fillRanges(byCall, own, 0, 0xffffffff);
  return rangeTree(g, ranges, (n) => (info.calls.has(n) ? info.label(n) : undefined), { word: { kind: "arg", arg: 0, hi: false }, mask: info.mask, what: "arg0" });
}

/** What the filter does with `name` on an arch whose table has it. */
function callVerdict(g: Graph, ir: IR, imp: Implications, name: string, arch: Arch, nr: number): DNode {
  return isMultiplexer(name) ? multiplexerVerdict(g, ir, imp, name, arch) : syscallVerdict(g, ir, imp, arch, nr, name);
}

export interface Range {
  readonly lo: number;
  readonly hi: number;
  readonly verdict: DNode;
}

/** Sorted single-point ranges, with `gap` deciding the numbers between them in lo..hi, merged where neighbours agree. */
function fillRanges(points: readonly Range[], gap: DNode | ((lo: number, hi: number, push: (a: number, b: number, v: DNode) => void) => void), lo: number, hi: number, into: Range[] = []): Range[] {
  const push = (a: number, b: number, verdict: DNode) => {
    if (a > b) return;
    const last = into[into.length - 1];
    if (last && last.verdict === verdict && last.hi + 1 === a) into[into.length - 1] = { lo: last.lo, hi: b, verdict };
    else into.push({ lo: a, hi: b, verdict });
  };
  const fill = (a: number, b: number) => (typeof gap === "function" ? gap(a, b, push) : push(a, b, gap));
  let at = lo;
  for (const p of points) {
    fill(at, p.lo - 1);
    push(p.lo, p.hi, p.verdict);
    at = p.hi + 1;
  }
  fill(at, hi);
  return into;
}

/**
 * One arch's half of its arch value: its calls and the numbers rules name as `arch:nr`, at the numbers the
 * filter sees (x32's with their bit), and between them the default, or `syscalls.newer` from the first number
 * newer than the policy on (syscall-numbers.ts).
 */
function archHalf(g: Graph, ir: IR, imp: Implications, arch: Arch, lo: number, hi: number, into: Range[]): void {
  const base = ARCH_INFO[arch].nrBase;
  const byNumber = new Map<number, DNode>();
  for (const [name, nr] of Object.entries(syscallTable(arch))) byNumber.set(nr, callVerdict(g, ir, imp, name, arch, nr));
  for (const nr of namedNumbers(ir, arch)) if (!byNumber.has(nr)) byNumber.set(nr, syscallVerdict(g, ir, imp, arch, nr, undefined));
  const points = [...byNumber]
    .map(([nr, verdict]) => ({ lo: nr + base, hi: nr + base, verdict }))
    .filter((p) => p.lo >= lo && p.lo <= hi)
    .sort((a, b) => a.lo - b.lo);
  const dflt = g.ret(ir.syscalls.defaultAction);
  const newer = newerCalls(ir, arch);
  const newerFrom = newer ? newer.from + base : Infinity;
  const newerLeaf = ir.syscalls.newerAction ? g.ret(ir.syscalls.newerAction) : dflt;
  fillRanges(
    points,
    (a, b, push) => {
      push(a, Math.min(b, newerFrom - 1), dflt);
      push(Math.max(a, newerFrom), b, newerLeaf);
    },
    lo,
    hi,
    into,
  );
}

/**
 * Every u32 syscall number under one AUDIT_ARCH value, as maximal ranges of equal verdict. `arches` are the
 * filter's arches with that value: one, or x86_64 and x32 together (semantics.ts, `eventArch`). -1 (what a
 * tracer writes to skip a call) is never newer: it gets the rules that name `arch:-1` (x86_64's when the
 * filter serves x86_64), else the default.
 */
export function syscallRanges(g: Graph, ir: IR, imp: Implications, arches: Arch | readonly Arch[]): Range[] {
  const group: readonly Arch[] = typeof arches === "string" ? [arches] : arches;
  const dflt = g.ret(ir.syscalls.defaultAction);
  const ranges: Range[] = [];
  const skipArch: Arch = group.includes("x86_64") ? "x86_64" : group[0]!;
  const skip = namedNumbers(ir, skipArch).has(SKIP_NR) ? syscallVerdict(g, ir, imp, skipArch, SKIP_NR, undefined) : dflt;
  if (!group.includes("x86_64") && !group.includes("x32")) {
    archHalf(g, ir, imp, group[0]!, 0, SKIP_NR - 1, ranges);
    return fillRanges([], skip, SKIP_NR, SKIP_NR, ranges);
  }
  // x32 calls share AUDIT_ARCH_X86_64 and set bit 30 of the number: the half of an ABI the filter does not
  // serve gets the foreign action, never the default (a default-allow filter would let `0x40000000 | connect` in).
  const foreign = g.ret(foreignAction(ir));
  if (group.includes("x86_64")) archHalf(g, ir, imp, "x86_64", 0, X32_SYSCALL_BIT - 1, ranges);
  else fillRanges([], foreign, 0, X32_SYSCALL_BIT - 1, ranges);
  if (group.includes("x32")) archHalf(g, ir, imp, "x32", X32_SYSCALL_BIT, SKIP_NR - 1, ranges);
  else fillRanges([], foreign, X32_SYSCALL_BIT, SKIP_NR - 1, ranges);
  return fillRanges([], skip, SKIP_NR, SKIP_NR, ranges);
}

/** Above this many ranges the optimal tree search is skipped for the plain balanced tree (cost grows as n³). */
const OPTIMAL_TREE_LIMIT = 96;

/**
 * The dispatch tree over ranges. Its depth is that of a balanced `jge` tree (⌈log2 ranges⌉ tests for every
 * number, allowed or denied), and within that depth it uses as few tests as possible: a span made of one
 * background verdict and a few isolated numbers is a chain of `jeq` (one test per number instead of two
 * `jge`), chosen by dynamic programming over spans and depth budgets.
 */
export function rangeTree(
  g: Graph,
  ranges: readonly Range[],
  names: (nr: number) => string | undefined,
  on: { readonly word: Word; readonly mask?: number; readonly what: string } = { word: { kind: "nr" }, what: "nr" },
): DNode {
  const n = ranges.length;
  const label = (op: string, v: number) => {
    const name = names(v);
    return `${on.what} ${op} ${v}${name ? ` (${name})` : ""}`;
  };
  const jge = (mid: number, hi: DNode, lo: DNode) => g.test(on.word, "jge", ranges[mid]!.lo, hi, lo, on.mask, label(">=", ranges[mid]!.lo));
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
  // The search's state (span i..j, depth budget d) in flat typed arrays rather than a Map of objects: it
  // visits up to n²·log n states, each looked up O(n) times, and this runs for every filter compiled.
  const states = n * n * (budget + 1);
  /** The fewest tests for a state: -2 not searched yet, -1 impossible within its depth. */
  const costs = new Int32Array(states).fill(-2);
  /** How the best plan of a state starts: the `jge` split point, or 0 for a chain of `jeq`. */
  const mids = new Int32Array(states);
  /** Per span: how many isolated numbers it has (`isolated`), -1 if it is not of that shape, -2 not known yet. */
  const singleCounts = new Int32Array(n * n).fill(-2);
  const singlesIn = (i: number, j: number): number => {
    const k = i * n + j;
    if (singleCounts[k] === -2) singleCounts[k] = isolated(i, j)?.singles.length ?? -1;
    return singleCounts[k]!;
  };
  const plan = (i: number, j: number, d: number): number => {
    if (i === j) return 0;
    if (d === 0) return -1;
    const key = (i * n + j) * (budget + 1) + d;
    const known = costs[key]!;
    if (known !== -2) return known;
    let best = -1;
    let bestMid = 0;
    const singles = singlesIn(i, j);
    if (singles >= 0 && singles <= d) best = singles;
    for (let mid = i + 1; mid <= j; mid++) {
      const a = plan(i, mid - 1, d - 1);
      if (a < 0 || (best >= 0 && a + 1 >= best)) continue;
      const b = plan(mid, j, d - 1);
      if (b < 0) continue;
      const cost = 1 + a + b;
      // Prefer the split nearest the middle on a tie, so equal trees come out the same on every run.
      if (best < 0 || cost < best) {
        best = cost;
        bestMid = mid;
      }
    }
    costs[key] = best;
    mids[key] = bestMid;
    return best;
  };
  const build = (i: number, j: number, d: number): DNode => {
    if (i === j) return ranges[i]!.verdict;
    plan(i, j, d);
    const mid = mids[(i * n + j) * (budget + 1) + d]!;
    if (mid === 0) {
      const iso = isolated(i, j)!;
      let node = iso.background;
      for (let k = iso.singles.length - 1; k >= 0; k--) {
        const s = iso.singles[k]!;
        node = g.test(on.word, "jeq", s.lo, s.verdict, node, on.mask, label("==", s.lo));
      }
      return node;
    }
    return jge(mid, build(mid, j, d - 1), build(i, mid - 1, d - 1));
  };
  return build(0, n - 1, budget);
}

export interface LoweredFilter {
  readonly root: DNode;
  readonly implications: Implications;
  readonly rangeCount: Readonly<Record<string, number>>;
}

/** The filter's arches grouped by AUDIT_ARCH value, in the order they were given (x86_64 and x32 share one). */
export function archGroups(arches: readonly Arch[]): Arch[][] {
  const groups = new Map<number, Arch[]>();
  for (const a of arches) {
    const k = ARCH_INFO[a].auditArch;
    const list = groups.get(k) ?? [];
    if (!list.includes(a)) list.push(a);
    groups.set(k, list);
  }
  return [...groups.values()];
}

/** `names` takes the number as the filter sees it (x32 numbers with their bit). */
export function lowerFilter(ir: IR, arches: readonly Arch[], names: (arch: Arch, nr: number) => string | undefined, options: NetworkSyscallOptions = {}): LoweredFilter {
  const g = new Graph();
  const imp = networkSyscalls(ir, options);
  const rangeCount: Record<string, number> = {};
  let root = g.ret(foreignAction(ir));
  const groups = archGroups(arches);
  for (let i = groups.length - 1; i >= 0; i--) {
    const group = groups[i]!;
    const ranges = syscallRanges(g, ir, imp, group);
    const key = group.join("+");
    rangeCount[key] = ranges.length;
    // Under AUDIT_ARCH_X86_64 a number with bit 30 set is an x32 call.
    const nameOf = (nr: number) => {
      const arch = group.length === 1 ? group[0]! : nr >= X32_SYSCALL_BIT ? "x32" : "x86_64";
      return group.includes(arch) ? names(arch, nr) : undefined;
    };
    const tree = rangeTree(g, ranges, nameOf);
    root = g.test({ kind: "arch" }, "jeq", ARCH_INFO[group[0]!].auditArch, tree, root, undefined, `arch == ${key}`);
  }
  return { root, implications: imp, rangeCount };
}
