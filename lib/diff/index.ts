// The semantic difference between two policies (`sbc diff`): both IRs are asked the same questions
// (probes.ts) with the reference evaluator, and every answer that changes is grouped by the pair of rules
// that decided it, so that one edited rule is one change, read like a review comment. Pure: IRs in, data out.

import type { Span } from "../../diagnostics/source.js";
import {
  ACTION_STRICTNESS,
  evaluateCommand,
  evaluateFsNormalized,
  evaluateName,
  evaluateNetwork,
  evaluateSyscall,
  evaluateSyscallEverywhere,
  evaluateUnix,
  formatAction,
  type SyscallVerdict,
  type UnixVerdict,
} from "../../ir/evaluator/evaluate.js";
import { bindIr } from "../../ir/bind.js";
import type { Action, Decision, IR, NetOp, Protocol } from "../../ir/types.js";
import { ACCESS_CLASSES, ACCESS_GROUPS, type Access } from "../../ir/access.js";
import { TEST_PARAM_VALUES } from "../../compiler/passes/run-tests.js";
import { formatNumberedEntry } from "../../ir/evaluator/syscall-numbers.js";
import { nameList } from "../../compiler/lint/probe.js";
import { commandProbes, fsProbes, httpProbes, nameProbes, netProbes, probeBindings, syscallProbes, unixPathProbes } from "./probes.js";

export type Direction = "widened" | "narrowed" | "changed";
export type Section = "filesystem" | "network" | "unix" | "syscalls" | "commands";

/** What decided one side of a change: a rule (with where it is written), or a default or setting. */
export interface Decider {
  readonly kind: "rule" | "default" | "setting" | "implied" | "newer";
  /** The rule's text as written (whitespace collapsed), or what decided in words (`no rule (default deny)`). */
  readonly text: string;
  /** Where the rule (or the setting's section) is written, when known. */
  readonly span?: Span;
}

/** One question whose answer changed. */
export interface ProbeChange {
  /** `write ${home}/.ssh`, `connect tcp 192.0.2.1:443`, `syscall ptrace`, `command git push`. */
  readonly query: string;
  readonly old: string;
  readonly new: string;
}

export interface PolicyChange {
  readonly direction: Direction;
  readonly section: Section;
  /** One line: what changed, and how (`write, create-file at \`${home}/.ssh\` and beneath: deny → allow`). */
  readonly summary: string;
  readonly old: Decider;
  readonly new: Decider;
  /** Every question of this change, in probe order. */
  readonly probes: readonly ProbeChange[];
}

export interface PolicyDiff {
  /** Widened first, then narrowed, then changed; within each, by section, then by first probe. */
  readonly changes: readonly PolicyChange[];
  readonly counts: Readonly<Record<Direction, number>>;
  /** How many questions were asked of each policy. */
  readonly probes: number;
}

export interface DiffOptions {
  /** Values for parameters neither policy has bound (default: the stand-ins policy tests use). */
  readonly standIns?: Readonly<Record<string, string>>;
}

const SECTION_ORDER: readonly Section[] = ["filesystem", "network", "unix", "syscalls", "commands"];
const DIRECTION_ORDER: readonly Direction[] = ["widened", "narrowed", "changed"];

/**
 * A rule's text as written, on one line, shortened for a report. Its `reason` is left out: it is the
 * author's note, not what the rule does (a YAML `reason:` line with what continues it, a flow mapping's
 * `reason:` entry, a DSL rule's trailing `reason "…"`).
 */
