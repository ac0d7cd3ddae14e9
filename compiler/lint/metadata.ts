// What a report format or a docs generator needs to know about each rule (SARIF's `tool.driver.rules`, the
// index of docs/lint.md), derived from the rules themselves and the code catalog so that it cannot drift.

import { CODES } from "../../diagnostics/codes.js";
import type { LintRule, RuleSeverity } from "./rule.js";
import { specifiedRules } from "./rules/index.js";

export interface LintRuleMetadata {
  readonly id: string;
  /** `SBC3001`. */
  readonly code: string;
  readonly defaultSeverity: RuleSeverity;
  readonly description: string;
  readonly fixable: boolean;
  /** Repository-relative docs link: `docs/lint.md#secret-access`. */
  readonly docs: string;
}

export const LINT_DOCS = "docs/lint.md";

export function lintRuleMetadata(rules: readonly LintRule[] = specifiedRules): LintRuleMetadata[] {
  return rules.map((r) => ({
    id: r.id,
    code: CODES[r.code].code,
    defaultSeverity: r.defaultSeverity,
    description: r.description,
    fixable: r.fixable,
    docs: `${LINT_DOCS}#${r.id}`,
  }));
}
