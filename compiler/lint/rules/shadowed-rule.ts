// Rule `shadowed-rule`: a rule of the checked file that never decides anything, because for every query it
// matches another rule always wins — by the evaluator's precedence, not by how rules look. Such a rule is
// either dead weight (an earlier rule already decides the same) or, worse, a rule its author believes in
// that the policy overrides (`allow sudo` under a base that forbids it). Each finding points at the rule
// and at the rules that hide it. Rules of extended files are not judged: overriding them is what a policy
// is for. The cases the compiler already warns about (SBC0603, SBC0605, SBC0808) are left to it.
//
// Precedence, per section (docs/language.md §8–§11):
// - filesystem: a rule is hidden for one access class by a rule on the same pattern in the same file that
//   denies it (when it allows) or that comes first with the same effect, by `glob: D/**` over `path: D`
//   (a glob beats a subtree at the same anchor depth, whatever the file), or, for a glob, by a glob
//   `<its literal prefix>/**` of the same file that denies it or comes first with the same effect;
// - network (IP rules): an allow is hidden where a deny matches (deny wins) or an earlier allow matches;
//   a deny where an earlier deny matches — checked per operation and protocol, for all its hosts and ports;
// - network (rules by domain): by an IP rule for `any` host (`network: on`) that allows (or denies) all of it,
//   or by a rule by domain without HTTP conditions whose patterns cover its patterns, as for IP rules;
// - unix socket paths: by a rule on the same path in the same file that denies it (when it allows), or that
//   comes first with the same effect;
// - syscalls: within the latest layer, by a rule of the same file that names the call with a subset of its
//   conditions and a stricter action, or an equally strict one written later;
// - commands: by a rule (any file) whose prefix matches every command line it matches, with a stricter
//   decision, or the same one earlier in merge order.

import type { Span } from "../../../diagnostics/source.js";
import { ACTION_STRICTNESS } from "../../../ir/evaluator/evaluate.js";
import type { ArgCondition, CommandRule, Decision, DomainRule, FsRule, IR, NetRule, SyscallRule } from "../../../ir/types.js";
import { domainMatches } from "../../../ir/hosts.js";
import type { Access } from "../../../ir/access.js";
import { cidrContains, LOOPBACK_CIDRS, parseCidr, type Cidr } from "../../../ir/values.js";
import { deadFsRules } from "../../passes/checks/dead-fs-rules.js";
import { shadowedDenyGlobs } from "../../passes/checks/shadowed-deny-globs.js";
import { unsatisfiableSyscallRules } from "../../passes/checks/unsatisfiable-syscall-rules.js";
import { formatTemplate, globLiteralDepth, parseTemplate } from "../../../ir/paths.js";
import { inCheckedFile } from "../report-site.js";
import type { LintContext, LintRule } from "../rule.js";

interface Hider {
  readonly span: Span | undefined;
  readonly why: string;
}

export const shadowedRule: LintRule = {
  id: "shadowed-rule",
  code: "shadowedRule",
  defaultSeverity: "warning",
  description: "A rule never decides anything: for every query it matches, other rules of the policy always win.",
  fixable: false,
  run(context) {
    const ir = context.ir;
    // What the compiler's checks report is theirs; they run only once a finding is at hand (most policies
    // have none, and the checks are not free on large ones).
    let flagged: Set<string> | undefined;
    const key = (span: Span) => `${span.source.path}\0${span.start}`;
    const reported = (span: Span) => {
      if (!flagged) {
        flagged = new Set();
        for (const d of [...deadFsRules(ir), ...shadowedDenyGlobs(ir), ...unsatisfiableSyscallRules(ir)]) if (d.span) flagged.add(key(d.span));
      }
      return flagged.has(key(span));
    };
    const checked: LintContext = { ...context, report: (f) => (f.span && reported(f.span) ? undefined : context.report(f)) };
    const own = (span: Span | undefined): span is Span => inCheckedFile(context, span);
    checkFilesystem(checked, own);
    checkNetwork(checked, own);
    checkDomains(checked, own);
    checkUnixPaths(checked, own);
    checkSyscalls(checked, own);
    checkCommands(checked, own);
  },
};

type Own = (span: Span | undefined) => span is Span;

/**
 * Network, syscall and command rules are compared pairwise; past this many rules in a section the section is
 * not judged, so a hostile file of 200,000 rules costs nothing here (docs/lint.md says so).
 */
export const MAX_PAIRWISE_RULES = 2000;

