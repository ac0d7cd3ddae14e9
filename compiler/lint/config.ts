// Rule settings as a configuration gives them (`{"secret-access": "warning", "broad-write": "off"}`), checked
// here once so that every reader of settings — the config file loader, the library, tests — says the same
// thing about a misspelt rule or severity.

import { closest } from "../../diagnostics/diagnostic.js";
import type { LintRule, RuleSeverity } from "./rule.js";
import { specifiedRules } from "./rules/index.js";
import { UNUSED_DIRECTIVE_ID } from "./suppressions.js";

export const RULE_SEVERITIES: readonly RuleSeverity[] = ["error", "warning", "off"];

export interface RuleSettingProblem {
  /** The offending rule id; undefined when the settings are not an object at all. */
  readonly id?: string;
  /** One lowercase line, user input in backticks. */
  readonly message: string;
  readonly help?: string;
}

/** The ids a setting may name: every rule's, and the runner's own unused-directive finding. */
export function configurableIds(rules: readonly LintRule[] = specifiedRules): string[] {
  return [...rules.map((r) => r.id), UNUSED_DIRECTIVE_ID];
}

export interface RuleSettingOptions {
  /** The rules (default: specifiedRules). */
  readonly ruleSet?: readonly LintRule[];
  /**
   * More ids a configuration may set, beyond the lint rules' (a config file may also set compiler warnings
   * by name, `dead-rule`); they are checked for a valid severity like rule ids.
   */
  readonly alsoAccept?: readonly string[];
}

/** Check one setting; undefined when it is valid. */
export function checkLintRuleSetting(id: string, value: unknown, options: RuleSettingOptions = {}): RuleSettingProblem | undefined {
  const ids = [...configurableIds(options.ruleSet), ...(options.alsoAccept ?? [])];
  if (!ids.includes(id)) {
    const guess = closest(id, ids);
    return { id, message: `unknown lint rule \`${id}\``, help: guess ? `did you mean \`${guess}\`?` : "the rule ids are listed in docs/lint.md" };
  }
  if (typeof value !== "string" || !(RULE_SEVERITIES as readonly string[]).includes(value)) {
    const shown = typeof value === "string" ? `\`${value.length > 40 ? value.slice(0, 40) + "…" : value}\`` : `a ${value === null ? "null" : Array.isArray(value) ? "list" : typeof value}`;
    const guess = typeof value === "string" ? closest(value, RULE_SEVERITIES) : undefined;
    return {
      id,
      message: `the severity of \`${id}\` must be \`error\`, \`warning\` or \`off\`, not ${shown}`,
      ...(guess ? { help: `did you mean \`${guess}\`?` } : {}),
    };
  }
  return undefined;
}

/**
 * Validate rule settings: the valid ones, ready for `lintPolicy`'s `rules` option, and one problem per bad
 * entry (a config loader turns them into diagnostics at the entry's position).
 */
export function validateRuleSeverities(value: unknown, options: RuleSettingOptions = {}): { rules: Record<string, RuleSeverity>; problems: RuleSettingProblem[] } {
  const out: Record<string, RuleSeverity> = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { rules: out, problems: [{ message: "lint rule settings must be a mapping from rule ids to `error`, `warning` or `off`" }] };
  }
  const problems: RuleSettingProblem[] = [];
  for (const [id, v] of Object.entries(value)) {
    const p = checkLintRuleSetting(id, v, options);
    if (p) problems.push(p);
    else out[id] = v as RuleSeverity;
  }
  return { rules: out, problems };
}
