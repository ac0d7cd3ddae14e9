// The executable model of Seatbelt: given a profile read by reader.ts, the `-D` defines and one operation
// with its inputs (a canonical path, a socket address, a Mach service name …), the model answers allow or
// deny and names the rule that decided. Property tests compare it with the IR's reference evaluator.
//
// Semantics, with the source of each fact (Apple publishes no specification; these come from peers that
// measured it, and the uncertain ones are switchable so a profile can be checked under each reading):
// - Operations: a rule names operations; `NAME*` covers every operation whose name starts with `NAME`
//   (`file-write*` covers `file-write-data`, `file-write-create`, `file-write-unlink`, …), and `default`
//   covers every operation. (Codex base policy, Nix `sandbox-defaults.sb`, Chromium `common.sb`.)
// - A rule's filters are ORed; a rule with no filter matches every instance of its operations.
//   `require-all`/`require-any`/`require-not` are and/or/not. (Codex `seatbelt.rs`; Bazel.)
// - Precedence, `last-match` (the default): among the rules that cover the operation, the last one whose
//   filter matches decides; `(deny default)`/`(allow default)` are unfiltered rules like any other.
//   (Bazel DarwinSandboxedSpawnRunner: "the *last* matching rule wins"; sandbox-runtime; nono #1566; clash
//   PR #295.) Two refinements reported by peers are available as options, because a profile sbc emits must
//   not depend on which one is true:
//   - `filtered-first` (microsoft/mxc PR #754, measured): "an unfiltered rule cannot override a
//     path-filtered one in either direction" — filtered rules are consulted first, unfiltered ones (and
//     `default`) only when no filtered rule matches.
//   - `specific-first` (sandbox-runtime: "a specific (deny file-write-unlink) is not overridden by a later
//     (allow file-write*) wildcard"): rules naming the operation exactly beat wildcard rules, a longer
//     wildcard beats a shorter one, and `default` comes last; within one level the last match wins.
// - Paths: the kernel matches the canonical (symlink-resolved) path and does not canonicalize the filter
//   string (mxc `profile_builder.rs`; Protonk/sandbox-boostrap vfs-canonicalization report: `(literal
//   "/tmp/foo")` denies both spellings). So queries must be canonical: beneath `/tmp`, `/var` or `/etc` a
//   query is refused (those are symlinks into `/private`); the link itself (`/tmp`) may be asked about.
//   `literal` is string equality, `subpath "/p"` matches `/p` and `/p/…` (so a filter spelled `"/p/"` or
//   `"//p"` never matches, as mxc reports), `prefix` is a raw string prefix (Chromium `common.sb`), `regex`
//   is an unanchored search over the path (Codex `#"^/dev/ttys[0-9]+"` has no `$`).
// - `(param "X")` takes the `-D X=…` value; a profile that refers to a parameter not defined is an error
//   (Chromium guards optional ones with `param-defined?`, so an undefined one is not a string).
// - Addresses: `localhost` matches 127.0.0.1 and ::1 but not ::ffff:127.0.0.1 (sandbox-runtime); whether it
//   covers the rest of 127.0.0.0/8 is not known, so such a query is refused. A `local` filter on an
//   outbound connection, or a `remote` one on a bind, needs the query to give that end (sandbox-runtime
//   reports that an unbound source matches any `(local ip …)`; the model does not guess).
// - Anything the model cannot decide — an input a filter needs that the query does not give (`vnode-type`,
//   `extension`, …), or no rule and no default — is an `SbplEvalError`, never a guess. A filter whose
//   input is missing only matters when it could change the verdict: a later rule that surely matches
//   decides first.

import type { Span } from "../../diagnostics/source.js";
import { parseIp, type IpAddress } from "../../ir/values.js";
import { sbplRegexToJs, type SbplFilter, type SbplProfile, type SbplRule, type StrExpr } from "./reader.js";

export class SbplEvalError extends Error {}