function report(context: LintContext, span: Span, message: string, hiders: readonly Hider[], help: string): void {
  const seen = new Set<string>();
  const labels = [];
  for (const h of hiders) {
    if (!h.span) continue;
    const k = `${h.span.source.path}\0${h.span.start}`;
    if (seen.has(k)) continue;
    seen.add(k);
    labels.push({ span: h.span, message: h.why });
  }
  labels.sort((a, b) => (a.span.source.path === b.span.source.path ? a.span.start - b.span.start : a.span.source.path < b.span.source.path ? -1 : 1));
  context.report({ message, span, labels, help });
}

// ---- filesystem ----------------------------------------------------------------------------------------

function literalPrefix(glob: string): string {
  const t = parseTemplate(glob);
  return formatTemplate({ param: t.param, components: t.components.slice(0, globLiteralDepth(t.components)) });
}

/**
 * The first rule (by index) for each (pattern, access) and each (pattern, layer, effect, access), so that a
 * rule's possible hiders are looked up, not searched for: linear in the rules, whatever their number.
 */
function firstRules(ir: IR): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const add = (k: string, j: number) => {
    const list = m.get(k);
    // Two are enough: the first, and another for when the first is the rule being judged.
    if (!list) m.set(k, [j]);
    else if (list.length < 2) list.push(j);
  };
  ir.filesystem.forEach((r, j) => {
    for (const a of r.access) {
      add(`${r.kind}\0${r.path}\0${a}`, j);
      add(`${r.kind}\0${r.path}\0${a}\0${r.layer}\0${r.effect}`, j);
    }
  });
  return m;
}

const under = (path: string) => `${path === "/" ? "" : path}/**`;

function fsHider(ir: IR, first: Map<string, number[]>, r: FsRule, i: number, access: Access): Hider | undefined {
  const rules = ir.filesystem;
  const pick = (k: string, ok: (j: number) => boolean) => (first.get(k) ?? []).find((j) => j !== i && ok(j));
  if (r.effect === "allow") {
    const j = pick(`${r.kind}\0${r.path}\0${access}\0${r.layer}\0deny`, () => true);
    if (j !== undefined) return { span: rules[j]!.span, why: "denies the same pattern in the same file; deny wins a tie" };
  }
  const dup = pick(`${r.kind}\0${r.path}\0${access}\0${r.layer}\0${r.effect}`, (j) => j < i);
  if (dup !== undefined) return { span: rules[dup]!.span, why: "the same pattern and effect, written first: it decides" };
  if (r.kind === "subtree") {
    const glob = under(r.path);
    const j = pick(`glob\0${glob}\0${access}`, () => true);
    if (j !== undefined) return { span: rules[j]!.span, why: `\`${glob}\` matches every path beneath \`${r.path}\`, and a glob beats a \`path:\` rule at the same depth` };
  }
  if (r.kind === "glob") {
    const glob = under(literalPrefix(r.path));
    if (glob === r.path) return undefined;
    if (r.effect === "allow") {
      const j = pick(`glob\0${glob}\0${access}\0${r.layer}\0deny`, () => true);
      if (j !== undefined) return { span: rules[j]!.span, why: "matches every path this glob matches, at the same rank; deny wins a tie" };
    }
    const j = pick(`glob\0${glob}\0${access}\0${r.layer}\0${r.effect}`, (j) => j < i);
    if (j !== undefined) return { span: rules[j]!.span, why: "matches every path this glob matches, at the same rank, and is written first" };
  }
  return undefined;
}

function checkFilesystem(context: LintContext, own: Own): void {
  const ir = context.ir;
  const first = firstRules(ir);
  ir.filesystem.forEach((r, i) => {
    if (r.protects !== undefined || !own(r.span)) return;
    const hiders: Hider[] = [];
    for (const a of r.access) {
      const h = fsHider(ir, first, r, i, a);
      if (!h) return;
      hiders.push(h);
    }
    report(context, r.span, `this rule on \`${r.path}\` never decides anything: for every access it lists, another rule takes precedence`, hiders, "remove it, or change the rules that outrank it");
  });
}

// ---- network -------------------------------------------------------------------------------------------

function cidrs(list: readonly string[]): Cidr[] {
  return list.flatMap((h) => {
    const c = parseCidr(h);
    return c.ok ? [c.value] : [];
  });
}

const inside = (inner: Cidr, outer: Cidr) => inner.family === outer.family && outer.prefix <= inner.prefix && cidrContains(outer, { family: inner.family, bits: inner.bits });

const EVERYWHERE = cidrs(["0.0.0.0/0", "::/0"]);

/** A rule's hosts as blocks (`any` as the two whole families); parsed once per rule. */
function blocksOf(hosts: NetRule["hosts"]): readonly Cidr[] {
  return hosts === "any" ? EVERYWHERE : hosts === "loopback" ? LOOPBACK_CIDRS : cidrs(hosts);
}

function hostsCover(outer: readonly Cidr[], inner: readonly Cidr[]): boolean {
  return inner.every((c) => outer.some((o) => inside(c, o)));
}

