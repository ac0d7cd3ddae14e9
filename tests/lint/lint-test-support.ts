// Shared by the lint rule tests: lint a policy text with one rule and read back code, line and message.

import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { lintPolicyText, type LintRule } from "../../compiler/lint/index.js";

export interface Finding {
  readonly code: string;
  readonly line: number;
  readonly message: string;
  readonly labelLines: readonly number[];
  readonly diagnostic: Diagnostic;
}

/** Findings of `rule` alone (compiler diagnostics are dropped, but a compile error fails the test). */
export function lintWith(rule: LintRule, text: string, path = "policy.yaml", params?: Record<string, string>): Finding[] {
  const all = lintPolicyText(text, { path, ruleSet: [rule], ...(params ? { params } : {}) });
  const errors = all.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(`policy does not compile: ${errors.map((d) => d.message).join("; ")}`);
  return all
    .filter((d) => d.name === rule.id)
    .map((d) => ({
      code: d.code,
      line: d.span ? d.span.source.position(d.span.start).line : 0,
      message: d.message,
      labelLines: d.labels.map((l) => l.span.source.position(l.span.start).line),
      diagnostic: d,
    }));
}

/** Apply a fix's edits to the text they were made for. */
export function applyFix(text: string, d: Diagnostic): string {
  const edits = [...(d.fix?.edits ?? [])].sort((a, b) => b.span.start - a.span.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.span.start) + e.text + out.slice(e.span.end);
  return out;
}
