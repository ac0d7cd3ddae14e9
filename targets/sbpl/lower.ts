// Lowering the IR to an SBPL profile whose meaning does not depend on rule order. Seatbelt lets the last
// matching rule win within an operation (and peers disagree on the fine print), while sbc lets the most
// specific rule win; so the profile holds no file or network deny rule at all. Every allow is written with
// its carve-outs — `(require-all (subpath A) (require-not (literal B)) (require-not (subpath B)))` — so that
// its filter is exactly the set of paths where sbc's precedence says allow, and `(deny default)` covers the
// rest. docs/targets/sbpl.md describes the construction; the model's property tests check it.

import { diag, type Diagnostic, type Label } from "../../diagnostics/diagnostic.js";
import type { Span } from "../../diagnostics/source.js";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { ACCESS_CLASSES, type Access } from "../../ir/access.js";
import { cidrContains, parseCidr, parseIp, type Cidr } from "../../ir/values.js";
import type { FsRule, IR, NetOp, NetRule, UnixPathRule } from "../../ir/types.js";
import { unixOpen } from "../../ir/evaluator/network-syscalls.js";
import { components, globLiteralDepth, hasWildcard, parsePath, type PathTemplate } from "../../ir/paths.js";
import { BASE_DEVICES, BASE_RULES, DEVICE_OPERATIONS, REMOTE_NETWORK_RULES, type BaseDevice } from "./base.js";
import { accessesFor, FILE_OPERATION_ORDER, MOVE_OPERATIONS, VNODE_CLASSES, type VnodeClass } from "./operations.js";
import { mayOverlap, RegionIndex, startsWith, within } from "./region-index.js";
import { ALIAS_TARGETS_REGEX, canonicalComponents, commentText, GlobRegexError, globRegexes, globToRegexes, type GlobRegex, MAX_LITERAL_BYTES, sbplRegexLiteral, sbplString, utf8Length } from "./strings.js";

export interface SbplOptions {
  readonly params: "inline" | "param";
}

export interface SbplOutput {
  /** The profile text; undefined when there are errors. */
  readonly profile?: string;
  /**
   * The `-D KEY=VALUE` pairs sandbox-exec needs (param mode), sorted by key; [] inline. A parameter the IR
   * has no value for appears with the value `${name}`: the caller must replace it with a canonical path.
   */
  readonly defines: readonly (readonly [string, string])[];
  readonly diagnostics: Diagnostic[];
}

/** The placeholder value of a define the caller must supply (a parameter with no value in the IR). */
export function placeholder(param: string): string {
  return "${" + param + "}";
}

// ---- paths -------------------------------------------------------------------------------------------------

/** A rule's path: a root (null for `/`, or a parameter without a value) and IR components below it. */
interface PathRef {
  readonly root: string | null;
  readonly parts: readonly string[];
}

interface Region {
  readonly kind: FsRule["kind"];
  readonly path: PathRef;
  /** Components up to the first wildcard, unescaped; in the kernel's spelling when the root is `/`. */
  readonly anchor: readonly string[];
  /** For globs: the regexes over canonical paths, as written (allow) and case-folded (deny). */
  readonly regexes?: readonly GlobRegex[];
  readonly foldedRegexes?: readonly string[];
}

interface LoweredRule {
  readonly rule: FsRule;
  readonly index: number;
  readonly region: Region;
  /** sbc's precedence, comparable between rules with the same root: depth, kind, layer, effect. */
  readonly rank: readonly [number, number, number, number];
}

/** Access classes whose operations can move an entry away (see MOVE_OPERATIONS). */
const MOVE_CLASSES: ReadonlySet<Access> = new Set<Access>(["create-file", "create-dir", "create-symlink", "create-special", "delete-file", "delete-dir", "rename"]);

const KIND_RANK: Readonly<Record<FsRule["kind"], number>> = { subtree: 0, glob: 1, exact: 2 };

/** An IR path's parameter and components (globs keep their escapes; a literal path has none). */
function ruleTemplate(rule: FsRule): PathTemplate {
  const t = parsePath(rule.path, { glob: rule.kind === "glob" }).template;
  if (!t) throw new Error(`not a normalized IR path: ${rule.path}`);
  return t;
}

function unescape(c: string): string {
  return c.replace(/\\(.)/gsu, "$1");
}

/** Literal renderer: inline strings, or `(param "…")` references collected as defines. */
class PathWriter {
  private readonly keys = new Map<string, string>();
  constructor(private readonly mode: SbplOptions["params"]) {}

  /** A literal canonical path as an SBPL string expression. */
  literal(path: string): string {
    if (this.mode === "inline") return sbplString(path);
    // Keys are numbered once every path is known (finish()); `path.` cannot collide with a parameter name.
    return `(param \u0000${path}\u0000)`;
  }

  expr(ref: PathRef): string {
    if (ref.root === null) {
      const parts = canonicalComponents(ref.parts);
      return this.literal(parts.length ? "/" + parts.join("/") : "/");
    }
    const head = `(param ${sbplString(ref.root)})`;
    return ref.parts.length ? `(string-append ${head} ${sbplString("/" + ref.parts.join("/"))})` : head;
  }

  finish(text: string, symbolic: readonly string[]): { text: string; defines: [string, string][] } {
    const paths = [...new Set([...text.matchAll(/\u0000([^\u0000]*)\u0000/g)].map((m) => m[1]!))].sort();
    paths.forEach((p, i) => this.keys.set(p, `path.${i}`));
    const out = text.replace(/\u0000([^\u0000]*)\u0000/g, (_m, p: string) => sbplString(this.keys.get(p)!));
    const defines: [string, string][] = [...paths.map((p) => [this.keys.get(p)!, p] as [string, string]), ...symbolic.map((s) => [s, placeholder(s)] as [string, string])];
    defines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { text: out, defines };
  }
}

// ---- diagnostics -------------------------------------------------------------------------------------------

function describeRule(rule: FsRule): string {
  const kind = rule.kind === "subtree" ? "path" : rule.kind;
  return `${rule.effect} ${rule.kind === "subtree" && rule.access.length === 13 ? "read-write" : `[${rule.access.join(", ")}]`} ${kind} \`${rule.path}\``;
}