const portsCover = (h: { readonly ports: NetRule["ports"] }, r: { readonly ports: NetRule["ports"] }) => r.ports.every(([lo, hi]) => h.ports.some(([a, b]) => a <= lo && hi <= b));

function checkNetwork(context: LintContext, own: Own): void {
  const rules = context.ir.network.rules;
  if (rules.length > MAX_PAIRWISE_RULES) return;
  const blocks = rules.map((r) => blocksOf(r.hosts));
  rules.forEach((r, i) => {
    if (!own(r.span)) return;
    const hiders: Hider[] = [];
    for (const op of r.ops) {
      for (const protocol of r.protocols) {
        const h = rules.find(
          (h, j) =>
            j !== i &&
            h.ops.includes(op) &&
            h.protocols.includes(protocol) &&
            hostsCover(blocks[j]!, blocks[i]!) &&
            portsCover(h, r) &&
            ((r.effect === "allow" && h.effect === "deny") || (h.effect === r.effect && j < i)),
        );
        if (!h) return;
        hiders.push({ span: h.span, why: h.effect !== r.effect ? "denies all of it; a deny wins over any allow" : `${h.effect === "allow" ? "allows" : "denies"} all of it already, and comes first` });
      }
    }
    const what = r.effect === "allow" ? "allows nothing that another rule does not already decide" : "denies nothing that an earlier rule does not already deny";
    report(context, r.span, `this network rule ${what}`, hiders, "remove it; to re-open what a base denies, start the network section over with `mode:`");
  });
}

/** Does every name pattern `q` matches also match pattern `p`? (Both normalized: `a.b`, `*.b`, `**.b`.) */
function patternCovers(p: string, q: string): boolean {
  if (p === q) return true;
  const wild = /^\*\*?\./.exec(q)?.[0] ?? "";
  const base = q.slice(wild.length);
  if (p.startsWith("**.")) {
    const suffix = p.slice(3);
    return base === suffix ? wild !== "" : base.endsWith(`.${suffix}`);
  }
  return wild === "" && domainMatches(p, q);
}

/**
 * Rules by domain: hidden where an IP rule for any host decides every name the same way or the other way
 * (deny wins; an allow for any host makes an allow by domain redundant whatever the order), or where another
 * rule by domain covers it as IP rules cover each other.
 */
function checkDomains(context: LintContext, own: Own): void {
  const rules = context.ir.network.domains ?? [];
  const ip = context.ir.network.rules;
  if (rules.length + ip.length > MAX_PAIRWISE_RULES) return;
  const wins = (r: DomainRule, h: { effect: string }, earlier: boolean) => (r.effect === "allow" && h.effect === "deny") || (h.effect === r.effect && earlier);
  rules.forEach((r, i) => {
    if (!own(r.span)) return;
    const hiders: Hider[] = [];
    for (const protocol of r.protocols) {
      const byIp = ip.find((h) => h.hosts === "any" && h.ops.includes("connect") && h.protocols.includes(protocol) && portsCover(h, r) && wins(r, h, true));
      const byName = byIp
        ? undefined
        : // A rule with HTTP conditions decides only some requests (and every tunnel one way): it hides nothing.
          rules.find((h, j) => j !== i && !h.http && h.protocols.includes(protocol) && portsCover(h, r) && r.domains.every((q) => h.domains.some((p) => patternCovers(p, q))) && wins(r, h, j < i));
      const h = byIp ?? byName;
      if (!h) return;
      const why =
        h.effect !== r.effect ? "denies all of it; a deny wins over any allow" : byIp ? "allows every host on these ports already" : `${h.effect === "allow" ? "allows" : "denies"} all of it already, and comes first`;
      hiders.push({ span: h.span, why });
    }
    const what = r.effect === "allow" ? "allows nothing that another rule does not already decide" : "denies nothing that an earlier rule does not already deny";
    report(context, r.span!, `this network rule by domain ${what}`, hiders, "remove it; to re-open what a base denies, start the network section over with `mode:`");
  });
}

// ---- unix socket paths ----------------------------------------------------------------------------------