export type Precedence = "last-match" | "filtered-first" | "specific-first";
export const PRECEDENCES: readonly Precedence[] = ["last-match", "filtered-first", "specific-first"];

export interface EvalOptions {
  readonly precedence?: Precedence;
}

export interface SbplVerdict {
  readonly decision: "allow" | "deny";
  /** The deciding rule (a `default` rule when the fallback decided). */
  readonly rule: SbplRule;
  readonly ruleIndex: number;
  readonly span: Span;
}

export type NetEndpoint =
  | { readonly kind: "ip"; readonly host: string; readonly port: number; readonly protocol?: "tcp" | "udp" }
  | { readonly kind: "unix"; readonly path?: string };

/** What an operation is about; a filter whose input is absent cannot be decided. */
export interface SbplInput {
  /** A canonical macOS path (file operations, `process-exec`). */
  readonly path?: string;
  readonly local?: NetEndpoint;
  readonly remote?: NetEndpoint;
  /**
   * Name and token attributes by filter name: `global-name`, `sysctl-name`, `vnode-type`, `target`;
   * `extension` takes the list held. `null` says the operation has no such attribute (a global Mach lookup
   * has no `local-name`), so filters on it do not match; an absent key leaves them undecided.
   */
  readonly attrs?: Readonly<Record<string, string | readonly string[] | null>>;
}

type Defines = ReadonlyMap<string, string>;
const NO_DEFINES: Defines = new Map();

// ---- operations ---------------------------------------------------------------------------------------

function covers(pattern: string, operation: string): boolean {
  if (pattern === "default") return true;
  if (pattern.endsWith("*")) return operation.startsWith(pattern.slice(0, -1));
  return pattern === operation;
}

/** Higher is more specific: an exact name, then longer wildcards, then `default`. */
function specificity(pattern: string, operation: string): number {
  if (pattern === "default") return -1;
  if (pattern.endsWith("*")) return pattern.length - 1;
  return operation.length + 1;
}

// ---- filters ------------------------------------------------------------------------------------------

/** A filter's value: decided, or undecidable for the reason given. */
type Tri = boolean | { readonly unknown: string };
const isUnknown = (t: Tri): t is { unknown: string } => typeof t === "object";

function resolve(e: StrExpr, defines: Defines): string {
  if (e.kind === "text") return e.value;
  if (e.kind === "param") {
    const v = defines.get(e.name);
    if (v === undefined) throw new SbplEvalError(`the profile refers to \`(param "${e.name}")\`, which is not defined`);
    return v;
  }
  return e.parts.map((p) => resolve(p, defines)).join("");
}

const regexCache = new Map<string, RegExp>();
function regexTest(source: string, value: string): boolean {
  let re = regexCache.get(source);
  if (!re) {
    try {
      re = sbplRegexToJs(source);
    } catch (e) {
      throw new SbplEvalError((e as Error).message);
    }
    regexCache.set(source, re);
  }
  return re.test(value);
}

function matchString(match: "literal" | "subpath" | "prefix" | "regex", pattern: string, value: string): boolean {
  switch (match) {
    case "literal":
      return value === pattern;
    case "subpath":
      return pattern === "/" ? value.startsWith("/") : value === pattern || value.startsWith(pattern + "/");
    case "prefix":
      return value.startsWith(pattern);
    case "regex":
      return regexTest(pattern, value);
  }
}

const LOOPBACK_V4 = parseIp("127.0.0.1")!;
const LOOPBACK_V6 = parseIp("::1")!;

function parseHost(host: string): IpAddress {
  const ip = host === "localhost" ? LOOPBACK_V4 : parseIp(host);
  if (!ip) throw new SbplEvalError(`\`${host}\` is not an IP address`);
  return ip;
}

