// The OCI seccomp target: the IR's syscall section as a runtime-spec `linux.seccomp` profile (the JSON that
// Docker's `--security-opt seccomp=FILE`, runc and crun read) that a container runtime enforces with exactly
// the meaning `evaluateSyscall` gives the IR. Network implications are not this target's business.
//
// The two precedence rules differ. The IR: among matching rules the latest layer decides, then the strictest
// action, then the later rule. libseccomp, behind runc and crun, has no precedence between actions at all
// (src/db.c `db_rule_add`): per syscall the first rule without conditions decides every call and later rules
// are dropped; conditional rules of one action are OR-ed; conditional rules of different actions that can
// match the same call either fail to load (-EEXIST) or resolve in the order of libseccomp's decision tree. So
// an IR where a later-layer `allow` overlaps an earlier `errno` cannot be written as the same rules.
//
// The approach, exact in every case: per syscall, order the IR rules that name it by the IR's precedence
// (layer, strictness, position); the first matching one decides. Each rule's conditions are turned into a
// union of "terms" — at most one comparison per argument, which is all a libseccomp rule can hold (runc and
// crun split a rule with two comparisons of one argument into an OR). The calls an action A gets are then
//     ⋃ over rules r with action A of  region(r) minus the regions of the higher-ranked rules of other actions,
// computed with set algebra on terms (an interval that no single comparison expresses is cut into aligned
// blocks, each a MASKED_EQ). The regions of different actions are disjoint by construction, so libseccomp
// never sees two actions for one call; the regions of the default action are not written. A region that
// covers every call becomes one rule without conditions. The algebra is exact; the only failure is size: a
// syscall whose rules need more than MAX_TERMS terms is refused with a diagnostic naming its rules.
//
// Runtime details this output accounts for (runc libcontainer/seccomp, crun src/libcrun/seccomp.c):
// - entries whose action equals the default are skipped by both runtimes (libseccomp refuses them), so none
//   is written — except the guard below, which relies on exactly that;
// - runc prepends a stub that fails syscalls numbered above the highest syscall the profile names with ENOSYS
//   instead of the default action (patchbpf/enosys_linux.go), unless the default is allow, log, trace or
//   errno ENOSYS. To keep every syscall sbc knows on the default, the profile names the highest-numbered one
//   of each architecture in an entry with the default action: runc counts it for the stub and skips it as a
//   rule, crun skips it;
// - `errnoRet` is written only on SCMP_ACT_ERRNO (the spec requires runtimes to refuse it elsewhere);
// - runc refuses SCMP_ACT_NOTIFY as the default action and on `write`: both are errors here.
// `architectures` lists SCMP_ARCH_X86_64 and SCMP_ARCH_AARCH64 (or `options.arches`). The 32-bit ABIs (X86,
// X32, ARM) are left out on purpose: the IR's names and conditions describe the 64-bit ABIs, and the compat
// ABIs differ (socketcall and ipc multiplex calls, x32 has its own numbers), so calls through them hit
// libseccomp's bad-architecture action (kill) — narrower, never wider.

import { diag, sortDiagnostics, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { CodeKey } from "../../compiler/diagnostics/codes.js";
import { ACTION_STRICTNESS, sameAction } from "../../compiler/evaluator/evaluate.js";
import type { Action, ArgCondition, IR, SyscallRule } from "../../compiler/ir/types.js";
import { errnoValue, knownSyscallNames, syscallNumber, type Arch } from "../../compiler/linux-abi/index.js";

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
  /** The IR cannot be written as a profile a runtime accepts. */
  inexpressible: "invalidValue",
  /** The profile needs something from whoever runs it. */
  needsRuntime: "invalidValue",
} as const satisfies Record<string, CodeKey>;

const U64 = (1n << 64n) - 1n;
const ENOSYS = errnoValue("ENOSYS") ?? 38;
/** Most terms one syscall may need before the target gives up. */
export const MAX_TERMS = 256;

const ARCH_NAMES: Readonly<Record<OciArch, string>> = { x86_64: "SCMP_ARCH_X86_64", aarch64: "SCMP_ARCH_AARCH64" };

// ---- one argument: atoms ---------------------------------------------------------------------------------------
// An atom is one comparison of one argument, the unit a libseccomp rule holds. Operations return unions of
// atoms (`Atom[]`), or ALL for "every value".

