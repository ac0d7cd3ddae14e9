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
//   (kill-process > kill-thread > trap > errno > user-notif > trace > log > allow), and between equal actions
//   the later rule. No rule: the default action, or `syscalls.newer` for calls newer than the policy
//   (syscall-numbers.ts). A call is a number on an arch; a rule names it by name or as `arch:nr`, and a query
//   by name alone asks every arch that has the call. The syscalls the network section implies
//   (network-syscalls.ts) are combined with that answer as a second filter would be: the stricter wins.
//   A condition compares only the bits of its argument that the kernel reads (`int cmd`: the low 32), for
//   the ABI asked about (x86_64 unless said otherwise).
// - names (domain rules): matched before resolution by evaluateName, deny wins; the resolved address then
//   passes checkResolvedAddress (IP denies, and special ranges unless a rule names them). A rule with HTTP
//   conditions matches plain-HTTP requests by method and path; for a tunnel, where the proxy sees neither,
//   its allow does not apply and its deny does.
// - commands: every matching prefix rule counts and the strictest decision wins (forbidden > prompt > allow),
//   whatever file it came from: a policy cannot un-forbid what it extends. No rule: the default decision.

import type { Access } from "../access.js";
import { argBits, narrowCondition, narrowHolds, type ArgBits } from "../arg-widths.js";
import { ARCHES, errnoName, isArch, syscallNumber, type Arch } from "../../linux-abi/index.js";
import { cidrContains, LOOPBACK_CIDRS, parseCidr, parseIp, type IpAddress } from "../values.js";
import { compileGlob, components, depth, globLiteralDepth, isWithin, parsePath, type GlobMatcher } from "../paths.js";
import { domainMatches, specialRange } from "../hosts.js";
import { httpMatches } from "../http-match.js";
import type { Action, ArgCondition, CommandRule, Decision, DomainRule, Effect, FsRule, IR, NetOp, NetRule, Protocol, SyscallRule, UnixOp, UnixPathRule } from "../types.js";
import { impliedRuleFor, networkSyscalls, type ImpliedRule } from "./network-syscalls.js";
import { entriesName, hasNumberedEntries, isNewerCall, numberedEntry, syscallNameAt } from "./syscall-numbers.js";

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
  return evaluateFsNormalized(ir, access, queryPath(ir, path));
}

/**
 * `evaluateFs` for a path that is already absolute and normalized (`/a/b`, no `//`, `.` or trailing `/`), as
 * `queryPath` returns it: callers that ask many fixed paths (the linter) skip parsing each one.
 */
