// How a policy diff is shown: plain text for a terminal, Markdown for a pull-request comment, JSON for tools.
// (SARIF goes through the diagnostics' own writer: a widening is a diagnostic at the new policy's rule.)
// Pure: a diff in, a string out; the same diff always gives the same bytes.

import type { Span } from "../../diagnostics/source.js";
import type { Decider, Direction, PolicyChange, PolicyDiff } from "./index.js";
import type { TargetChange } from "./targets.js";

export interface DiffNames {
  /** How the two policies are named in the report (`policy.yaml`, `git:HEAD~1:policy.yaml`). */
  readonly old: string;
  readonly new: string;
}

/** `file:line` of a span. */
export function spanLine(span: Span): string {
  return `${span.source.path}:${span.source.position(span.start).line}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

const HEADINGS: Readonly<Record<Direction, string>> = { widened: "Widened", narrowed: "Narrowed", changed: "Changed (neither wider nor narrower)" };

/** The one-line tally: `1 widening, 2 narrowings` (and other changes when there are any). */
export function tally(diff: PolicyDiff): string {
  const c = diff.counts;
  if (!diff.changes.length) return "no change";
  const parts = [plural(c.widened, "widening"), plural(c.narrowed, "narrowing")];
  if (c.changed) parts.push(plural(c.changed, "other change"));
  return parts.join(", ");
}

function deciderPlain(d: Decider): string {
  if (d.kind === "rule" && d.span) return `${spanLine(d.span)}: ${d.text}`;
  return d.text;
}

export interface HumanStyle {
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
}

const PLAIN: HumanStyle = { red: (s) => s, green: (s) => s, yellow: (s) => s, bold: (s) => s, dim: (s) => s };

/** For a terminal: one block per change, the deciding rule on each side. */
export function renderDiffHuman(diff: PolicyDiff, names: DiffNames, style: HumanStyle = PLAIN, targets?: readonly TargetChange[]): string {
  const out: string[] = [];
  const colour = { widened: style.red, narrowed: style.green, changed: style.yellow, unchanged: style.dim };
  if (!diff.changes.length) out.push(`no change: ${names.old} and ${names.new} decide every probed access the same way`);
  for (const c of diff.changes) {
    out.push(`${colour[c.direction](style.bold(c.direction))} ${c.section}: ${c.summary}`);
    out.push(`  ${style.dim("old:")} ${deciderPlain(c.old)}`);
    out.push(`  ${style.dim("new:")} ${deciderPlain(c.new)}`);
    out.push("");
  }
  for (const t of targets ?? []) {
    out.push(`${colour[t.direction](style.bold(t.direction))} on ${t.where}, ${t.irDirection} on the IR: ${t.section}: ${t.summary}`);
    out.push(`  ${style.dim("old:")} ${deciderPlain(t.old)}`);
    out.push(`  ${style.dim("new:")} ${deciderPlain(t.new)}`);
    out.push("");
  }
  if (diff.changes.length || targets?.length) out.push(`${names.old} → ${names.new}: ${tally(diff)}${targets ? `; ${plural(targets.length, "target difference")}` : ""}`);
  return out.join("\n") + "\n";
}

/** Inline code that survives any text: a fence longer than the longest run of backticks inside. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Markdown-escape text outside code spans (summaries keep their own backticked names). */
function escapeMd(text: string): string {
  return text.replace(/([\\*_<>|[\]])/g, "\\$1");
}

function deciderMd(d: Decider): string {
  if (d.kind === "rule" && d.span) return `${code(d.text)} (${code(spanLine(d.span))})`;
  return escapeMd(d.text);
}

/**
 * For a pull-request comment: a heading, the tally, and a list per direction; each change with its rule on
 * each side, and the questions that changed folded away in a `<details>` block.
 */
export function renderDiffMarkdown(diff: PolicyDiff, names: DiffNames, targets?: readonly TargetChange[]): string {
  const out: string[] = [`### sbc diff: ${code(names.old)} → ${code(names.new)}`, ""];
  if (!diff.changes.length) out.push("No change: both policies decide every probed access the same way.");
  else out.push(`**${tally(diff)}**`);
  for (const direction of ["widened", "narrowed", "changed"] as const) {
    const list = diff.changes.filter((c) => c.direction === direction);
    if (!list.length) continue;
    out.push("", `#### ${HEADINGS[direction]} (${list.length})`, "");
    for (const c of list) out.push(...changeMd(c));
  }
  if (targets?.length) {
    out.push("", `#### Where a target differs from the IR (${targets.length})`, "");
    for (const t of targets) out.push(...changeMd(t, `${t.direction} on ${escapeMd(t.where)} (the IR: ${t.irDirection})`));
  }
  return out.join("\n") + "\n";
}