type Atom = { readonly k: "==" | "!=" | "<" | "<=" | ">" | ">="; readonly v: bigint } | { readonly k: "&"; readonly m: bigint; readonly v: bigint };
const ALL = "all" as const;
type Union = readonly Atom[] | typeof ALL;

class TooComplex extends Error {}

/** The canonical form of an atom: ALL, [] (nothing) or one atom. */
function norm(a: Atom): Union {
  switch (a.k) {
    case "<":
      return a.v === 0n ? [] : a.v === 1n ? [{ k: "==", v: 0n }] : [a];
    case "<=":
      return a.v === U64 ? ALL : a.v === 0n ? [{ k: "==", v: 0n }] : [a];
    case ">":
      return a.v === U64 ? [] : a.v === U64 - 1n ? [{ k: "==", v: U64 }] : [a];
    case ">=":
      return a.v === 0n ? ALL : a.v === U64 ? [{ k: "==", v: U64 }] : [a];
    case "&":
      if ((a.v & ~a.m) !== 0n) return [];
      if (a.m === 0n) return ALL;
      return a.m === U64 ? [{ k: "==", v: a.v }] : [a];
    default:
      return [a];
  }
}

function interval(a: Atom): [bigint, bigint] | undefined {
  switch (a.k) {
    case "==":
      return [a.v, a.v];
    case "<":
      return [0n, a.v - 1n];
    case "<=":
      return [0n, a.v];
    case ">":
      return [a.v + 1n, U64];
    case ">=":
      return [a.v, U64];
    default:
      return undefined;
  }
}

function holds(a: Atom, x: bigint): boolean {
  switch (a.k) {
    case "==":
      return x === a.v;
    case "!=":
      return x !== a.v;
    case "<":
      return x < a.v;
    case "<=":
      return x <= a.v;
    case ">":
      return x > a.v;
    case ">=":
      return x >= a.v;
    case "&":
      return (x & a.m) === a.v;
  }
}

/** [lo, hi] as aligned power-of-two blocks, each a (mask, value) cube. */
function blocks(lo: bigint, hi: bigint): { m: bigint; v: bigint }[] {
  const out: { m: bigint; v: bigint }[] = [];
  let x = lo;
  while (x <= hi) {
    let size = 1n;
    while (size < 1n << 64n && (x & (size * 2n - 1n)) === 0n && x + size * 2n - 1n <= hi) size *= 2n;
    out.push({ m: U64 ^ (size - 1n), v: x });
    if (x + size - 1n === U64) break;
    x += size;
  }
  return out;
}

/** [lo, hi] as few atoms as possible. */
function fromInterval(lo: bigint, hi: bigint): Union {
  if (lo > hi) return [];
  if (lo === 0n && hi === U64) return ALL;
  if (lo === hi) return [{ k: "==", v: lo }];
  if (lo === 0n) return [{ k: "<=", v: hi }];
  if (hi === U64) return [{ k: ">=", v: lo }];
  return blocks(lo, hi).flatMap((b) => asAtoms(norm({ k: "&", m: b.m, v: b.v })));
}

function asAtoms(u: Union): readonly Atom[] {
  if (u === ALL) throw new Error("internal: a bounded set cannot be every value");
  return u;
}

function unite(...us: Union[]): Union {
  return us.includes(ALL) ? ALL : us.flatMap((u) => u as readonly Atom[]);
}

/** The smallest x' >= x with (x' & m) == v, if any. */
function nextWithBits(x: bigint, m: bigint, v: bigint): bigint | undefined {
  if ((x & m) === v) return x;
  for (let i = 0n; i < 64n; i++) {
    const bit = 1n << i;
    if (x & bit || (m & bit && !(v & bit))) continue;
    const high = U64 ^ ((bit << 1n) - 1n);
    if ((x & m & high) !== (v & high)) continue;
    return (x & high) | bit | (v & (bit - 1n));
  }
  return undefined;
}

function sameAtom(a: Atom, b: Atom): boolean {
  return a.k === b.k && a.v === b.v && (a.k !== "&" || a.m === (b as { m: bigint }).m);
}