function where(span: Span | undefined): { span?: Span } {
  return span ? { span } : {};
}

// ---- precedence ----------------------------------------------------------------------------------------------

/** 1 when `a` outranks `b`, -1 when `b` outranks `a`, 0 when equal, undefined when it depends on parameters. */
function compareRank(a: LoweredRule, b: LoweredRule): number | undefined {
  if (a.region.path.root !== b.region.path.root) {
    // A parameter's value is at least `/`, so a path beneath it is at least as deep as its own tail: deeper
    // than a literal path with fewer components, whatever the value.
    if (a.region.path.root !== null && b.region.path.root === null && a.rank[0] > b.rank[0]) return 1;
    if (b.region.path.root !== null && a.region.path.root === null && b.rank[0] > a.rank[0]) return -1;
    return undefined;
  }
  for (let i = 0; i < 4; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i]! > b.rank[i]! ? 1 : -1;
  return 0;
}

// ---- the lowering --------------------------------------------------------------------------------------------

const NO_RULES: ReadonlySet<LoweredRule> = new Set();
const NO_GUARDS: ReadonlySet<never> = new Set();

/** `f` computed once per argument: the lowering renders the same region for many operations. */
function memo<K, V>(f: (k: K) => V): (k: K) => V {
  const cache = new Map<K, V>();
  return (k) => {
    if (cache.has(k)) return cache.get(k)!;
    const v = f(k);
    cache.set(k, v);
    return v;
  };
}

interface Term {
  readonly comment: string;
  readonly text: string;
}

