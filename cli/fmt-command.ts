// `sbc fmt [--check|--write] FILES…`: format policies with lib/format.ts (Prettier, with the meaning check:
// formatting that would change a policy or drop a comment leaves the file alone and is an internal error).
// This module reads the files, writes them back or reports them, and prints diagnostics.

import { format, syntaxOfPath } from "../lib/format.js";
import { readTextFile } from "../lib/source-file.js";
import type { Diagnostic } from "../lib/report.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { printDiagnostics, writeAtomic } from "./output.js";

export interface FmtCommandOptions {
  check?: boolean;
  write?: boolean;
  format: string;
  color: boolean;
}

export async function runFmt(files: readonly string[], opts: FmtCommandOptions): Promise<number> {
  if (files.length === 0) throw new UsageError("name at least one policy file to format");
  if (opts.check && opts.write) throw new UsageError("give --check or --write, not both", "--check only reports; --write rewrites the files");
  const jobs = files.map((f) => {
    const syntax = syntaxOfPath(f);
    if (!syntax) throw new UsageError(`cannot tell the syntax of \`${f}\``, "sbc fmt formats `.sbc` files and YAML policies (`.yaml`, `.yml`)");
    return { path: f, syntax };
  });
  const diagnostics: Diagnostic[] = [];
  const changed: string[] = [];
  let failed = false;
  for (const { path, syntax } of jobs) {
    const read = readTextFile(path);
    if (read.text === undefined) {
      diagnostics.push(...read.diagnostics);
      failed = true;
      continue;
    }
    const r = await format(read.text, { syntax, path });
    diagnostics.push(...r.diagnostics.filter((d) => d.severity === "error"));
    if (r.formatted === undefined) {
      failed = true;
      continue;
    }
    if (opts.check) {
      if (r.changed) changed.push(path);
    } else if (opts.write) {
      if (r.changed) writeAtomic(path, r.formatted);
    } else process.stdout.write(r.formatted);
  }
  printDiagnostics(diagnostics, { format: opts.format, color: opts.color }, process.stderr);
  if (opts.check && changed.length) {
    for (const f of changed) process.stdout.write(`${f}\n`);
    process.stderr.write(`sbc: ${changed.length === 1 ? "1 file is" : `${changed.length} files are`} not formatted; run \`sbc fmt --write\`\n`);
  }
  return failed || (opts.check && changed.length) ? EXIT_FINDINGS : EXIT_OK;
}
