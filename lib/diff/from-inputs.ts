// The library's `diff`: two policy inputs (files, presets, text) compiled and compared in one call, for build
// scripts and review bots that would otherwise shell out to `sbc diff`. Reads the policies' files; no other I/O.

import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { compilePolicy, type Bindings, type PolicyInput } from "../../compiler/passes/index.js";
import { diffPolicies, type PolicyDiff } from "./index.js";

export interface DiffInputsOptions {
  /** Parameter values for both policies (as `--param`); the rest get the test stand-ins. */
  readonly params?: Bindings;
  /** `syscalls.kernel` for both (as `--kernel`), already validated. */
  readonly kernel?: string;
  /** Where relative paths resolve (default: the process's working directory). */
  readonly cwd?: string;
}

export interface DiffInputsResult {
  /** Absent when either policy has errors. */
  readonly diff?: PolicyDiff;
  /** Both policies' diagnostics (old first); errors mean no diff. */
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read, both sides. */
  readonly files: readonly string[];
}

export function diffInputs(oldInput: PolicyInput, newInput: PolicyInput, options: DiffInputsOptions = {}): DiffInputsResult {
  const compileOptions = { ...(options.params ? { params: options.params } : {}), ...(options.kernel !== undefined ? { kernel: options.kernel } : {}), ...(options.cwd ? { cwd: options.cwd } : {}) };
  const a = compilePolicy(oldInput, compileOptions);
  const b = compilePolicy(newInput, compileOptions);
  const diagnostics = [...a.diagnostics, ...b.diagnostics];
  const files = [...new Set([...a.filesRead, ...b.filesRead])];
  if (!a.ir || !b.ir || diagnostics.some((d) => d.severity === "error")) return { diagnostics, files };
  return { diff: diffPolicies(a.ir, b.ir), diagnostics, files };
}
