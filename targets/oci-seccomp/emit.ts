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
// `architectures` lists SCMP_ARCH_X86_64 and SCMP_ARCH_AARCH64 (or `options.arches`). The 32-bit ABIs (X86,
// X32, ARM) are left out on purpose: the IR's names and conditions describe the 64-bit ABIs, and the compat
// ABIs differ (socketcall and ipc multiplex calls, x32 has its own numbers), so calls through them hit
// libseccomp's bad-architecture action (kill) and never run.

import { diag, sortDiagnostics, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { CodeKey } from "../../compiler/diagnostics/codes.js";
import { ACTION_STRICTNESS, sameAction } from "../../compiler/evaluator/evaluate.js";
import type { Action, ArgCondition, IR } from "../../compiler/ir/types.js";
import { errnoValue, knownSyscallNames, syscallNumber, type Arch } from "../../compiler/linux-abi/index.js";
import { isNumberedEntry, newerCalls, numberedEntry, SKIP_NR, syscallNameAt } from "../../compiler/evaluator/syscall-numbers.js";

export type OciArch = "x86_64" | "aarch64";

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

const ARCH_NAMES: Readonly<Record<OciArch, string>> = { x86_64: "SCMP_ARCH_X86_64", aarch64: "SCMP_ARCH_AARCH64" };

class TooComplex extends Error {}

// ---- sets of u64: binary decision diagrams ---------------------------------------------------------------------
// Reduced, ordered, hash-consed; the root tests bit 63. Node 0 is the empty set, node 1 every value.

const EMPTY = 0;
const ALL = 1;

class Bdd {
  private readonly bit: number[] = [-1, -1];
  private readonly lo: number[] = [0, 1];
  private readonly hi: number[] = [0, 1];
  private readonly unique = new Map<string, number>();
  private readonly memo = new Map<string, number>();

  private mk(bit: number, lo: number, hi: number): number {
    if (lo === hi) return lo;
    const key = `${bit},${lo},${hi}`;
    let n = this.unique.get(key);
    if (n === undefined) {
      n = this.bit.length;
      this.bit.push(bit);
      this.lo.push(lo);
      this.hi.push(hi);
      this.unique.set(key, n);
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
  range(lo: bigint, hi: bigint): number {
    if (lo > hi) return EMPTY;
    return this.and(this.atMost(hi), lo === 0n ? ALL : this.not(this.atMost(lo - 1n)));
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

  /** The set as disjoint intervals in order, or undefined when there are more than `cap`. */
  intervals(n: number, cap: number): [bigint, bigint][] | undefined {
    const out: [bigint, bigint][] = [];
    const outside = this.not(n);
    let x = this.min(n);
    while (x !== undefined) {
      if (out.length >= cap) return undefined;
      const gap = this.min(this.and(outside, this.range(x, U64)));
      if (gap === undefined) {
        out.push([x, U64]);
        break;
      }
      out.push([x, gap - 1n]);
      x = this.min(this.and(n, this.range(gap, U64)));
    }
    return out;
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
  const lo = bdd.min(set)!;
  const hi = bdd.max(set)!;
  if (bdd.range(lo, hi) === set) return intervalAtoms(lo, hi);
  const out = bdd.not(set);
  const clo = bdd.min(out)!;
  const chi = bdd.max(out)!;
  if (clo === chi) return [{ k: "!=", v: clo }];
  if (bdd.range(clo, chi) === out) return [...intervalAtoms(0n, clo - 1n), ...intervalAtoms(chi + 1n, U64)];
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

/** Two trees of one shape (same key) with their deciding rules combined. */
function mergeTrees(a: Tree, b: Tree): Tree {
  if (a.t === "leaf" && b.t === "leaf") return { ...a, rules: [...new Set([...a.rules, ...b.rules])].sort((x, y) => x - y) };
  if (a.t === "node" && b.t === "node") return { ...a, branches: a.branches.map((br, i) => ({ set: br.set, child: mergeTrees(br.child, b.branches[i]!.child) })) };
  throw new Error("internal: merging trees of different shapes");
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
    let parts = [ALL];
    for (const s of new Set(live.map((r) => r.sets[arg]!))) {
      if (s === ALL) continue;
      const out = bdd.not(s);
      parts = parts.flatMap((p) => [bdd.and(p, s), bdd.and(p, out)].filter((x) => x !== EMPTY));
    }
    // Merge the parts whose subtrees answer alike, in the order of their smallest values.
    const byKey = new Map<string, { set: number; child: Tree }>();
    const sorted = parts.map((set) => ({ set, min: bdd.min(set)! })).sort((x, y) => (x.min < y.min ? -1 : 1));
    for (const { set } of sorted) {
      const child = build(pos + 1, live.filter((r) => bdd.and(set, r.sets[arg]!) === set));
      const g = byKey.get(child.key);
      byKey.set(child.key, g ? { set: bdd.or(g.set, set), child: mergeTrees(g.child, child) } : { set, child });
    }
    const branches = [...byKey.values()];
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
  const arches = (["x86_64", "aarch64"] as const).filter((a) => (options.arches ?? ["x86_64", "aarch64"]).includes(a));
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
  const sets = rules.map((r) => {
    const perArg = [ALL, ALL, ALL, ALL, ALL, ALL];
    for (const c of r.conditions) perArg[c.arg] = bdd.and(perArg[c.arg]!, bdd.condition(c));
    return perArg;
  });
  const pieces: { syscall: string; action: Action; rules: readonly number[]; term: Term; order: number }[] = [];
  for (const s of [...new Set(rules.flatMap((r) => r.syscalls))].filter((e) => !isNumberedEntry(e)).sort()) {
    const ranked = rules
      .map((rule, index) => ({ rule, index }))
      .filter((x) => x.rule.syscalls.includes(s) && !sets[x.index]!.includes(EMPTY))
      .sort((x, y) => y.rule.layer - x.rule.layer || ACTION_STRICTNESS[y.rule.action.type] - ACTION_STRICTNESS[x.rule.action.type] || y.index - x.index);
    try {
      const cheapest = cheapestPaths(bdd, ranked.map((x) => ({ index: x.index, action: x.rule.action, sets: sets[x.index]! })), def);
      for (const p of cheapest) for (const term of p.terms) pieces.push({ syscall: s, action: p.action, rules: p.rules, term, order: pieces.length });
    } catch (e) {
      if (!(e instanceof TooComplex)) throw e;
      const first = ranked[0]?.rule;
      diagnostics.push(
        diag(EXPORT_CODES.inexpressible, `the rules for \`${s}\` need more than ${MAX_TERMS} seccomp rules to express exactly`, {
          ...(first?.span ? { span: first.span } : {}),
          labels: ranked.slice(1).flatMap((x) => (x.rule.span ? [{ span: x.rule.span, message: "also decides this syscall" }] : [])),
          help: `the rules are ${ranked.map((x) => `rule ${x.index + 1}`).join(", ")}; fewer overlapping conditions of different actions make the profile smaller`,
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
    architectures: arches.map((a) => ARCH_NAMES[a]),
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