export function lowerSbpl(ir: IR, options: SbplOptions): SbplOutput {
  const diagnostics: Diagnostic[] = [];
  const writer = new PathWriter(options.params);
  const symbolic = new Set<string>();
  const unbound = new Set(ir.params.filter((p) => p.value === null).map((p) => p.name));

  // ---- rules and their regions ----
  const lowered: LoweredRule[] = [];
  /** Inline mode: the rules each parameter without a value keeps out of the profile. */
  const needValue = new Map<string, { path: string; span?: Span }[]>();
  ir.filesystem.forEach((rule, index) => {
    const t = ruleTemplate(rule);
    if (t.param !== null) {
      if (!unbound.has(t.param) || options.params === "inline") {
        needValue.set(t.param, [...(needValue.get(t.param) ?? []), rule]);
        return;
      }
      if (rule.kind === "glob") {
        diagnostics.push(
          diag("sbplNeedsValue", `glob \`${rule.path}\` needs the value of \`${t.param}\`: a Seatbelt regex cannot be built from a parameter`, {
            ...where(rule.span),
            help: `bind it with \`--param ${t.param}=PATH\``,
          }),
        );
        return;
      }
      symbolic.add(t.param);
    }
    const parts = t.components;
    const wild = rule.kind === "glob" ? parts.findIndex((c) => c === "**" || hasWildcard(c)) : -1;
    const literalParts = rule.kind === "glob" ? (wild < 0 ? parts : parts.slice(0, wild)).map(unescape) : [...parts];
    const anchor = t.param === null ? canonicalComponents(literalParts) : literalParts;
    let region: Region = { kind: rule.kind, path: { root: t.param, parts }, anchor };
    if (rule.kind === "glob") {
      if (rule.effect === "deny") region = { ...region, foldedRegexes: globToRegexes(rule.path, true) };
      else {
        try {
          region = { ...region, regexes: globRegexes(rule.path, false) };
        } catch (e) {
          if (!(e instanceof GlobRegexError)) throw e;
          diagnostics.push(diag("sbplNarrowed", `${e.message}; the profile drops this allow`, { ...where(rule.span), help: "write the class without that character" }));
          return;
        }
      }
    }
    // Precedence is sbc's, applied to the paths as macOS spells them: `/tmp/x` is `/private/tmp/x`, one
    // component deeper, so a rule about either spelling of a file is ranked against the other correctly.
    const canonicalExtra = t.param === null && canonicalComponents(literalParts).length > literalParts.length ? 1 : 0;
    const depth = (rule.kind === "glob" ? globLiteralDepth(parts) : parts.length) + canonicalExtra;
    lowered.push({ rule, index, region, rank: [depth, KIND_RANK[rule.kind], rule.layer, rule.effect === "deny" ? 1 : 0] });
  });
  // Unix path rules need the same: a value inline, a `(param …)` in param mode.
  const unixRules: LoweredUnixRule[] = [];
  ir.network.unix.paths.forEach((rule, index) => {
    const t = parsePath(rule.path).template;
    if (!t) throw new Error(`not a normalized IR path: ${rule.path}`);
    if (t.param !== null) {
      if (!unbound.has(t.param) || options.params === "inline") {
        needValue.set(t.param, [...(needValue.get(t.param) ?? []), rule]);
        return;
      }
      symbolic.add(t.param);
    }
    const anchor = t.param === null ? canonicalComponents(t.components) : [...t.components];
    unixRules.push({ rule, index, path: { root: t.param, parts: t.components }, anchor, rank: [anchor.length, rule.layer, rule.effect === "deny" ? 1 : 0] });
  });
  for (const [param, rules] of needValue) {
    const [first, ...rest] = rules;
    diagnostics.push(
      diag("sbplNeedsValue", `parameter \`${param}\` has no value, so \`${first!.path}\`${rest.length ? ` and ${rest.length} more path${rest.length > 1 ? "s" : ""}` : ""} cannot be written into the profile`, {
        ...where(first!.span),
        labels: rest.filter((r) => r.span).map((r) => ({ span: r.span!, message: `\`${r.path}\` too` }) satisfies Label),
        help: `bind it with \`--param ${param}=PATH\`, or compile with \`--sbpl-params\` to leave it to sandbox-exec's \`-D\``,
      }),
    );
  }
  if (diagnostics.some((d) => d.severity === "error")) return { defines: [], diagnostics };

  const filterOf = memo((r: Region): string => {
    if (r.kind === "glob") {
      const res = r.regexes
        ? r.regexes.map((x) => (x.notAliased ? `(require-all (regex ${sbplRegexLiteral(x.regex)}) (require-not (regex ${sbplRegexLiteral(ALIAS_TARGETS_REGEX)})))` : `(regex ${sbplRegexLiteral(x.regex)})`))
        : r.foldedRegexes!.map((x) => `(regex ${sbplRegexLiteral(x)})`);
      return res.length === 1 ? res[0]! : `(require-any ${res.join(" ")})`;
    }
    return `(${r.kind === "exact" ? "literal" : "subpath"} ${writer.expr(r.path)})`;
  });
  /** A deny's region as a positive filter (case-folded regexes; a subtree as both `literal` and `subpath`). */
  const positiveOf = (r: Region): string => {
    if (r.kind === "glob") {
      const res = r.foldedRegexes!.map((x) => `(regex ${sbplRegexLiteral(x)})`);
      return res.length === 1 ? res[0]! : `(require-any ${res.join(" ")})`;
    }
    const e = writer.expr(r.path);
    return r.kind === "exact" ? `(literal ${e})` : `(require-any (literal ${e}) (subpath ${e}))`;
  };
  const carvesOf = memo((r: Region): readonly string[] => {
    if (r.kind === "glob") return r.foldedRegexes!.map((x) => `(require-not (regex ${sbplRegexLiteral(x)}))`);
    const e = writer.expr(r.path);
    // `subpath` alone would leave the first creation of the directory itself open (Codex's finding).
    return r.kind === "exact" ? [`(require-not (literal ${e}))`] : [`(require-not (literal ${e}))`, `(require-not (subpath ${e}))`];
  });

  // Rules by region, so each rule is compared only with those that may share a path with it (a policy of
  // thousands of rules would otherwise compare every pair). Candidates are sorted by index and then pass
  // the same exact predicates, so the result is the same as comparing with every rule in order.
  const byIndex = (x: LoweredRule, y: LoweredRule) => x.index - y.index;
  const readAllows = new RegionIndex<LoweredRule>();
  const denyIndex = new RegionIndex<LoweredRule>();
  const subtreeAllows = new RegionIndex<LoweredRule>();
  /** Allows that can move an entry away, counted per root (for the params-mode ancestor warning). */
  const moversByRoot = new Map<string | null, number>();
  let movers = 0;
  for (const r of lowered) {
    if (r.rule.effect === "deny") {
      denyIndex.add(r.region, r);
      continue;
    }
    if (r.rule.access.includes("read")) readAllows.add(r.region, r);
    if (r.region.kind === "subtree") subtreeAllows.add(r.region, r);
    if (r.rule.access.some((c) => MOVE_CLASSES.has(c))) {
      moversByRoot.set(r.region.path.root, (moversByRoot.get(r.region.path.root) ?? 0) + 1);
      movers++;
    }
  }

  // ---- move guards: what a read deny keeps in place ----
  /** `exempt`: subtrees a deeper allow makes readable again, where the guard does not apply (indexed). */
  const guards: { region: Region; carves: readonly string[]; rule: LoweredRule; exempt?: RegionIndex<Region> }[] = [];
  for (const s of lowered) {
    if (s.rule.effect !== "deny" || !s.rule.access.includes("read")) continue;
    // What a deeper allow makes readable again inside the deny may move freely (a scratch directory
    // inside a denied /tmp): the guard is the deny's region without those allows.
    const reopened = readAllows
      .candidates(s.region)
      .sort(byIndex)
      .filter((a) => mayOverlap(a.region, s.region) && compareRank(a, s) === 1);
    if (!reopened.length) guards.push({ region: s.region, carves: carvesOf(s.region), rule: s });
    else {
      const inner = [positiveOf(s.region), ...reopened.map((a) => `(require-not ${filterOf(a.region)})`)];
      const exempt = new RegionIndex<Region>();
      for (const a of reopened) if (a.region.kind === "subtree") exempt.add(a.region, a.region);
      guards.push({ region: s.region, carves: [`(require-not (require-all ${inner.join(" ")}))`], rule: s, exempt });
    }
    const { root, parts } = s.region.path;
    const glob = s.region.kind === "glob";
    // The literal part as the kernel spells it (`/var/f` is `/private/var/f`, whose ancestors include
    // `/private`). For a glob it is the directory its matches lie in, so it is an ancestor too.
    const literal = s.region.anchor;
    if (root !== null) {
      // Params mode: the directories above the parameter are not known, so they cannot be kept in place.
      // (An allow beneath the same parameter cannot reach above it.)
      const moves = movers - (moversByRoot.get(root) ?? 0) > 0;
      if (moves) {
        diagnostics.push(
          diag("sbplNarrowed", `the directories above \`\${${root}}\` are not known in params mode, so moving one of them could take \`${s.rule.path}\` out of its read deny`, {
            ...where(s.rule.span),
            severity: "warning",
            help: `bind \`${root}\` (inline mode) to keep its ancestors in place too`,
          }),
        );
      }
    }
    /** How many of the glob's own components (as written) are literal. */
    const literalCount = glob ? globLiteralDepth(parts) : parts.length;
    // Ancestors: every proper prefix of the literal part (for a glob, the literal part itself too), but
    // not `/`, which cannot move. Above a parameter nothing is known.
    for (let k = root === null ? 1 : 0; k < (glob ? literal.length + 1 : literal.length); k++) {
      const ref: PathRef = { root, parts: literal.slice(0, k) };
      const region: Region = { kind: "exact", path: ref, anchor: ref.parts };
      guards.push({ region, carves: carvesOf(region), rule: s });
    }
    if (s.region.kind === "glob") {
      // Directories named by the pattern's leading wildcards (`/w/*` in `/w/*/key.pem`) can move too.
      const firstDouble = parts.indexOf("**");
      const stop = firstDouble < 0 ? parts.length : firstDouble;
      for (let k = literalCount + 1; k < stop; k++) {
        const prefix = "/" + parts.slice(0, k).join("/");
        const region: Region = { kind: "glob", path: { root, parts: parts.slice(0, k) }, anchor: s.region.anchor, foldedRegexes: globToRegexes(prefix, true) };
        guards.push({ region, carves: carvesOf(region), rule: s });
      }
      if (firstDouble >= 0 && firstDouble < parts.length - 1) {
        diagnostics.push(
          diag("sbplNarrowed", `a directory beneath \`${s.rule.path.split("/**")[0]}\` that holds files matching \`${s.rule.path}\` can still be moved elsewhere, taking them out of the deny`, {
            ...where(s.rule.span),
            severity: "warning",
            help: "Seatbelt matches paths, so only the pattern's fixed leading directories are kept in place; deny the directories that hold such files with `path:` rules to keep them in place too",
          }),
        );
      }
    }
  }

  // ---- terms per operation and kind of file ----
  const paramOrder = new Map<string, Diagnostic>();
  const narrowedRules = new Map<number, Set<string>>();
  const covered = baseCoverage(ir);
  const guardIndex = new RegionIndex<number>();
  guards.forEach((g, i) => guardIndex.add(g.region, i));
  /** Per allow, whatever operation: the denies that may overlap it (by index, with their rank against it)… */
  const overlapDenies = new Map<LoweredRule, { s: LoweredRule; cmp: number | undefined }[]>();
  const denyCandidates = (r: LoweredRule) => {
    let xs = overlapDenies.get(r);
    if (!xs) {
      xs = denyIndex
        .candidates(r.region)
        .sort(byIndex)
        .filter((s) => mayOverlap(r.region, s.region))
        .map((s) => ({ s, cmp: compareRank(s, r) }));
      overlapDenies.set(r, xs);
    }
    return xs;
  };
  /** …and the guards that may overlap it (in the order of `guards`), and those of them that apply to it. */
  const overlapGuards = new Map<LoweredRule, { all: (typeof guards)[number][]; applying: (typeof guards)[number][] }>();
  const guardCandidates = (r: LoweredRule) => {
    let xs = overlapGuards.get(r);
    if (!xs) {
      const all = guardIndex
        .candidates(r.region)
        .sort((x, y) => x - y)
        .map((i) => guards[i]!)
        .filter((g) => mayOverlap(r.region, g.region));
      xs = { all, applying: all.filter((g) => !g.exempt || !g.exempt.enclosing(r.region.path.root, r.region.anchor).length) };
      overlapGuards.set(r, xs);
    }
    return xs;
  };
  const commentOf = memo((r: LoweredRule) => ruleComment(r.rule, r.index));
  const carvedTexts = new Map<string, string>();
  const termsFor = (operation: string, vnode: VnodeClass): Term[] => {
    const need = accessesFor(operation, vnode);
    if (!need.length) return [];
    // The allows that grant every needed class, each with what is carved out of it: the denies of a
    // needed class that may overlap it and outrank it (or whose rank depends on parameters), and for
    // operations that move entries the guards around read denies.
    const allows: { r: LoweredRule; denies: ReadonlySet<LoweredRule>; guards: ReadonlySet<(typeof guards)[number]> }[] = [];
    const moves = MOVE_OPERATIONS.includes(operation);
    for (const r of lowered) {
      let granted = 0;
      for (const a of need) if (r.rule.access.includes(a)) granted++;
      if (!granted) continue;
      if (granted < need.length) {
        const grants = need.filter((a) => r.rule.access.includes(a));
        if (!coveredByBase(r, operation, covered)) {
          const everywhere = VNODE_CLASSES.every((v) => accessesFor(operation, v).join() === need.join());
          noteNarrowing(narrowedRules, r.index, everywhere ? "" : `on ${VNODE_LABELS[vnode]}, `, operation, need, grants, r.rule.effect);
        }
        if (r.rule.effect === "allow") continue;
      }
      if (r.rule.effect !== "allow") continue;
      // The base already grants this operation on this device, whatever the kind of file.
      if (coveredByBase(r, operation, covered)) continue;
      const candidates = denyCandidates(r);
      const denies = candidates.length ? new Set<LoweredRule>() : NO_RULES;
      for (const { s, cmp } of candidates) {
        if (!need.some((a) => s.rule.access.includes(a))) continue;
        if (cmp !== undefined && cmp < 0) continue;
        if (cmp === undefined && s.rule.protects === undefined && !paramOrder.has(`${s.index}:${r.index}`)) {
          paramOrder.set(
            `${s.index}:${r.index}`,
            diag("sbplParamOrder", `whether deny \`${s.rule.path}\` or allow \`${r.rule.path}\` is more specific depends on the parameters' values; the profile lets the deny win`, {
              ...where(s.rule.span),
              labels: r.rule.span ? [{ span: r.rule.span, message: "the allow it is carved out of" } satisfies Label] : [],
              help: "bind the parameters (inline mode) for exact precedence",
            }),
          );
        }
        (denies as Set<LoweredRule>).add(s);
      }
      // An allow wholly inside a deny that outranks it grants nothing.
      if ([...denies].some((s) => s.region.kind === "subtree" && within(r.region, s.region))) continue;
      const applying = moves ? guardCandidates(r).applying : [];
      allows.push({ r, denies, guards: applying.length ? new Set(applying) : NO_GUARDS });
    }
    const entries = new Map(allows.map((a) => [a.r, a]));
    // An allow inside another one's subtree adds nothing when everything carved out of the outer one
    // (where it touches the inner one) is carved out of the inner one too. The outer ones are the subtree
    // allows at the inner one's anchor or above it, or over everything; what the outer one carves out where
    // it touches the inner one is among what overlaps the inner one.
    const redundant = (a: (typeof allows)[number]): boolean => {
      const { root, anchor } = { root: a.r.region.path.root, anchor: a.r.region.anchor };
      const outer = subtreeAllows.enclosing(root, anchor);
      if (root !== null) for (const o of subtreeAllows.enclosing(null, [])) outer.push(o);
      return outer.some((o) => {
        const t = entries.get(o);
        if (!t || t === a) return false;
        // Two allows over the same subtree: keep the first.
        if (a.r.region.kind === "subtree" && t.r.region.path.root === a.r.region.path.root && t.r.region.anchor.length === a.r.region.anchor.length && t.r.index > a.r.index) return false;
        for (const { s } of denyCandidates(a.r)) if (t.denies.has(s) && !a.denies.has(s)) return false;
        if (t.guards.size) for (const g of guardCandidates(a.r).all) if (t.guards.has(g) && !a.guards.has(g)) return false;
        return true;
      });
    };
    const out: Term[] = [];
    const seen = new Set<string>();
    for (const a of allows) {
      if (redundant(a)) continue;
      let text = filterOf(a.r.region);
      if (a.denies.size || a.guards.size) {
        // What is carved out depends only on the needed classes and on whether the operation moves entries.
        const key = `${a.r.index}|${need.join()}|${moves}`;
        const known = carvedTexts.get(key);
        if (known !== undefined) text = known;
        else {
          const carves = [...[...a.denies].sort((x, y) => x.index - y.index).flatMap((s) => carvesOf(s.region)), ...[...a.guards].flatMap((g) => g.carves)];
          const unique = [...new Set(carves)];
          if (unique.length) text = `(require-all ${text}\n${unique.map((c) => `  ${c}`).join("\n")})`;
          carvedTexts.set(key, text);
        }
      }
      if (seen.has(text)) continue;
      seen.add(text);
      out.push({ comment: commentOf(a.r), text });
    }
    return out;
  };

  const fileSections: string[] = [];
  const groups = new Map<string, { ops: string[]; byClass: Term[][] }>();
  for (const op of FILE_OPERATION_ORDER) {
    const byClass = VNODE_CLASSES.map((v) => termsFor(op, v));
    if (byClass.every((t) => !t.length)) continue;
    const key = JSON.stringify(byClass);
    const g = groups.get(key);
    if (g) g.ops.push(op);
    else groups.set(key, { ops: [op], byClass });
  }
  for (const g of groups.values()) fileSections.push(renderFileRule(g.ops, g.byClass));

  for (const [index, clauses] of narrowedRules) {
    const r = ir.filesystem[index]!;
    const grants = r.effect === "allow";
    diagnostics.push(
      diag("sbplNarrowed", `Seatbelt cannot ${grants ? "grant" : "deny"} exactly what ${describeRule(r)} says: ${[...clauses].join("; ")}`, {
        ...where(r.span),
        help: grants ? "grant the other classes too, or accept that macOS withholds these operations here" : "deny the other classes too, to say what macOS enforces",
      }),
    );
  }
  diagnostics.push(...paramOrder.values());

  // ---- base devices ----
  const deviceLines: string[] = [];
  for (const d of BASE_DEVICES) {
    const granted = d.accesses.filter((a) => !covered.denied.has(`${d.path}\u0000${a}`));
    if (!granted.length) continue;
    const ops = granted.map((a) => DEVICE_OPERATIONS[a]!);
    const filter = d.match === "regex" ? `(regex ${sbplRegexLiteral(d.path)})` : `(${d.match} ${sbplString(d.path)})`;
    deviceLines.push(`(allow ${ops.join(" ")} ${filter}) ; ${d.reason}`);
  }

  // ---- network ----
  const net = lowerNetwork(ir, diagnostics);
  const unix = lowerUnix(unixRules, writer, diagnostics);

  // ---- syscalls and commands ----
  if (!syscallsArePresetDefault(ir)) {
    diagnostics.push(
      diag("sbplSyscallsIgnored", "Seatbelt has no syscall filter: the policy's `syscalls:` section is not enforced on macOS", {
        ...where(ir.syscalls.span ?? ir.syscalls.rules[0]?.span),
        help: "on macOS, rely on the filesystem and network sections; the syscall rules apply on Linux (seccomp)",
      }),
    );
  }

  for (const r of lowered) {
    const strings = r.region.kind === "glob" ? [...(r.region.regexes ?? []).map((x) => x.regex), ...(r.region.foldedRegexes ?? [])] : options.params === "inline" && r.region.path.root === null ? ["/" + r.region.anchor.join("/")] : [];
    if (strings.some((x) => utf8Length(x) > MAX_LITERAL_BYTES)) {
      diagnostics.push(
        diag("sbplStringTooLong", `\`${r.rule.path}\` makes a string longer than the ${MAX_LITERAL_BYTES} bytes a Seatbelt string literal can safely hold`, {
          ...where(r.rule.span),
          help: r.region.kind === "glob" ? "shorten the pattern" : "compile with `--sbpl-params` to pass paths as `-D` values",
        }),
      );
    }
  }
  if (diagnostics.some((d) => d.severity === "error")) return { defines: [], diagnostics };

  // ---- assembly ----
  if (unrestricted(ir)) {
    const text = [
      `; Seatbelt profile for the sbc policy \`${commentText(ir.name)}\`, generated by sbc: do not edit.`,
      ...(ir.description ? [`; ${commentText(ir.description)}`] : []),
      "(version 1)",
      "; the policy allows every file access and every socket, and denies nothing: no sandbox is the same thing",
      "(allow default)",
      "",
    ].join("\n");
    return { profile: text, defines: [], diagnostics };
  }
  const lines: string[] = [];
  lines.push(`; Seatbelt profile for the sbc policy \`${commentText(ir.name)}\`, generated by sbc: do not edit.`);
  if (ir.description) lines.push(`; ${commentText(ir.description)}`);
  lines.push("; Rules grant only; each filter already excludes what sbc's precedence denies, so their order does not matter.");
  lines.push("(version 1)", "(deny default)", "");
  lines.push("; ---- base: what ordinary tools need from macOS besides the policy's files ----");
  for (const b of BASE_RULES) lines.push(`; ${b.reason}`, b.text);
  lines.push("", "; ---- devices that hold no data ----", ...deviceLines, "");
  lines.push("; ---- filesystem ----");
  if (fileSections.length) lines.push(...fileSections.flatMap((s) => [s]));
  else lines.push("; the policy grants no file access");
  const netLines = [...net.lines, ...unix.lines];
  lines.push("", "; ---- network ----", ...(netLines.length ? netLines : ["; the policy allows no sockets"]));
  // Where the policy's unix rules allow connecting to the mDNSResponder socket it is already covered;
  // elsewhere it stays closed, as the policy says, and the warning says what that costs on macOS.
  if (net.remote) {
    for (const b of REMOTE_NETWORK_RULES) if (!b.text.includes("unix-socket")) lines.push(`; ${b.reason}`, b.text);
    if (!unix.connects(MDNS_RESPONDER)) {
      const span = ir.network.unix.span ?? ir.network.span;
      diagnostics.push(
        diag("sbplResolverClosed", "macOS resolves host names through mDNSResponder's unix socket, which the policy's unix rules keep closed: programs under the profile can connect to addresses but not look up names", {
          ...(span ? { span } : {}),
          help: "allow connecting to `/var/run/mDNSResponder` in `network.unix.paths` if the command needs name resolution on macOS",
        }),
      );
    }
  }
  if (ir.network.unix.pairs === "deny" && ir.network.unix.span) {
    diagnostics.push(
      diag("sbplNarrowed", "Seatbelt checks no operation when a program creates a socket pair, so socket pairs stay open on macOS although the policy denies them", {
        span: ir.network.unix.span,
        help: "a socket pair reaches nothing outside the sandbox; allow `pairs` to say what macOS does",
      }),
    );
  }
  const body = lines.join("\n") + "\n";
  const finished = writer.finish(body, [...symbolic].sort());
  let text = finished.text;
  if (options.params === "param" && finished.defines.length) {
    const header = finished.defines.map(([k, v]) => `;   -D ${commentText(k)}=${commentText(v)}`).join("\n");
    const intro = "; sandbox-exec parameters (a `${name}` value is for the caller to supply):\n" + header + "\n";
    text = text.replace("(version 1)\n", () => intro + "(version 1)\n");
  }
  return { profile: text, defines: options.params === "param" ? finished.defines : [], diagnostics };
}

