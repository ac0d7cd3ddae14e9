// The SBPL target against the IR: random policies, the presets and every compiling fixture are compiled
// with `compileSbpl` (inline and param mode), read back with the SBPL reader, and queried through the
// Seatbelt model (targets/sbpl/model.ts). For every access class, each Seatbelt operation it maps to
// (operations.ts FILE_OPERATIONS, NETWORK_OPERATIONS) must be allowed iff the IR allows the class — or be
// denied where the IR allows, if a diagnostic that names a rule applying there explains it (SBC2301
// sbpl-narrowed about a partial grant or a glob, SBC2305 sbpl-param-order). Never wider. The profile must
// also mean the same under every precedence reading the model offers (peers disagree on the fine print),
// and keep read-denied files in place (reference case S8).
//
// macOS paths: the kernel resolves /tmp, /var and /etc to /private/…, so one file has two spellings in a
// policy and one in the profile. The IR's meaning on a Mac (`macVerdict`) is sbc's precedence over the file
// the kernel sees: a rule applies when it matches either spelling, and ranks by its depth in the canonical
// spelling. Queries are asked in the canonical spelling.
//
// A few unannounced differences are excused, each by a predicate scoped to the emitter's construction with
// its counterexample beside it (move guards, case-folded denies, base devices). The run count comes from SBC_PROPERTY_RUNS (default 200).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { Source, type Span } from "../diagnostics/source.js";
import { evaluateFs, evaluateNetwork, queryPath } from "../ir/evaluator/evaluate.js";
import { bindIr } from "../ir/bind.js";
import type { Effect, FsRule, IR, NetOp, NetRule, Protocol, UnixSockets } from "../ir/types.js";
import { ACCESS_CLASSES, ACCESS_GROUPS, type Access } from "../ir/access.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { testBindings } from "../compiler/passes/run-tests.js";
import { components, escapeGlob, globLiteralDepth, hasWildcard } from "../ir/paths.js";
import { CODES } from "../diagnostics/codes.js";
import { BASE_DEVICES } from "../targets/sbpl/base.js";
import { compileSbpl } from "../targets/sbpl/index.js";
import { evaluateOp, PRECEDENCES, type SbplVerdict } from "../targets/sbpl/model.js";
import { ACCESS_VNODE, accessesFor, FILE_OPERATIONS, MOVE_OPERATIONS, NETWORK_OPERATIONS, VNODE_CLASSES, type VnodeClass } from "../targets/sbpl/operations.js";
import { readSbpl, type SbplProfile } from "../targets/sbpl/reader.js";
import { makeIr, unixWord } from "./support/ir.js";

const RUNS = { numRuns: Number(process.env.SBC_PROPERTY_RUNS ?? 200) };
/** Long runs of the properties need more than vitest's default time. */
const TIMEOUT = Math.max(30_000, RUNS.numRuns * 60);

const spanKey = (span: Span | undefined) => (span ? `${span.source.path}:${span.start}` : undefined);

/** The rules (by span) that diagnostics with `code` name, as their subject or in a label. */
function rulesNamedBy(diagnostics: readonly Diagnostic[], code: string): Set<string> {
  const out = new Set<string>();
  for (const d of diagnostics) {
    if (d.code !== code) continue;
    for (const sp of [d.span, ...d.labels.map((l) => l.span)]) {
      const k = spanKey(sp);
      if (k) out.add(k);
    }
  }
  return out;
}

/** Give each rule a span of its own, so diagnostics about it can be told from the others'. */
function withSpans<T extends { readonly span?: Span }>(xs: readonly T[], what: string): T[] {
  return xs.map((x, i) => ({ ...x, span: { source: new Source(`${what}-${i}`, ""), start: 0, end: 0 } }));
}

// ---- macOS spellings (an oracle written here, independent of the emitter's strings.ts) --------------------

const ALIASED = ["tmp", "var", "etc"];

/** The path the kernel matches: /tmp/x is /private/tmp/x. */
function macCanonical(path: string): string {
  const first = components(path)[0];
  return first !== undefined && ALIASED.includes(first) ? "/private" + path : path;
}

/** Every spelling of a canonical path a policy may use. */
function spellings(canonical: string): string[] {
  const parts = components(canonical);
  return parts[0] === "private" && parts[1] !== undefined && ALIASED.includes(parts[1]) ? [canonical, "/" + parts.slice(1).join("/")] : [canonical];
}

/**
 * An allow glob does not grant a path under /private/etc, /private/tmp or /private/var (the kernel's spelling
 * of /etc, /tmp, /var) through a wildcard standing for `private` or the alias: `/*` + `/*` does not cover
 * `/etc`, so it grants neither spelling of it (regression for seed 346119634). A deny still applies there.
 */
function wildcardReachesAlias(rule: FsRule, spelling: string): boolean {
  if (rule.kind !== "glob" || rule.effect !== "allow") return false;
  const p = components(spelling);
  if (p[0] !== "private" || p[1] === undefined || !ALIASED.includes(p[1])) return false;
  const g = components(rule.path);
  return !(g[0] === "private" && g[1] === p[1]);
}

// ---- comparing one profile with one IR ----------------------------------------------------------------------

