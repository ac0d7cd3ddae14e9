// Formatting a policy: `.sbc` text through the DSL's Prettier plugin, YAML through Prettier's own YAML printer.
// Prettier is loaded only when formatting. As cedar's formatter does, the output is parsed again and must give
// the same document tree and keep every comment; if it would not, formatting throws and nothing changes.

import { isDeepStrictEqual } from "node:util";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { Source } from "../diagnostics/source.js";
import { yamlRawComments } from "../language/yaml-comments.js";
import { parseYaml } from "../language/yaml-source.js";
import { syntaxOfPath as grammarSyntaxOfPath, type PolicySyntax as GrammarSyntax } from "../grammar/convert.js";
import { parseDsl } from "../grammar/index.js";
import { PRINT_WIDTH } from "../grammar/print.js";
import { UsageError } from "./errors.js";

/** A policy's syntax: `sbc` (or `dsl`) for the DSL, `yaml` for YAML. */
export type SyntaxName = "sbc" | "dsl" | "yaml";

/** The syntax a file name says (`.sbc`, `.yaml`, `.yml`), as `dsl` or `yaml`; undefined for other names. */
export function syntaxOfPath(path: string): "dsl" | "yaml" | undefined {
  return grammarSyntaxOfPath(path);
}

/** `sbc` and `dsl` name the same syntax; anything else is a UsageError. */
export function normalizeSyntax(name: string): GrammarSyntax {
  if (name === "sbc" || name === "dsl") return "dsl";
  if (name === "yaml") return "yaml";
  throw new UsageError(`unknown syntax \`${name}\``, "the syntaxes are `sbc` (also `dsl`) and `yaml`");
}

/** What a text means to the formatter: its document tree and its comments, or why it has none. */
interface Parsed {
  readonly value?: unknown;
  readonly comments: string[];
  readonly diagnostics: Diagnostic[];
}

function parsePolicy(source: Source, syntax: GrammarSyntax): Parsed {
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
export async function prettierFormat(text: string, syntax: GrammarSyntax, filepath: string): Promise<string> {
  const prettier = await import("prettier");
  const options =
    syntax === "dsl"
      ? { parser: "sbc", plugins: [(await import("../grammar/prettier-plugin.js")).default] }
      : { parser: "yaml", proseWrap: "preserve" as const };
  return prettier.format(text, { ...options, filepath, printWidth: PRINT_WIDTH, tabWidth: 2, useTabs: false, endOfLine: "lf" });
}

/**
 * The formatted text of one policy, or the diagnostics that stop it (a text that does not parse). `format`
 * is Prettier unless a test substitutes a broken one to see the meaning check refuse it.
 */
export async function formatPolicy(source: Source, syntax: GrammarSyntax, format: typeof prettierFormat = prettierFormat): Promise<FormatResult> {
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

export interface FormatOptions {
  /** The text's syntax; default: what `path` ends in. */
  readonly syntax?: SyntaxName;
  /** The name diagnostics use (and Prettier sees); default `<text>.sbc` or `<text>.yaml`. */
  readonly path?: string;
}

export interface FormatOutput {
  /** The formatted text; absent when the text does not parse (the diagnostics say why). */
  readonly formatted?: string;
  /** Whether `formatted` differs from the input (what `sbc fmt --check` reports). */
  readonly changed: boolean;
  /** The parser's diagnostics: errors when there is no `formatted`, else warnings at most. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Format one policy's text as `sbc fmt` does. Throws UsageError when the syntax is unknown, and Error when
 * formatting would change what the policy means or drop a comment (a bug: nothing is formatted then).
 */
export async function format(text: string, options: FormatOptions = {}): Promise<FormatOutput> {
  const named = options.syntax ?? (options.path !== undefined ? syntaxOfPath(options.path) : undefined);
  if (named === undefined) throw new UsageError(`cannot tell the syntax of \`${options.path ?? "<text>"}\``, "give `syntax: \"sbc\"` or `\"yaml\"`, or a path ending in `.sbc`, `.yaml` or `.yml`");
  const syntax = normalizeSyntax(named);
  const path = options.path ?? (syntax === "dsl" ? "<text>.sbc" : "<text>.yaml");
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const r = await formatPolicy(new Source(path, body), syntax);
  return r.formatted === undefined ? { changed: false, diagnostics: r.diagnostics } : { formatted: r.formatted, changed: r.formatted !== body, diagnostics: r.diagnostics };
}
