// `sbc check`: validate many policies in one run, run the tests written in them, and report like a linter
// (diagnostics on stdout, a summary, exit 1 on errors or too many warnings).

import { dedupeDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { compilePolicy } from "../passes/index.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { counts, parseKernelOption, parseParams, printDiagnostics, throwIfEntryUnreadable } from "./output.js";
import { fidelityOptions, type CheckTargetOptions } from "./check-targets.js";

export interface CheckCommandOptions extends CheckTargetOptions {
  preset: string[];
  param: string[];
  format: string;
  quiet?: boolean;
  maxWarnings?: number;
  kernel?: string;
  color: boolean;
}

export async function runCheck(files: readonly string[], opts: CheckCommandOptions): Promise<number> {
  if (files.length === 0 && opts.preset.length === 0) throw new UsageError("name at least one policy file (or --preset)");
  const params = parseParams(opts.param);
  const kernel = parseKernelOption(opts.kernel);
  const k = kernel !== undefined ? { kernel } : {};
  const fidelity = fidelityOptions(opts);
  const all: Diagnostic[] = [];
  for (const f of files) {
    const r = compilePolicy({ kind: "file", path: f }, { params, runTests: true, ...k });
    throwIfEntryUnreadable(r);
    all.push(...r.diagnostics, ...(await fidelity(r)));
  }
  for (const p of opts.preset) {
    const r = compilePolicy({ kind: "preset", name: p }, { params, runTests: true, ...k });
    all.push(...r.diagnostics, ...(await fidelity(r)));
  }
  // A base file shared by several policies is reported once, not once per policy.
  const unique = dedupeDiagnostics(all);
  printDiagnostics(unique, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) }, process.stdout);
  const { errors, warnings } = counts(unique);
  if (errors > 0) return EXIT_FINDINGS;
  if (opts.maxWarnings !== undefined && opts.maxWarnings >= 0 && warnings > opts.maxWarnings) {
    // On stderr, so that --format json/sarif output on stdout stays parseable.
    process.stderr.write(`sbc: ${warnings} warnings exceed --max-warnings ${opts.maxWarnings}\n`);
    return EXIT_FINDINGS;
  }
  return EXIT_OK;
}