interface Compiled {
  readonly mode: "inline" | "param";
  readonly profile: SbplProfile;
  readonly text: string;
  readonly defines: ReadonlyMap<string, string>;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Compile `ir` (which may keep `${params}` in param mode) and read the profile back. `values` gives each
 * parameter's value; the profile's defines get its macOS spelling. Undefined when compileSbpl refuses the
 * IR with an error the test accepts (`accept`).
 */
function compile(ir: IR, mode: "inline" | "param", values: Readonly<Record<string, string>>, accept: (d: Diagnostic) => boolean = () => false): Compiled | undefined {
  const out = compileSbpl(ir, { params: mode });
  const errors = out.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    if (errors.every(accept)) return undefined;
    expect.fail(`compileSbpl(${mode}) failed: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  }
  expect(out.profile, "a profile without errors").toBeDefined();
  const read = readSbpl(out.profile!, `${ir.name}.sb`);
  if (!read.profile) expect.fail(`the reader refuses the emitted profile: ${read.diagnostics.map((d) => `${d.code} ${d.message} at ${d.span ? JSON.stringify(out.profile!.slice(d.span.start, d.span.end)) : "?"}`).join("; ")}\n${out.profile}`);
  expect(out.profile).not.toMatch(/\(with\s+no-sandbox\)/);
  const defines = new Map<string, string>();
  for (const [k, v] of out.defines) {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
    if (m) {
      const value = values[m[1]!];
      if (value === undefined) expect.fail(`define \`${k}\` needs parameter \`${m[1]}\`, which the test did not bind`);
      defines.set(k, macCanonical(value));
    } else defines.set(k, v);
  }
  if (mode === "inline") expect(out.defines).toEqual([]);
  return { mode, profile: read.profile, text: out.profile!, defines, diagnostics: out.diagnostics };
}

/** The model's verdict, which must be the same under every precedence reading. */
function ask(c: Compiled, operation: string, input: Parameters<typeof evaluateOp>[2], where: () => string): SbplVerdict {
  const verdicts = PRECEDENCES.map((precedence) => {
    try {
      return evaluateOp(c.profile, operation, input, c.defines, { precedence });
    } catch (e) {
      return expect.fail(`the model cannot answer ${operation} ${JSON.stringify(input)} (${precedence}): ${(e as Error).message}\n${where()}`);
    }
  });
  const first = verdicts[0]!;
  for (let i = 1; i < verdicts.length; i++) {
    if (verdicts[i]!.decision !== first.decision) expect.fail(`${operation} ${JSON.stringify(input)} is ${first.decision} under ${PRECEDENCES[0]} but ${verdicts[i]!.decision} under ${PRECEDENCES[i]}\n${where()}`);
  }
  return first;
}

/** JSON without source spans, for failure messages. */
const show = (x: unknown) => JSON.stringify(x, (k, v) => (k === "span" ? undefined : v));

const VNODE_TYPE: Readonly<Record<VnodeClass, string>> = { directory: "DIRECTORY", regular: "REGULAR-FILE", other: "CHARACTER-DEVICE" };
const VNODE_CLASS: Readonly<Record<string, VnodeClass>> = { DIRECTORY: "directory", "REGULAR-FILE": "regular", "CHARACTER-DEVICE": "other" };

/**
 * The `vnode-type`s an access class is asked about at a path: the kinds of file the class applies to
 * (operations.ts ACCESS_VNODE: `read` is not about directories, `list` only about them, `truncate` only about
 * regular files), and under /dev only devices.
 */
function vnodesOf(a: Access, canonical: string): string[] {
  const kinds = ACCESS_VNODE[a] ?? VNODE_CLASSES;
  return kinds.filter((k) => !canonical.startsWith("/dev/") || k === "other").map((k) => VNODE_TYPE[k]);
}

// ---- the IR's meaning on a Mac -----------------------------------------------------------------------------

/**
 * sbc's precedence (ir/evaluator/evaluate.ts) applied to the file the kernel sees: a rule applies to a
 * canonical path when it matches any spelling of it, and ranks by its depth in the canonical spelling
 * (`/tmp/x` is as deep as `/private/tmp/x`). Written naively here, from the documented rule, so that it does
 * not share the emitter's code. Returns the deciding rule's index, or null (default deny).
 */
function macVerdict(ir: IR, a: Access, canonical: string): { decision: Effect; rule: number | null } {
  const singles = singleRuleIrs(ir);
  let best: { rank: number[]; index: number; effect: Effect } | undefined;
  ir.filesystem.forEach((rule, index) => {
    if (!rule.access.includes(a)) return;
    if (!spellings(canonical).some((sp) => evaluateFs(singles[index]!, a, sp).rule !== null && !wildcardReachesAlias(rule, sp))) return;
    const rank = [canonicalDepth(rule), { subtree: 0, glob: 1, exact: 2 }[rule.kind], rule.layer, rule.effect === "deny" ? 1 : 0];
    if (!best || greater(rank, best.rank)) best = { rank, index, effect: rule.effect };
  });
  return best ? { decision: best.effect, rule: best.index } : { decision: "deny", rule: null };
}

const singleCache = new WeakMap<IR, IR[]>();
function singleRuleIrs(ir: IR): IR[] {
  let xs = singleCache.get(ir);
  if (!xs) singleCache.set(ir, (xs = ir.filesystem.map((r) => ({ ...ir, filesystem: [r] }))));
  return xs;
}

function canonicalDepth(rule: FsRule): number {
  const parts = components(rule.path);
  const literal = rule.kind === "glob" ? globLiteralDepth(parts) : parts.length;
  return literal + (literal >= 1 && ALIASED.includes(parts[0]!.replace(/\\(.)/g, "$1")) ? 1 : 0);
}

