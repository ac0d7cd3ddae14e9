// Converting a policy between the DSL (`.sbc`) and YAML, comments kept. The input must compile (else its
// diagnostics and no output), and the output is compiled again and must give the same IR: a conversion that
// would change the policy's meaning is a bug, thrown as an Error with no output.

import { basename, dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { Source } from "../diagnostics/source.js";
import type { DocumentComments } from "../language/document-comments.js";
import { irEquals } from "../ir/serialize.js";
import type { IR } from "../ir/types.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { EXTENSION, readDocument, writeDocument, type PolicySyntax } from "../grammar/convert.js";
import { UsageError } from "./errors.js";
import { normalizeSyntax, prettierFormat, syntaxOfPath, type SyntaxName } from "./format.js";

export { EXTENSION };

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

export interface ConvertOptions {
  /** The input's syntax; default: what `path` ends in. */
  readonly from?: SyntaxName;
  /** The syntax to write. */
  readonly to: SyntaxName;
  /**
   * The input's file name: diagnostics use it, `extends:` resolves from its directory, and a policy without
   * `name:` is named after it. Default `<text>.sbc` or `<text>.yaml`.
   */
  readonly path?: string;
  /** Directory relative paths are resolved from (default: the process's). */
  readonly cwd?: string;
}

export interface ConvertOutput {
  /** The policy in the `to` syntax; absent when the input has errors. */
  readonly output?: string;
  /** The compiler's diagnostics on the input (warnings when there is an output). */
  readonly diagnostics: readonly Diagnostic[];
  /** The IR both texts compile to, when the input compiled. */
  readonly ir?: IR;
}

/** Convert one policy's text as `sbc convert` does. Bad syntax names throw UsageError. */
export async function convert(text: string, options: ConvertOptions): Promise<ConvertOutput> {
  const to = normalizeSyntax(options.to);
  const named = options.from ?? (options.path !== undefined ? syntaxOfPath(options.path) : undefined);
  if (named === undefined) throw new UsageError(`cannot tell the syntax of \`${options.path ?? "<text>"}\``, "a policy file ends in `.sbc` (the DSL) or `.yaml`/`.yml`; or give `from`");
  const from = normalizeSyntax(named);
  const path = options.path ?? `<text>${EXTENSION[from]}`;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const cwd = options.cwd !== undefined ? { cwd: options.cwd } : {};

  // The input must be a policy the compiler accepts, with the compiler's diagnostics when it is not.
  const compiled = compilePolicy({ kind: "text", path, text: body }, cwd);
  if (!compiled.ir || compiled.diagnostics.some((d) => d.severity === "error")) return { diagnostics: compiled.diagnostics, ...(compiled.ir ? { ir: compiled.ir } : {}) };
  const read = readDocument(new Source(path, body), from);
  if (!read.value) return { diagnostics: [...compiled.diagnostics, ...read.diagnostics] };
  const output = await convertedText(read.value, read.comments, to, `converted${EXTENSION[to]}`);

  // The converted text, compiled where the input lives (so `extends: ./x` resolves alike, and a policy
  // without `name:` gets the same default name), must give the same IR.
  const checkPath = join(dirname(path), basename(path).replace(/\.(sbc|ya?ml)$/i, "") + EXTENSION[to]);
  const again = compilePolicy({ kind: "text", path: checkPath, text: output }, cwd);
  if (!again.ir || again.diagnostics.some((d) => d.severity === "error") || !irEquals(compiled.ir, again.ir)) {
    const why = again.ir ? "it compiles to a different IR" : `it does not compile: ${again.diagnostics.find((d) => d.severity === "error")?.message ?? "no IR"}`;
    throw new Error(`the ${to} text converted from \`${path}\` does not mean the same as the input (${why}); nothing was written`);
  }
  return { output, diagnostics: compiled.diagnostics, ir: compiled.ir };
}
