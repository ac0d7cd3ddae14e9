// The compile step of the commands that run a program under a policy (`exec`, `debug landlock`, `debug
// seatbelt`): the policy named by a file or a preset, with the run's bindings (lib/run-policy.ts); errors are
// printed the way every command prints them, and an unreadable policy file is a usage error.

import { compileToRun } from "../lib/run-policy.js";
import type { IR } from "../lib/compile.js";
import type { Diagnostic } from "../lib/report.js";
import { EXIT_FINDINGS } from "./exit.js";
import { printDiagnostics, throwIfEntryUnreadable } from "./output.js";

/** The IR to run under and the files it came from, or the exit status after the policy's errors were printed to stderr. */
export function compileForRun(
  policy: string | undefined,
  preset: string | undefined,
  bindings: Record<string, string>,
  color: boolean,
  kernel?: string,
): { ir: IR; filesRead: readonly string[]; warnings: readonly Diagnostic[] } | { status: number } {
  const compiled = compileToRun(policy !== undefined ? { kind: "file", path: policy } : { kind: "preset", name: preset! }, bindings, kernel);
  if (policy !== undefined) throwIfEntryUnreadable({ filesRead: compiled.filesRead, diagnostics: compiled.errors });
  if (!compiled.ir) {
    printDiagnostics(compiled.errors, { format: "human", color }, process.stderr);
    return { status: EXIT_FINDINGS };
  }
  return { ir: compiled.ir, filesRead: compiled.filesRead, warnings: compiled.warnings };
}