function greater(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/**
 * A base device grant the IR leaves unsaid: the profile may allow it (targets/sbpl/base.ts).
 */
function baseDeviceGrant(bound: IR, a: Access, canonical: string): boolean {
  const d = BASE_DEVICES.find((x) => (x.match === "literal" ? x.path === canonical : x.match === "subpath" ? canonical === x.path || canonical.startsWith(x.path + "/") : new RegExp(x.path).test(canonical)));
  return d !== undefined && d.accesses.includes(a) && macVerdict(bound, a, canonical).rule === null;
}

// ---- narrowings the emitter does not announce (recorded, not hidden) -----------------------------------------
//
// Each predicate below excuses one kind of unannounced narrowing, scoped as tightly as the emitter's
// construction allows, with the counterexample that shows it. They are findings for the SBPL emitter; the
// property stays strict everywhere else.

/** Does a glob component match a name? With `fold`, a character matches if either of its ASCII cases does. */
function componentMatches(pattern: string, name: string, fold: boolean): boolean {
  const variants = (ch: string) => (fold && /[A-Za-z]/.test(ch) ? [ch.toLowerCase(), ch.toUpperCase()] : [ch]);
  const go = (pi: number, ni: number): boolean => {
    if (pi === pattern.length) return ni === name.length;
    const c = pattern[pi]!;
    if (c === "*") {
      for (let k = ni; k <= name.length; k++) if (go(pi + 1, k)) return true;
      return false;
    }
    if (ni === name.length) return false;
    const ch = name[ni]!;
    if (c === "?") return go(pi + 1, ni + 1);
    if (c === "[") {
      let j = pi + 1;
      const negated = pattern[j] === "!" || pattern[j] === "^";
      if (negated) j++;
      const start = j;
      if (pattern[j] === "]") j++;
      while (pattern[j] !== "]") j++;
      const body = pattern.slice(start, j);
      const inClass = (x: string) => {
        for (let k = 0; k < body.length; k++) {
          if (body[k + 1] === "-" && k + 2 < body.length) {
            if (x >= body[k]! && x <= body[k + 2]!) return true;
            k += 2;
          } else if (body[k] === x) return true;
        }
        return false;
      };
      return variants(ch).some((v) => inClass(v) !== negated) && go(j + 1, ni + 1);
    }
    const lit = c === "\\" ? pattern[pi + 1]! : c;
    return variants(ch).includes(lit) && go(pi + (c === "\\" ? 2 : 1), ni + 1);
  };
  return go(0, 0);
}

/** Does a glob (components) match a path (components)? `**` is zero or more components. */
function globMatches(glob: readonly string[], path: readonly string[], fold: boolean): boolean {
  const go = (gi: number, pi: number): boolean => {
    if (gi === glob.length) return pi === path.length;
    if (glob[gi] === "**") {
      for (let k = pi; k <= path.length; k++) if (go(gi + 1, k)) return true;
      return false;
    }
    return pi < path.length && componentMatches(glob[gi]!, path[pi]!, fold) && go(gi + 1, pi + 1);
  };
  return go(0, 0);
}

/**
 * Case-folded denies (targets/sbpl/strings.ts `globToRegexes(…, fold)`; reference: APFS is case-insensitive
 * and a `(regex …)` deny is bypassable with another case, constellation-works/orbit PR #494): a deny glob
 * becomes a regex matching every ASCII case of the pattern, so it also denies names the policy's glob does
 * not match, unannounced. Counterexample: deny read glob `/w/[!a]` (folded, `[!a]` admits `A`, so the regex
 * is `^/[wW]/[^/]$`) guards `/w/a` against moves though the IR allows create-file there by `allow glob
 * /w/[ab]`. Excused only where a deny glob matches the path folded and not as written.
 */
function foldedDeny(bound: IR, canonical: string, applies: (r: FsRule) => boolean, prefixes = false): boolean {
  return spellings(canonical).some((sp) => {
    const pc = components(sp);
    return bound.filesystem.some((r) => {
      if (r.effect !== "deny" || r.kind !== "glob" || !applies(r)) return false;
      const gc = components(r.path);
      const double = gc.indexOf("**");
      const candidates = [gc, ...(prefixes && pc.length < (double < 0 ? gc.length : double + 1) ? [gc.slice(0, pc.length)] : [])];
      return candidates.some((g) => globMatches(g, pc, true) && !globMatches(g, pc, false));
    });
  });
}

/**
 * Move guards (targets/sbpl/lower.ts, "move guards"; reference case S8): around every rule that denies
 * `read`, the profile withholds `file-write-create`, `file-write-unlink` and `file-link` where reading stays
 * denied, on each literal ancestor of the rule and, for a glob, on the directories its leading wildcards
 * name, so a read-denied file cannot be moved somewhere readable. No diagnostic says so; the emitter's docs
 * do. Counterexample: `allow [create-*, delete-*, rename] path: /` with `deny read-only path: /x`: the IR
 * allows create-file at /x, the profile denies it. Excused: inside a read-denying rule's region only where
 * the IR still denies reading (a deeper allow that reopens reading lifts the guard), and at its ancestors.
 */
function moveGuarded(bound: IR, operation: string, canonical: string): boolean {
  if (!MOVE_OPERATIONS.includes(operation)) return false;
  const readDenied = macVerdict(bound, "read", canonical).decision === "deny";
  const guardedAs = (sp: string) => {
    const pc = components(sp);
    return bound.filesystem.some((r) => {
      if (r.effect !== "deny" || !r.access.includes("read")) return false;
      const gc = components(r.path);
      if (r.kind !== "glob") return isPrefix(pc, gc) ? pc.length < gc.length || readDenied : isPrefix(gc, pc) && readDenied;
      // A glob guards what it matches and every directory a match of its leading part (before `**`) can be.
      const double = gc.indexOf("**");
      if (readDenied && globMatches(gc, pc, false)) return true;
      return pc.length < (double < 0 ? gc.length : double + 1) && globMatches(gc.slice(0, pc.length), pc, false);
    });
  };
  return spellings(canonical).some(guardedAs) || foldedDeny(bound, canonical, (r) => r.access.includes("read"), true);
}

function macCanonicalRulePath(r: FsRule): string {
  const first = components(r.path)[0];
  return first !== undefined && ALIASED.includes(first) ? "/private" + r.path : r.path;
}

const isPrefix = (prefix: readonly string[], xs: readonly string[]) => prefix.length <= xs.length && prefix.every((p, i) => xs[i] === p);


/**
 * Check every (access class, path) query: `bound` is the IR with every parameter bound (the reference), `c`
 * the profile compiled from it (or from its unbound form), `paths` the query paths in any spelling.
 */
/**
 * Reference case S8 (sandbox-runtime issue #8: a read deny is defeated by moving the file, or a directory
 * above it, somewhere readable): where the IR denies `read` by a rule, the profile must refuse to unlink,
 * create or link the path, and the same at every literal ancestor (in the kernel's spelling, so `/private`
 * too for a rule spelled `/tmp/…`) of a read-denying rule, but `/`.
 */
function checkMoveGuards(bound: IR, c: Compiled, canonicals: readonly string[], symbolic: ReadonlySet<number>): void {
  const guarded = new Set<string>();
  for (const p of canonicals) {
    const v = macVerdict(bound, "read", p);
    if (v.decision === "deny" && v.rule !== null) guarded.add(p);
  }
  bound.filesystem.forEach((r, i) => {
    if (r.effect !== "deny" || !r.access.includes("read")) return;
    // In param mode nothing is known above a parameter's value, so its ancestors cannot be guarded; the
    // emitter warns (`deny read-only path: ${workspace}` with workspace /a/b lets /a move).
    if (c.mode === "param" && symbolic.has(i)) return;
    const parts = components(macCanonicalRulePath(r));
    const literal = r.kind === "glob" ? globLiteralDepth(parts) : parts.length - 1;
    for (let k = 1; k <= literal; k++) guarded.add("/" + parts.slice(0, k).map((x) => (r.kind === "glob" ? x.replace(/\\(.)/g, "$1") : x)).join("/"));
  });
  for (const p of guarded) {
    for (const op of MOVE_OPERATIONS) {
      for (const vnode of ["REGULAR-FILE", "DIRECTORY"]) {
        const where = () => `${c.mode}: ${op} of ${p} (a ${vnode}) would move a read-denied file\nrules=${show(bound.filesystem)}\n${c.text}`;
        const v = ask(c, op, { path: p, attrs: { "vnode-type": vnode } }, where);
        if (v.decision === "allow") expect.fail(`the profile lets a read deny be moved away: ${where()}\ndecided by: ${c.text.slice(v.span.start, v.span.end)}`);
      }
    }
  }
}

function checkFs(bound: IR, c: Compiled, paths: readonly string[], symbolic: ReadonlySet<number> = new Set()): void {
  const narrowed = rulesNamedBy(c.diagnostics, CODES.sbplNarrowed.code);
  const paramOrder = rulesNamedBy(c.diagnostics, CODES.sbplParamOrder.code);
  const singles = singleRuleIrs(bound);
  const appliesAt = (i: number, canonical: string) => spellings(canonical).some((sp) => bound.filesystem[i]!.access.some((x) => evaluateFs(singles[i]!, x, sp).rule !== null));
  /**
   * The narrowing of `operation` at a path is announced when a diagnostic names a rule that applies there
   * and explains it: a param-order warning, or a narrowed warning about a glob (an allow dropped, a moved
   * directory) or about a rule that grants or denies only part of the classes the operation stands for.
   */
  const announced = (canonical: string, operation: string, vnode: string) => {
    const need = accessesFor(operation, VNODE_CLASS[vnode]!);
    return bound.filesystem.some((r, i) => {
      const key = spanKey(r.span) ?? "";
      if (paramOrder.has(key)) return appliesAt(i, canonical);
      if (!narrowed.has(key)) return false;
      const partial = need.some((x) => r.access.includes(x)) && !need.every((x) => r.access.includes(x));
      return (partial || r.kind === "glob") && appliesAt(i, canonical);
    });
  };
  const canonicals = [...new Set(paths.map((p) => macCanonical(queryPath(bound, p))))];
  checkMoveGuards(bound, c, canonicals, symbolic);
  // No access class stands for set-id bits (operations.ts), so nothing may grant them — unless the policy
  // restricts nothing at all and the profile is `(allow default)`, no sandbox, by design.
  const noSandbox = c.profile.rules.some((r) => r.effect === "allow" && r.operations.includes("default"));
  for (const canonical of noSandbox ? [] : canonicals) {
    const v = ask(c, "file-write-setugid", { path: canonical, attrs: { "vnode-type": "REGULAR-FILE" } }, () => c.text);
    if (v.decision === "allow") expect.fail(`${c.mode}: the profile grants file-write-setugid on ${canonical}\n${c.text}`);
  }
  for (const canonical of canonicals) {
    for (const a of ACCESS_CLASSES) {
      const want = macVerdict(bound, a, canonical);
      for (const op of FILE_OPERATIONS[a]) {
        for (const vnode of vnodesOf(a, canonical)) {
          const where = () =>
            `${c.mode}: ${a} ${canonical} as ${op} on a ${vnode}; IR on a Mac: ${want.decision}${want.rule === null ? "" : ` (rule ${want.rule})`}; per spelling: ${spellings(canonical).map((sp) => `${sp} → ${evaluateFs(bound, a, sp).decision}`).join(", ")}\nrules=${show(bound.filesystem)}\ndefines=${JSON.stringify([...c.defines])}\ndiagnostics=${JSON.stringify(c.diagnostics.map((d) => `${d.code} ${d.message}`))}\n${c.text}`;
          const v = ask(c, op, { path: canonical, attrs: { "vnode-type": vnode } }, where);
          if (v.decision === "allow" && want.decision === "deny" && !baseDeviceGrant(bound, a, canonical)) expect.fail(`the profile is wider than the IR: ${where()}\ndecided by: ${c.text.slice(v.span.start, v.span.end)}`);
          if (v.decision === "deny" && want.decision === "allow" && !announced(canonical, op, vnode) && !moveGuarded(bound, op, canonical) && !foldedDeny(bound, canonical, (r) => accessesFor(op, VNODE_CLASS[vnode]!).some((x) => r.access.includes(x)))) expect.fail(`the profile is narrower than the IR, unannounced: ${where()}`);
        }
      }
    }
  }
}

interface NetCase {
  readonly op: NetOp;
  readonly protocol: Protocol;
  readonly host: string;
  readonly port: number;
}

function checkNet(ir: IR, c: Compiled, queries: readonly NetCase[], unixPaths: readonly string[]): void {
  const named = rulesNamedBy(c.diagnostics, CODES.sbplNarrowed.code);
  /** A narrowing diagnostic names a rule about this operation, protocol and port (hosts are what Seatbelt narrows). */
  const announced = (q: NetCase) => ir.network.rules.some((r) => named.has(spanKey(r.span) ?? "") && r.ops.includes(q.op) && r.protocols.includes(q.protocol) && r.ports.some(([lo, hi]) => q.port >= lo && q.port <= hi));
  const rules = () => `rules=${show(ir.network)}\ndiagnostics=${JSON.stringify(c.diagnostics.map((d) => `${d.code} ${d.message}`))}\n${c.text}`;
  for (const q of queries) {
    const want = evaluateNetwork(ir, q).decision;
    for (const op of NETWORK_OPERATIONS[q.op]) {
      const endpoint = { kind: "ip" as const, host: q.host, port: q.port, protocol: q.protocol };
      const input = op === "network-outbound" ? { remote: endpoint } : { local: endpoint };
      const where = () => `${c.mode}: ${q.op} ${q.protocol} ${q.host}:${q.port} as ${op}; IR: ${want}\n${rules()}`;
      const v = ask(c, op, input, where);
      if (v.decision === "allow" && want === "deny") expect.fail(`the profile is wider than the IR: ${where()}\ndecided by: ${c.text.slice(v.span.start, v.span.end)}`);
      if (v.decision === "deny" && want === "allow" && !announced(q)) expect.fail(`the profile is narrower than the IR, unannounced: ${where()}`);
    }
  }
  checkUnix(ir, c, unixPaths);
}

/**
 * sbc's precedence for unix path rules (subtrees: the deeper path, then the later layer, then deny) applied to
 * the socket the kernel sees, as macVerdict does for files: a rule applies when it contains either spelling,
 * and ranks by its depth in the canonical spelling. Written here from the documented rule.
 */
function macUnixVerdict(ir: IR, op: NetOp, canonical: string): { decision: Effect; rule: number | null } {
  let best: { rank: number[]; index: number; effect: Effect } | undefined;
  ir.network.unix.paths.forEach((r, index) => {
    if (!r.ops.includes(op)) return;
    const rc = components(r.path);
    if (!spellings(canonical).some((sp) => isPrefix(rc, components(sp)))) return;
    const rank = [rc.length + (rc.length >= 1 && ALIASED.includes(rc[0]!) ? 1 : 0), r.layer, r.effect === "deny" ? 1 : 0];
    if (!best || greater(rank, best.rank)) best = { rank, index, effect: r.effect };
  });
  return best ? { decision: best.effect, rule: best.index } : { decision: "deny", rule: null };
}

/**
 * Pathname sockets: `network-outbound` to a unix address is the IR's connect, `network-bind` its bind (the
 * socket file's creation is a file operation, checked by checkFs). Exact, but where a param-order warning
 * names a unix rule that applies. `system-socket` for AF_UNIX where a unix path is allowed, never without a
 * unix path rule that allows.
 */
function checkUnix(ir: IR, c: Compiled, unixPaths: readonly string[]): void {
  const paramOrder = rulesNamedBy(c.diagnostics, CODES.sbplParamOrder.code);
  const rules = () => `unix=${show(ir.network.unix)}\ndiagnostics=${JSON.stringify(c.diagnostics.map((d) => `${d.code} ${d.message}`))}\n${c.text}`;
  for (const path of unixPaths) {
    for (const [op, operation, side] of [
      ["connect", "network-outbound", "remote"],
      ["bind", "network-bind", "local"],
    ] as const) {
      const want = macUnixVerdict(ir, op, path);
      const where = () => `${c.mode}: unix ${op} ${path} as ${operation}; IR on a Mac: ${want.decision}${want.rule === null ? "" : ` (unix rule ${want.rule})`}\n${rules()}`;
      const v = ask(c, operation, { [side]: { kind: "unix", path } }, where);
      if (v.decision === "allow" && want.decision === "deny") expect.fail(`the profile is wider than the IR: ${where()}\ndecided by: ${c.text.slice(v.span.start, v.span.end)}`);
      if (v.decision === "deny" && want.decision === "allow") {
        const announced = ir.network.unix.paths.some((r) => paramOrder.has(spanKey(r.span) ?? "") && r.ops.includes(op));
        if (!announced) expect.fail(`the profile is narrower than the IR, unannounced: ${where()}`);
      }
    }
  }
  // A socket must be created before it connects or binds; the profile grants creating one only if some rule
  // may let it do either.
  const socket = ask(c, "system-socket", { attrs: { "socket-domain": "AF_UNIX" } }, rules).decision;
  const noSandbox = c.profile.rules.some((r) => r.effect === "allow" && r.operations.includes("default"));
  const used = unixPaths.some((path) => macUnixVerdict(ir, "connect", path).decision === "allow" || macUnixVerdict(ir, "bind", path).decision === "allow");
  if (used) expect(socket, `system-socket AF_UNIX is needed\n${rules()}`).toBe("allow");
  if (!noSandbox && !ir.network.unix.paths.some((r) => r.effect === "allow")) expect(socket, `system-socket AF_UNIX is not needed\n${rules()}`).toBe("deny");
}

// ---- random policies ----------------------------------------------------------------------------------------

/** Roots in both macOS spellings, a device, and plain directories. */
const ROOTS = ["/", "/a", "/b", "/tmp", "/private/tmp", "/var/f", "/private/var/f", "/etc", "/dev/null"];
/** Names that need escaping in a string literal or a regex, or are not ASCII. */
const NAMES = ["a", "b", "x.e", 'q"t', "s\\p", "é", "p(1)+", "[k]"];
/** Query names: the rule names, others, and near misses that an unescaped regex would match (`x_e` for `x.e`). */
const QUERY_NAMES = [...NAMES, "c", "new", "x_e", "p11", "k", "A"];
const GLOB_PARTS = ["*", "**", "?", "*.e", "[ab]", "[!a]"];
const WORKSPACES = ["/w", "/a", "/tmp/w", "/private/tmp/w", "/a/b"];

const join2 = (root: string, names: readonly string[]) => (names.length ? (root === "/" ? "" : root) + "/" + names.join("/") : root);

/**
 * Access classes that Seatbelt checks with shared operations (operations.ts): a rule granting some of a block
 * and not all is announced as narrowed. Unions of whole blocks are expressible exactly.
 */
const ACCESS_BLOCKS: readonly (readonly Access[])[] = [["read"], ["list"], ["execute"], ["ioctl"], ["write", "truncate"], ["create-file", "create-dir", "create-symlink", "create-special", "delete-file", "delete-dir", "rename"]];

const accessArb: fc.Arbitrary<Access[]> = fc.oneof(
  fc.subarray([...ACCESS_CLASSES], { minLength: 1 }),
  fc.subarray([...ACCESS_BLOCKS], { minLength: 1 }).map((bs) => ACCESS_CLASSES.filter((a) => bs.some((b) => b.includes(a)))),
  fc.constantFrom(...["read-only", "read-write", "modify", "create", "delete"].map((g) => [...ACCESS_GROUPS[g]!])),
);

interface Alphabet {
  readonly roots: readonly string[];
  readonly names: readonly string[];
  readonly globParts: readonly string[];
  readonly layers: number;
}

/** Wide: names that need escaping, both spellings, a device; for the text the profile holds. */
const WIDE: Alphabet = { roots: ROOTS, names: NAMES, globParts: GLOB_PARTS, layers: 2 };
/** Narrow: few names, so rules overlap often; for precedence (depth, kind, layer, effect). */
const NARROW: Alphabet = { roots: ["/", "/a", "/tmp", "/private/tmp"], names: ["a", "b"], globParts: ["*", "**", "[ab]"], layers: 3 };

function fsRuleArb(abc: Alphabet, withParams: boolean): fc.Arbitrary<FsRule> {
  const root = withParams ? fc.constantFrom(...abc.roots, "${workspace}", "${workspace}") : fc.constantFrom(...abc.roots);
  const names = abc.names.map(escapeGlob);
  const literal = fc.tuple(root, fc.array(fc.constantFrom(...abc.names), { maxLength: 2 })).map(([r, ns]) => join2(r, ns));
  const glob = fc
    .tuple(root, fc.array(fc.constantFrom(...names), { maxLength: 1 }), fc.array(fc.constantFrom(...abc.globParts, ...names), { minLength: 1, maxLength: 2 }))
    .filter(([, , g]) => g.some((p) => abc.globParts.includes(p)))
    .map(([r, ns, g]) => join2(r, [...ns, ...g]));
  const layer = fc.integer({ min: 0, max: abc.layers - 1 });
  return fc.oneof(
    fc.record({ effect: fc.constantFrom<Effect>("allow", "deny"), access: accessArb, kind: fc.constantFrom("subtree" as const, "exact" as const), path: literal, layer }),
    fc.record({ effect: fc.constantFrom<Effect>("allow", "deny"), access: accessArb, kind: fc.constant("glob" as const), path: glob, layer }),
  ).map((r) => ({ ...r, ifMissing: "skip" as const }));
}

/** An IR over the alphabet, its rules in merge order (layer 0 first). */
function irOf(rules: readonly FsRule[], net: { rules: readonly NetRule[]; unix: UnixSockets } = { rules: [], unix: unixWord("deny") }): IR {
  const sorted = withSpans([...rules].sort((x, y) => x.layer - y.layer), "fs-rule");
  const unix = { ...net.unix, paths: withSpans([...net.unix.paths].sort((x, y) => x.layer - y.layer), "unix-rule") };
  const ir = makeIr({ filesystem: sorted, netRules: withSpans(net.rules, "net-rule"), unix });
  const symbolic = sorted.some((r) => r.path.startsWith("${workspace}")) || unix.paths.some((r) => r.path.startsWith("${workspace}"));
  return symbolic ? { ...ir, params: [{ name: "workspace", builtin: true, value: null }] } : ir;
}

const queryPathsArb = fc.array(
  fc.tuple(fc.constantFrom(...ROOTS, "/c"), fc.array(fc.constantFrom(...QUERY_NAMES), { maxLength: 3 })).map(([r, ns]) => (r === "/dev/null" ? r : join2(r, ns))),
  { minLength: 4, maxLength: 10 },
);

/** Query paths derived from the rules: each anchor, a child and a grandchild, and a sample of each glob. */
function pathsFromRules(rules: readonly FsRule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    if (r.path.startsWith("${")) continue;
    const parts = components(r.path).map((c) => (c === "**" ? "d" : r.kind === "glob" ? sampleComponent(c) : c));
    const p = parts.length ? "/" + parts.join("/") : "/";
    out.push(p, join2(p, ["c"]), join2(p, ["a", "b"]));
    if (r.kind !== "glob") continue;
    // Near misses: a wildcard stretched across a `/`, and literal text an unescaped regex would confuse.
    const crossing = components(r.path).map((c) => (c === "**" ? "d" : hasWildcard(c) ? "d/" + sampleComponent(c) : sampleComponent(c)));
    out.push("/" + crossing.join("/"), p.replace(/\./g, "_").replace(/[()+]/g, "1").replace(/\[k\]/g, "k"));
  }
  return out;
}

