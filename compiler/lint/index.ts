// The linter: runs every rule of `specifiedRules` over a policy that compiled, at the severity the
// configuration gives it, drops what `sbc-disable` comments suppress, and turns the rest into diagnostics
// (codes of family 30). Compiler diagnostics never pass through here, so no comment can hide one.

import { diag, sortDiagnostics, type Diagnostic, type Label } from "../../diagnostics/diagnostic.js";
import type { Source, Span } from "../../diagnostics/source.js";
import type { IR } from "../../ir/types.js";
import type { PolicyFile } from "../../language/ast.js";
import { compilePolicy, type Bindings } from "../passes/index.js";
import { bindForTests } from "../passes/run-tests.js";
import type { LintReport, LintRule, RuleSeverity } from "./rule.js";
import { specifiedRules } from "./rules/index.js";
import { applySuppressions, UNUSED_DIRECTIVE_ID, type Finding } from "./suppressions.js";

export type { Fix, LintContext, LintReport, LintRule, RuleSeverity, TextEdit } from "./rule.js";
export { specifiedRules } from "./rules/index.js";
export { checkLintRuleSetting, configurableIds, RULE_SEVERITIES, validateRuleSeverities, type RuleSettingProblem, type RuleSettingOptions } from "./config.js";
export { LINT_DOCS, lintRuleMetadata, type LintRuleMetadata } from "./metadata.js";
export { DIRECTIVE_FILE, DIRECTIVE_NEXT_LINE, UNUSED_DIRECTIVE_ID } from "./suppressions.js";

export interface LintOptions {
  /**
   * Severity per rule id; rules not named keep their default. `lint-unused-directive` sets the severity of
   * directives that suppressed nothing (default `warning`). Other ids are ignored here (a config file may
   * also hold compiler warning names); validate settings with `validateRuleSeverities`.
   */
  readonly rules?: Readonly<Record<string, RuleSeverity>>;
  /**
   * The parameters the caller bound for this run (`--param`), as opposed to defaults that apply to every
   * policy (a config file's `params`). Undefined: every bound parameter counts as given.
   */
  readonly givenParams?: readonly string[];
  /** The rule list (default: specifiedRules); tests pass one rule. */
  readonly ruleSet?: readonly LintRule[];
}

/** Lint a policy that compiled: `ir` unbound (parameters symbolic), `files` as the loader returned them. */
export function lintPolicy(ir: IR, files: readonly PolicyFile[], options: LintOptions = {}): Diagnostic[] {
  const file = files[files.length - 1];
  if (!file) return [];
  const ruleSet = options.ruleSet ?? specifiedRules;
  const bound = bindForTests(ir).ir;
  const findings: Finding[] = [];
  const active = new Set<string>();
  const relocate = presetRelocation(files, file);
  for (const rule of ruleSet) {
    const configured = options.rules?.[rule.id];
    if ((configured ?? rule.defaultSeverity) === "off") continue;
    active.add(rule.id);
    const report = (r: LintReport) => {
      const severity = configured ?? r.severity ?? rule.defaultSeverity;
      if (severity === "off") return;
      const moved = r.span ? relocate(r.span) : undefined;
      const labels = moved ? [moved.label, ...(r.labels ?? [])] : r.labels;
      findings.push({
        ruleId: rule.id,
        diagnostic: diag(rule.code, r.message, {
          span: moved?.span ?? r.span ?? { source: file.source, start: 0, end: 0 },
          ...(r.spanLabel !== undefined && !moved ? { spanLabel: r.spanLabel } : {}),
          ...(labels ? { labels } : {}),
          ...(r.help !== undefined ? { help: r.help } : {}),
          ...(r.fix ? { fix: r.fix } : {}),
          severity,
        }),
      });
    };
    rule.run({ ir, boundIr: bound, files, file, report, ...(options.givenParams ? { givenParams: new Set(options.givenParams) } : {}) });
  }
  const knownIds = [...new Set([...specifiedRules, ...ruleSet].map((r) => r.id))];
  const s = applySuppressions(files, findings, { knownIds, activeIds: active, unused: options.rules?.[UNUSED_DIRECTIVE_ID] ?? "warning" });
  return sortDiagnostics([...s.kept.map((f) => f.diagnostic), ...s.diagnostics]);
}

/**
 * A finding whose span lies in a built-in preset is reported at the checked file's `extends:` entry that
 * brings the preset in, with the preset's rule as a label: the author cannot change a preset, but can
 * change (or suppress at) their own `extends:`, and a CI annotation must point at a file of the repository.
 */
function presetRelocation(files: readonly PolicyFile[], file: PolicyFile): (span: Span) => { span: Span; label: Label } | undefined {
  const presets = new Map<Source, string>();
  for (const f of files)
    for (const e of f.extends) {
      if (e.value.startsWith("./") || e.value.startsWith("../")) continue;
      const base = files.find((g) => g.source.path === `presets/${e.value}.yaml`);
      if (base && base !== file) presets.set(base.source, e.value);
    }
  if (!presets.size) return () => undefined;
  const entry = file.extends.find((e) => !e.value.startsWith("./") && !e.value.startsWith("../")) ?? file.extends[0];
  return (span) => {
    const name = presets.get(span.source);
    if (name === undefined || !entry) return undefined;
    return { span: entry.span, label: { span, message: `decided by this rule of the built-in preset \`${name}\`` } };
  };
}

/** Compile and lint a policy given as text (for tests and the library); compiler diagnostics come first. */
export function lintPolicyText(
  text: string,
  options: LintOptions & { readonly path?: string; readonly params?: Bindings } = {},
): Diagnostic[] {
  const path = options.path ?? "policy.yaml";
  const r = compilePolicy({ kind: "text", path, text }, options.params ? { params: options.params } : {});
  if (!r.ir || !r.files || r.diagnostics.some((d) => d.severity === "error")) return r.diagnostics;
  return [...r.diagnostics, ...lintPolicy(r.ir, r.files, options)];
}
