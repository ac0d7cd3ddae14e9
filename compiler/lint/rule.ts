// The shape of a lint rule. A rule is a security or hygiene judgement about a policy that is valid (it
// compiled): "`~/.ssh` is readable", "this rule can never decide anything". One rule per file in `rules/`,
// registered in `rules/index.ts` (`specifiedRules`, in the order they run), after graphql-js's validation
// rules. A rule asks questions of the policy — mostly through the reference evaluator, so that it judges what
// the policy means and not how it is spelled — and reports findings through its context.

import type { CodeKey, Severity } from "../../diagnostics/codes.js";
import type { Fix, Label } from "../../diagnostics/diagnostic.js";
import type { Span } from "../../diagnostics/source.js";
import type { IR } from "../../ir/types.js";
import type { PolicyFile } from "../../language/ast.js";

export type { Fix, TextEdit } from "../../diagnostics/diagnostic.js";

/** What a user may set a rule to (config file, `--rule`). `off` disables it. */
export type RuleSeverity = "error" | "warning" | "off";

export interface LintReport {
  /** One lowercase line, user input in backticks (docs/diagnostics.md). */
  readonly message: string;
  /** Where the finding is: usually the rule that decides the risky access. Findings without a span are
   * reported at the policy file's first line. */
  readonly span?: Span;
  readonly spanLabel?: string;
  readonly labels?: readonly Label[];
  readonly help?: string;
  readonly fix?: Fix;
  /**
   * This finding's severity while the rule runs at its default: a rule whose findings differ in weight
   * (`secret-access`: a writable secret is an error, a readable one a warning) lowers some of them. A
   * severity the configuration sets for the rule applies to every finding alike.
   */
  readonly severity?: Severity;
}

export interface LintContext {
  /**
   * The policy's IR, unbound: `${workspace}` and the other parameters stay symbolic. Spans point into
   * `files` (and into files they extend).
   */
  readonly ir: IR;
  /**
   * The IR with every parameter that is still symbolic bound to the stand-in values the policy's own tests
   * use (compiler/passes/run-tests.ts TEST_PARAM_VALUES: workspace `/home/user/project`, home
   * `/home/user`, tmpdir `/tmp/sbc-test-tmpdir`), ready for the reference evaluator. Undefined when
   * binding fails (the compiler has reported why).
   */
  readonly boundIr: IR | undefined;
  /** The parsed files, the checked file last; earlier ones are the files it extends (presets included). */
  readonly files: readonly PolicyFile[];
  /** The file being checked (the last of `files`). Rules report findings in it, or in the files it extends. */
  readonly file: PolicyFile;
  /** The parameters the caller bound for this run (`--param`); undefined when the caller did not say. */
  readonly givenParams?: ReadonlySet<string>;
  report(finding: LintReport): void;
}

export interface LintRule {
  /** Stable kebab-case id, used in config files and suppression comments (`secret-access`). */
  readonly id: string;
  /** The rule's entry in the one code catalog (diagnostics/codes.ts), family 30. */
  readonly code: CodeKey;
  /** Severity when no config says otherwise. */
  readonly defaultSeverity: RuleSeverity;
  /** One sentence for `--format sarif` rule metadata and the docs index. */
  readonly description: string;
  /** Whether the rule may offer fixes. */
  readonly fixable: boolean;
  run(context: LintContext): void;
}