/** A name the glob component matches (or, for a class with nothing sure to match, a name close to it). */
function sampleComponent(c: string): string {
  return c
    .replace(/\\(.)/g, "$1\u0000")
    .replace(/\[!?[^\]]*\]/g, (m) => (m.startsWith("[!") ? "z" : m[1]!))
    .replace(/\*/g, "x")
    .replace(/\?/g, "y")
    .replace(/\u0000/g, "");
}

const HOSTS = ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.1.2.3", "8.8.8.8", "2001:db8::1"];
const CIDRS = ["10.0.0.0/8", "127.0.0.0/8", "::1/128", "8.8.8.8/32", "2001:db8::/32", "0.0.0.0/0"];
const PORT_SETS: readonly (readonly [number, number])[][] = [[[22, 22]], [[80, 80], [443, 443]], [[8000, 8999]], [[0, 65535]]];
const QUERY_PORTS = [22, 80, 443, 8080];

const netRuleArb: fc.Arbitrary<NetRule> = fc.record({
  effect: fc.constantFrom<Effect>("allow", "deny"),
  ops: fc.subarray<NetOp>(["bind", "connect"], { minLength: 1 }),
  protocols: fc.subarray<Protocol>(["tcp", "udp"], { minLength: 1 }),
  hosts: fc.oneof(fc.constant("any" as const), fc.constant("loopback" as const), fc.subarray(CIDRS, { minLength: 1, maxLength: 2 })),
  ports: fc.constantFrom(...PORT_SETS),
  layer: fc.constant(0),
});
const netCaseArb: fc.Arbitrary<NetCase> = fc.record({
  op: fc.constantFrom<NetOp>("connect", "bind"),
  protocol: fc.constantFrom<Protocol>("tcp", "udp"),
  host: fc.constantFrom(...HOSTS),
  port: fc.constantFrom(...QUERY_PORTS),
});
/** Unix sections over both macOS spellings, a parameter, three layers, and each operation apart. */
const unixArb: fc.Arbitrary<UnixSockets> = fc.oneof(
  fc.constantFrom<Effect>("allow", "deny").map(unixWord),
  fc.record({
    pairs: fc.constantFrom<Effect>("allow", "deny"),
    abstract: fc.constantFrom<Effect>("allow", "deny"),
    paths: fc.array(
      fc.record({
        effect: fc.constantFrom<Effect>("allow", "deny"),
        ops: fc.subarray<NetOp>(["bind", "connect"], { minLength: 1 }),
        path: fc.constantFrom("/", "/tmp", "/private/tmp", "/tmp/s", "/private/tmp/s/x.sock", "/var/run", "/a", "${workspace}", "${workspace}/s"),
        layer: fc.integer({ min: 0, max: 2 }),
      }),
      { maxLength: 4 },
    ),
  }),
);
const UNIX_PATHS = ["/private/tmp/s.sock", "/private/tmp/s/x.sock", "/private/tmp/s/y", "/private/var/run/mDNSResponder", "/a/b.sock", "/w/s/c.sock", "/w/d.sock"];