/** Unix path rules rank like filesystem subtrees (depth, layer, deny, then the first): only the same path in the same file can hide one. */
function checkUnixPaths(context: LintContext, own: Own): void {
  const rules = context.ir.network.unix.paths;
  const first = new Map<string, number[]>();
  rules.forEach((r, j) => {
    for (const op of r.ops) {
      const k = `${r.path}\0${r.layer}\0${r.effect}\0${op}`;
      const list = first.get(k);
      if (!list) first.set(k, [j]);
      else if (list.length < 2) list.push(j);
    }
  });
  rules.forEach((r, i) => {
    if (!own(r.span)) return;
    const hiders: Hider[] = [];
    for (const op of r.ops) {
      const deny = r.effect === "allow" ? first.get(`${r.path}\0${r.layer}\0deny\0${op}`)?.[0] : undefined;
      const dup = first.get(`${r.path}\0${r.layer}\0${r.effect}\0${op}`)?.find((j) => j < i);
      const j = deny ?? dup;
      if (j === undefined) return;
      hiders.push({ span: rules[j]!.span, why: j === deny ? "denies the same socket path in the same file; deny wins a tie" : "the same socket path and effect, written first: it decides" });
    }
    report(context, r.span, `this unix socket rule on \`${r.path}\` never decides anything: another rule on the same path takes precedence`, hiders, "remove it, or change the rule on the same path");
  });
}

// ---- syscalls ------------------------------------------------------------------------------------------

const sameCondition = (a: ArgCondition, b: ArgCondition) => a.arg === b.arg && a.op === b.op && BigInt(a.value) === BigInt(b.value) && (a.mask === undefined ? b.mask === undefined : b.mask !== undefined && BigInt(a.mask) === BigInt(b.mask));

function checkSyscalls(context: LintContext, own: Own): void {
  const rules = context.ir.syscalls.rules;
  if (rules.length > MAX_PAIRWISE_RULES) return;
  rules.forEach((r, i) => {
    if (!own(r.span) || !r.syscalls.length || r.syscalls.some((s) => s.includes(":"))) return;
    const strict = ACTION_STRICTNESS[r.action.type];
    const hiders: Hider[] = [];
    for (const s of r.syscalls) {
      const h = rules.find((h: SyscallRule, j) => {
        if (j === i || h.layer !== r.layer || !h.syscalls.includes(s)) return false;
        if (!h.conditions.every((c) => r.conditions.some((d) => sameCondition(c, d)))) return false;
        const hs = ACTION_STRICTNESS[h.action.type];
        return hs > strict || (hs === strict && j > i);
      });
      if (!h) return;
      hiders.push({ span: h.span, why: ACTION_STRICTNESS[h.action.type] > strict ? `matches \`${s}\` too, with a stricter action: the strictest wins` : `matches \`${s}\` too, as strict and written later: it wins` });
    }
    report(context, r.span, `this syscall rule never decides anything: every call it matches is decided by another rule of this file`, hiders, "within one file the strictest matching action wins, not the most specific rule; narrow the other rule with `args:`, or move this one to a policy that extends this file");
  });
}

// ---- commands ------------------------------------------------------------------------------------------

const DECISION_STRICTNESS: Readonly<Record<Decision, number>> = { allow: 0, prompt: 1, forbidden: 2 };
/** Above this many concrete command lines, a rule is only checked against single rules covering all of it. */
const MAX_EXPANSION = 64;

const prefixCovers = (h: CommandRule, argv: readonly (readonly string[])[]) => h.prefix.length <= argv.length && h.prefix.every((alts, k) => argv[k]!.every((w) => alts.includes(w)));

function checkCommands(context: LintContext, own: Own): void {
  const rules = context.ir.commands.rules;
  if (rules.length > MAX_PAIRWISE_RULES) return;
  rules.forEach((r, i) => {
    if (!own(r.span)) return;
    const strict = DECISION_STRICTNESS[r.decision];
    const wins = (h: CommandRule, j: number) => j !== i && (DECISION_STRICTNESS[h.decision] > strict || (h.decision === r.decision && j < i));
    // Each concrete prefix (one word per position) must be matched by a rule that wins over this one.
    const size = r.prefix.reduce((n, alts) => n * alts.length, 1);
    const lines: (readonly (readonly string[])[])[] = size <= MAX_EXPANSION ? expand(r.prefix) : [r.prefix];
    const hiders: Hider[] = [];
    for (const line of lines) {
      const j = rules.findIndex((h, j) => wins(h, j) && prefixCovers(h, line));
      if (j < 0) return;
      const h = rules[j]!;
      hiders.push({ span: h.span, why: h.decision !== r.decision ? `matches \`${line.map((w) => w[0]).join(" ")}\` too and is stricter (${h.decision}): the strictest decision wins` : `matches \`${line.map((w) => w[0]).join(" ")}\` too with the same decision, earlier` });
    }
    report(context, r.span, `this command rule never decides anything: every command line it matches is decided by another rule`, hiders, "every matching command rule counts and the strictest wins, whatever file it is in: a policy cannot relax what it extends");
  });
}

function expand(prefix: readonly (readonly string[])[]): (readonly (readonly string[])[])[] {
  let out: (readonly string[])[][] = [[]];
  for (const alts of prefix) out = out.flatMap((p) => alts.map((w) => [...p, [w]]));
  return out;
}