export function ruleText(span: Span): string {
  const lines = span.source.text.slice(span.start, span.end).split(/\r?\n/);
  const indentOf = (line: string) => line.length - line.trimStart().length;
  // The span starts at the rule's first key, so its first line shows no indentation: the mapping's keys sit
  // at the indentation of the lines after it.
  const rest = lines.slice(1).filter((l) => l.trim() !== "");
  const keyIndent = rest.length ? Math.min(...rest.map(indentOf)) : 0;
  const kept: string[] = [];
  let dropping = false;
  lines.forEach((line, i) => {
    const indent = i === 0 ? keyIndent : indentOf(line);
    if (dropping && (line.trim() === "" || indent > keyIndent)) return;
    dropping = indent === keyIndent && /^\s*(-\s+)?["']?reason["']?\s*:/.test(line);
    if (!dropping) kept.push(line);
  });
  const t = kept
    .join(" ")
    .replace(/^\s*-(\s+|$)/, "")
    .replace(/,\s*["']?reason["']?\s*:\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^,}]*)/, "")
    .replace(/\s+reason\s+"(?:[^"\\]|\\.)*"\s*$/, "")
    .replace(/\s+/g, " ")
    .trim();
  return t.length > 100 ? t.slice(0, 99) + "…" : t;
}

function ruleDecider(rule: { span?: Span; reason?: string } | null, fallback: string, fallbackSpan?: Span, extra = ""): Decider {
  if (rule?.span) return { kind: "rule", text: ruleText(rule.span) + extra, span: rule.span };
  if (rule) return { kind: "rule", text: `a rule without a source location${extra}` };
  return { kind: "default", text: fallback, ...(fallbackSpan ? { span: fallbackSpan } : {}) };
}

/** Identity of a decider within one policy, for grouping (two rules with the same text stay apart). */
function deciderKey(d: Decider): string {
  return `${d.kind}\0${d.text}\0${d.span ? `${d.span.source.path}:${d.span.start}` : ""}`;
}

interface Raw {
  readonly direction: Direction;
  readonly section: Section;
  readonly old: Decider;
  readonly new: Decider;
  readonly probe: ProbeChange;
  /** What the change's summary is built from (path, access; call; endpoint). */
  readonly subject: string;
  readonly verb?: string;
}

function compareStrictness(oldRank: number, newRank: number, same: boolean): Direction | undefined {
  if (newRank < oldRank) return "widened";
  if (newRank > oldRank) return "narrowed";
  return same ? undefined : "changed";
}

/** Bind an IR for probing; a binding that fails (it cannot, for absolute stand-ins) is an internal error. */
function bindForDiff(ir: IR, bindings: Record<string, string>): IR {
  const own: Record<string, string> = {};
  for (const p of ir.params) if (p.value === null) own[p.name] = bindings[p.name]!;
  const b = bindIr(ir, own);
  if (!b.ir) throw new Error(`cannot bind the policy for diffing: ${b.diagnostics[0]?.message ?? "unknown"}`);
  return b.ir;
}

/**
 * The semantic difference between `oldIr` and `newIr` (as compilePolicy returns them: parameters may be
 * symbolic; both get the same values, see probeBindings).
 */
export function diffPolicies(oldIr: IR, newIr: IR, options: DiffOptions = {}): PolicyDiff {
  const all = probePolicies(oldIr, newIr, options);
  const raws: Raw[] = [];
  for (const r of all) {
    const direction = directionOf(r.old, r.new);
    if (direction) raws.push({ direction, section: r.section, old: r.old.decider, new: r.new.decider, probe: { query: r.query, old: r.old.answer, new: r.new.answer }, subject: r.subject, ...(r.verb ? { verb: r.verb } : {}) });
  }
  const changes = group(raws);
  const counts = { widened: 0, narrowed: 0, changed: 0 };
  for (const c of changes) counts[c.direction]++;
  return { changes, counts, probes: all.length };
}

/** One policy's answer to one probe. */
export interface ProbeAnswer {
  /** `allow`, `deny`, `errno(EPERM)`, `prompt` … */
  readonly answer: string;
  /** Strictness: higher denies more (ACTION_STRICTNESS for syscalls; deny 1, allow 0 elsewhere). */
  readonly rank: number;
  readonly decider: Decider;
  /** For syscall probes: the action itself. */
  readonly action?: Action;
}

/** The question a probe asks, in the shape of a policy test (what target models answer), without `expect`. */
export type ProbeQuery =
  | { readonly kind: "fs"; readonly access: Access; readonly path: string }
  | { readonly kind: "net"; readonly op: NetOp; readonly protocol: Protocol; readonly host: string; readonly port: number }
  | { readonly kind: "name"; readonly protocol: Protocol; readonly name: string; readonly port: number; readonly http?: { readonly method: string; readonly path: string } }
  | { readonly kind: "unix"; readonly op: "socketpair" }
  | { readonly kind: "unix"; readonly op: NetOp; readonly path: string }
  | { readonly kind: "unix"; readonly op: "connect"; readonly abstract: string }
  | { readonly kind: "syscall"; readonly syscall: string; readonly args: readonly bigint[] }
  | { readonly kind: "command"; readonly argv: readonly string[] };

/** A probe and both policies' answers. */
export interface ProbeResult {
  readonly section: Section;
  readonly query: string;
  /** What the change's summary is built from (path; call; endpoint). */
  readonly subject: string;
  /** The access class, for filesystem probes. */
  readonly verb?: Access;
  readonly ask: ProbeQuery;
  readonly old: ProbeAnswer;
  readonly new: ProbeAnswer;
}

/** Widened, narrowed, changed (same strictness, another answer), or undefined for the same answer. */
export function directionOf(a: { rank: number; answer: string }, b: { rank: number; answer: string }): Direction | undefined {
  return compareStrictness(a.rank, b.rank, a.answer === b.answer);
}

const effectRank = (e: string) => (e === "deny" ? 1 : 0);

/** Every probe with both answers, in probe order (diffPolicies keeps the ones that differ). */
export function probePolicies(oldIr: IR, newIr: IR, options: DiffOptions = {}): ProbeResult[] {
  const bindings = probeBindings([oldIr, newIr], options.standIns ?? TEST_PARAM_VALUES);
  const a = bindForDiff(oldIr, bindings);
  const b = bindForDiff(newIr, bindings);
  const out: ProbeResult[] = [];

  // ---- filesystem
  for (const p of fsProbes([oldIr, newIr], bindings)) {
    for (const access of ACCESS_CLASSES) {
      const side = (ir: IR): ProbeAnswer => {
        const v = evaluateFsNormalized(ir, access, p.path);
        return { answer: v.decision, rank: effectRank(v.decision), decider: fsDecider(v.rule) };
      };
      out.push({ section: "filesystem", query: `${access} ${p.shown}`, subject: p.shown, verb: access, ask: { kind: "fs", access, path: p.path }, old: side(a), new: side(b) });
    }
  }

  // ---- network
  const endpoints = netProbes([oldIr, newIr]);
  for (const op of ["connect", "bind"] as NetOp[])
    for (const protocol of ["tcp", "udp"] as Protocol[])
      for (const [host, port] of endpoints) {
        const q = { op, protocol, host, port };
        const side = (ir: IR): ProbeAnswer => {
          const v = evaluateNetwork(ir, q);
          return { answer: v.decision, rank: effectRank(v.decision), decider: ruleDecider(v.rule, "no rule (default deny)") };
        };
        const endpoint = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
        const subject = `${op} ${protocol} ${endpoint}`;
        out.push({ section: "network", query: subject, subject, ask: { kind: "net", ...q }, old: side(a), new: side(b) });
      }

  // ---- network by name (rules by domain; the IP rules for any host)
  for (const [name, port] of nameProbes([oldIr, newIr]))
    for (const protocol of ["tcp", "udp"] as Protocol[]) {
      const side = (ir: IR): ProbeAnswer => {
        const v = evaluateName(ir, { name, port, protocol });
        return { answer: v.decision, rank: effectRank(v.decision), decider: ruleDecider(v.rule, "no rule (default deny)") };
      };
      const subject = `connect ${protocol} ${name}:${port}`;
      out.push({ section: "network", query: subject, subject, ask: { kind: "name", protocol, name, port }, old: side(a), new: side(b) });
    }
  // Plain-HTTP requests, where a rule has method/path conditions (they never answer the questions above).
  const requests = httpProbes([oldIr, newIr]);
  if (requests.length)
    for (const [name, port] of nameProbes([oldIr, newIr]).slice(0, 64))
      for (const http of requests) {
        const side = (ir: IR): ProbeAnswer => {
          const v = evaluateName(ir, { name, port, protocol: "tcp", http });
          return { answer: v.decision, rank: effectRank(v.decision), decider: ruleDecider(v.rule, "no rule (default deny)") };
        };
        const subject = `${http.method} http://${name}:${port}${http.path}`;
        out.push({ section: "network", query: subject, subject, ask: { kind: "name", protocol: "tcp", name, port, http }, old: side(a), new: side(b) });
      }

  // ---- unix sockets
  const unixQueries: { query: string; q: Parameters<typeof evaluateUnix>[1] }[] = [
    { query: "unix socketpair", q: { op: "socketpair" } },
    { query: "unix connect to an abstract name", q: { op: "connect", abstract: "sbc-diff-probe" } },
  ];
  for (const p of unixPathProbes([oldIr, newIr], bindings)) for (const op of ["connect", "bind"] as NetOp[]) unixQueries.push({ query: `unix ${op} ${p.shown}`, q: { op, path: p.path } });
  for (const { query, q } of unixQueries) {
    const side = (ir: IR): ProbeAnswer => {
      const v = evaluateUnix(ir, q);
      return { answer: v.decision, rank: effectRank(v.decision), decider: unixDecider(ir, v) };
    };
    out.push({ section: "unix", query, subject: query.replace(/^unix /, ""), ask: { kind: "unix", ...q } as ProbeQuery, old: side(a), new: side(b) });
  }

  // ---- syscalls
  const sysSide = (ir: IR, v: SyscallVerdict): ProbeAnswer => ({ answer: formatAction(v.action), rank: ACTION_STRICTNESS[v.action.type], decider: syscallDecider(ir, v), action: v.action });
  for (const p of syscallProbes([oldIr, newIr])) {
    const call = `${p.syscall}${p.args.length ? `(${p.args.map(showArg).join(", ")})` : ""}`;
    const va = evaluateSyscall(a, p.syscall, p.args);
    const vb = evaluateSyscall(b, p.syscall, p.args);
    if (va.byArch || vb.byArch) {
      // The arches answer differently in one of the policies: each arch is a probe of its own.
      const ea = evaluateSyscallEverywhere(a, p.syscall, p.args);
      const eb = evaluateSyscallEverywhere(b, p.syscall, p.args);
      ea.forEach((x, i) => {
        const subject = `${call} on ${x.arch}`;
        out.push({ section: "syscalls", query: `syscall ${subject}`, subject, ask: { kind: "syscall", syscall: formatNumberedEntry(x.arch, x.nr), args: p.args }, old: sysSide(a, x.verdict), new: sysSide(b, eb[i]!.verdict) });
      });
    } else out.push({ section: "syscalls", query: `syscall ${call}`, subject: call, ask: { kind: "syscall", syscall: p.syscall, args: p.args }, old: sysSide(a, va), new: sysSide(b, vb) });
  }

  // ---- commands
  const rank: Readonly<Record<Decision, number>> = { allow: 0, prompt: 1, forbidden: 2 };
  for (const argv of commandProbes([oldIr, newIr])) {
    const side = (ir: IR): ProbeAnswer => {
      const v = evaluateCommand(ir, argv);
      return { answer: v.decision, rank: rank[v.decision], decider: ruleDecider(v.rule, `no rule (default ${ir.commands.defaultDecision})`) };
    };
    const shown = argv[0] === "sbc-diff-unlisted-command" ? "a command no rule names" : argv.join(" ");
    out.push({ section: "commands", query: `command ${shown}`, subject: shown, ask: { kind: "command", argv }, old: side(a), new: side(b) });
  }
  return out;
}

function showArg(v: bigint): string {
  return v < 0x10000n ? v.toString() : `0x${v.toString(16)}`;
}

function fsDecider(rule: { span?: Span; protects?: string } | null): Decider {
  return ruleDecider(rule, "no rule (default deny)", undefined, rule?.protects ? ` (protects \`${rule.protects}\`)` : "");
}

function unixDecider(ir: IR, v: UnixVerdict): Decider {
  const by = v.by;
  if (by.kind === "path-rule") return ruleDecider(by.rule, "no unix path rule (default deny)");
  if (by.kind === "filesystem") return fsDecider(by.rule);
  return { kind: "setting", text: `unix \`${by.kind}: ${v.decision}\``, ...(ir.network.unix.span ? { span: ir.network.unix.span } : {}) };
}

function syscallDecider(ir: IR, v: SyscallVerdict): Decider {
  if (v.rule) return ruleDecider(v.rule, "");
  if (v.implied) return { kind: "implied", text: `implied by the network section: ${v.implied.reason}`, ...(ir.network.span ? { span: ir.network.span } : {}) };
  if (v.newer) return { kind: "newer", text: `\`syscalls.newer: ${formatAction(v.action)}\``, ...(ir.syscalls.span ? { span: ir.syscalls.span } : {}) };
  return { kind: "default", text: `no rule (default ${formatAction(ir.syscalls.defaultAction)})`, ...(ir.syscalls.span ? { span: ir.syscalls.span } : {}) };
}

/** Group the changed answers by direction, section, deciding rule pair and the answers themselves. */
function group(raws: readonly Raw[]): PolicyChange[] {
  const groups = new Map<string, { first: number; items: Raw[] }>();
  raws.forEach((r, i) => {
    const key = [r.direction, r.section, deciderKey(r.old), deciderKey(r.new), r.probe.old, r.probe.new].join("\u0001");
    const g = groups.get(key);
    if (g) g.items.push(r);
    else groups.set(key, { first: i, items: [r] });
  });
  const out = [...groups.values()].sort(
    (x, y) =>
      DIRECTION_ORDER.indexOf(x.items[0]!.direction) - DIRECTION_ORDER.indexOf(y.items[0]!.direction) ||
      SECTION_ORDER.indexOf(x.items[0]!.section) - SECTION_ORDER.indexOf(y.items[0]!.section) ||
      x.first - y.first,
  );
  return out.map(({ items }) => {
    const r = items[0]!;
    return { direction: r.direction, section: r.section, summary: summarize(items), old: r.old, new: r.new, probes: items.map((i) => i.probe) };
  });
}

/** Access classes as the language groups them (`modify, ioctl` rather than ten names), largest group first. */
function accessWords(accesses: readonly Access[]): string {
  const left = new Set(accesses);
  const words: string[] = [];
  for (const g of ["read-write", "modify", "read-only", "create", "delete"]) {
    const members = ACCESS_GROUPS[g]!;
    if (members.every((m) => left.has(m))) {
      words.push(g);
      for (const m of members) left.delete(m);
    }
  }
  return [...words, ...ACCESS_CLASSES.filter((c) => left.has(c))].join(", ");
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function summarize(items: readonly Raw[]): string {
  const r = items[0]!;
  const how = `${r.probe.old} → ${r.probe.new}`;
  if (r.section === "filesystem") {
    const verbs = accessWords(unique(items.map((i) => i.verb as Access)));
    // `X` and `X/…` together read "`X` and beneath".
    const paths = unique(items.map((i) => i.subject));
    const child = (p: string) => `${p === "/" ? "" : p}/…`;
    const tops = paths.filter((p) => !(p.endsWith("/…") && paths.includes(p.slice(0, -2) || "/")));
    const withChild = tops.filter((p) => paths.includes(child(p))).length;
    const list = nameList(tops);
    const beneath = !withChild ? "" : tops.length === 1 ? " and beneath" : withChild === tops.length ? " (and beneath each)" : " (and beneath some)";
    return `${verbs} at ${list}${beneath}: ${how}`;
  }
  return `${nameList(unique(items.map((i) => i.subject)))}: ${how}`;
}


