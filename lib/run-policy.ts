// The compile step of running a program under a policy (`sbc exec`, `debug landlock`, `debug seatbelt`, and
// spawnSandboxed): the policy with the run's bindings, its built-ins taken from the environment the way the
// native loader takes them (workspace = the current directory).

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { policyInput, type CompileInput } from "./compile.js";

export { environmentBindings } from "../compiler/passes/environment.js";
export { BUILTIN_PARAMS } from "../language/schema.js";

export interface PolicyToRun {
  /** The IR to run under; absent when the policy has errors. */
  readonly ir?: IR;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
  /** Every file read (the policy and what it extends): what a cached plan depends on. */
  readonly filesRead: readonly string[];
}

/** Compile `input` with `bindings` (every parameter the run knows) for running a command under it. */
export function compileToRun(input: CompileInput, bindings: Readonly<Record<string, string>>, kernel?: string): PolicyToRun {
  const compiled = compilePolicy(policyInput(input), { params: bindings, ...(kernel !== undefined ? { kernel } : {}) });
  const errors = compiled.diagnostics.filter((d) => d.severity === "error");
  const warnings = compiled.diagnostics.filter((d) => d.severity !== "error");
  return { ...(compiled.ir && !errors.length ? { ir: compiled.ir } : {}), errors, warnings, filesRead: compiled.filesRead };
}
