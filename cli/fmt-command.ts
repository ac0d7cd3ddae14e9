// `sbc fmt [--check|--write] FILES…`: format policies with Prettier — `.sbc` files through the DSL plugin,
// YAML policies through Prettier's own YAML support. Prettier is loaded here, when the command runs, never on
// the compile path. As cedar's formatter does, the output is parsed again and must give the same document
// tree and keep every comment; if it would not, the file is left alone and that is an internal error.

import { isDeepStrictEqual } from "node:util";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Source } from "../diagnostics/source.js";
import { yamlRawComments } from "../language/yaml-comments.js";
import { parseYaml } from "../language/yaml-source.js";
import { decodeSource } from "../compiler/passes/load-file.js";
import { readInputFile } from "../compiler/passes/read-file.js";
import { syntaxOfPath, type PolicySyntax } from "../grammar/convert.js";
import { parseDsl } from "../grammar/index.js";
import { PRINT_WIDTH } from "../grammar/print.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "./exit.js";
import { printDiagnostics, writeAtomic } from "./output.js";

export interface FmtCommandOptions {
  check?: boolean;
  write?: boolean;
  format: string;
  color: boolean;
}

/** What a file means to the formatter: its document tree and its comments, or why it has none. */
interface Parsed {
  readonly value?: unknown;
  readonly comments: string[];
  readonly diagnostics: Diagnostic[];
}

function parsePolicy(source: Source, syntax: PolicySyntax): Parsed {
  if (syntax === "dsl") {
    const r = parseDsl(source);
    const failed = !r.ast || !r.doc || r.diagnostics.some((d) => d.severity === "error");
    return failed ? { comments: [], diagnostics: r.diagnostics } : { value: r.doc!.value, comments: r.ast!.comments.map((c) => c.text.trimEnd()), diagnostics: r.diagnostics };
  }
  const r = parseYaml(source);
  return r.doc ? { value: r.doc.value, comments: yamlRawComments(source.text).map((c) => c.text.trimEnd()), diagnostics: r.diagnostics } : { comments: [], diagnostics: r.diagnostics };
}

export type FormatResult = { readonly formatted: string; readonly diagnostics: Diagnostic[] } | { readonly formatted?: undefined; readonly diagnostics: Diagnostic[] };

/** Prettier over one policy's text: the DSL plugin for `.sbc`, Prettier's YAML printer for YAML. */
export async function prettierFormat(text: string, syntax: PolicySyntax, filepath: string): Promise<string> {
  const prettier = await import("prettier");
  const options =
    syntax === "dsl"
      ? { parser: "sbc", plugins: [(await import("../grammar/prettier-plugin.js")).default] }
      : { parser: "yaml", proseWrap: "preserve" as const };
  return prettier.format(text, { ...options, filepath, printWidth: PRINT_WIDTH, tabWidth: 2, useTabs: false, endOfLine: "lf" });
}

/**
 * The formatted text of one policy, or the diagnostics that stop it (a file that does not parse). `format`
 * is Prettier unless a test substitutes a broken one to see the meaning check refuse it.
 */
export async function formatPolicy(source: Source, syntax: PolicySyntax, format: typeof prettierFormat = prettierFormat): Promise<FormatResult> {
  const before = parsePolicy(source, syntax);
  if (before.value === undefined) return { diagnostics: before.diagnostics };
  const formatted = await format(source.text, syntax, source.path);
  // The formatter's own output must mean what the input meant, comments included.
  const after = parsePolicy(new Source(source.path, formatted), syntax);
  if (after.value === undefined || !isDeepStrictEqual(after.value, before.value)) {
    // For YAML the printer is Prettier's: it is known to turn a quoted `\n` escape into a line break and lose
    // the blanks around it. Say whose output it was, so the report reaches the right project.
    const whose = syntax === "yaml" ? " (Prettier's YAML printer)" : "";
    throw new Error(`formatting \`${source.path}\`${whose} would change its meaning${after.value === undefined ? " (the output does not parse)" : ""}; the file was left alone`);
  }
  // Statements may move (the printer has a fixed statement order), and their comments with them.
  if (!isDeepStrictEqual([...after.comments].sort(), [...before.comments].sort())) throw new Error(`formatting \`${source.path}\` would lose or change a comment; the file was left alone`);
  return { formatted, diagnostics: before.diagnostics };
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
    const read = readInputFile(path);
    if (!("bytes" in read)) {
      if (!read.tooLarge) throw new UsageError(`cannot read \`${path}\`: ${read.reason}`);
      diagnostics.push(diag("fileTooLarge", `cannot read \`${path}\`: ${read.reason}`));
      failed = true;
      continue;
    }
    const decoded = decodeSource(path, read.bytes);
    if (!decoded.source) {
      diagnostics.push(...decoded.diagnostics);
      failed = true;
      continue;
    }
    const r = await formatPolicy(decoded.source, syntax);
    diagnostics.push(...r.diagnostics.filter((d) => d.severity === "error"));
    if (r.formatted === undefined) {
      failed = true;
      continue;
    }
    const original = decoded.source.text;
    if (opts.check) {
      if (r.formatted !== original) changed.push(path);
    } else if (opts.write) {
      if (r.formatted !== original) writeAtomic(path, r.formatted);
    } else process.stdout.write(r.formatted);
  }
  printDiagnostics(diagnostics, { format: opts.format, color: opts.color }, process.stderr);
  if (opts.check && changed.length) {
    for (const f of changed) process.stdout.write(`${f}\n`);
    process.stderr.write(`sbc: ${changed.length === 1 ? "1 file is" : `${changed.length} files are`} not formatted; run \`sbc fmt --write\`\n`);
  }
  return failed || (opts.check && changed.length) ? EXIT_FINDINGS : EXIT_OK;
}