/** Every access everywhere, every socket, no deny: the policy restricts nothing Seatbelt checks. */
function unrestricted(ir: IR): boolean {
  const fs = ir.filesystem.some((r) => r.effect === "allow" && r.kind === "subtree" && r.path === "/" && r.access.length === ACCESS_CLASSES.length);
  const net = ir.network.rules.some(
    (r) => r.effect === "allow" && r.hosts === "any" && r.ops.length === 2 && r.protocols.length === 2 && r.ports.length === 1 && r.ports[0]![0] === 0 && r.ports[0]![1] === 65535,
  );
  return fs && net && unixOpen(ir.network.unix) && !ir.filesystem.some((r) => r.effect === "deny") && !ir.network.rules.some((r) => r.effect === "deny");
}

function ruleComment(rule: FsRule, index: number): string {
  const why = rule.protects !== undefined ? `protects \`${rule.protects}\`` : rule.reason;
  return commentText(`rule ${index}: ${describeRule(rule)}${why ? ` — ${why}` : ""}`);
}

function noteNarrowing(map: Map<number, Set<string>>, index: number, scope: string, operation: string, need: readonly Access[], has: readonly Access[], effect: string): void {
  const set = map.get(index) ?? new Set<string>();
  const list = (xs: readonly Access[], and: string) => {
    const q = xs.map((a) => `\`${a}\``);
    return q.length > 1 ? `${q.slice(0, -1).join(", ")} ${and} ${q[q.length - 1]}` : q.join("");
  };
  const allowed = effect === "allow";
  set.add(`${scope}${list(need, "and")} are one operation (\`${operation}\`) and the rule ${allowed ? "grants" : "denies"} only ${list(has, "and")}, so ${allowed ? `none of them is granted` : "all of them are denied"}`);
  map.set(index, set);
}