function matchIp(f: SbplFilter & { kind: "ip" }, e: NetEndpoint): Tri {
  if (e.kind !== "ip") return false;
  const ip = parseHost(e.host);
  if (f.family !== "any" && ip.family !== f.family) return false;
  if (f.port !== "*" && f.port !== e.port) return false;
  let host: Tri = true;
  if (f.host === "localhost") {
    const loopback = (ip.family === 4 && ip.bits === LOOPBACK_V4.bits) || (ip.family === 6 && ip.bits === LOOPBACK_V6.bits);
    if (loopback) host = true;
    else if (ip.family === 4 && ip.bits >> 24n === 127n) host = { unknown: `whether Seatbelt's \`localhost\` covers \`${e.host}\` is not known` };
    else return false;
  }
  if (f.protocol !== "ip") {
    if (e.protocol && e.protocol !== f.protocol) return false;
    if (!e.protocol) return { unknown: `\`(${f.side} ${f.protocol} …)\` needs the query's protocol` };
  }
  return host;
}

function evalFilter(f: SbplFilter, input: SbplInput, defines: Defines): Tri {
  switch (f.kind) {
    case "path":
      if (input.path === undefined) return { unknown: "a path filter needs the query's path" };
      return matchString(f.match, resolve(f.value, defines), input.path);
    case "name": {
      const v = input.attrs?.[f.key];
      if (v === undefined) return { unknown: `\`${f.key}\` needs the query's \`${f.key}\`` };
      if (v === null) return false;
      if (typeof v !== "string") throw new SbplEvalError(`\`${f.key}\` takes one string`);
      return matchString(f.match, resolve(f.value, defines), v);
    }
    case "token": {
      const v = input.attrs?.[f.key];
      if (v === undefined) return { unknown: `\`(${f.key} ${f.values.join(" ")})\` needs the query's \`${f.key}\`` };
      if (v === null) return false;
      const held = typeof v === "string" ? [v] : v;
      return f.values.some((x) => held.includes(x));
    }
    case "ip":
    case "unix": {
      const e = f.side === "local" ? input.local : input.remote;
      if (!e) return { unknown: `\`(${f.side} …)\` needs the query's ${f.side} address` };
      if (f.kind === "ip") return matchIp(f, e);
      if (e.kind !== "unix") return false;
      if (!f.path) return true;
      if (e.path === undefined) return { unknown: "a unix-socket path filter needs the socket's path" };
      return evalFilter(f.path, { path: e.path }, defines);
    }
    case "require-all": {
      let unknown: Tri | undefined;
      for (const g of f.filters) {
        const r = evalFilter(g, input, defines);
        if (r === false) return false;
        if (isUnknown(r)) unknown ??= r;
      }
      return unknown ?? true;
    }
    case "require-any": {
      let unknown: Tri | undefined;
      for (const g of f.filters) {
        const r = evalFilter(g, input, defines);
        if (r === true) return true;
        if (isUnknown(r)) unknown ??= r;
      }
      return unknown ?? false;
    }
    case "require-not": {
      const r = evalFilter(f.filter, input, defines);
      return isUnknown(r) ? r : !r;
    }
  }
}

/** A rule's filters are ORed; no filter matches everything. */
function ruleMatches(rule: SbplRule, input: SbplInput, defines: Defines): Tri {
  if (!rule.filters.length) return true;
  return evalFilter({ kind: "require-any", filters: rule.filters, span: rule.span }, input, defines);
}

// ---- evaluation ---------------------------------------------------------------------------------------

const ALIASED_ROOTS = ["/tmp", "/var", "/etc"];

function checkCanonical(path: string): void {
  const parts = path.split("/");
  const bad = !path.startsWith("/") || (path !== "/" && (path.endsWith("/") || parts.slice(1).some((c) => c === "" || c === "." || c === "..")));
  if (bad) throw new SbplEvalError(`\`${path}\` is not a canonical absolute path`);
  const alias = ALIASED_ROOTS.find((r) => path.startsWith(r + "/"));
  if (alias) throw new SbplEvalError(`\`${path}\` is not canonical on macOS: \`${alias}\` is a symlink to \`/private${alias}\`, and Seatbelt sees the resolved path`);
}