/** a ∩ b for canonical atoms. */
function intersect(a: Atom, b: Atom): readonly Atom[] {
  if (sameAtom(a, b)) return [a];
  if (a.k === "==") return holds(b, a.v) ? [a] : [];
  if (b.k === "==") return holds(a, b.v) ? [b] : [];
  const ia = interval(a);
  const ib = interval(b);
  if (ia && ib) {
    const lo = ia[0] > ib[0] ? ia[0] : ib[0];
    const hi = ia[1] < ib[1] ? ia[1] : ib[1];
    if (lo === ia[0] && hi === ia[1]) return [a];
    if (lo === ib[0] && hi === ib[1]) return [b];
    return asAtoms(fromInterval(lo, hi));
  }
  if (a.k === "!=" && b.k === "!=") {
    const [p, q] = a.v < b.v ? [a.v, b.v] : [b.v, a.v];
    return asAtoms(unite(p === 0n ? [] : fromInterval(0n, p - 1n), fromInterval(p + 1n, q - 1n), q === U64 ? [] : fromInterval(q + 1n, U64)));
  }
  if (a.k === "!=" || b.k === "!=") {
    const [ne, other] = a.k === "!=" ? [a, b] : [b, a];
    if (!holds(other, ne.v)) return [other];
    const io = interval(other);
    if (io) return asAtoms(unite(ne.v === 0n ? [] : fromInterval(io[0], ne.v - 1n), ne.v === U64 ? [] : fromInterval(ne.v + 1n, io[1])));
    // A masked cube without one point: cubes that agree with the point above a free bit and differ at it.
    const cube = other as { m: bigint; v: bigint };
    const free = U64 ^ cube.m;
    const out: Atom[] = [];
    for (let i = 63n; i >= 0n; i--) {
      const bit = 1n << i;
      if (!(free & bit)) continue;
      const above = free & (U64 ^ ((bit << 1n) - 1n));
      out.push(...asAtoms(norm({ k: "&", m: cube.m | above | bit, v: cube.v | (ne.v & above) | (~ne.v & bit) })));
    }
    return out;
  }
  if (a.k === "&" && b.k === "&") {
    if (((a.v ^ b.v) & a.m & b.m) !== 0n) return [];
    const m = a.m | b.m;
    if (m === a.m) return [a];
    if (m === b.m) return [b];
    return asAtoms(norm({ k: "&", m, v: a.v | b.v }));
  }
  // A masked cube and an interval.
  const [cube, other] = (a.k === "&" ? [a, b] : [b, a]) as [{ m: bigint; v: bigint }, Atom];
  const [lo, hi] = interval(other)!;
  const max = cube.v | (U64 ^ cube.m);
  if (cube.v >= lo && max <= hi) return [a.k === "&" ? a : b];
  const first = nextWithBits(lo, cube.m, cube.v);
  if (first === undefined || first > hi) return [];
  return blocks(lo, hi).flatMap((blk) => (((blk.v ^ cube.v) & blk.m & cube.m) !== 0n ? [] : asAtoms(norm({ k: "&", m: blk.m | cube.m, v: blk.v | cube.v }))));
}

/** Every value not in a (a canonical atom), as a union of atoms. */
function complement(a: Atom): readonly Atom[] {
  switch (a.k) {
    case "==":
      return [{ k: "!=", v: a.v }];
    case "!=":
      return [{ k: "==", v: a.v }];
    case "<":
      return asAtoms(norm({ k: ">=", v: a.v }));
    case "<=":
      return asAtoms(norm({ k: ">", v: a.v }));
    case ">":
      return asAtoms(norm({ k: "<=", v: a.v }));
    case ">=":
      return asAtoms(norm({ k: "<", v: a.v }));
    case "&": {
      const out: Atom[] = [];
      for (let i = 63n; i >= 0n; i--) {
        const bit = 1n << i;
        if (a.m & bit) out.push(...asAtoms(norm({ k: "&", m: bit, v: ~a.v & bit })));
      }
      return out;
    }
  }
}

function subsetAtom(a: Atom, b: Atom): boolean {
  return complement(b).every((c) => intersect(a, c).length === 0);
}

// ---- six arguments: terms --------------------------------------------------------------------------------------

/** A conjunction: at most one atom per argument (undefined: any value). */
type Term = readonly (Atom | undefined)[];
const TOP: Term = [undefined, undefined, undefined, undefined, undefined, undefined];

function atomKey(a: Atom): string {
  return a.k === "&" ? `&${a.m.toString(16)}=${a.v.toString(16)}` : `${a.k}${a.v.toString(16)}`;
}

function termKey(t: Term): string {
  return t.map((a) => (a ? atomKey(a) : "*")).join(" ");
}

