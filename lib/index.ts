// The library API of sbc: compile a policy (file, preset or text) to any target (`compile`), run a command under
// it (`spawnSandboxed`), bind its parameters, ask the reference evaluator about paths, sockets, syscalls and
// command lines, lint it, and render diagnostics.

export { compilePolicy, STAGES, IR_CHECKS, type CompileOptions, type CompileResult, type PolicyInput, type Bindings, type Stage } from "../compiler/passes/index.js";
export { presetNames } from "../compiler/passes/resolve-extends.js";
export { runPolicyTests, TEST_PARAM_VALUES } from "../compiler/passes/run-tests.js";
export * from "../ir/types.js";
export { bindIr, freeParams } from "../ir/bind.js";
export { irToJson, irEquals } from "../ir/serialize.js";
export {
  evaluateFs,
  evaluateNetwork,
  evaluateUnix,
  evaluateUnixPath,
  evaluateSyscall,
  evaluateSyscallRules,
  evaluateSyscallAt,
  evaluateSyscallRulesAt,
  evaluateSyscallEverywhere,
  evaluateCommand,
  formatAction,
  EvaluationError,
  type FsVerdict,
  type NetVerdict,
  type NetQuery,
  type UnixQuery,
  type UnixVerdict,
  type UnixDecider,
  type UnixPathVerdict,
  type SyscallVerdict,
  type ArchVerdict,
  type CommandVerdict,
} from "../ir/evaluator/evaluate.js";
export { ACCESS_CLASSES, ACCESS_GROUPS, expandAccess, type Access } from "../ir/access.js";
export { POLICY_SCHEMA, FORMAT_VERSION } from "../language/schema.js";
export type { Diagnostic, Label } from "../diagnostics/diagnostic.js";
export { hasErrors } from "../diagnostics/diagnostic.js";
export { Source, formatLocation, type Span } from "../diagnostics/source.js";
export { renderHuman, renderHumanAll, toJson as diagnosticToJson } from "../diagnostics/render.js";
export { CODES, allCodes, type CodeInfo } from "../diagnostics/codes.js";
export type { Fix, TextEdit } from "../diagnostics/diagnostic.js";
export {
  lintPolicy,
  lintPolicyText,
  specifiedRules,
  validateRuleSeverities,
  checkLintRuleSetting,
  lintRuleMetadata,
  RULE_SEVERITIES,
  type LintOptions,
  type LintRule,
  type LintContext,
  type LintReport,
  type LintRuleMetadata,
  type RuleSeverity,
  type RuleSettingProblem,
  type RuleSettingOptions,
} from "../compiler/lint/index.js";
export { compile, checkCompileOptions, TARGET_NAMES, type CompileInput, type CompileOptions as CompileTargetOptions, type CompileOutput, type PolicySyntax } from "./compile.js";
export { UsageError, PolicyError, SandboxUnavailableError } from "./errors.js";
export { spawnSandboxed, sandboxedCommand, type SpawnSandboxedOptions, type SandboxedCommand, type SandboxedProcess } from "./spawn.js";
// The egress proxy's decisions, for a harness that starts a `sandboxedCommand` with rules by domain its own way.
export { decide as decideProxyRequest, DecisionService, proxyEnvironment, resolverWith, systemResolver, type Decision as ProxyDecision, type ProxyRequest, type Resolver, type NetworkEvent } from "./proxy/index.js";
// macOS: the proxy in Node on the host's loopback (the Node relay and its decision service in process).
export { startHostProxy, type HostProxy, type HostProxyOptions } from "./proxy/host-proxy.js";
export {
  loadBuildConfig,
  runBuild,
  depfileText,
  watchInputs,
  type BuildConfig,
  type BuildConfigResult,
  type BuildOutput,
  type BuildPolicy,
  type BuildOptions,
  type BuildResult,
  type FileAction,
  type PolicyBuild,
} from "./build/index.js";
export { diffInputs as diff, type DiffInputsOptions, type DiffInputsResult } from "./diff/from-inputs.js";
export { diffPolicies, type PolicyDiff, type PolicyChange, type ProbeChange, type Direction, type Section, type Decider, type DiffOptions } from "./diff/index.js";
export { renderDiffHuman, renderDiffMarkdown, diffToJson, type DiffJson, type DiffNames } from "./diff/render.js";

// Formatting, conversion and import (docs/api.md): what `sbc fmt`, `sbc convert` and `sbc import` do, on text.
export { format, type FormatOptions, type FormatOutput, type SyntaxName } from "./format.js";
export { convert, type ConvertOptions, type ConvertOutput } from "./convert.js";
export { importOciSeccomp, IMPORT_FORMATS, type ImportOciOptions, type ImportOutput, type ImportFormat } from "./import.js";
export { evalPolicy, evalQuery, renderAnswer, EVAL_USAGE, type EvalAnswer, type EvalPolicyOptions } from "./eval-query.js";
export { renderDiagnostics, DIAGNOSTIC_FORMATS, type RenderOptions, type DiagnosticFormat } from "./report.js";
export { TARGETS, type Target } from "./targets.js";