function changeMd(c: PolicyChange | TargetChange, prefix?: string): string[] {
  const lines = [
    `- ${prefix ? `${prefix}, ` : ""}**${c.section}**: ${escapeSummary(c.summary)}`,
    `  - old: ${deciderMd(c.old)}`,
    `  - new: ${deciderMd(c.new)}`,
  ];
  if (c.probes.length > 1) {
    lines.push(`  - <details><summary>${plural(c.probes.length, "question")}</summary>`, "");
    for (const p of c.probes.slice(0, 50)) lines.push(`    - ${code(p.query)}: ${escapeMd(p.old)} → ${escapeMd(p.new)}`);
    if (c.probes.length > 50) lines.push(`    - and ${c.probes.length - 50} more`);
    lines.push("", "    </details>");
  }
  return lines;
}

/** A summary's backticked names stay code; the rest is escaped. */
function escapeSummary(summary: string): string {
  return summary
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 ? code(part.slice(1, -1)) : escapeMd(part)))
    .join("");
}

export interface DiffJson {
  readonly old: string;
  readonly new: string;
  readonly counts: Readonly<Record<Direction, number>>;
  readonly probes: number;
  /** With `--target`: where a target's answer differs from the IR's. */
  readonly targets?: readonly {
    readonly where: string;
    readonly direction: string;
    readonly irDirection: string;
    readonly section: string;
    readonly summary: string;
    readonly old: DeciderJson;
    readonly new: DeciderJson;
    readonly probes: readonly { readonly query: string; readonly old: string; readonly new: string }[];
  }[];
  readonly changes: readonly {
    readonly direction: Direction;
    readonly section: string;
    readonly summary: string;
    readonly old: DeciderJson;
    readonly new: DeciderJson;
    readonly probes: readonly { readonly query: string; readonly old: string; readonly new: string }[];
  }[];
}

interface DeciderJson {
  readonly kind: Decider["kind"];
  readonly text: string;
  readonly location: { readonly file: string; readonly line: number; readonly column: number } | null;
}

function deciderJson(d: Decider): DeciderJson {
  if (!d.span) return { kind: d.kind, text: d.text, location: null };
  const p = d.span.source.position(d.span.start);
  return { kind: d.kind, text: d.text, location: { file: d.span.source.path, line: p.line, column: p.column } };
}

/** The diff as plain data (`--format json`). */
export function diffToJson(diff: PolicyDiff, names: DiffNames, targets?: readonly TargetChange[]): DiffJson {
  return {
    old: names.old,
    new: names.new,
    counts: diff.counts,
    probes: diff.probes,
    changes: diff.changes.map((c) => ({ direction: c.direction, section: c.section, summary: c.summary, old: deciderJson(c.old), new: deciderJson(c.new), probes: c.probes })),
    ...(targets
      ? {
          targets: targets.map((t) => ({
            where: t.where,
            direction: t.direction,
            irDirection: t.irDirection,
            section: t.section,
            summary: t.summary,
            old: deciderJson(t.old),
            new: deciderJson(t.new),
            probes: t.probes,
          })),
        }
      : {}),
  };
}
