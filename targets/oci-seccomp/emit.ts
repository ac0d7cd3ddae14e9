// The OCI seccomp target: the IR's syscall section as a runtime-spec `linux.seccomp` profile (the JSON that
// Docker's `--security-opt seccomp=FILE`, runc and crun read) that a container runtime enforces with exactly
// the meaning `evaluateSyscallRules` gives the IR's syscall section; what the network section implies
// (`evaluateSyscall` adds it) is not this target's business: a container's network is the runtime's.
//
// The two precedence rules differ. The IR: among matching rules the latest layer decides, then the strictest
// action, then the later rule. libseccomp, behind runc and crun, has no precedence between actions at all
// (src/db.c `db_rule_add`): per syscall the first rule without conditions decides every call and the other
// rules are dropped; conditional rules of one action are OR-ed; conditional rules of different actions that
// can match the same call either fail to load (-EEXIST) or resolve in the order of libseccomp's decision tree,
// which sorts by argument and operator. So an IR where a later-layer `allow` overlaps an earlier `errno`
// cannot be written as the same rules.
//
// The approach, exact in every case: per syscall, a decision tree over the six arguments. The rules naming the
// syscall are ranked by the IR's precedence (layer, strictness, position), so the first one that matches
// decides. At argument i the values are partitioned by the conditions on argument i of the rules still in
// play (sets of u64 are held as binary decision diagrams over the 64 bits, so `!=`, ranges and masks combine
// exactly); each part keeps the rules whose condition holds on all of it, and the next argument is split the
// same way. A node stops as soon as its first rule has no condition left: that rule decides; with no rule left
// the default does. Parts whose subtrees give the same answers are merged. Each path to an answer that is not
// the default becomes entries with at most one comparison per argument (runc and crun split a rule with two
// comparisons of one argument into an OR): a set that one comparison cannot express is written as a few — two
// ranges, or intervals cut into aligned blocks (MASKED_EQ), or the diagram's cubes, whichever is shortest.
// Trees over every order of the constrained arguments (up to four of them) are tried and the smallest wins.
// Argument sets are those of the kernel's reading (ir/arg-widths.ts): for an argument the kernel
// reads as 32 bits (`unsigned int cmd`), a condition holds whatever the high 32 bits are, so `cmd == FIONREAD`
// is written MASKED_EQ 0xffffffff, and an `!=` or a range there as a few MASKED_EQ entries on the low bits —
// libseccomp compares all 64 bits, and a plain SCMP_CMP_NE would let 0x1_0000_541B through as "not FIONREAD".
// Paths are disjoint, so libseccomp never sees two actions for one call, and a path covering every call becomes
// one entry without conditions, alone for its syscall. The only failure is size: a syscall that needs more
// than MAX_TERMS entries is refused with a diagnostic naming its rules. (libseccomp's bad-architecture action
// is SCMP_ACT_KILL, kill-thread; OCI profiles cannot change it.)
//
// Runtime details this output accounts for (runc libcontainer/seccomp, crun src/libcrun/seccomp.c):
// - entries whose action equals the default are skipped by both runtimes (libseccomp refuses them), so none
//   is written — except the guard below, which relies on exactly that;
// - runc prepends a stub that fails syscalls numbered above the highest syscall the profile names with ENOSYS
//   instead of the default action (patchbpf/enosys_linux.go), unless the default is allow, log, trace or
//   errno ENOSYS. To keep every syscall sbc knows on the default, the profile names the highest-numbered one
//   of each architecture in an entry with the default action: runc counts it for the stub and skips it as a
//   rule, crun skips it;
// - `errnoRet` is written only on SCMP_ACT_ERRNO and SCMP_ACT_TRACE (the spec requires runtimes to refuse it
//   elsewhere); on SCMP_ACT_TRACE it is the 16-bit data the tracer reads (runc: `ActTrace.SetReturnCode`),
//   so it is always written, as runc would otherwise use EPERM (1);
// - `syscalls.newer` is exported only as runc's stub can say it: `{ errno: ENOSYS }` for the numbers above the
//   highest call the rules name, with a default the stub applies to; the guard then names that call instead
//   of the highest one sbc knows. crun has no such stub (a warning says so). Rules on syscall numbers
//   (`x86_64:335`) cannot be written at all: profiles name calls by name, and runc ignores names it cannot
//   resolve;
// - runc refuses SCMP_ACT_NOTIFY as the default action and on `write`: both are errors here.
// `architectures` lists SCMP_ARCH_X86_64 and SCMP_ARCH_AARCH64 by default, or the SCMP_ARCH_* of each of
// `options.arches` (any supported arch, ARCH_INFO.scmpName). By default the 32-bit ABIs (X86, X32, ARM) are
// left out on purpose: the compat ABIs differ (socketcall and ipc multiplex calls, x32 has its own numbers),
// so calls through them hit libseccomp's bad-architecture action (kill) and never run.

