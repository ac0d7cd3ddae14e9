// The reference evaluator: the meaning of the IR, stated as code. Every backend's executable model is tested
// against these functions. Each answer names the rule that decided it (null when a default decided).
//
// Precedence, as documented in docs/language.md:
// - filesystem: among rules that match the path and mention the access, the most specific wins — the deeper
//   anchor (a glob is anchored at its literal prefix), then exact > glob > subtree; then the later layer
//   (a file overrides the files it extends); at a full tie, deny wins. No rule: deny.
// - network: a matching deny wins over any allow, whatever file either came from (network rules are broad, so
//   a later file's `allow connect` must not silently reopen an address an earlier file denied; a file that
//   wants to drop inherited rules starts over with `mode:`). No rule: deny.
// - unix sockets: pairs and abstract names by their setting; a pathname by the path rules, with the
//   filesystem's precedence for subtrees (the deeper path, then the later layer, then deny; no rule: deny).
//   Binding also creates the socket file, so it needs the filesystem's `create-special` there too.
// - syscalls: among matching rules the latest layer decides; within it the strictest action wins
//   (kill-process > kill-thread > trap > errno > user-notif > log > allow), and between equal actions the
//   later rule. No rule: the default action. The syscalls the network section implies
//   (network-syscalls.ts) are combined with that answer as a second filter would be: the stricter wins.
//   A condition compares only the bits of its argument that the kernel reads (`int cmd`: the low 32), for
//   the ABI asked about (x86_64 unless said otherwise).
// - commands: every matching prefix rule counts and the strictest decision wins (forbidden > prompt > allow),
//   whatever file it came from: a policy cannot un-forbid what it extends. No rule: the default decision.

import type { Access } from "../language/access.js";
import { argBits, narrowCondition, narrowHolds, type ArgBits } from "../linux-abi/arg-widths.js";
import { errnoName } from "../linux-abi/index.js";
import { cidrContains, LOOPBACK_CIDRS, parseCidr, parseIp, type IpAddress } from "../language/values.js";
import { compileGlob, components, depth, globLiteralDepth, isWithin, parsePath, type GlobMatcher } from "../paths.js";
import type { Action, ArgCondition, CommandRule, Decision, Effect, FsRule, IR, NetOp, NetRule, Protocol, SyscallRule, UnixOp, UnixPathRule } from "../ir/types.js";
import { impliedRuleFor, networkSyscalls, type ImpliedRule } from "./network-syscalls.js";

export class EvaluationError extends Error {}

// ---- filesystem -------------------------------------------------------------------------------------------

export interface FsVerdict {
  readonly decision: Effect;
  /** The deciding rule, or null when no rule matched (default deny). */
  readonly rule: FsRule | null;
  readonly ruleIndex: number | null;
}

interface CompiledFsRule {
  readonly rule: FsRule;
  readonly index: number;
  readonly rank: readonly [number, number, number, number];
  readonly matches: (path: string, parts: readonly string[]) => boolean;
}

const compiledFs = new WeakMap<IR, CompiledFsRule[]>();

function checkBound(path: string): void {
  if (!path.startsWith("/")) throw new EvaluationError(`the IR still has the symbolic path \`${path}\`; bind its parameters first (bindIr)`);
}

function compileFs(ir: IR): CompiledFsRule[] {
  let c = compiledFs.get(ir);
  if (c) return c;
  c = ir.filesystem.map((rule, index) => {
    checkBound(rule.path);
    const effectRank = rule.effect === "deny" ? 1 : 0;
    if (rule.kind === "glob") {
      const parts = components(rule.path);
      const m: GlobMatcher = compileGlob(parts);
      return { rule, index, rank: [globLiteralDepth(parts), 1, rule.layer, effectRank] as const, matches: (_p: string, xs: readonly string[]) => m(xs) };
    }
    if (rule.kind === "exact") return { rule, index, rank: [depth(rule.path), 2, rule.layer, effectRank] as const, matches: (p: string) => p === rule.path };
    return { rule, index, rank: [depth(rule.path), 0, rule.layer, effectRank] as const, matches: (p: string) => isWithin(p, rule.path) };
  });
  compiledFs.set(ir, c);
  return c;
}

