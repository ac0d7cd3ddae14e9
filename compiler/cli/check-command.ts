// `sbc check`: validate many policies in one run, run the tests written in them, and report like a linter
// (diagnostics on stdout, a summary, exit 1 on errors or too many warnings).

import { isAbsolute, relative, resolve } from "node:path";
import { dedupeDiagnostics, type Diagnostic } from "../diagnostics/diagnostic.js";
import { compilePolicy } from "../passes/index.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { counts, maxWarningsMessage, parseKernelOption, parseParams, printDiagnostics, throwIfEntryUnreadable } from "./output.js";

export interface CheckCommandOptions {
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
  const all: Diagnostic[] = [];
  // A diagnostic without a span (a `--param` the policy lacks) belongs to the file being checked: SARIF and
  // GitHub annotations need a file to put it on.
  const owner = new Map<Diagnostic, string>();
  for (const f of files) {
    const r = compilePolicy({ kind: "file", path: f }, { params, runTests: true, ...k });
    throwIfEntryUnreadable(r);
    for (const d of r.diagnostics) if (!d.span) owner.set(d, shownPath(f));
    all.push(...r.diagnostics);
  }
  for (const p of opts.preset) all.push(...compilePolicy({ kind: "preset", name: p }, { params, runTests: true, ...k }).diagnostics);
  // A base file shared by several policies is reported once, not once per policy.
  const unique = dedupeDiagnostics(all);
  printDiagnostics(unique, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}), fileOf: (d) => owner.get(d) }, process.stdout);
  const { errors, warnings } = counts(unique);
  if (errors > 0) return EXIT_FINDINGS;
  if (opts.maxWarnings !== undefined && opts.maxWarnings >= 0 && warnings > opts.maxWarnings) {
    // On stderr, so that --format json/sarif output on stdout stays parseable.
    process.stderr.write(maxWarningsMessage(warnings, opts.maxWarnings) + "\n");
    return EXIT_FINDINGS;
  }
  return EXIT_OK;
}

/** A path named on the command line as diagnostics show paths: relative to the working directory when inside it. */
function shownPath(f: string): string {
  const rel = relative(process.cwd(), resolve(f));
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : resolve(f);
}