/** The `vnode-type` filter for a set of kinds of file (`directory`, `regular`, `other`). */
const VNODE_FILTERS: Readonly<Record<string, string>> = {
  directory: "(vnode-type DIRECTORY)",
  regular: "(vnode-type REGULAR-FILE)",
  other: "(require-all (require-not (vnode-type DIRECTORY)) (require-not (vnode-type REGULAR-FILE)))",
  "directory,regular": "(require-any (vnode-type DIRECTORY) (vnode-type REGULAR-FILE))",
  "directory,other": "(require-not (vnode-type REGULAR-FILE))",
  "regular,other": "(require-not (vnode-type DIRECTORY))",
};
const VNODE_LABELS: Readonly<Record<string, string>> = {
  directory: "directories",
  regular: "regular files",
  other: "devices, sockets and FIFOs",
  "directory,regular": "directories and regular files",
  "directory,other": "everything but regular files",
  "regular,other": "everything but directories",
};

function renderFileRule(ops: readonly string[], byClass: readonly (readonly Term[])[]): string {
  const indent = (s: string, n: number) => s.split("\n").map((l) => " ".repeat(n) + l).join("\n");
  const list = (ts: readonly Term[], n: number) => ts.map((t) => `${" ".repeat(n)}; ${t.comment}\n${indent(t.text, n)}`).join("\n");
  // Kinds of file with the same terms share one filter.
  const classes = new Map<string, { kinds: string[]; terms: readonly Term[] }>();
  byClass.forEach((terms, i) => {
    if (!terms.length) return;
    const key = JSON.stringify(terms);
    const c = classes.get(key);
    if (c) c.kinds.push(VNODE_CLASSES[i]!);
    else classes.set(key, { kinds: [VNODE_CLASSES[i]!], terms });
  });
  const all = [...classes.values()];
  if (all.length === 1 && all[0]!.kinds.length === VNODE_CLASSES.length) return `(allow ${ops.join(" ")}\n${list(all[0]!.terms, 2)})`;
  const parts = all.map(({ kinds, terms }) => {
    const k = kinds.join(",");
    return `  ; ${VNODE_LABELS[k]}\n  (require-all ${VNODE_FILTERS[k]}\n    (require-any\n${list(terms, 6)}))`;
  });
  return `(allow ${ops.join(" ")}\n${parts.join("\n")})`;
}

