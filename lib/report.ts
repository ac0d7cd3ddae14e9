// Diagnostics as the CLI and build scripts show them: the `--format` values, each format's text, counts, and
// the checks every command makes on what it was given (an unreadable entry file, a `--kernel` version). Pure:
// the caller decides where the text goes and whether it is coloured (a Painter).

import { CODES } from "../diagnostics/codes.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { toGithubCommand } from "../diagnostics/github.js";
import { renderHuman, summaryLine, toJson, type Painter } from "../diagnostics/render.js";
import { toSarif } from "../diagnostics/sarif.js";
import { checkKernelVersion } from "../linux-abi/syscall-versions.js";
import { packageVersion } from "../compiler/package-root.js";
import { UsageError } from "./errors.js";
import { DIAGNOSTIC_FORMATS } from "./limits.js";

export type { Diagnostic, Label, Fix, TextEdit } from "../diagnostics/diagnostic.js";
export type { Painter } from "../diagnostics/render.js";
export { renderHuman, summaryLine } from "../diagnostics/render.js";
export { dedupeDiagnostics, sortDiagnostics, oneLine, closest, diag } from "../diagnostics/diagnostic.js";
export { toSarif } from "../diagnostics/sarif.js";
export { packageVersion } from "../compiler/package-root.js";

export { DIAGNOSTIC_FORMATS };
export type DiagnosticFormat = (typeof DIAGNOSTIC_FORMATS)[number];

export interface RenderOptions {
  readonly format: string;
  /** Errors only (the json summary still counts everything, as --max-warnings does). */
  readonly quiet?: boolean;
  /** The human format's colours; none when absent. */
  readonly paint?: Painter;
  /** The file a diagnostic without a span belongs to (sarif and github formats use it as the location). */
  readonly fileOf?: (d: Diagnostic) => string | undefined;
  /** SARIF's base directory (default: the process's). */
  readonly cwd?: string;
}

export function counts(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  return { errors, warnings: diagnostics.length - errors };
}

/** `diagnostics` in one of DIAGNOSTIC_FORMATS, as a command prints them ("" when there is nothing to say). */
export function renderDiagnostics(diagnostics: readonly Diagnostic[], opts: RenderOptions): string {
  const shown = opts.quiet ? diagnostics.filter((d) => d.severity === "error") : diagnostics;
  if (opts.format === "json") return JSON.stringify({ diagnostics: shown.map(toJson), summary: counts(diagnostics) }, null, 2) + "\n";
  if (opts.format === "sarif") {
    const log = toSarif(shown, { toolVersion: packageVersion(), cwd: opts.cwd ?? process.cwd(), ...(opts.fileOf ? { fileOf: opts.fileOf } : {}) });
    return JSON.stringify(log, null, 2) + "\n";
  }
  if (!shown.length) return "";
  if (opts.format === "github") return shown.map((d) => toGithubCommand(d, opts.fileOf) + "\n").join("") + summaryLine(shown) + "\n";
  return shown.map((d) => renderHuman(d, opts.paint) + "\n\n").join("") + summaryLine(shown) + "\n";
}

/**
 * A policy file named on the command line that cannot be read is a usage error (exit 2), not a policy
 * finding: the compiler reports it as SBC0101 with no file read; this throws it as a UsageError.
 */
export function throwIfEntryUnreadable(result: { readonly filesRead: readonly string[]; readonly diagnostics: readonly Diagnostic[] }): void {
  const d = result.diagnostics.find((x) => x.code === CODES.fileUnreadable.code);
  if (result.filesRead.length === 0 && d) throw new UsageError(d.message);
}

/** A `--kernel X.Y` value, checked (UsageError when it is not a version sbc knows); undefined stays undefined. */
export function checkKernelOption(v: string | undefined, flag = "--kernel"): string | undefined {
  if (v === undefined) return undefined;
  const bad = checkKernelVersion(v);
  if (bad) throw new UsageError(`${flag}: ${bad.message}`, bad.help);
  return v;
}
