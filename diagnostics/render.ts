// Printing diagnostics: a human form with a code frame (the default, also used by golden files) and a JSON
// form for machines (SARIF and GitHub workflow commands have modules of their own, sarif.ts and github.ts).
// Line and column are computed here from the spans' offsets.

import type { Diagnostic } from "./diagnostic.js";
import type { Span } from "./source.js";

export interface Painter {
  red(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const plain: Painter = {
  red: (s) => s,
  yellow: (s) => s,
  blue: (s) => s,
  cyan: (s) => s,
  bold: (s) => s,
  dim: (s) => s,
};

/** Tabs become four spaces; raw control characters in the source become U+FFFD so a frame cannot forge output. */
function expandTabs(line: string): string {
  return line.replace(/\t/g, "    ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "\ufffd");
}

/** Visible width of a prefix of a line, with tabs expanded the way expandTabs does. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += ch === "\t" ? 4 : 1;
  return w;
}

/** Longest source line shown in a frame; longer lines are cut to a window around the span. */
const MAX_FRAME_WIDTH = 160;

function frame(span: Span, marker: string, label: string | undefined, gutter: number, paint: Painter, color: (s: string) => string): string[] {
  const { line, column } = span.source.position(span.start);
  const end = span.source.position(Math.max(span.start, span.end - 1));
  let text = span.source.lineText(line);
  let startCol = column - 1;
  let endCol = end.line === line ? end.column : text.length;
  if (text.length > MAX_FRAME_WIDTH) {
    const from = Math.max(0, startCol - 40);
    const to = Math.min(text.length, from + MAX_FRAME_WIDTH - 40);
    const head = from > 0 ? "…" : "";
    text = head + text.slice(from, to) + (to < text.length ? "…" : "");
    startCol = startCol - from + head.length;
    endCol = Math.min(endCol - from + head.length, text.length);
  }
  const pad = " ".repeat(width(text.slice(0, startCol)));
  const carets = marker.repeat(Math.max(1, width(text.slice(startCol, Math.max(startCol + 1, endCol)))));
  const num = String(line).padStart(gutter);
  const bar = paint.blue(" ".repeat(gutter) + " |");
  return [
    `${paint.blue(num + " |")} ${expandTabs(text)}`,
    `${bar} ${pad}${color(carets + (label ? " " + label : ""))}`,
  ];
}

export function renderHuman(d: Diagnostic, paint: Painter = plain): string {
  const color = d.severity === "error" ? paint.red : paint.yellow;
  const out: string[] = [`${color(paint.bold(`${d.severity}[${d.code}]`))}${paint.bold(": " + d.message)}`];
  const spans = [d.span, ...d.labels.map((l) => l.span)].filter((s): s is Span => s !== undefined);
  const gutter = Math.max(1, ...spans.map((s) => String(s.source.position(s.start).line).length));
  const indent = " ".repeat(gutter);
  if (d.span) {
    const { line, column } = d.span.source.position(d.span.start);
    out.push(`${indent}${paint.blue("-->")} ${d.span.source.path}:${line}:${column}`);
    out.push(paint.blue(`${indent} |`));
    out.push(...frame(d.span, "^", d.spanLabel, gutter, paint, color));
  }
  for (const label of d.labels) {
    const { line, column } = label.span.source.position(label.span.start);
    if (!d.span || label.span.source !== d.span.source) out.push(`${indent}${paint.blue(":::")} ${label.span.source.path}:${line}:${column}`);
    else out.push(paint.blue(`${indent} |`));
    out.push(...frame(label.span, "-", label.message, gutter, paint, paint.cyan));
  }
  if (d.help) {
    if (d.span || d.labels.length) out.push(paint.blue(`${indent} |`));
    out.push(`${indent} ${paint.blue("=")} ${paint.bold("help")}: ${d.help}`);
  }
  return out.join("\n");
}

export function renderHumanAll(diagnostics: readonly Diagnostic[], paint: Painter = plain): string {
  return diagnostics.map((d) => renderHuman(d, paint) + "\n").join("\n");
}

export interface JsonLocation {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  offset: number;
  length: number;
}

export function location(s: Span): JsonLocation {
  const a = s.source.position(s.start);
  const b = s.source.position(s.end);
  return { file: s.source.path, line: a.line, column: a.column, endLine: b.line, endColumn: b.column, offset: s.start, length: s.end - s.start };
}

/** A file path as machine formats report it (SARIF, GitHub annotations): `/` separators, no leading `./`. */
export function reportPath(path: string): string {
  return path.split("\\").join("/").replace(/^(\.\/)+/, "");
}

export function toJson(d: Diagnostic): Record<string, unknown> {
  const o: Record<string, unknown> = { code: d.code, name: d.name, severity: d.severity, message: d.message };
  if (d.span) o.location = { ...location(d.span), ...(d.spanLabel ? { label: d.spanLabel } : {}) };
  if (d.labels.length) o.labels = d.labels.map((l) => ({ ...location(l.span), message: l.message }));
  if (d.help) o.help = d.help;
  return o;
}

export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const part = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `${part(errors, "error")}, ${part(warnings, "warning")}`;
}