/** The indices of the rules whose paths start with a parameter. */
function symbolicRules(ir: IR): Set<number> {
  return new Set(ir.filesystem.flatMap((r, i) => (r.path.startsWith("${") ? [i] : [])));
}

/** Both modes for one random IR: inline from the bound IR, param mode from the IR as it is. */
function checkBoth(ir: IR, workspace: string, queries: readonly string[]): void {
  const values = { workspace };
  const bound = bindIr(ir, values).ir!;
  const paths = [...queries, ...pathsFromRules(bound.filesystem), join2(workspace, ["c"]), join2(workspace, [".git"])];
  const inline = compile(bound, "inline", values);
  if (inline) checkFs(bound, inline, paths);
  // A glob rooted at a parameter needs its value: param mode refuses it (SBC2303), as documented.
  const isParamGlob = (d: Diagnostic) => d.code === CODES.sbplNeedsValue.code && ir.filesystem.some((r) => r.kind === "glob" && r.path.startsWith("${"));
  const param = compile(ir, "param", values, isParamGlob);
  if (param) checkFs(bound, param, paths, symbolicRules(ir));
}

describe("SBPL profiles = the IR, or narrower and announced", () => {
  it("filesystem: random rules over both macOS spellings, names that need escaping, and a workspace parameter", () => {
    fc.assert(
      fc.property(fc.array(fsRuleArb(WIDE, true), { maxLength: 6 }), fc.constantFrom(...WORKSPACES), queryPathsArb, (rules, workspace, queries) => checkBoth(irOf(rules), workspace, queries)),
      RUNS,
    );
  }, TIMEOUT);

  it("filesystem: literal paths only (no parameter), where inline and param mode must agree", () => {
    fc.assert(
      fc.property(fc.array(fsRuleArb(WIDE, false), { maxLength: 6 }), queryPathsArb, (rules, queries) => {
        const ir = irOf(rules);
        const inline = compile(ir, "inline", {})!;
        const param = compile(ir, "param", {})!;
        const paths = [...queries, ...pathsFromRules(ir.filesystem)];
        checkFs(ir, inline, paths);
        checkFs(ir, param, paths);
        expect(param.diagnostics.map((d) => d.code)).toEqual(inline.diagnostics.map((d) => d.code));
      }),
      RUNS,
    );
  }, TIMEOUT);

  it("filesystem: overlapping rules over a few names and three layers (precedence)", () => {
    const paths = fc.array(
      fc.tuple(fc.constantFrom(...NARROW.roots), fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 3 })).map(([r, ns]) => join2(r, ns)),
      { minLength: 4, maxLength: 10 },
    );
    fc.assert(
      fc.property(fc.array(fsRuleArb(NARROW, true), { maxLength: 8 }), fc.constantFrom("/a", "/a/b", "/private/tmp/a"), paths, (rules, workspace, queries) => checkBoth(irOf(rules), workspace, queries)),
      RUNS,
    );
  }, TIMEOUT);

  it("network: TCP and UDP, connect and bind, loopback, CIDRs and port sets, and unix path rules over both spellings and a parameter", () => {
    fc.assert(
      fc.property(fc.array(netRuleArb, { maxLength: 4 }), unixArb, fc.array(netCaseArb, { minLength: 1, maxLength: 8 }), (rules, unix, queries) => {
        const ir = irOf([], { rules, unix });
        const values = { workspace: "/w" };
        const bound = bindIr(ir, values).ir!;
        checkNet(bound, compile(bound, "inline", values)!, queries, UNIX_PATHS);
        checkNet(bound, compile(ir, "param", values)!, queries, UNIX_PATHS);
      }),
      RUNS,
    );
  }, TIMEOUT);
});