function greater(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/** Normalize a query path; `${param}` heads are resolved from the IR's bound params. */
export function queryPath(ir: IR, path: string): string {
  const parsed = parsePath(path);
  const err = parsed.errors[0];
  if (err || !parsed.template) throw new EvaluationError(err?.message ?? `invalid path \`${path}\``);
  const t = parsed.template;
  if (t.param === null) return t.components.length ? "/" + t.components.join("/") : "/";
  const p = ir.params.find((q) => q.name === t.param);
  if (!p || p.value === null) throw new EvaluationError(`parameter \`${t.param}\` has no value in this IR`);
  const all = [...components(p.value), ...t.components];
  return all.length ? "/" + all.join("/") : "/";
}

export function evaluateFs(ir: IR, access: Access, path: string): FsVerdict {
  const p = queryPath(ir, path);
  const parts = components(p);
  let best: CompiledFsRule | undefined;
  for (const c of compileFs(ir)) {
    if (!c.rule.access.includes(access) || !c.matches(p, parts)) continue;
    if (!best || greater(c.rank, best.rank)) best = c;
  }
  if (!best) return { decision: "deny", rule: null, ruleIndex: null };
  return { decision: best.rule.effect, rule: best.rule, ruleIndex: best.index };
}

// ---- network ----------------------------------------------------------------------------------------------

export interface NetQuery {
  readonly op: NetOp;
  readonly protocol?: Protocol;
  /** An IP address (`127.0.0.1`, `::1`) or `localhost`. */
  readonly host: string;
  readonly port: number;
}

export interface NetVerdict {
  readonly decision: Effect;
  readonly rule: NetRule | null;
  readonly ruleIndex: number | null;
}

function hostMatches(rule: NetRule, ip: IpAddress): boolean {
  if (rule.hosts === "any") return true;
  if (rule.hosts === "loopback") return LOOPBACK_CIDRS.some((c) => cidrContains(c, ip));
  return rule.hosts.some((h) => {
    const c = parseCidr(h);
    return c.ok && cidrContains(c.value, ip);
  });
}

export function evaluateNetwork(ir: IR, q: NetQuery): NetVerdict {
  const ip = q.host === "localhost" ? parseIp("127.0.0.1") : parseIp(q.host);
  if (!ip) throw new EvaluationError(`\`${q.host}\` is not an IP address`);
  if (!Number.isInteger(q.port) || q.port < 0 || q.port > 65535) throw new EvaluationError(`port \`${q.port}\` is out of 0–65535`);
  const protocol = q.protocol ?? "tcp";
  let allow: { rule: NetRule; index: number } | undefined;
  for (let i = 0; i < ir.network.rules.length; i++) {
    const r = ir.network.rules[i]!;
    if (!r.ops.includes(q.op) || !r.protocols.includes(protocol) || !hostMatches(r, ip)) continue;
    if (!r.ports.some(([lo, hi]) => q.port >= lo && q.port <= hi)) continue;
    if (r.effect === "deny") return { decision: "deny", rule: r, ruleIndex: i };
    allow ??= { rule: r, index: i };
  }
  return allow ? { decision: "allow", rule: allow.rule, ruleIndex: allow.index } : { decision: "deny", rule: null, ruleIndex: null };
}

// ---- unix sockets -------------------------------------------------------------------------------------------

/** A socket pair; binding or connecting a pathname socket; connecting (or sending) to an abstract name. */
export type UnixQuery =
  | { readonly op: "socketpair" }
  | { readonly op: UnixOp; readonly path: string }
  | { readonly op: "connect"; readonly abstract: string };

export interface UnixPathVerdict {
  readonly decision: Effect;
  /** The deciding path rule, or null when none matched (default deny). */
  readonly rule: UnixPathRule | null;
  readonly ruleIndex: number | null;
}

/** What decided a unix query: a setting, a path rule, or (binding, where the path rule allows) the filesystem. */
export type UnixDecider =
  | { readonly kind: "pairs" | "abstract" }
  | ({ readonly kind: "path-rule" } & Omit<UnixPathVerdict, "decision">)
  | { readonly kind: "filesystem"; readonly rule: FsRule | null; readonly ruleIndex: number | null; readonly pathRule: UnixPathRule; readonly pathRuleIndex: number };

export interface UnixVerdict {
  readonly decision: Effect;
  readonly by: UnixDecider;
}

/** The unix path rules alone: may `op` happen at `path`? (`path` absolute, or a bound parameter head.) */
export function evaluateUnixPath(ir: IR, op: UnixOp, path: string): UnixPathVerdict {
  const p = queryPath(ir, path);
  let best: { rule: UnixPathRule; index: number; rank: [number, number, number] } | undefined;
  ir.network.unix.paths.forEach((rule, index) => {
    checkBound(rule.path);
    if (!rule.ops.includes(op) || !isWithin(p, rule.path)) return;
    const rank: [number, number, number] = [depth(rule.path), rule.layer, rule.effect === "deny" ? 1 : 0];
    if (!best || greater(rank, best.rank)) best = { rule, index, rank };
  });
  if (!best) return { decision: "deny", rule: null, ruleIndex: null };
  const b = best as { rule: UnixPathRule; index: number };
  return { decision: b.rule.effect, rule: b.rule, ruleIndex: b.index };
}

export function evaluateUnix(ir: IR, q: UnixQuery): UnixVerdict {
  if (q.op === "socketpair") return { decision: ir.network.unix.pairs, by: { kind: "pairs" } };
  if ("abstract" in q) return { decision: ir.network.unix.abstract, by: { kind: "abstract" } };
  const v = evaluateUnixPath(ir, q.op, q.path);
  if (q.op === "connect" || v.decision === "deny") return { decision: v.decision, by: { kind: "path-rule", rule: v.rule, ruleIndex: v.ruleIndex } };
  // Binding creates the socket file: the filesystem must allow creating a special file there too.
  const fs = evaluateFs(ir, "create-special", q.path);
  return { decision: fs.decision, by: { kind: "filesystem", rule: fs.rule, ruleIndex: fs.ruleIndex, pathRule: v.rule!, pathRuleIndex: v.ruleIndex! } };
}

// ---- syscalls ---------------------------------------------------------------------------------------------

export interface SyscallVerdict {
  readonly action: Action;
  /** The policy's syscall rule that decided, or null (the default, or an implied rule). */
  readonly rule: SyscallRule | null;
  readonly ruleIndex: number | null;
  /** Set when a rule the network section implies was stricter than the syscall section's answer. */
  readonly implied?: ImpliedRule;
}

/** Higher is stricter; mirrors the kernel's precedence between filter results. */
export const ACTION_STRICTNESS: Readonly<Record<Action["type"], number>> = {
  allow: 0,
  log: 1,
  "user-notif": 2,
  errno: 3,
  trap: 4,
  "kill-thread": 5,
  "kill-process": 6,
};

/**
 * Does one condition hold for `args` (u64 each; a missing one is 0)? `bits` is how much of the argument the
 * kernel reads (linux-abi/arg-widths.ts): the condition compares those low bits, with its value and mask reduced
 * to them (a negative value written for an `int` stays negative).
 */
export function conditionHolds(c: ArgCondition, args: readonly bigint[], bits: ArgBits = 64): boolean {
  return narrowHolds(narrowCondition(c, bits), args[c.arg] ?? 0n);
}

export interface SyscallQueryOptions {
  /**
   * The ABI the call is made on, which decides how many bits of each argument the kernel reads. Default
   * x86_64; every 64-bit ABI reads the same widths (docs/language.md §10).
   */
  readonly arch?: string;
}

export const DEFAULT_QUERY_ARCH = "x86_64";

/**
 * What a call gets on Linux: the syscall section's answer (`evaluateSyscallRules`) and the rules the network
 * section implies, combined as two stacked filters are — the stricter action wins, and on a tie the syscall
 * rule's answer stands (so its errno number survives).
 */
export function evaluateSyscall(ir: IR, syscall: string, args: readonly bigint[] = [], options: SyscallQueryOptions = {}): SyscallVerdict {
  const arch = options.arch ?? DEFAULT_QUERY_ARCH;
  const own = evaluateSyscallRules(ir, syscall, args, options);
  const implied = impliedRuleFor(networkSyscalls(ir), syscall, (c) => conditionHolds(c, args, argBits(arch, syscall, c.arg)));
  if (!implied || stricterAction(own.action, implied.action) === own.action) return own;
  return { action: implied.action, rule: null, ruleIndex: null, implied };
}

/** The stricter of two actions; on a tie, the first. */
export function stricterAction(a: Action, b: Action): Action {
  return ACTION_STRICTNESS[b.type] > ACTION_STRICTNESS[a.type] ? b : a;
}

/** The syscall section alone, without what the network section implies (what an OCI profile carries). */
export function evaluateSyscallRules(ir: IR, syscall: string, args: readonly bigint[] = [], options: SyscallQueryOptions = {}): SyscallVerdict {
  const arch = options.arch ?? DEFAULT_QUERY_ARCH;
  let best: { rule: SyscallRule; index: number } | undefined;
  ir.syscalls.rules.forEach((rule, index) => {
    if (!rule.syscalls.includes(syscall)) return;
    if (!rule.conditions.every((c) => conditionHolds(c, args, argBits(arch, syscall, c.arg)))) return;
    const better =
      !best ||
      rule.layer > best.rule.layer ||
      (rule.layer === best.rule.layer && ACTION_STRICTNESS[rule.action.type] >= ACTION_STRICTNESS[best.rule.action.type]);
    if (better) best = { rule, index };
  });
  if (!best) return { action: ir.syscalls.defaultAction, rule: null, ruleIndex: null };
  const b = best as { rule: SyscallRule; index: number };
  return { action: b.rule.action, rule: b.rule, ruleIndex: b.index };
}

export function formatAction(a: Action): string {
  if (a.type !== "errno") return a.type;
  const name = errnoName(a.errno);
  return name ? `errno(${name})` : `errno(${a.errno})`;
}

export function sameAction(a: Action, b: Action): boolean {
  return a.type === b.type && (a.type !== "errno" || a.errno === (b as { errno: number }).errno);
}

// ---- commands ---------------------------------------------------------------------------------------------

export interface CommandVerdict {
  readonly decision: Decision;
  /** Every matching rule, in merge order. */
  readonly matched: readonly CommandRule[];
  /** The rule whose decision won (the first of the strictest), or null for the default. */
  readonly rule: CommandRule | null;
}

const DECISION_STRICTNESS: Readonly<Record<Decision, number>> = { allow: 0, prompt: 1, forbidden: 2 };

export function commandMatches(rule: CommandRule, argv: readonly string[]): boolean {
  return rule.prefix.length <= argv.length && rule.prefix.every((alts, i) => alts.includes(argv[i]!));
}

export function evaluateCommand(ir: IR, argv: readonly string[]): CommandVerdict {
  const matched = ir.commands.rules.filter((r) => commandMatches(r, argv));
  if (!matched.length) return { decision: ir.commands.defaultDecision, matched, rule: null };
  let rule = matched[0]!;
  for (const r of matched) if (DECISION_STRICTNESS[r.decision] > DECISION_STRICTNESS[rule.decision]) rule = r;
  return { decision: rule.decision, matched, rule };
}