// ---- the base's devices against the policy -----------------------------------------------------------------

interface Coverage {
  /** `path\0access` for device accesses the policy denies with an explicit rule. */
  readonly denied: Set<string>;
}

/** A device the policy explicitly denies stays denied: the base only fills what the policy leaves unsaid. */
function baseCoverage(ir: IR): Coverage {
  const literalOnly: IR = { ...ir, filesystem: ir.filesystem.filter((r) => !r.path.startsWith("${")) };
  const denied = new Set<string>();
  for (const d of BASE_DEVICES) {
    for (const a of d.accesses) {
      const v = evaluateFs(literalOnly, a, d.sample);
      if (v.decision === "deny" && v.rule) denied.add(`${d.path}\u0000${a}`);
    }
  }
  return { denied };
}

/** A rule on exactly a base device whose every access the base grants anyway loses nothing on macOS. */
function coveredByBase(r: LoweredRule, operation: string, covered: Coverage): boolean {
  if (r.rule.kind !== "exact" || r.region.path.root !== null || r.rule.effect !== "allow") return false;
  const path = "/" + r.region.anchor.join("/");
  const d: BaseDevice | undefined = BASE_DEVICES.find((x) => x.match === "literal" && x.path === path);
  if (!d) return false;
  const op = Object.entries(DEVICE_OPERATIONS).find(([, o]) => o === operation);
  return op !== undefined && d.accesses.includes(op[0] as Access) && !covered.denied.has(`${d.path}\u0000${op[0]}`);
}

