// Helpers for the lint rule tests: lint a policy given as text (YAML or DSL by the path's extension), pick
// the findings of one rule with the line they are reported on, and apply a finding's fix.

import { expect } from "vitest";
import type { Diagnostic, Fix } from "../../diagnostics/diagnostic.js";
import { lintPolicyText, type LintOptions } from "../../compiler/lint/index.js";

export function lint(text: string, options: LintOptions & { path?: string } = {}): Diagnostic[] {
  return lintPolicyText(text, { path: "policy.yaml", ...options });
}

/** The findings of one rule (by its code name), as `line: message`, in the checked file or a named one. */
export function findingsOf(diagnostics: readonly Diagnostic[], ruleName: string): Diagnostic[] {
  return diagnostics.filter((d) => d.name === ruleName);
}

export function lineOf(d: Diagnostic): number {
  return d.span!.source.position(d.span!.start).line;
}

/** `path:line` of a diagnostic, with the path's last component only (presets live wherever the package is). */
export function where(d: Diagnostic): string {
  return `${d.span!.source.path.split("/").pop()}:${lineOf(d)}`;
}

/**
 * Where the rule that decides a finding is: a finding decided in a built-in preset is reported at the checked
 * file's `extends:` entry (compiler/lint/index.ts), with the preset's rule as its first label.
 */
export function decidedAt(d: Diagnostic): string {
  const l = d.labels.find((x) => x.message.includes("of the built-in preset"));
  return l ? `${l.span.source.path.split("/").pop()}:${l.span.source.position(l.span.start).line}` : where(d);
}

export function applyFix(text: string, fix: Fix): string {
  let out = text;
  for (const e of [...fix.edits].sort((a, b) => b.span.start - a.span.start)) out = out.slice(0, e.span.start) + e.text + out.slice(e.span.end);
  return out;
}

/** No compiler errors: the policy compiled and these are lint results. */
export function expectCompiled(diagnostics: readonly Diagnostic[]): void {
  expect(diagnostics.filter((d) => d.severity === "error" && !d.code.startsWith("SBC30")).map((d) => `${d.code} ${d.message}`)).toEqual([]);
}
