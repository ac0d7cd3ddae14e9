// The one diagnostic type used by every stage, front end and backend. A diagnostic has a stable code, a
// one-line lowercase message (user input in backticks), an optional primary span, secondary labels and a help
// line. Rendering (human, JSON) lives in render.ts.

import { CODES, type CodeInfo, type CodeKey, type Severity } from "./codes.js";
import type { Span } from "./source.js";

export interface Label {
  readonly span: Span;
  readonly message: string;
}

/** One text replacement in one source file: [span.start, span.end) becomes `text`. */
export interface TextEdit {
  readonly span: Span;
  readonly text: string;
}

/**
 * A safe, mechanical fix (lint rules offer them): applying every edit gives a policy that still compiles and
 * is strictly narrower, or, for hygiene findings, means the same. `sbc check --fix` applies the fixes whose
 * edits do not overlap, then checks again.
 */
export interface Fix {
  /** What the fix does, one lowercase line ("add `protect: [.git]` to this rule"). */
  readonly description: string;
  readonly edits: readonly TextEdit[];
}

export interface Diagnostic {
  readonly code: string;
  readonly name: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span?: Span;
  /** Short text shown under the primary span's carets. */
  readonly spanLabel?: string;
  readonly labels: readonly Label[];
  readonly help?: string;
  readonly fix?: Fix;
}

export interface DiagnosticOptions {
  span?: Span | undefined;
  spanLabel?: string;
  labels?: readonly Label[];
  help?: string | undefined;
  /** Overrides the catalog severity (used for warnings promoted by options). */
  severity?: Severity;
  fix?: Fix;
}

/**
 * Messages are one line whatever the input: control characters and lone surrogates that came from user
 * input are shown as escapes, never printed raw (a newline or an escape sequence could forge output).
 */
export function oneLine(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function diag(key: CodeKey, message: string, options: DiagnosticOptions = {}): Diagnostic {
  const info: CodeInfo = CODES[key];
  const d: {
    -readonly [K in keyof Diagnostic]: Diagnostic[K];
  } = {
    code: info.code,
    name: info.name,
    severity: options.severity ?? info.severity,
    message: oneLine(message),
    labels: options.labels ?? [],
  };
  if (options.span) d.span = options.span;
  if (options.spanLabel !== undefined) d.spanLabel = oneLine(options.spanLabel);
  if (options.help !== undefined) d.help = oneLine(options.help);
  if (options.fix) d.fix = options.fix;
  return d;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Sort by file, then position, then code, so output is stable whatever order the stages found them in. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const pa = a.span?.source.path ?? "";
    const pb = b.span?.source.path ?? "";
    if (pa !== pb) return pa < pb ? -1 : 1;
    const sa = a.span?.start ?? -1;
    const sb = b.span?.start ?? -1;
    if (sa !== sb) return sa - sb;
    if (a.code !== b.code) return a.code < b.code ? -1 : 1;
    return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}

/** Remove exact repeats (same code, message and place), which arise when one file is extended twice. */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.code}\0${d.message}\0${d.span?.source.path}\0${d.span?.start}\0${d.span?.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** Edit distance with adjacent transpositions (optimal string alignment), for "did you mean" help. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase());
    if (score < bestScore || (score === bestScore && best !== undefined && c < best)) {
      best = c;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  // A clipped word (`descr`, `proto`) is a prefix of what was meant.
  if (bestScore > 0 && input.length >= 3) {
    const prefixed = [...candidates].filter((c) => c.toLowerCase().startsWith(lower)).sort();
    if (prefixed.length === 1) return prefixed[0];
  }
  const limit = Math.max(1, Math.floor(Math.max(input.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const c = closest(input, candidates);
  return c === undefined ? undefined : `did you mean \`${c}\`?`;
}