// ---- syscalls ---------------------------------------------------------------------------------------------------

/** No rules and a default of allow, or every part of the section from a preset: nothing the user asked for is lost. */
function syscallsArePresetDefault(ir: IR): boolean {
  const s = ir.syscalls;
  if (!s.rules.length && s.defaultAction.type === "allow") return true;
  const fromPreset = (span: Span | undefined) => span !== undefined && /^presets\/[^/]+\.yaml$/.test(span.source.path);
  return fromPreset(s.span) && s.rules.every((r) => fromPreset(r.span));
}

// ---- network ---------------------------------------------------------------------------------------------------

/** Most ports one rule may list one by one; beyond that an allow is dropped and a deny covers every port. */
const MAX_PORTS = 1024;

interface NetItems {
  readonly lines: string[];
  readonly remote: boolean;
}

/** Filters several to a line (a rule may list a thousand ports), within 110 columns. */
function wrap(items: readonly string[], indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const x of items) {
    if (line && indent + line.length + 1 + x.length > 110) {
      lines.push(line);
      line = x;
    } else line = line ? `${line} ${x}` : x;
  }
  if (line) lines.push(line);
  return lines.map((l) => " ".repeat(indent) + l).join("\n");
}

function coversLoopback(hosts: readonly string[]): boolean {
  const v4 = parseIp("127.0.0.1")!;
  const v6 = parseIp("::1")!;
  const blocks: Cidr[] = [];
  for (const h of hosts) {
    const c = parseCidr(h);
    if (c.ok) blocks.push(c.value);
  }
  return blocks.some((b) => cidrContains(b, v4)) && blocks.some((b) => cidrContains(b, v6));
}

function lowerNetwork(ir: IR, diagnostics: Diagnostic[]): NetItems {
  const allow: Record<string, string[]> = { "network-outbound": [], "network-bind": [], "network-inbound": [] };
  const deny: Record<string, string[]> = { "network-outbound": [], "network-bind": [], "network-inbound": [] };
  let remote = false;
  const narrowed = (r: NetRule, what: string, help: string) =>
    diagnostics.push(diag("sbplNarrowed", `Seatbelt ${what}`, { ...where(r.span), help }));

  for (const r of ir.network.rules) {
    const proto = r.protocols.length === 2 ? "ip" : r.protocols[0]!;
    let host: string | undefined;
    if (r.hosts === "any") host = "*";
    else if (r.hosts === "loopback") {
      if (r.effect === "allow") {
        host = "localhost";
        // The proxy listens on 127.0.0.1: nothing the policy wrote is narrowed by sbc's own rule to it.
        if (!r.proxy)
          narrowed(
          r,
          "`localhost` is 127.0.0.1 and ::1: the IPv4-mapped `::ffff:127.0.0.1` that the policy's loopback includes stays closed on macOS",
          "programs reach loopback as 127.0.0.1 or ::1; only one that uses the mapped form is affected",
        );
      } else {
        host = "*";
        narrowed(r, "cannot deny all of loopback exactly (`localhost` misses `::ffff:127.0.0.1`), so the profile denies these ports on every host", "deny the ports on every host to say what macOS enforces");
      }
    } else if (r.hosts.includes("0.0.0.0/0") && r.hosts.includes("::/0")) {
      host = "*";
    } else if (r.effect === "allow") {
      if (coversLoopback(r.hosts)) host = "localhost";
      narrowed(
        r,
        `addresses only \`localhost\` or every host, not \`${r.hosts.join("`, `")}\`, so ${host ? "the profile allows only its loopback part" : "the profile drops this allow"}`,
        "on macOS, reach such hosts through a proxy on loopback, or allow every host",
      );
      if (!host) continue;
    } else {
      host = "*";
      narrowed(r, `addresses only \`localhost\` or every host, so the profile denies these ports on every host, not only \`${r.hosts.join("`, `")}\``, "deny the ports on every host to say what macOS enforces");
    }
    let ports: string[];
    const count = r.ports.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
    if (count === 65536) ports = ["*"];
    else if (count > MAX_PORTS) {
      if (r.effect === "allow") {
        narrowed(r, `rules list ports one by one, and this rule has ${count}; the profile drops it`, `list at most ${MAX_PORTS} ports, or allow every port`);
        continue;
      }
      narrowed(r, `rules list ports one by one, and this rule has ${count}; the profile denies every port instead`, `list at most ${MAX_PORTS} ports`);
      ports = ["*"];
    } else {
      ports = [];
      for (const [lo, hi] of r.ports) for (let p = lo; p <= hi; p++) ports.push(String(p));
    }
    const target = r.effect === "allow" ? allow : deny;
    for (const op of r.ops) {
      const side = op === "connect" ? "remote" : "local";
      const items = ports.map((p) => `(${side} ${proto} ${sbplString(`${host}:${p}`)})`);
      if (op === "connect") {
        target["network-outbound"]!.push(...items);
        if (r.effect === "allow" && host === "*") remote = true;
      } else {
        target["network-bind"]!.push(...items);
        target["network-inbound"]!.push(...items);
      }
    }
  }

  const lines: string[] = [];
  for (const op of ["network-outbound", "network-bind", "network-inbound"]) {
    const a = [...new Set(allow[op])];
    const d = [...new Set(deny[op])];
    if (!a.length) continue;
    if (!d.length) lines.push(`(allow ${op}\n${wrap(a, 2)})`);
    else lines.push(`(allow ${op}\n  (require-all\n    (require-any\n${wrap(a, 6)})\n${wrap(d.map((x) => `(require-not ${x})`), 4)}))`);
  }
  return { lines, remote };
}

