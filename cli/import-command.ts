// `sbc import oci-seccomp FILE`: a Docker/OCI seccomp profile as an sbc policy (YAML on stdout or in a file),
// through lib/import.ts; this module reads the profile, prints the warnings and writes the policy.

import { checkImportFormat, checkImportOptions, importOciSeccomp } from "../lib/import.js";
import { readTextFile } from "../lib/source-file.js";
import { EXIT_FINDINGS, EXIT_OK } from "./exit.js";
import { printDiagnostics, writeAtomic } from "./output.js";

export interface ImportCommandOptions {
  output?: string;
  arch?: string;
  cap: string[];
  minKernel?: string;
  format: string;
  quiet?: boolean;
  color: boolean;
}

export async function runImport(format: string, file: string, opts: ImportCommandOptions): Promise<number> {
  checkImportFormat(format);
  // The options are checked before the file is read, so a bad flag is reported as one (exit 2).
  checkImportOptions({ ...(opts.arch !== undefined ? { arch: opts.arch } : {}), ...(opts.minKernel !== undefined ? { minKernel: opts.minKernel } : {}) });
  const read = readTextFile(file);
  if (read.text === undefined) {
    printDiagnostics(read.diagnostics, { format: opts.format, color: opts.color }, process.stderr);
    return EXIT_FINDINGS;
  }
  const r = importOciSeccomp(read.text, {
    path: file,
    caps: opts.cap,
    ...(opts.arch !== undefined ? { arch: opts.arch } : {}),
    ...(opts.minKernel !== undefined ? { minKernel: opts.minKernel } : {}),
  });
  printDiagnostics(r.diagnostics, { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) }, process.stderr);
  if (r.output === undefined) return EXIT_FINDINGS;
  if (opts.output) writeAtomic(opts.output, r.output);
  else process.stdout.write(r.output);
  return EXIT_OK;
}
