// Applying lint fixes to a policy's text (`sbc check --fix`). A fix is all of its edits or none of them;
// fixes whose edits overlap an earlier fix's are skipped (the next pass, on the re-checked text, offers them
// again if they still apply), so the result never depends on which of two conflicting edits "won".

import type { Diagnostic, Fix, TextEdit } from "../../diagnostics/diagnostic.js";
import { compilePolicy, type CompileOptions } from "../passes/index.js";
import { lintPolicy, type LintOptions } from "./index.js";

export interface ApplyFixesResult {
  readonly text: string;
  /** The fixes applied, in the order they were considered. */
  readonly applied: readonly Fix[];
  /** Fixes skipped: an edit out of range, edits of one fix that overlap, or an overlap with an applied fix. */
  readonly skipped: readonly Fix[];
}

const bySpan = (a: TextEdit, b: TextEdit) => a.span.start - b.span.start || a.span.end - b.span.end;

/** Two edits conflict when their ranges overlap, or both start at one offset (which goes first is a guess). */
function conflicts(a: TextEdit, b: TextEdit): boolean {
  if (a.span.start === b.span.start) return true;
  return Math.max(a.span.start, b.span.start) < Math.min(a.span.end, b.span.end);
}

/**
 * Apply the fixes to `text` (the edits' spans are UTF-16 offsets into it). Fixes are considered in the order
 * of their first edit's position (ties: the order given), which makes the result deterministic.
 */
export function applyFixes(text: string, fixes: readonly Fix[]): ApplyFixesResult {
  const order = fixes
    .map((fix, index) => ({ fix, index, edits: [...fix.edits].sort(bySpan) }))
    .sort((a, b) => (a.edits[0]?.span.start ?? 0) - (b.edits[0]?.span.start ?? 0) || a.index - b.index);
  const accepted: TextEdit[] = [];
  const applied: Fix[] = [];
  const skipped: Fix[] = [];
  for (const { fix, edits } of order) {
    const inRange = edits.every((e) => e.span.start >= 0 && e.span.start <= e.span.end && e.span.end <= text.length);
    const selfOverlap = edits.some((e, i) => i > 0 && conflicts(edits[i - 1]!, e));
    const clash = edits.some((e) => accepted.some((a) => conflicts(a, e)));
    if (edits.length === 0 || !inRange || selfOverlap || clash) {
      skipped.push(fix);
      continue;
    }
    accepted.push(...edits);
    applied.push(fix);
  }
  let out = text;
  for (const e of [...accepted].sort(bySpan).reverse()) out = out.slice(0, e.span.start) + e.text + out.slice(e.span.end);
  return { text: out, applied, skipped };
}

export interface FixLoopResult {
  /** The text after every pass. Equal to the input when nothing was fixed. */
  readonly text: string;
  /** Fixes applied over all passes. */
  readonly fixed: number;
  /** The diagnostics of the final text: what remains. */
  readonly diagnostics: Diagnostic[];
  /** True when a pass was undone because its result no longer compiled (a fix that broke the policy). */
  readonly reverted: boolean;
}

/** How many times `check --fix` re-checks after applying fixes; a fix that offers itself again stops there. */
export const MAX_FIX_PASSES = 10;

/**
 * Check a policy's text, apply the fixes offered for edits in that text only (never in the files it
 * extends), re-check, and repeat until nothing more applies. `check(text)` compiles and lints the text.
 */
export function fixLoop(path: string, text: string, check: (text: string) => Diagnostic[], initial?: Diagnostic[]): FixLoopResult {
  let current = text;
  let diagnostics = initial ?? check(current);
  let fixed = 0;
  for (let pass = 0; pass < MAX_FIX_PASSES; pass++) {
    const fixes = diagnostics.flatMap((d) => (d.fix && d.fix.edits.every((e) => e.span.source.path === path) ? [d.fix] : []));
    if (!fixes.length) break;
    const r = applyFixes(current, fixes);
    if (!r.applied.length || r.text === current) break;
    const next = check(r.text);
    const errorsBefore = diagnostics.filter((d) => d.severity === "error").length;
    if (next.filter((d) => d.severity === "error").length > errorsBefore) return { text: current, fixed, diagnostics, reverted: true };
    current = r.text;
    diagnostics = next;
    fixed += r.applied.length;
  }
  return { text: current, fixed, diagnostics, reverted: false };
}

/** Compile, lint and fix a policy given as text (for the library and tests); the fixed text is returned, not written. */
export function fixPolicyText(path: string, text: string, options: LintOptions & { readonly compile?: CompileOptions } = {}): FixLoopResult {
  return fixLoop(path, text, (t) => {
    const r = compilePolicy({ kind: "text", path, text: t }, options.compile ?? {});
    if (!r.ir || !r.files || r.diagnostics.some((d) => d.severity === "error")) return r.diagnostics;
    return [...r.diagnostics, ...lintPolicy(r.ir, r.files, options)];
  });
}