// ---- presets and fixtures -------------------------------------------------------------------------------------

const ALL_NET_CASES: NetCase[] = [];
for (const op of ["connect", "bind"] as const) for (const protocol of ["tcp", "udp"] as const) for (const host of HOSTS) for (const port of [22, 53, 80, 443, 3128, 8080]) ALL_NET_CASES.push({ op, protocol, host, port });

/** Compile a checked-in policy both ways and compare with its IR at paths around every rule. */
function checkPolicy(ir: IR, extraPaths: readonly string[]): void {
  const values = testBindings(ir);
  const bound = bindIr(ir, values).ir!;
  const paths = [
    ...extraPaths,
    ...pathsFromRules(bound.filesystem),
    ...Object.values(values).flatMap((v) => [v, join2(v, ["c"]), join2(v, [".git", "config"]), join2(v, [".env"])]),
    ...bound.tests.flatMap((t) => (t.kind === "fs" && t.path.startsWith("/") ? [t.path] : [])),
  ];
  const unixPaths = [
    "/private/tmp/s.sock",
    "/private/var/run/docker.sock",
    "/private/var/run/mDNSResponder",
    ...Object.values(values).map((v) => macCanonical(join2(v, ["s.sock"]))),
    ...bound.network.unix.paths.map((r) => macCanonical(join2(r.path, ["s.sock"]))),
  ];
  const inline = compile(bound, "inline", values);
  if (inline) {
    checkFs(bound, inline, paths);
    checkNet(bound, inline, ALL_NET_CASES, unixPaths);
  }
  const isParamGlob = (d: Diagnostic) => d.code === CODES.sbplNeedsValue.code;
  const param = compile(ir, "param", values, isParamGlob);
  if (param) {
    checkFs(bound, param, paths, symbolicRules(ir));
    checkNet(bound, param, ALL_NET_CASES, unixPaths);
  }
}

