// The compile step of the commands that run a program under a policy (`exec`, `debug landlock`, `debug
// seatbelt`): the policy named by a file or a preset, with the run's bindings; errors are printed the way every
// command prints them, and an unreadable policy file is a usage error.

import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { compilePolicy, type Bindings, type PolicyInput } from "../compiler/passes/index.js";
import { EXIT_FINDINGS } from "./exit.js";
import { printDiagnostics, throwIfEntryUnreadable } from "./output.js";

/** The IR to run under and the files it came from, or the exit status after the policy's errors were printed to stderr. */
export function compileForRun(
  policy: string | undefined,
  preset: string | undefined,
  bindings: Bindings,
  color: boolean,
  kernel?: string,
): { ir: IR; filesRead: readonly string[]; warnings: readonly Diagnostic[] } | { status: number } {
  const input: PolicyInput = policy !== undefined ? { kind: "file", path: policy } : { kind: "preset", name: preset! };
  const compiled = compilePolicy(input, { params: bindings, ...(kernel !== undefined ? { kernel } : {}) });
  if (policy !== undefined) throwIfEntryUnreadable(compiled);
  const errors = compiled.diagnostics.filter((d) => d.severity === "error");
  if (!compiled.ir || errors.length) {
    printDiagnostics(errors, { format: "human", color }, process.stderr);
    return { status: EXIT_FINDINGS };
  }
  return { ir: compiled.ir, filesRead: compiled.filesRead, warnings: compiled.diagnostics.filter((d) => d.severity !== "error") };
}
