// What `sbc check` builds on: compiling with every phase that can run, linting, the fix loop, the config's
// rule severities, and the glob matcher its file patterns use. The CLI's check expands its arguments, reads
// configs and prints; the meaning is here and in the modules this re-exports.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { RuleSeverity } from "./config-file.js";

export { compilePolicy, type CompileResult, type PolicyInput } from "../compiler/passes/index.js";
export { lintPolicy, specifiedRules, type LintRule } from "../compiler/lint/index.js";
export { fixLoop } from "../compiler/lint/apply-fixes.js";
export { compileGlob, hasWildcard } from "../ir/paths.js";

/** A compiler warning or lint finding at the severity the config gives its name (or code); `off` removes it. */
export function applyRuleSeverities(diagnostics: readonly Diagnostic[], rules: Readonly<Record<string, RuleSeverity>>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const set = rules[d.name] ?? rules[d.code];
    // Errors stay errors: a config may make a warning an error, never the reverse (config-file.ts refuses it).
    if (set === undefined || (d.severity === "error" && set !== "error")) out.push(d);
    else if (set !== "off") out.push(set === d.severity ? d : { ...d, severity: set });
  }
  return out;
}