const COMMON_PATHS = ["/", "/usr/bin/git", "/etc/passwd", "/private/etc/hosts", "/tmp/build.log", "/var/folders/x", "/Users/u/.ssh/id_rsa", "/dev/null", "/dev/tty", "/dev/ttys003"];

describe("SBPL profiles of the presets and fixtures = the IR", () => {
  it.each(["read-only", "workspace-write", "full-access", "safe-commands"])("preset %s", (name) => {
    const r = compilePolicy({ kind: "preset", name });
    expect(r.ir, JSON.stringify(r.diagnostics)).toBeDefined();
    checkPolicy(r.ir!, COMMON_PATHS);
  });

  const FIXTURES = join(import.meta.dirname, "..", "fixtures");
  const cases = readdirSync(FIXTURES).filter((c) => c.startsWith("ok-")).sort();
  it.each(cases)("fixture %s", (c) => {
    const dir = join(FIXTURES, c);
    const paramsFile = join(dir, "params.json");
    const params = existsSync(paramsFile) ? (JSON.parse(readFileSync(paramsFile, "utf8")) as Record<string, string>) : {};
    const r = compilePolicy({ kind: "file", path: "policy.yaml" }, { cwd: dir, params });
    expect(r.ir, JSON.stringify(r.diagnostics.map((d) => d.message))).toBeDefined();
    checkPolicy(r.ir!, COMMON_PATHS);
  });
});