/**
 * The first rule of `seq` (the rules in the order the precedence consults them) whose filter matches. A rule
 * whose filter cannot be decided only matters if the rules after it would decide differently.
 */
function decide(seq: readonly SbplRule[], from: number, operation: string, input: SbplInput, defines: Defines): SbplRule | undefined {
  for (let i = from; i < seq.length; i++) {
    const r = ruleMatches(seq[i]!, input, defines);
    if (r === true) return seq[i];
    if (isUnknown(r)) {
      const otherwise = decide(seq, i + 1, operation, input, defines);
      if (otherwise?.effect === seq[i]!.effect) return otherwise;
      throw new SbplEvalError(`the verdict for \`${operation}\` depends on rule ${seq[i]!.index + 1}: ${r.unknown}`);
    }
  }
  return undefined;
}

/** The rules that cover `operation`, in the order `precedence` consults them. */
function consultationOrder(rules: readonly SbplRule[], operation: string, precedence: Precedence): SbplRule[] {
  const latestFirst = rules.filter((r) => r.operations.some((o) => covers(o, operation))).reverse();
  if (precedence === "last-match") return latestFirst;
  if (precedence === "filtered-first") return [...latestFirst.filter((r) => r.filters.length > 0), ...latestFirst.filter((r) => r.filters.length === 0)];
  const level = (r: SbplRule) => Math.max(...r.operations.filter((o) => covers(o, operation)).map((o) => specificity(o, operation)));
  // A stable sort keeps latest-first order within a level.
  return latestFirst.map((r) => ({ r, l: level(r) })).sort((a, b) => b.l - a.l).map((x) => x.r);
}

/** Evaluate one concrete operation (`file-read-data`, `mach-lookup`, …) with its inputs. */
export function evaluateOp(p: SbplProfile, operation: string, input: SbplInput = {}, defines: Defines = NO_DEFINES, options: EvalOptions = {}): SbplVerdict {
  if (operation === "default" || operation.includes("*")) throw new SbplEvalError(`\`${operation}\` is not one operation; ask about a concrete one such as \`file-read-data\``);
  for (const name of p.params) if (!defines.has(name)) throw new SbplEvalError(`the profile refers to \`(param "${name}")\`, which is not defined`);
  if (input.path !== undefined) checkCanonical(input.path);
  for (const e of [input.local, input.remote]) if (e?.kind === "unix" && e.path !== undefined) checkCanonical(e.path);
  const rule = decide(consultationOrder(p.rules, operation, options.precedence ?? "last-match"), 0, operation, input, defines);
  if (!rule) throw new SbplEvalError(`no rule decides \`${operation}\` and the profile has no \`default\` rule`);
  return { decision: rule.effect, rule, ruleIndex: rule.index, span: rule.span };
}

/** A file operation (`file-read-data`, `file-write-unlink`, `process-exec`, …) on a canonical macOS path. */
export function evaluateFileOp(p: SbplProfile, operation: string, path: string, defines: Defines = NO_DEFINES, options: EvalOptions = {}): SbplVerdict {
  return evaluateOp(p, operation, { path }, defines, options);
}

export type NetworkOperation = "network-outbound" | "network-inbound" | "network-bind";

/**
 * A socket operation. The address given is the remote end for `network-outbound` (the peer connected or
 * sent to) and the local end for `network-bind` and `network-inbound`, unless `local` says otherwise.
 */
export function evaluateNetworkOp(
  p: SbplProfile,
  operation: NetworkOperation,
  q: { kind: "ip"; host: string; port: number; protocol?: "tcp" | "udp"; local?: boolean } | { kind: "unix"; path?: string; local?: boolean },
  defines: Defines = NO_DEFINES,
  options: EvalOptions = {},
): SbplVerdict {
  const { local, ...endpoint } = q;
  const isLocal = local ?? operation !== "network-outbound";
  return evaluateOp(p, operation, isLocal ? { local: endpoint } : { remote: endpoint }, defines, options);
}
