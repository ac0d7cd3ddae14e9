// `sbc convert POLICY --to dsl|yaml`: a policy in the other syntax, comments kept, on stdout or in a file.
// The input must compile (its diagnostics are the compiler's, exit 1), and the output is compiled again and
// must give the same IR; a conversion that would change the policy's meaning is a bug, reported as an
// internal error (exit 2) with nothing written.

import { basename, dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { Source } from "../diagnostics/source.js";
import type { DocumentComments } from "../language/document-comments.js";
import { closest } from "../diagnostics/diagnostic.js";
import { irEquals } from "../ir/serialize.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { decodeSource } from "../compiler/passes/load-file.js";
import { readInputFile } from "../compiler/passes/read-file.js";
import { EXTENSION, readDocument, syntaxOfPath, writeDocument, type PolicySyntax } from "../grammar/convert.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { prettierFormat } from "./fmt-command.js";
import { printDiagnostics, throwIfEntryUnreadable, writeAtomic } from "./output.js";

const SYNTAXES: readonly PolicySyntax[] = ["dsl", "yaml"];

export interface ConvertCommandOptions {
  to: string;
  output?: string;
  format: string;
  quiet?: boolean;
  color: boolean;
}

/**
 * The converted text. YAML goes through the same Prettier pass as `sbc fmt`, so converted files are already
 * formatted, except where Prettier's YAML printer would change a value (it rewrites a quoted string with a
 * `\n` escape into a multi-line scalar and loses blanks at the line break): then the exact text of the `yaml`
 * package is kept. The DSL printer is the formatter's own.
 */
export async function convertedText(value: Record<string, unknown>, comments: DocumentComments | undefined, to: PolicySyntax, path: string): Promise<string> {
  const written = writeDocument(value, comments, to);
  if (to !== "yaml") return written;
  const pretty = await prettierFormat(written, "yaml", path);
  const reread = readDocument(new Source(path, pretty), "yaml").value;
  return reread !== undefined && isDeepStrictEqual(reread, value) ? pretty : written;
}

export async function runConvert(policy: string, opts: ConvertCommandOptions): Promise<number> {
  const to = opts.to as PolicySyntax;
  if (!SYNTAXES.includes(to)) {
    const guess = closest(opts.to, SYNTAXES);
    throw new UsageError(`unknown syntax \`${opts.to}\``, guess ? `did you mean \`${guess}\`?` : "`--to dsl` or `--to yaml`");
  }
  const from = syntaxOfPath(policy);
  if (!from) throw new UsageError(`cannot tell the syntax of \`${policy}\``, "a policy file ends in `.sbc` (the DSL) or `.yaml`/`.yml`");
  if (opts.output !== undefined && syntaxOfPath(opts.output) !== undefined && syntaxOfPath(opts.output) !== to) {
    throw new UsageError(`\`${opts.output}\` names a ${syntaxOfPath(opts.output)} file, but the output is ${to}`, `write it to a \`${EXTENSION[to]}\` file`);
  }

  // The input must be a policy the compiler accepts, with the compiler's diagnostics when it is not.
  const compiled = compilePolicy({ kind: "file", path: policy });
  throwIfEntryUnreadable(compiled);
  const report = { format: opts.format, color: opts.color, ...(opts.quiet ? { quiet: true } : {}) };
  if (!compiled.ir || compiled.diagnostics.some((d) => d.severity === "error")) {
    printDiagnostics(compiled.diagnostics, report, process.stderr);
    return EXIT_FINDINGS;
  }

  const input = readInputFile(policy);
  if (!("bytes" in input)) throw new UsageError(`cannot read \`${policy}\`: ${input.reason}`);
  const decoded = decodeSource(policy, input.bytes);
  const read = decoded.source ? readDocument(decoded.source, from) : { diagnostics: decoded.diagnostics };
  if (!("value" in read) || !read.value) {
    // The compiler read the same bytes a moment ago; a file that changed in between gets its diagnostics here.
    printDiagnostics(read.diagnostics, report, process.stderr);
    return EXIT_FINDINGS;
  }
  const text = await convertedText(read.value, read.comments, to, opts.output ?? `converted${EXTENSION[to]}`);

  // The converted text, compiled where the input lives (so `extends: ./x` resolves alike, and a policy
  // without `name:` gets the same default name), must give the same IR.
  const checkPath = join(dirname(policy), basename(policy).replace(/\.(sbc|ya?ml)$/i, "") + EXTENSION[to]);
  const again = compilePolicy({ kind: "text", path: checkPath, text });
  if (!again.ir || again.diagnostics.some((d) => d.severity === "error") || !irEquals(compiled.ir, again.ir)) {
    const why = again.ir ? "it compiles to a different IR" : `it does not compile: ${again.diagnostics.find((d) => d.severity === "error")?.message ?? "no IR"}`;
    throw new Error(`the ${to} text converted from \`${policy}\` does not mean the same as the input (${why}); nothing was written`);
  }

  printDiagnostics(compiled.diagnostics, report, process.stderr);
  if (opts.output !== undefined) writeAtomic(opts.output, text);
  else process.stdout.write(text);
  return EXIT_OK;
}