// ---- unix sockets --------------------------------------------------------------------------------------------

/** The mDNSResponder socket, as the kernel spells it: name resolution goes through it. */
const MDNS_RESPONDER = "/private/var/run/mDNSResponder";

interface LoweredUnixRule {
  readonly rule: UnixPathRule;
  readonly index: number;
  readonly path: PathRef;
  /** Components below the root, in the kernel's spelling when the root is `/`. */
  readonly anchor: readonly string[];
  /** sbc's precedence for subtrees, comparable between rules with the same root: depth, layer, effect. */
  readonly rank: readonly [number, number, number];
}

/** As compareRank: 1 when `a` outranks `b`, -1 when `b` outranks `a`, undefined when parameters decide. */
function compareUnix(a: LoweredUnixRule, b: LoweredUnixRule): number | undefined {
  if (a.path.root !== b.path.root) {
    if (a.path.root !== null && b.path.root === null && a.rank[0] > b.rank[0]) return 1;
    if (b.path.root !== null && a.path.root === null && b.rank[0] > a.rank[0]) return -1;
    return undefined;
  }
  for (let i = 0; i < 3; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i]! > b.rank[i]! ? 1 : -1;
  return 0;
}

const UNIX_SIDES: readonly { op: NetOp; operation: string; side: "remote" | "local" }[] = [
  { op: "connect", operation: "network-outbound", side: "remote" },
  { op: "bind", operation: "network-bind", side: "local" },
];

/**
 * Pathname sockets: for each operation, one term per allow rule with the denies that outrank it carved out
 * (`(require-not (remote unix-socket (subpath D)))`), so the filter is exactly where sbc's precedence says
 * allow. Binding also creates the socket file, which the filesystem section grants or not
 * (`file-write-create`), as the policy's `create-special` says. macOS has no abstract names, and Seatbelt
 * checks nothing when a socket pair is created, so pairs need no rule.
 */
function lowerUnix(rules: readonly LoweredUnixRule[], writer: PathWriter, diagnostics: Diagnostic[]): { lines: string[]; connects: (canonical: string) => boolean } {
  const lines: string[] = [];
  const paramOrder = new Set<string>();
  const within = (inner: LoweredUnixRule, outer: LoweredUnixRule) => inner.path.root === outer.path.root && startsWith(inner.anchor, outer.anchor);
  const mayOverlap = (a: LoweredUnixRule, b: LoweredUnixRule) => a.path.root !== b.path.root || startsWith(a.anchor, b.anchor) || startsWith(b.anchor, a.anchor);
  const everything = (r: LoweredUnixRule) => r.path.root === null && r.anchor.length === 0;
  // Each allow is compared only with the denies that may overlap it (a subtree's region: see region-index.ts).
  const denyIndex = new RegionIndex<LoweredUnixRule>();
  for (const d of rules) if (d.rule.effect === "deny") denyIndex.add({ kind: "subtree", path: d.path, anchor: d.anchor }, d);
  for (const { op, operation, side } of UNIX_SIDES) {
    const address = (r: LoweredUnixRule) => (everything(r) ? `(${side} unix-socket)` : `(${side} unix-socket (subpath ${writer.expr(r.path)}))`);
    const terms: Term[] = [];
    const seen = new Set<string>();
    for (const a of rules) {
      if (a.rule.effect !== "allow" || !a.rule.ops.includes(op)) continue;
      const denies = denyIndex
        .candidates({ kind: "subtree", path: a.path, anchor: a.anchor })
        .sort((x, y) => x.index - y.index)
        .filter((d) => d.rule.ops.includes(op) && mayOverlap(a, d) && compareUnix(d, a) !== -1);
      // An allow wholly inside a deny that outranks it grants nothing.
      if (denies.some((d) => compareUnix(d, a) === 1 && within(a, d))) continue;
      for (const d of denies) {
        if (compareUnix(d, a) !== undefined || paramOrder.has(`${d.index}:${a.index}`)) continue;
        paramOrder.add(`${d.index}:${a.index}`);
        diagnostics.push(
          diag("sbplParamOrder", `whether unix deny \`${d.rule.path}\` or allow \`${a.rule.path}\` is more specific depends on the parameters' values; the profile lets the deny win`, {
            ...where(d.rule.span),
            labels: a.rule.span ? [{ span: a.rule.span, message: "the allow it is carved out of" } satisfies Label] : [],
            help: "bind the parameters (inline mode) for exact precedence",
          }),
        );
      }
      const carves = denies.sort((x, y) => x.index - y.index).map((d) => `(require-not ${address(d)})`);
      const text = carves.length ? `(require-all ${address(a)}\n${carves.map((c) => `  ${c}`).join("\n")})` : address(a);
      if (seen.has(text)) continue;
      seen.add(text);
      terms.push({ comment: commentText(`unix rule ${a.index}: allow ${a.rule.ops.join(",")} path \`${a.rule.path}\`${a.rule.reason ? ` — ${a.rule.reason}` : ""}`), text });
    }
    if (!terms.length) continue;
    if (terms.length === 1 && !terms[0]!.text.includes("\n")) lines.push(`; ${terms[0]!.comment}`, `(allow ${operation} ${terms[0]!.text})`);
    else lines.push(`(allow ${operation}\n${terms.map((t) => `  ; ${t.comment}\n${t.text.split("\n").map((l) => "  " + l).join("\n")}`).join("\n")})`);
  }
  if (lines.length) lines.unshift("; AF_UNIX sockets: creating them, and connecting and binding where the policy's unix rules allow", "(allow system-socket (socket-domain AF_UNIX))");
  /** Whether the profile lets a socket connect to `canonical` (literal rules only; a parameter's rules are not known). */
  const connects = (canonical: string): boolean => {
    const parts = components(canonical);
    let best: LoweredUnixRule | undefined;
    for (const r of rules) {
      if (r.path.root !== null || !r.rule.ops.includes("connect") || !startsWith(parts, r.anchor)) continue;
      if (!best || compareUnix(r, best) === 1) best = r;
    }
    return best?.rule.effect === "allow";
  };
  return { lines, connects };
}