import { diag, sortDiagnostics, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { CodeKey } from "../../diagnostics/codes.js";
import { ACTION_STRICTNESS, sameAction } from "../../ir/evaluator/evaluate.js";
import type { Action, ArgCondition, IR } from "../../ir/types.js";
import { argBits, narrowCondition, type ArgBits } from "../../ir/arg-widths.js";
import { ARCHES, ARCH_INFO, errnoValue, knownSyscallNames, syscallNumber, type Arch } from "../../linux-abi/index.js";
import { isNumberedEntry, newerCalls, numberedEntry, SKIP_NR, syscallNameAt } from "../../ir/evaluator/syscall-numbers.js";

export type OciArch = Arch;

export interface OciEmitOptions {
  /** Architectures the profile filters; default both. */
  readonly arches?: readonly OciArch[];
}

export interface OciEmitResult {
  /** The profile, pretty-printed with two spaces and a final newline; absent when there are errors. */
  readonly json?: string;
  readonly diagnostics: Diagnostic[];
}

/**
 * Codes for findings the catalog has no code of its own for yet: each names the nearest existing code.
 * Replace the right-hand sides when the catalog gains this target's family.
 */
const EXPORT_CODES = {
  inexpressible: "ociInexpressible",
  needsRuntime: "ociNeedsRuntime",
} as const satisfies Record<string, CodeKey>;

const U64 = (1n << 64n) - 1n;
const ENOSYS = errnoValue("ENOSYS") ?? 38;
/** Most entries one syscall may need before the target gives up. */
export const MAX_TERMS = 256;


class TooComplex extends Error {}

// ---- sets of u64: binary decision diagrams ---------------------------------------------------------------------
// Reduced, ordered, hash-consed; the root tests bit 63. Node 0 is the empty set, node 1 every value.

const EMPTY = 0;
const ALL = 1;

class Bdd {
  private readonly bit: number[] = [-1, -1];
  private readonly lo: number[] = [0, 1];
  private readonly hi: number[] = [0, 1];
  /** Per tested bit, lo · 2^26 + hi → node: numbers hash much faster than strings. */
  private readonly unique = Array.from({ length: 64 }, () => new Map<number, number>());
  private readonly memo = new Map<string, number>();

  private mk(bit: number, lo: number, hi: number): number {
    if (lo === hi) return lo;
    if (this.bit.length >= 2 ** 26) throw new TooComplex();
    const key = lo * 2 ** 26 + hi;
    const unique = this.unique[bit]!;
    let n = unique.get(key);
    if (n === undefined) {
      n = this.bit.length;
      this.bit.push(bit);
      this.lo.push(lo);
      this.hi.push(hi);
      unique.set(key, n);
    }
    return n;
  }

  private apply(op: "and" | "or", a: number, b: number): number {
    if (op === "and") {
      if (a === EMPTY || b === EMPTY) return EMPTY;
      if (a === ALL) return b;
      if (b === ALL || a === b) return a;
    } else {
      if (a === ALL || b === ALL) return ALL;
      if (a === EMPTY) return b;
      if (b === EMPTY || a === b) return a;
    }
    if (a > b) [a, b] = [b, a];
    const key = `${op}${a},${b}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const top = Math.max(this.bit[a]!, this.bit[b]!);
    const [a0, a1] = this.bit[a] === top ? [this.lo[a]!, this.hi[a]!] : [a, a];
    const [b0, b1] = this.bit[b] === top ? [this.lo[b]!, this.hi[b]!] : [b, b];
    const r = this.mk(top, this.apply(op, a0, b0), this.apply(op, a1, b1));
    this.memo.set(key, r);
    return r;
  }

  and(a: number, b: number): number {
    return this.apply("and", a, b);
  }
  or(a: number, b: number): number {
    return this.apply("or", a, b);
  }
  not(a: number): number {
    if (a <= ALL) return 1 - a;
    const key = `not${a}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const r = this.mk(this.bit[a]!, this.not(this.lo[a]!), this.not(this.hi[a]!));
    this.memo.set(key, r);
    return r;
  }

  /** {x : x & m == v}. */
  cube(m: bigint, v: bigint): number {
    if ((v & ~m & U64) !== 0n) return EMPTY;
    let n = ALL;
    for (let i = 0; i < 64; i++) {
      const b = 1n << BigInt(i);
      if (!(m & b)) continue;
      n = v & b ? this.mk(i, EMPTY, n) : this.mk(i, n, EMPTY);
    }
    return n;
  }
  /** {x : x <= h}. */
  atMost(h: bigint): number {
    let n = ALL;
    for (let i = 0; i < 64; i++) n = h & (1n << BigInt(i)) ? this.mk(i, ALL, n) : this.mk(i, n, EMPTY);
    return n;
  }
  /** {x : x >= l}, built directly (cheaper than the complement of atMost). */
  atLeast(l: bigint): number {
    let n = ALL;
    for (let i = 0; i < 64; i++) n = l & (1n << BigInt(i)) ? this.mk(i, EMPTY, n) : this.mk(i, n, ALL);
    return n;
  }
  /** The union of disjoint intervals given in order, built top-down: O(intervals · 64) nodes, no set operations. */
  fromIntervals(spans: readonly (readonly [bigint, bigint])[]): number {
    const build = (base: bigint, level: number, items: readonly (readonly [bigint, bigint])[]): number => {
      if (!items.length) return EMPTY;
      const top = base + (1n << BigInt(level)) - 1n;
      if (items.length === 1 && items[0]![0] <= base && items[0]![1] >= top) return ALL;
      const mid = base + (1n << BigInt(level - 1));
      const left: (readonly [bigint, bigint])[] = [];
      const right: (readonly [bigint, bigint])[] = [];
      for (const [lo, hi] of items) {
        if (lo < mid) left.push([lo, hi < mid ? hi : mid - 1n]);
        if (hi >= mid) right.push([lo >= mid ? lo : mid, hi]);
      }
      return this.mk(level - 1, build(base, level - 1, left), build(mid, level - 1, right));
    };
    return build(0n, 64, spans);
  }
  range(lo: bigint, hi: bigint): number {
    if (lo > hi) return EMPTY;
    return this.and(this.atMost(hi), lo === 0n ? ALL : this.atLeast(lo));
  }

  /**
   * The values of a whole u64 argument that satisfy `c` as the kernel reads the argument (its low `bits` bits):
   * the set of low parts, with the bits above left free — libseccomp compares all 64, so the profile has to
   * accept every high part the kernel ignores (a MASKED_EQ on 0xffffffff, say).
   */
  narrowCondition(c: ArgCondition, bits: ArgBits): number {
    if (bits === 64) return this.condition(c);
    return this.narrowSet(this.lowCondition(c, bits), bits);
  }

  /** The low parts (values below 2^bits) that satisfy `c` as the kernel reads a `bits`-bit argument. */
  lowCondition(c: ArgCondition, bits: ArgBits): number {
    const n = narrowCondition(c, bits);
    const low = (1n << BigInt(bits)) - 1n;
    const hex = (x: bigint) => `0x${x.toString(16)}`;
    return this.and(this.condition({ arg: c.arg, op: c.op, value: hex(n.value), ...(n.mask !== undefined ? { mask: hex(n.mask) } : {}) }), this.atMost(low));
  }

  /**
   * The low set `low` (values below 2^bits) with every high part free, remembered with its low set: a few
   * intervals of low values are a few intervals to `intervalParts`, where the whole set is 2^(64-bits) of them.
   */
  readonly narrowed = new Map<number, { readonly low: number; readonly bits: number }>();
  narrowSet(low: number, bits: number): number {
    const r = this.freeAbove(low, bits);
    if (r !== ALL && r !== EMPTY) this.narrowed.set(r, { low, bits });
    return r;
  }

  /** `n` (a set of values below 2^bits) with every bit from `bits` up left free. */
  private freeAbove(n: number, bits: number): number {
    if (n <= ALL) return n;
    const key = `free${bits},${n}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const r = this.bit[n]! >= bits ? this.or(this.freeAbove(this.lo[n]!, bits), this.freeAbove(this.hi[n]!, bits)) : this.mk(this.bit[n]!, this.freeAbove(this.lo[n]!, bits), this.freeAbove(this.hi[n]!, bits));
    this.memo.set(key, r);
    return r;
  }

  condition(c: ArgCondition): number {
    const v = BigInt(c.value);
    switch (c.op) {
      case "==":
        return this.cube(U64, v);
      case "!=":
        return this.not(this.cube(U64, v));
      case "<":
        return v === 0n ? EMPTY : this.atMost(v - 1n);
      case "<=":
        return this.atMost(v);
      case ">":
        return this.not(this.atMost(v));
      case ">=":
        return v === 0n ? ALL : this.not(this.atMost(v - 1n));
      case "&==":
        return this.cube(BigInt(c.mask!), v);
    }
  }

  /** The smallest element (undefined for the empty set). */
  min(n: number): bigint | undefined {
    if (n === EMPTY) return undefined;
    let x = 0n;
    while (n !== ALL) {
      if (this.lo[n] !== EMPTY) n = this.lo[n]!;
      else {
        x |= 1n << BigInt(this.bit[n]!);
        n = this.hi[n]!;
      }
    }
    return x;
  }
  max(n: number): bigint | undefined {
    if (n === EMPTY) return undefined;
    let x = U64;
    while (n !== ALL) {
      if (this.hi[n] !== EMPTY) n = this.hi[n]!;
      else {
        x &= ~(1n << BigInt(this.bit[n]!));
        n = this.lo[n]!;
      }
    }
    return x;
  }

  /** The set as disjoint cubes (x & m == v), or undefined when there are more than `cap`. */
  cubes(n: number, cap: number): { m: bigint; v: bigint }[] | undefined {
    const out: { m: bigint; v: bigint }[] = [];
    const walk = (node: number, m: bigint, v: bigint): boolean => {
      if (node === EMPTY) return true;
      if (node === ALL) {
        out.push({ m, v });
        return out.length <= cap;
      }
      const b = 1n << BigInt(this.bit[node]!);
      return walk(this.lo[node]!, m | b, v) && walk(this.hi[node]!, m | b, v | b);
    };
    return walk(n, 0n, 0n) ? out : undefined;
  }

  /**
   * The set as disjoint maximal intervals in order, or undefined when there are more than `cap`: one walk of
   * the diagram in value order, no set operations. A node that skips bits repeats its pattern once per value
   * of the skipped bits; each repetition adds an interval, so the walk stops after at most `cap` of them.
   */
  intervals(n: number, cap: number): [bigint, bigint][] | undefined {
    const out: [bigint, bigint][] = [];
    const emit = (lo: bigint, hi: bigint): boolean => {
      const last = out[out.length - 1];
      if (last && last[1] + 1n === lo) last[1] = hi;
      else {
        if (out.length >= cap) return false;
        out.push([lo, hi]);
      }
      return true;
    };
    /** `node` over the values prefix .. prefix + 2^level - 1 (the bits from `level` up are fixed). */
    const walk = (node: number, prefix: bigint, level: number): boolean => {
      if (node === EMPTY) return true;
      if (node === ALL) return emit(prefix, prefix + (1n << BigInt(level)) - 1n);
      const b = this.bit[node]!;
      const reps = 1n << BigInt(level - 1 - b);
      for (let r = 0n; r < reps; r++) {
        const base = prefix + (r << BigInt(b + 1));
        if (!walk(this.lo[node]!, base, b) || !walk(this.hi[node]!, base + (1n << BigInt(b)), b)) return false;
      }
      return true;
    };
    return walk(n, 0n, 64) ? out : undefined;
  }
}

// ---- sets written as comparisons ---------------------------------------------------------------------------------

/** One comparison of one argument, the unit a libseccomp rule holds. */
type Atom = { readonly k: "==" | "!=" | "<" | ">"; readonly v: bigint } | { readonly k: "&"; readonly m: bigint; readonly v: bigint };

/** [lo, hi] (not every value) as few comparisons as possible: one, or aligned blocks. */
function intervalAtoms(lo: bigint, hi: bigint): Atom[] {
  if (lo === hi) return [{ k: "==", v: lo }];
  if (lo === 0n) return [{ k: "<", v: hi + 1n }];
  if (hi === U64) return [{ k: ">", v: lo - 1n }];
  const out: Atom[] = [];
  let x = lo;
  while (x <= hi) {
    let size = 1n;
    while ((x & (size * 2n - 1n)) === 0n && x + size * 2n - 1n <= hi) size *= 2n;
    out.push(size === 1n ? { k: "==", v: x } : { k: "&", m: U64 ^ (size - 1n), v: x });
    x += size;
  }
  return out;
}

/** Enough for any one interval (at most 126 aligned blocks); sets that need more are refused. */
const MAX_ATOMS = 128;

/** A set of values (not empty, not every value) as a union of comparisons: the shortest form found. */
function express(bdd: Bdd, set: number): Atom[] {
  const one = bdd.intervals(set, 1);
  if (one) return intervalAtoms(...one[0]!);
  const out = bdd.not(set);
  const gap = bdd.intervals(out, 1);
  if (gap) {
    const [clo, chi] = gap[0]!;
    return clo === chi ? [{ k: "!=", v: clo }] : [...intervalAtoms(0n, clo - 1n), ...intervalAtoms(chi + 1n, U64)];
  }
  const byIntervals = bdd.intervals(set, 16)?.flatMap(([a, b]) => intervalAtoms(a, b));
  const byCubes = bdd.cubes(set, MAX_ATOMS)?.map((c): Atom => (c.m === U64 ? { k: "==", v: c.v } : { k: "&", m: c.m, v: c.v }));
  const best = byIntervals && (!byCubes || byIntervals.length <= byCubes.length) ? byIntervals : byCubes;
  if (!best || best.length > MAX_ATOMS) throw new TooComplex();
  return best;
}

// ---- per syscall: the decision tree --------------------------------------------------------------------------------

interface RankedRule {
  readonly index: number;
  readonly action: Action;
  /** The rule's conditions on each argument, as one set per argument. */
  readonly sets: readonly number[];
}

type Tree =
  | { readonly t: "leaf"; readonly action: Action; readonly rules: readonly number[]; readonly key: string }
  | { readonly t: "node"; readonly arg: number; readonly branches: readonly { readonly set: number; readonly child: Tree }[]; readonly key: string };

function actionKey(a: Action): string {
  return a.type === "errno" ? `errno(${a.errno})` : a.type === "trace" ? `trace(${a.data})` : a.type;
}

/** A part of argument `arg`'s values on which the same rules (in `live` order) hold; its intervals when known. */
type Part = { readonly set: number; readonly rules: readonly RankedRule[]; readonly spans?: readonly [bigint, bigint][] };

/** The union of parts: built from their intervals in one pass when they have them. */
function union(bdd: Bdd, parts: readonly Part[]): number {
  if (parts.length === 1) return parts[0]!.set;
  if (parts.every((p) => p.spans)) return bdd.fromIntervals(parts.flatMap((p) => p.spans!).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  return parts.reduce((acc, p) => bdd.or(acc, p.set), EMPTY);
}

/**
 * The atoms of the sets the rules give `arg`, found by refining the whole space by each set: n sets make up
 * to n + 1 atoms and n · atoms set operations, so this is only the fallback for sets that are not a few
 * intervals (masks).
 */
function atomParts(bdd: Bdd, live: readonly RankedRule[], arg: number): Part[] {
  let parts = [ALL];
  for (const s of new Set(live.map((r) => r.sets[arg]!))) {
    if (s === ALL) continue;
    const out = bdd.not(s);
    parts = parts.flatMap((p) => [bdd.and(p, s), bdd.and(p, out)].filter((x) => x !== EMPTY));
  }
  return parts
    .map((set) => ({ set, min: bdd.min(set)! }))
    .sort((x, y) => (x.min < y.min ? -1 : 1))
    .map(({ set }) => ({ set, rules: live.filter((r) => bdd.and(set, r.sets[arg]!) === set) }));
}

/** Most intervals per set for which `intervalParts` is used. */
const PART_INTERVALS = 8;

/**
 * The same partition, finer, when every set is a few intervals (comparisons are): the elementary intervals
 * between the sorted ends, each with the rules whose intervals cover it, in one sweep. Parts with the same
 * rules get the same subtree and are merged by the caller, so the tree is the one `atomParts` gives, in
 * O(n log n) instead of O(n²) set operations for n rules.
 */
function intervalParts(bdd: Bdd, live: readonly RankedRule[], arg: number): Part[] | undefined {
  // An argument the kernel reads on fewer than 64 bits (arg-widths.ts): the sets are low sets with every high
  // part free, so the sweep runs over the low values and each part frees its high parts again.
  const narrow = live.map((r) => r.sets[arg]!).filter((s) => s !== ALL).map((s) => bdd.narrowed.get(s));
  const bits = narrow[0]?.bits;
  if (bits !== undefined && narrow.every((n) => n?.bits === bits)) {
    const parts = sweepParts(bdd, live, arg, (s) => bdd.narrowed.get(s)!.low, (1n << BigInt(bits)) - 1n);
    return parts?.map((p) => ({ set: bdd.narrowSet(p.set, bits), rules: p.rules }));
  }
  return sweepParts(bdd, live, arg, (s) => s, U64);
}

/** The sweep of `intervalParts` over the values 0..top, each rule's set for `arg` seen through `view`. */
function sweepParts(bdd: Bdd, live: readonly RankedRule[], arg: number, view: (s: number) => number, top: bigint): Part[] | undefined {
  const spans = new Map<number, [bigint, bigint][]>();
  for (const r of live) {
    const s = r.sets[arg]!;
    if (s === ALL || spans.has(s)) continue;
    const iv = bdd.intervals(view(s), PART_INTERVALS);
    if (!iv) return undefined;
    spans.set(s, iv);
  }
  const cuts = new Set<bigint>([0n]);
  for (const iv of spans.values()) {
    for (const [lo, hi] of iv) {
      cuts.add(lo);
      if (hi < top) cuts.add(hi + 1n);
    }
  }
  const starts = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(starts.map((v, i) => [v, i]));
  const members: RankedRule[][] = starts.map(() => []);
  for (const r of live) {
    const s = r.sets[arg]!;
    if (s === ALL) {
      for (const m of members) m.push(r);
      continue;
    }
    for (const [lo, hi] of spans.get(s)!) {
      const end = hi < top ? index.get(hi + 1n)! : starts.length;
      for (let i = index.get(lo)!; i < end; i++) members[i]!.push(r);
    }
  }
  // Elementary intervals with the same rules make one part, built from its intervals in one pass.
  const groups = new Map<string, { spans: [bigint, bigint][]; rules: RankedRule[] }>();
  starts.forEach((lo, i) => {
    const key = members[i]!.map((r) => r.index).join(",");
    const span: [bigint, bigint] = [lo, i + 1 < starts.length ? starts[i + 1]! - 1n : top];
    const g = groups.get(key);
    if (g) g.spans.push(span);
    else groups.set(key, { spans: [span], rules: members[i]! });
  });
  return [...groups.values()].map((g) => ({ set: bdd.fromIntervals(g.spans), rules: g.rules, spans: g.spans }));
}

/** Trees of one shape (same key) with their deciding rules combined. */
function mergeAll(trees: readonly Tree[]): Tree {
  if (trees.length === 1) return trees[0]!;
  const a = trees[0]!;
  if (a.t === "leaf") return { ...a, rules: [...new Set(trees.flatMap((t) => (t as typeof a).rules))].sort((x, y) => x - y) };
  return { ...a, branches: a.branches.map((br, i) => ({ set: br.set, child: mergeAll(trees.map((t) => (t as typeof a).branches[i]!.child)) })) };
}

/** The tree that tests the arguments in `order` (the arguments some rule constrains). */
function decisionTree(bdd: Bdd, ranked: readonly RankedRule[], def: Action, order: readonly number[]): Tree {
  const memo = new Map<string, Tree>();
  let nodes = 0;
  const build = (pos: number, live: readonly RankedRule[]): Tree => {
    const top = live[0];
    if (!top) return { t: "leaf", action: def, rules: [], key: `=${actionKey(def)}` };
    if (order.slice(pos).every((a) => top.sets[a] === ALL)) return { t: "leaf", action: top.action, rules: [top.index], key: `=${actionKey(top.action)}` };
    const memoKey = `${pos}|${live.map((r) => r.index).join(",")}`;
    const hit = memo.get(memoKey);
    if (hit) return hit;
    if (++nodes > MAX_TERMS * 16) throw new TooComplex();
    const arg = order[pos]!;
    // Merge the parts whose subtrees answer alike, in the order of their smallest values.
    const byKey = new Map<string, { parts: Part[]; children: Tree[] }>();
    for (const part of intervalParts(bdd, live, arg) ?? atomParts(bdd, live, arg)) {
      const child = build(pos + 1, part.rules);
      const g = byKey.get(child.key);
      if (g) {
        g.parts.push(part);
        g.children.push(child);
      } else byKey.set(child.key, { parts: [part], children: [child] });
    }
    // Merged once per key: merging pairwise as parts arrive would copy growing sets and rule lists (quadratic).
    const branches = [...byKey.values()].map(({ parts, children }) => ({ set: union(bdd, parts), child: mergeAll(children) }));
    const tree: Tree =
      branches.length === 1
        ? branches[0]!.child
        : { t: "node", arg, branches, key: `${arg}(${branches.map((b) => `${b.set}:${b.child.key}`).join(";")})` };
    memo.set(memoKey, tree);
    return tree;
  };
  return build(0, ranked);
}

function permutations(xs: readonly number[]): number[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Orders of the constrained arguments worth trying: all of them for up to four arguments. */
function orders(args: readonly number[]): number[][] {
  if (args.length <= 4) return permutations(args);
  return [[...args], [...args].reverse()];
}

/** The paths of the cheapest tree over the orders tried (the first of equals, so the output is stable). */
function cheapestPaths(bdd: Bdd, ranked: readonly RankedRule[], def: Action): Path[] {
  const constrained = [0, 1, 2, 3, 4, 5].filter((a) => ranked.some((r) => r.sets[a] !== ALL));
  let best: Path[] | undefined;
  let bestCount = Infinity;
  for (const order of orders(constrained)) {
    try {
      const ps = paths(bdd, decisionTree(bdd, ranked, def, order), def, Math.min(MAX_TERMS, bestCount - 1));
      const count = ps.reduce((n, p) => n + p.terms.length, 0);
      if (count < bestCount) {
        best = ps;
        bestCount = count;
      }
    } catch (e) {
      if (!(e instanceof TooComplex)) throw e;
    }
  }
  if (!best) throw new TooComplex();
  return best;
}

/** Conjunctions: at most one comparison per argument (undefined: any value). */
type Term = readonly (Atom | undefined)[];

interface Path {
  readonly action: Action;
  readonly rules: readonly number[];
  readonly terms: readonly Term[];
}

/** The tree's paths to answers other than the default, each as terms. */
function paths(bdd: Bdd, tree: Tree, def: Action, cap: number): Path[] {
  const out: Path[] = [];
  let count = 0;
  const walk = (t: Tree, sets: readonly (number | undefined)[]) => {
    if (t.t === "node") {
      for (const b of t.branches) walk(b.child, sets.map((s, i) => (i === t.arg ? b.set : s)));
      return;
    }
    if (sameAction(t.action, def)) return;
    let terms: (Atom | undefined)[][] = [[]];
    for (const s of sets) {
      const atoms: (Atom | undefined)[] = s === undefined || s === ALL ? [undefined] : express(bdd, s);
      terms = terms.flatMap((prefix) => atoms.map((a) => [...prefix, a]));
      if (count + terms.length > cap) throw new TooComplex();
    }
    count += terms.length;
    out.push({ action: t.action, rules: t.rules, terms });
  };
  walk(tree, [undefined, undefined, undefined, undefined, undefined, undefined]);
  return out;
}

// ---- JSON ------------------------------------------------------------------------------------------------------

type JsonValue = string | number | bigint | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

/** JSON.stringify(v, null, 2), with bigints written as exact integers. */
function writeJson(v: JsonValue, indent = ""): string {
  if (typeof v === "bigint") return v.toString();
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    if (!v.length) return "[]";
    return `[\n${v.map((x) => inner + writeJson(x as JsonValue, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as { [key: string]: JsonValue | undefined }).filter(([, x]) => x !== undefined) as [string, JsonValue][];
  if (!entries.length) return "{}";
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${writeJson(x, inner)}`).join(",\n")}\n${indent}}`;
}

const OCI_OP: Readonly<Record<Exclude<Atom["k"], "&">, string>> = { "==": "SCMP_CMP_EQ", "!=": "SCMP_CMP_NE", "<": "SCMP_CMP_LT", ">": "SCMP_CMP_GT" };

function ociArgs(t: Term): JsonValue[] {
  const out: JsonValue[] = [];
  t.forEach((a, index) => {
    if (!a) return;
    if (a.k === "&") out.push({ index, value: a.m, valueTwo: a.v, op: "SCMP_CMP_MASKED_EQ" });
    else out.push({ index, value: a.v, op: OCI_OP[a.k] });
  });
  return out;
}

function ociAction(a: Action): { action: string; errnoRet?: number } {
  switch (a.type) {
    case "allow":
      return { action: "SCMP_ACT_ALLOW" };
    case "log":
      return { action: "SCMP_ACT_LOG" };
    case "trap":
      return { action: "SCMP_ACT_TRAP" };
    case "user-notif":
      return { action: "SCMP_ACT_NOTIFY" };
    case "kill-thread":
      return { action: "SCMP_ACT_KILL_THREAD" };
    case "kill-process":
      return { action: "SCMP_ACT_KILL_PROCESS" };
    case "errno":
      return { action: "SCMP_ACT_ERRNO", errnoRet: a.errno };
    case "trace":
      // runc hands errnoRet to libseccomp as the trace data (ActTrace.SetReturnCode), EPERM when absent.
      return { action: "SCMP_ACT_TRACE", errnoRet: a.data };
  }
}

function termKey(t: Term): string {
  return t.map((a) => (!a ? "*" : a.k === "&" ? `&${a.m.toString(16)}=${a.v.toString(16)}` : `${a.k}${a.v.toString(16)}`)).join(" ");
}

// ---- the target ------------------------------------------------------------------------------------------------

export function emitOciSeccomp(ir: IR, options: OciEmitOptions = {}): OciEmitResult {
  const diagnostics: Diagnostic[] = [];
  const arches = ARCHES.filter((a) => (options.arches ?? ["x86_64", "aarch64"]).includes(a));
  const def = ir.syscalls.defaultAction;
  const rules = ir.syscalls.rules;
  if (def.type === "user-notif") {
    diagnostics.push(
      diag(EXPORT_CODES.inexpressible, "runc refuses `user-notif` as the default syscall action", {
        ...(ir.syscalls.span ? { span: ir.syscalls.span } : {}),
        help: "a supervisor would have to answer `write` too, which runc needs before the supervisor exists; use `user-notif` in rules",
      }),
    );
  }

  const foreign = ir.syscalls.foreignArchAction;
  if (foreign && foreign.type !== "kill-process" && foreign.type !== "kill-thread") {
    diagnostics.push(
      diag(EXPORT_CODES.needsRuntime, "`syscalls.foreign-arch` is not exported: runtimes kill other architectures' calls (libseccomp's bad-arch action)", {
        ...(ir.syscalls.span ? { span: ir.syscalls.span } : {}),
        severity: "warning",
        help: "the exported profile is stricter here than the policy",
      }),
    );
  }

  const stub = !(def.type === "allow" || def.type === "log" || def.type === "trace" || (def.type === "errno" && def.errno === ENOSYS));
  const newer = ir.syscalls.newerAction && !sameAction(ir.syscalls.newerAction, def) ? ir.syscalls.newerAction : undefined;
  if (newer) {
    const runcLike = newer.type === "errno" && newer.errno === ENOSYS && ir.syscalls.kernel === undefined && stub;
    if (!runcLike)
      diagnostics.push(
        diag(
          EXPORT_CODES.inexpressible,
          `\`syscalls.newer\` cannot be written as an OCI profile${ir.syscalls.kernel !== undefined ? " with `kernel:` set" : ""}: runtimes only know runc's ENOSYS stub for the numbers above the highest named call`,
          {
            ...(ir.syscalls.span ? { span: ir.syscalls.span } : {}),
            help: stub
              ? "use `newer: { errno: ENOSYS }` without `kernel:`, or compile with `-t seccomp`"
              : "runc applies its stub only when the default action is not allow, log, trace or ENOSYS; compile with `-t seccomp`",
          },
        ),
      );
    else
      diagnostics.push(
        diag(EXPORT_CODES.needsRuntime, "`syscalls.newer` relies on runc's ENOSYS stub; crun gives the calls newer than the policy the default action", {
          ...(ir.syscalls.span ? { span: ir.syscalls.span } : {}),
          severity: "warning",
          help: "under crun the profile is stricter than the policy for those calls (the default instead of ENOSYS)",
        }),
      );
  }

  // Rules on syscall numbers. Profiles name calls by name, and runc ignores names it cannot resolve, so only
  // what the importer writes for runc's stub can be exported: a number's rule with the default action
  // (where the stub starts; the guard names that call) and, on aarch64, `-1` with ENOSYS (the stub's own
  // answer there). Any other `-1` rule with an errno action is a warning (runtimes give -1 the default, and
  // the kernel runs no call numbered -1 either way); everything else is an error.
  const numberedGuard = new Map<Arch, string>();
  for (const r of rules) {
    for (const e of r.syscalls) {
      const n = numberedEntry(e);
      if (!n || !(arches as readonly string[]).includes(n.arch)) continue;
      const name = syscallNameAt(n.arch, n.nr);
      const others = rules.some((q) => q !== r && q.syscalls.some((x) => x === name || x === e));
      const stubAnswers = n.nr === SKIP_NR && n.arch === "aarch64" && newer !== undefined && r.action.type === "errno" && r.action.errno === ENOSYS;
      if (stubAnswers && !r.conditions.length && !others) continue;
      if (name !== undefined && sameAction(r.action, def) && !r.conditions.length && !others) {
        numberedGuard.set(n.arch, name);
        continue;
      }
      if (n.nr === SKIP_NR && r.action.type === "errno") {
        diagnostics.push(
          diag(EXPORT_CODES.needsRuntime, `\`${e}\` is not exported: runtimes give -1 the default action${stub ? " (or runc's ENOSYS stub)" : ""}`, {
            ...(r.span ? { span: r.span } : {}),
            severity: "warning",
            help: "a call numbered -1 never runs (the kernel answers ENOSYS); only the errno the caller sees differs",
          }),
        );
        continue;
      }
      diagnostics.push(
        diag(EXPORT_CODES.inexpressible, `OCI profiles name syscalls by name, not by number: \`${e}\``, {
          ...(r.span ? { span: r.span } : {}),
          help: "runc ignores names it cannot resolve, so the rule would silently not apply; name the call, or compile with `-t seccomp`",
        }),
      );
    }
  }

  const bdd = new Bdd();
  // Conditions compare the bits of each argument the kernel reads (ir/arg-widths.ts), which are
  // the same on every 64-bit ABI: one rule's sets depend on the syscall only through those widths.
  const setCache = new Map<string, number[]>();
  const setsOf = (index: number, syscall: string): number[] => {
    const r = rules[index]!;
    const widths = r.conditions.map((c) => argBits(arches[0] ?? "x86_64", syscall, c.arg));
    const key = `${index}|${widths.join(",")}`;
    let perArg = setCache.get(key);
    if (!perArg) {
      perArg = [ALL, ALL, ALL, ALL, ALL, ALL];
      // An argument's width depends on the syscall and the argument only, so its conditions share it: AND
      // their low sets, then free the high parts once (intervalParts sweeps narrow arguments on the low set).
      const low: (number | undefined)[] = [];
      r.conditions.forEach((c, i) => {
        const w = widths[i]!;
        if (w === 64) perArg![c.arg] = bdd.and(perArg![c.arg]!, bdd.condition(c));
        else low[c.arg] = bdd.and(low[c.arg] ?? ALL, bdd.lowCondition(c, w));
      });
      r.conditions.forEach((c, i) => {
        const l = low[c.arg];
        if (l !== undefined && widths[i]! < 64) perArg![c.arg] = bdd.narrowSet(l, widths[i]!);
      });
      setCache.set(key, perArg);
    }
    return perArg;
  };
  const pieces: { syscall: string; action: Action; rules: readonly number[]; term: Term; order: number }[] = [];
  for (const s of [...new Set(rules.flatMap((r) => r.syscalls))].filter((e) => !isNumberedEntry(e)).sort()) {
    const ranked = rules
      .map((rule, index) => ({ rule, index }))
      .filter((x) => x.rule.syscalls.includes(s) && !setsOf(x.index, s).includes(EMPTY))
      .sort((x, y) => y.rule.layer - x.rule.layer || ACTION_STRICTNESS[y.rule.action.type] - ACTION_STRICTNESS[x.rule.action.type] || y.index - x.index);
    try {
      const cheapest = cheapestPaths(bdd, ranked.map((x) => ({ index: x.index, action: x.rule.action, sets: setsOf(x.index, s) })), def);
      for (const p of cheapest) for (const term of p.terms) pieces.push({ syscall: s, action: p.action, rules: p.rules, term, order: pieces.length });
    } catch (e) {
      if (!(e instanceof TooComplex)) throw e;
      const first = ranked[0]?.rule;
      diagnostics.push(
        diag(EXPORT_CODES.inexpressible, `the rules for \`${s}\` need more than ${MAX_TERMS} seccomp rules to express exactly`, {
          ...(first?.span ? { span: first.span } : {}),
          labels: ranked.slice(1).flatMap((x) => (x.rule.span ? [{ span: x.rule.span, message: "also decides this syscall" }] : [])),
          help: `the rules are ${ranked.map((x) => `rule ${x.index + 1}`).join(", ")}; fewer overlapping conditions of different actions make the profile smaller${
            ranked.some((x) => x.rule.conditions.some((c) => c.op !== "==" && argBits(arches[0] ?? "x86_64", s, c.arg) < 64))
              ? "; libseccomp compares all 64 bits, so a condition other than `==` on an argument the kernel reads as 32 bits or less takes up to 32 entries"
              : ""
          }`,
        }),
      );
    }
  }

  // runc refuses SCMP_ACT_NOTIFY on write; every SCMP_ACT_NOTIFY needs a listener.
  const notifyWrite = pieces.find((p) => p.syscall === "write" && p.action.type === "user-notif");
  if (notifyWrite) {
    const r = rules[notifyWrite.rules[0]!]!;
    diagnostics.push(
      diag(EXPORT_CODES.inexpressible, "runc refuses `user-notif` for `write`", {
        ...(r.span ? { span: r.span } : {}),
        help: "runc writes the notification fd to its parent with `write` before any supervisor can answer",
      }),
    );
  }
  if (pieces.some((p) => p.action.type === "user-notif")) {
    diagnostics.push(
      diag(EXPORT_CODES.needsRuntime, "`user-notif` needs a supervisor: the container's seccomp config must set `listenerPath`", {
        severity: "warning",
        help: "the runtime hands the notification fd to the process listening on that socket",
      }),
    );
  }
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics: sortDiagnostics(diagnostics) };

  // Entries: the pieces of all syscalls with the same rules, action and comparisons, in the order of their rules.
  const groups = new Map<string, { first: (typeof pieces)[number]; names: string[] }>();
  for (const p of pieces) {
    const key = `${p.rules.join(",")}|${actionKey(p.action)}|${termKey(p.term)}`;
    const g = groups.get(key);
    if (g) g.names.push(p.syscall);
    else groups.set(key, { first: p, names: [p.syscall] });
  }
  const ordered = [...groups.values()].sort((a, b) => (a.first.rules[0] ?? -1) - (b.first.rules[0] ?? -1) || a.first.order - b.first.order);
  const entries: JsonValue[] = ordered.map(({ first, names }) => {
    const args = ociArgs(first.term);
    const from = first.rules.map((i) => `${i + 1}${rules[i]!.reason !== undefined ? ` (${rules[i]!.reason})` : ""}`);
    return {
      names: [...names].sort(),
      ...ociAction(first.action),
      ...(args.length ? { args } : {}),
      comment: `sbc rule${from.length > 1 ? "s" : ""} ${from.join(", ")}`,
    };
  });

  // The guard against runc's -ENOSYS stub: it makes the stub start where the policy's newer calls start
  // (above the highest call the rules name), or, without `newer`, above every call sbc knows.
  if (stub) {
    const named = new Set(pieces.map((p) => p.syscall));
    const guard = [...new Set(arches.map((a) => (newer ? (numberedGuard.get(a) ?? highestNamed(ir, a)) : highestSyscall(a))))].filter((n): n is string => n !== undefined && !named.has(n)).sort();
    if (guard.length) {
      entries.push({
        names: guard,
        ...ociAction(def),
        comment: newer
          ? "the default action, so runtimes skip this entry; it names the highest syscall the policy names so that runc's -ENOSYS stub gives exactly the newer calls ENOSYS (syscalls.newer)"
          : "the default action, so runtimes skip this entry; it names the highest syscall number sbc knows so that runc's -ENOSYS stub for newer syscalls leaves every known syscall on the default",
      });
    }
  }

  const d = ociAction(def);
  const profile: JsonValue = {
    defaultAction: d.action,
    ...(d.errnoRet !== undefined ? { defaultErrnoRet: d.errnoRet } : {}),
    architectures: arches.map((a) => ARCH_INFO[a].scmpName),
    syscalls: entries,
  };
  return { json: writeJson(profile) + "\n", diagnostics: sortDiagnostics(diagnostics) };
}

/** The name of the highest-numbered call on `arch` that the rules name, if any. */
function highestNamed(ir: IR, arch: Arch): string | undefined {
  const top = newerCalls(ir, arch);
  return top ? syscallNameAt(arch, top.from - 1) : undefined;
}

function highestSyscall(arch: Arch): string {
  let best = "";
  let num = -1;
  for (const n of knownSyscallNames()) {
    const v = syscallNumber(arch, n);
    if (v !== undefined && v > num) {
      num = v;
      best = n;
    }
  }
  return best;
}