describe("regressions found by the properties", () => {
  const rule = (effect: Effect, access: readonly Access[], kind: FsRule["kind"], path: string, layer = 0): FsRule => ({ effect, access, kind, path, ifMissing: "skip", layer });
  const modify = [...ACCESS_GROUPS.modify!];
  const create = [...ACCESS_GROUPS.create!];

  it("rules about both spellings of one directory are ranked by the kernel's spelling (a depth tie: the deny wins)", () => {
    const ir = irOf([rule("deny", create, "subtree", "/var/f"), rule("allow", modify, "subtree", "/private/var/f")]);
    checkBoth(ir, "/w", ["/private/var/f/x", "/var/f/x"]);
    const c = compile(ir, "inline", {})!;
    expect(ask(c, "file-write-create", { path: "/private/var/f/x", attrs: { "vnode-type": "REGULAR-FILE" } }, () => c.text).decision).toBe("deny");
  });

  it("a deny glob spelled under /var is deeper than an allow glob spelled under /private/var with as many components", () => {
    checkBoth(irOf([rule("allow", modify, "glob", "/private/var/f/s\\\\p/*"), rule("deny", modify, "subtree", "/var/f/s\\p/a")]), "/w", ["/private/var/f/s\\p/a"]);
  });

  it("a read deny spelled under /etc keeps /private in place too", () => {
    const ir = irOf([rule("allow", ["rename"], "glob", "/*"), rule("deny", ["read", "list", "execute"], "glob", "/etc/*")]);
    const c = compile(ir, "inline", {})!;
    for (const op of MOVE_OPERATIONS) expect(ask(c, op, { path: "/private", attrs: { "vnode-type": "DIRECTORY" } }, () => c.text).decision, op).toBe("deny");
  });

  it("a read deny over /tmp does not keep a deeper, readable ${tmpdir} from creating files", () => {
    const ir = irOf([rule("allow", [...ACCESS_CLASSES], "subtree", "/tmp/t"), rule("deny", [...ACCESS_CLASSES], "subtree", "/tmp")]);
    const c = compile(ir, "inline", {})!;
    expect(ask(c, "file-write-create", { path: "/private/tmp/t/x", attrs: { "vnode-type": "REGULAR-FILE" } }, () => c.text).decision).toBe("allow");
    checkBoth(ir, "/w", ["/private/tmp/t/x", "/tmp/y"]);
  });
});