export function evaluateFsNormalized(ir: IR, access: Access, p: string): FsVerdict {
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

/** A connection by name: the domain rules and the IP rules for any host decide; among them deny wins. */
export interface NameQuery {
  readonly protocol?: Protocol;
  /** Normalized (ir/hosts.ts parseHost). */
  readonly name: string;
  readonly port: number;
  /**
   * A plain-HTTP request's method and path (as on the wire), which rules with `http-methods`/`http-paths`
   * match; absent for a tunnel (CONNECT, SOCKS5) or a question without HTTP: such a rule then never allows,
   * and a deny with them denies (ir/http-match.ts).
   */
  readonly http?: { readonly method: string; readonly path: string };
}

export type NameVerdict =
  | { readonly decision: Effect; readonly by: "domain"; readonly rule: DomainRule; readonly ruleIndex: number }
  | { readonly decision: Effect; readonly by: "ip"; readonly rule: NetRule; readonly ruleIndex: number }
  | { readonly decision: "deny"; readonly by: "default"; readonly rule: null; readonly ruleIndex: null };

/**
 * May the sandbox connect to a host by name, before it is resolved? A domain rule matches by pattern; an IP
 * rule matches only when its hosts are `any` (a rule for addresses says nothing about a name until it is
 * resolved: see checkResolvedAddress). Deny wins over allow, as for IP rules; no match: deny.
 */
export function evaluateName(ir: IR, q: NameQuery): NameVerdict {
  const protocol = q.protocol ?? "tcp";
  const inPorts = (ports: readonly (readonly [number, number])[]) => ports.some(([lo, hi]) => q.port >= lo && q.port <= hi);
  let allow: NameVerdict | undefined;
  const domains = ir.network.domains ?? [];
  for (let i = 0; i < domains.length; i++) {
    const r = domains[i]!;
    if (!r.protocols.includes(protocol) || !inPorts(r.ports) || !r.domains.some((d) => domainMatches(d, q.name))) continue;
    if (r.http) {
      const m = httpMatches(r.http, q.http);
      if (m === false || (m === "unknown" && r.effect === "allow")) continue;
    }
    if (r.effect === "deny") return { decision: "deny", by: "domain", rule: r, ruleIndex: i };
    allow ??= { decision: "allow", by: "domain", rule: r, ruleIndex: i };
  }
  for (let i = 0; i < ir.network.rules.length; i++) {
    const r = ir.network.rules[i]!;
    if (r.hosts !== "any" || !r.ops.includes("connect") || !r.protocols.includes(protocol) || !inPorts(r.ports)) continue;
    if (r.effect === "deny") return { decision: "deny", by: "ip", rule: r, ruleIndex: i };
    allow ??= { decision: "allow", by: "ip", rule: r, ruleIndex: i };
  }
  return allow ?? { decision: "deny", by: "default", rule: null, ruleIndex: null };
}

export type ResolvedVerdict =
  | { readonly decision: "allow" }
  | { readonly decision: "deny"; readonly by: "ip"; readonly rule: NetRule; readonly ruleIndex: number }
  | { readonly decision: "deny"; readonly by: "special"; readonly range: string; readonly what: string };

/**
 * The check after resolution, for a name `evaluateName` allowed: the address it resolved to (which is the one
 * the proxy then connects to). An IP rule denying the address wins; an address in a special range (loopback,
 * private, link-local and cloud metadata, CGNAT, unique-local; IPv4-mapped forms included) is refused unless
 * an allow rule names it explicitly (`loopback` or a CIDR list containing it, not `any`). This stops DNS
 * rebinding into the host's or the cloud's private services.
 */
export function checkResolvedAddress(ir: IR, q: { readonly protocol?: Protocol; readonly address: string; readonly port: number }): ResolvedVerdict {
  const ip = parseIp(q.address);
  if (!ip) throw new EvaluationError(`\`${q.address}\` is not an IP address`);
  const protocol = q.protocol ?? "tcp";
  let named = false;
  for (let i = 0; i < ir.network.rules.length; i++) {
    const r = ir.network.rules[i]!;
    if (!r.ops.includes("connect") || !r.protocols.includes(protocol) || !hostMatches(r, ip)) continue;
    if (!r.ports.some(([lo, hi]) => q.port >= lo && q.port <= hi)) continue;
    if (r.effect === "deny") return { decision: "deny", by: "ip", rule: r, ruleIndex: i };
    if (r.hosts !== "any") named = true;
  }
  const special = specialRange(ip);
  if (special && !named) return { decision: "deny", by: "special", range: special.text, what: special.what };
  return { decision: "allow" };
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
  /** Set when no rule matched and the call is newer than the policy: `syscalls.newer` decided. */
  readonly newer?: true;
  /**
   * For a query by name: set when the arches that have the call answer differently (numbered rules, or
   * `newer`); each arch's answer. `action` is then the strictest of them.
   */
  readonly byArch?: readonly ArchVerdict[];
}

/** One arch's answer for a call asked by name. */
export interface ArchVerdict {
  readonly arch: Arch;
  readonly nr: number;
  readonly verdict: SyscallVerdict;
}

/** Higher is stricter; mirrors the kernel's precedence between filter results. */
export const ACTION_STRICTNESS: Readonly<Record<Action["type"], number>> = {
  allow: 0,
  log: 1,
  trace: 2,
  "user-notif": 3,
  errno: 4,
  trap: 5,
  "kill-thread": 6,
  "kill-process": 7,
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
 * rule's answer stands (so its errno number survives). `syscall` is a name, asked on every arch that has it
 * (see `evaluateSyscallEverywhere`), or `arch:nr`, one number on one arch.
 */
export function evaluateSyscall(ir: IR, syscall: string, args: readonly bigint[] = [], options: SyscallQueryOptions = {}): SyscallVerdict {
  return byName(ir, syscall, args, options, evaluateSyscallAt, evaluateSyscallByName);
}

/** The syscall section alone, without what the network section implies (what an OCI profile carries). */
export function evaluateSyscallRules(ir: IR, syscall: string, args: readonly bigint[] = [], options: SyscallQueryOptions = {}): SyscallVerdict {
  return byName(ir, syscall, args, options, evaluateSyscallRulesAt, evaluateSyscallRulesByName);
}

type AtFn = (ir: IR, arch: Arch, nr: number, args: readonly bigint[]) => SyscallVerdict;
type ByNameFn = (ir: IR, syscall: string, args: readonly bigint[], arch: string) => SyscallVerdict;

function byName(ir: IR, syscall: string, args: readonly bigint[], options: SyscallQueryOptions, at: AtFn, plain: ByNameFn): SyscallVerdict {
  const numbered = numberedEntry(syscall);
  if (numbered) return at(ir, numbered.arch, numbered.nr, args);
  if (options.arch !== undefined) {
    // Asked on one ABI: the call's number there, when that ABI has it.
    const nr = isArch(options.arch) ? syscallNumber(options.arch, syscall) : undefined;
    return nr !== undefined ? at(ir, options.arch as Arch, nr, args) : plain(ir, syscall, args, options.arch);
  }
  // Without numbered rules and `newer`, and where every condition on the call reads its argument at one width
  // on every arch that has it, a name means the same everywhere: no need to ask each one. (A pointer or
  // `unsigned long` is 64 bits on x86_64 but 32 on i386 and arm, so a condition on one can differ.)
  if (!archDependent(ir) && !widthsDiffer(ir, syscall)) return plain(ir, syscall, args, DEFAULT_QUERY_ARCH);
  const all = everywhere(ir, syscall, args, at);
  if (!all.length) return plain(ir, syscall, args, DEFAULT_QUERY_ARCH);
  const first = all[0]!.verdict;
  if (all.every((v) => sameAction(v.verdict.action, first.action))) return first;
  let strictest = first;
  for (const v of all) if (ACTION_STRICTNESS[v.verdict.action.type] > ACTION_STRICTNESS[strictest.action.type]) strictest = v.verdict;
  return { ...strictest, byArch: all };
}

const widthsCache = new WeakMap<IR, Map<string, boolean>>();
/** Does a condition on `name` (a rule's, or one the network section implies) read its argument at different widths on different arches? */
function widthsDiffer(ir: IR, name: string): boolean {
  let perName = widthsCache.get(ir);
  if (!perName) widthsCache.set(ir, (perName = new Map()));
  const hit = perName.get(name);
  if (hit !== undefined) return hit;
  const conditions = [
    ...ir.syscalls.rules.filter((r) => r.conditions.length && r.syscalls.includes(name)).flatMap((r) => r.conditions),
    ...networkSyscalls(ir).rules.filter((r) => r.syscall === name).flatMap((r) => r.conditions),
  ];
  const arches = conditions.length ? ARCHES.filter((a) => syscallNumber(a, name) !== undefined) : [];
  const differ = conditions.some((c) => new Set(arches.map((a) => argBits(a, name, c.arg))).size > 1);
  perName.set(name, differ);
  return differ;
}

function archDependent(ir: IR): boolean {
  return ir.syscalls.newerAction !== undefined || hasNumberedEntries(ir);
}

function everywhere(ir: IR, name: string, args: readonly bigint[], at: AtFn): ArchVerdict[] {
  const out: ArchVerdict[] = [];
  for (const arch of ARCHES) {
    const nr = syscallNumber(arch, name);
    if (nr !== undefined) out.push({ arch, nr, verdict: at(ir, arch, nr, args) });
  }
  return out;
}

/** A call asked by name: its answer on every supported arch that has it, in ARCHES order. */
export function evaluateSyscallEverywhere(ir: IR, name: string, args: readonly bigint[] = []): ArchVerdict[] {
  return everywhere(ir, name, args, evaluateSyscallAt);
}

/**
 * What the call numbered `nr` on `arch` gets (the table's number: an x32 call without its bit 30): its rules,
 * `newer`, the default, and the implied rules, each condition read at the width the kernel reads on that arch.
 */
export function evaluateSyscallAt(ir: IR, arch: Arch, nr: number, args: readonly bigint[] = []): SyscallVerdict {
  const own = evaluateSyscallRulesAt(ir, arch, nr, args);
  const name = syscallNameAt(arch, nr);
  if (name === undefined) return own;
  const implied = impliedRuleFor(networkSyscalls(ir), name, (c) => conditionHolds(c, args, argBits(arch, name, c.arg)));
  if (!implied || stricterAction(own.action, implied.action) === own.action) return own;
  return { action: implied.action, rule: null, ruleIndex: null, implied };
}

/** The syscall section's answer for the call numbered `nr` on `arch`. */
export function evaluateSyscallRulesAt(ir: IR, arch: Arch, nr: number, args: readonly bigint[] = []): SyscallVerdict {
  const name = syscallNameAt(arch, nr);
  const v = bestRule(ir, (rule) => entriesName(rule.syscalls, arch, nr, name), args, (i) => argBits(arch, name ?? "", i));
  if (v.rule === null && isNewerCall(ir, arch, nr)) return { action: ir.syscalls.newerAction!, rule: null, ruleIndex: null, newer: true };
  return v;
}

function evaluateSyscallByName(ir: IR, syscall: string, args: readonly bigint[], arch: string): SyscallVerdict {
  const own = evaluateSyscallRulesByName(ir, syscall, args, arch);
  const implied = impliedRuleFor(networkSyscalls(ir), syscall, (c) => conditionHolds(c, args, argBits(arch, syscall, c.arg)));
  if (!implied || stricterAction(own.action, implied.action) === own.action) return own;
  return { action: implied.action, rule: null, ruleIndex: null, implied };
}

/** The stricter of two actions; on a tie, the first. */
export function stricterAction(a: Action, b: Action): Action {
  return ACTION_STRICTNESS[b.type] > ACTION_STRICTNESS[a.type] ? b : a;
}

function evaluateSyscallRulesByName(ir: IR, syscall: string, args: readonly bigint[], arch: string): SyscallVerdict {
  return bestRule(ir, (rule) => rule.syscalls.includes(syscall), args, (i) => argBits(arch, syscall, i));
}

function bestRule(ir: IR, names: (rule: SyscallRule) => boolean, args: readonly bigint[], bits: (arg: number) => ArgBits): SyscallVerdict {
  let best: { rule: SyscallRule; index: number } | undefined;
  ir.syscalls.rules.forEach((rule, index) => {
    if (!names(rule)) return;
    if (!rule.conditions.every((c) => conditionHolds(c, args, bits(c.arg)))) return;
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
  if (a.type === "trace") return a.data === 0 ? "trace" : `trace(${a.data})`;
  if (a.type !== "errno") return a.type;
  const name = errnoName(a.errno);
  return name ? `errno(${name})` : `errno(${a.errno})`;
}

export function sameAction(a: Action, b: Action): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "errno") return a.errno === (b as { errno: number }).errno;
  if (a.type === "trace") return a.data === (b as { data: number }).data;
  return true;
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