function product(perArg: readonly (readonly (Atom | undefined)[])[]): Term[] {
  let out: (Atom | undefined)[][] = [[]];
  for (const options of perArg) {
    const next: (Atom | undefined)[][] = [];
    for (const prefix of out) for (const o of options) next.push([...prefix, o]);
    if (next.length > MAX_TERMS * 4) throw new TooComplex();
    out = next;
  }
  return out;
}

function intersectTerms(s: Term, t: Term): Term[] {
  const perArg: (readonly (Atom | undefined)[])[] = [];
  for (let i = 0; i < 6; i++) {
    const a = s[i];
    const b = t[i];
    if (!a || !b) perArg.push([a ?? b]);
    else {
      const u = intersect(a, b);
      if (!u.length) return [];
      perArg.push(u);
    }
  }
  return product(perArg);
}

function complementTerm(t: Term): Term[] {
  const out: Term[] = [];
  t.forEach((a, i) => {
    if (!a) return;
    for (const c of complement(a)) out.push(TOP.map((_, j) => (j === i ? c : undefined)));
  });
  return out;
}

function subsetTerm(s: Term, t: Term): boolean {
  return t.every((b, i) => !b || (s[i] !== undefined && subsetAtom(s[i]!, b)));
}

/** Drop repeated terms and terms inside another term; keeps the first of each. */
function simplify(terms: readonly Term[]): Term[] {
  const seen = new Set<string>();
  const unique = terms.filter((t) => {
    const k = termKey(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  if (unique.length > MAX_TERMS * 4) throw new TooComplex();
  return unique.filter((t, i) => !unique.some((u, j) => j !== i && subsetTerm(t, u) && !(subsetTerm(u, t) && j > i)));
}

function subtract(region: readonly Term[], minus: readonly Term[]): Term[] {
  let cur = [...region];
  for (const s of minus) {
    const next: Term[] = [];
    for (const r of cur) {
      if (!intersectTerms(r, s).length) next.push(r);
      else if (!subsetTerm(r, s)) for (const c of complementTerm(s)) next.push(...intersectTerms(r, c));
    }
    cur = simplify(next);
    if (cur.length > MAX_TERMS) throw new TooComplex();
  }
  return cur;
}

function overlaps(a: readonly Term[], b: readonly Term[]): boolean {
  return a.some((s) => b.some((t) => intersectTerms(s, t).length > 0));
}

function toAtom(c: ArgCondition): Atom {
  const v = BigInt(c.value);
  return c.op === "&==" ? { k: "&", m: BigInt(c.mask!), v } : { k: c.op, v };
}

/** The calls a rule matches, as a union of terms. */
function region(rule: SyscallRule): Term[] {
  const perArg: (readonly (Atom | undefined)[])[] = [];
  for (let i = 0; i < 6; i++) {
    let u: Union = ALL;
    for (const c of rule.conditions) {
      if (c.arg !== i) continue;
      const n = norm(toAtom(c));
      if (n === ALL) continue;
      if (!n.length) return [];
      u = u === ALL ? n : simplifyAtoms(u.flatMap((x) => intersect(x, n[0]!)));
      if (!u.length) return [];
    }
    perArg.push(u === ALL ? [undefined] : u);
  }
  return simplify(product(perArg));
}

function simplifyAtoms(atoms: readonly Atom[]): Atom[] {
  const seen = new Set<string>();
  return atoms.filter((a) => {
    const k = atomKey(a);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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

const OCI_OP: Readonly<Record<Exclude<Atom["k"], "&">, string>> = {
  "==": "SCMP_CMP_EQ",
  "!=": "SCMP_CMP_NE",
  "<": "SCMP_CMP_LT",
  "<=": "SCMP_CMP_LE",
  ">": "SCMP_CMP_GT",
  ">=": "SCMP_CMP_GE",
};

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
  }
}

function actionKey(a: Action): string {
  return a.type === "errno" ? `errno(${a.errno})` : a.type;
}

// ---- the target ------------------------------------------------------------------------------------------------

interface Piece {
  readonly syscall: string;
  readonly action: Action;
  readonly term: Term;
  /** The IR rule the calls come from (0-based), and the higher-ranked rules that took some of them. */
  readonly origin: number;
  readonly minus: readonly number[];
  /** Position of the term in its rule's region, for a stable order. */
  readonly order: number;
}

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

  const syscalls = [...new Set(rules.flatMap((r) => r.syscalls))].sort();
  const regions = new Map<number, Term[]>();
  const regionOf = (i: number): Term[] => {
    let r = regions.get(i);
    if (!r) regions.set(i, (r = region(rules[i]!)));
    return r;
  };
  const pieces: Piece[] = [];
  for (const s of syscalls) {
    const ranked = rules
      .map((rule, index) => ({ rule, index }))
      .filter((x) => x.rule.syscalls.includes(s))
      .sort((x, y) => y.rule.layer - x.rule.layer || ACTION_STRICTNESS[y.rule.action.type] - ACTION_STRICTNESS[x.rule.action.type] || y.index - x.index);
    try {
      // Rules ranked below one that matches every call never decide anything.
      const cut = ranked.findIndex((x) => regionOf(x.index).some((t) => t.every((a) => !a)));
      const live = cut < 0 ? ranked : ranked.slice(0, cut + 1);
      const regionsHere = live.map((x) => regionOf(x.index));
      live.forEach((x, i) => {
        if (sameAction(x.rule.action, def)) return;
        const above = live.slice(0, i).map((y, j) => ({ y, reg: regionsHere[j]! })).filter((z) => !sameAction(z.y.rule.action, x.rule.action) && overlaps(z.reg, regionsHere[i]!));
        const terms = subtract(regionsHere[i]!, above.flatMap((z) => z.reg));
        terms.forEach((term, order) => pieces.push({ syscall: s, action: x.rule.action, term, origin: x.index, minus: above.map((z) => z.y.index).sort((p, q) => p - q), order }));
      });
    } catch (e) {
      if (!(e instanceof TooComplex)) throw e;
      const first = ranked[0]!.rule;
      diagnostics.push(
        diag(EXPORT_CODES.inexpressible, `the rules for \`${s}\` need more than ${MAX_TERMS} seccomp rules to express exactly`, {
          ...(first.span ? { span: first.span } : {}),
          labels: ranked.slice(1).flatMap((x) => (x.rule.span ? [{ span: x.rule.span, message: "also decides this syscall" }] : [])),
          help: `the rules are ${ranked.map((x) => `rule ${x.index + 1}`).join(", ")}; fewer overlapping conditions of different actions make the profile smaller`,
        }),
      );
    }
  }

  // runc refuses SCMP_ACT_NOTIFY on write; every SCMP_ACT_NOTIFY needs a listener.
  const notifyWrite = pieces.find((p) => p.syscall === "write" && p.action.type === "user-notif");
  if (notifyWrite) {
    const r = rules[notifyWrite.origin]!;
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

  // Group the pieces of all syscalls into entries.
  const groups = new Map<string, { piece: Piece; names: string[] }>();
  for (const p of pieces) {
    const key = `${p.origin}|${actionKey(p.action)}|${termKey(p.term)}|${p.minus.join(",")}`;
    const g = groups.get(key);
    if (g) {
      g.names.push(p.syscall);
      if (p.order < g.piece.order) g.piece = p;
    } else groups.set(key, { piece: p, names: [p.syscall] });
  }
  const ordered = [...groups.entries()].sort(([ka, a], [kb, b]) => a.piece.origin - b.piece.origin || a.piece.order - b.piece.order || (ka < kb ? -1 : ka > kb ? 1 : 0));
  const entries: JsonValue[] = ordered.map(([, { piece, names }]) => {
    const r = rules[piece.origin]!;
    const from = `sbc rule ${piece.origin + 1}${r.reason !== undefined ? `: ${r.reason}` : ""}`;
    const except = piece.minus.length ? ` (except where ${piece.minus.map((m) => `rule ${m + 1}`).join(", ")} decides)` : "";
    const args = ociArgs(piece.term);
    return {
      names: [...names].sort(),
      ...ociAction(piece.action),
      ...(args.length ? { args } : {}),
      comment: from + except,
    };
  });

  // The guard against runc's -ENOSYS stub.
  const stub = !(def.type === "allow" || def.type === "log" || (def.type === "errno" && def.errno === ENOSYS));
  if (stub) {
    const named = new Set(pieces.map((p) => p.syscall));
    const guard = [...new Set(arches.map((a) => highestSyscall(a)))].filter((n) => !named.has(n)).sort();
    if (guard.length) {
      entries.push({
        names: guard,
        ...ociAction(def),
        comment: "the default action, so runtimes skip this entry; it names the highest syscall number sbc knows so that runc's -ENOSYS stub for newer syscalls leaves every known syscall on the default",
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
