// `sbc convert POLICY --to dsl|yaml`: a policy in the other syntax, comments kept, on stdout or in a file,
// through lib/convert.ts. The input must compile (its diagnostics are the compiler's, exit 1); a conversion
// that would change the policy's meaning is an internal error (exit 2) with nothing written.

import { convert, EXTENSION } from "../lib/convert.js";
import { syntaxOfPath } from "../lib/format.js";
import { closest } from "../lib/report.js";
import { readTextFile } from "../lib/source-file.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { printDiagnostics, writeAtomic } from "./output.js";

const SYNTAXES = ["dsl", "yaml"] as const;

export interface ConvertCommandOptions {
  to: string;
  output?: string;
  format: string;
  quiet?: boolean;
  color: boolean;
}

export async function runConvert(policy: string, opts: ConvertCommandOptions): Promise<number> {
  const to = opts.to as (typeof SYNTAXES)[number];
  if (!SYNTAXES.includes(to)) {
    const guess = closest(opts.to, SYNTAXES);
    throw new UsageError(`unknown syntax \`${opts.to}\``, guess ? `did you mean \`${guess}\`?` : "`--to dsl` or `--to yaml`");
  }
  const from = syntaxOfPath(policy);
  if (!from) throw new UsageError(`cannot tell the syntax of \`${policy}\``, "a policy file ends in `.sbc` (the DSL) or `.yaml`/`.yml`");
  if (opts.output !== undefined && syntaxOfPath(opts.output) !== undefined && syntaxOfPath(opts.output) !== to) {
    throw new UsageError(`\`${opts.output}\` names a ${syntaxOfPath(opts.output)} file, but the output is ${to}`, `write it to a \`${EXTENSION[to]}\` file`);
  }
  const report = { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) };
  const read = readTextFile(policy);
  if (read.text === undefined) {
    printDiagnostics(read.diagnostics, report, process.stderr);
    return EXIT_FINDINGS;
  }
  const r = await convert(read.text, { from, to, path: policy });
  printDiagnostics(r.diagnostics, report, process.stderr);
  if (r.output === undefined) return EXIT_FINDINGS;
  if (opts.output !== undefined) writeAtomic(opts.output, r.output);
  else process.stdout.write(r.output);
  return EXIT_OK;
}
