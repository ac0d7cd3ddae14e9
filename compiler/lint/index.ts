// The linter: runs every rule of `specifiedRules` over a policy that compiled, at the severity the
// configuration gives it, and turns their reports into diagnostics (codes of family 30).

import { diag, sortDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { bindIr } from "../ir/bind.js";
import type { IR } from "../ir/types.js";
import type { PolicyFile } from "../language/ast.js";
import { compilePolicy, type Bindings } from "../passes/index.js";
import { testBindings } from "../passes/run-tests.js";
import type { LintReport, LintRule, RuleSeverity } from "./rule.js";
import { specifiedRules } from "./rules/index.js";

export type { Fix, LintContext, LintReport, LintRule, RuleSeverity, TextEdit } from "./rule.js";
export { specifiedRules } from "./rules/index.js";

export interface LintOptions {
  /** Severity per rule id; rules not named keep their default. */
  readonly rules?: Readonly<Record<string, RuleSeverity>>;
  /** The rule list (default: specifiedRules); tests pass one rule. */
  readonly ruleSet?: readonly LintRule[];
}

/** Lint a policy that compiled: `ir` unbound (parameters symbolic), `files` as the loader returned them. */
export function lintPolicy(ir: IR, files: readonly PolicyFile[], options: LintOptions = {}): Diagnostic[] {
  const file = files[files.length - 1];
  if (!file) return [];
  const bound = bindIr(ir, testBindings(ir)).ir;
  const out: Diagnostic[] = [];
  for (const rule of options.ruleSet ?? specifiedRules) {
    const severity = options.rules?.[rule.id] ?? rule.defaultSeverity;
    if (severity === "off") continue;
    const report = (r: LintReport) => {
      out.push(
        diag(rule.code, r.message, {
          span: r.span ?? { source: file.source, start: 0, end: 0 },
          ...(r.spanLabel !== undefined ? { spanLabel: r.spanLabel } : {}),
          ...(r.labels ? { labels: r.labels } : {}),
          ...(r.help !== undefined ? { help: r.help } : {}),
          ...(r.fix ? { fix: r.fix } : {}),
          severity,
        }),
      );
    };
    rule.run({ ir, boundIr: bound, files, file, report });
  }
  return sortDiagnostics(out);
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

