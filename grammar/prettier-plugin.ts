// A Prettier 3 plugin for `.sbc` files: the DSL parser as a Prettier parser and the DSL printer as a Prettier
// printer, with Prettier's own comment placement (comments are kept beside the tree by the parser, attached
// to the nearest statement, clause or value here, and printed where they were). `sbc fmt` uses it; so can
// Prettier itself: `prettier --plugin ./node_modules/sbc/dist/grammar/prettier-plugin.js policy.sbc`.

import type { AstPath, Doc, Plugin } from "prettier";
import { Source } from "../diagnostics/source.js";
import type { DslComment, DslFile } from "./ast.js";
import { parseDsl } from "./index.js";
import { commentText, printDsl, PRINT_WIDTH, type PrintPath } from "./print.js";

type Node = { readonly kind: string; readonly span: { readonly start: number; readonly end: number } };

/** The children of each node kind that hold nodes (keywords are plain text, not nodes). */
const VISITOR_KEYS: Readonly<Record<string, readonly string[]>> = {
  file: ["version", "policy"],
  version: ["value"],
  policy: ["name", "statements"],
  block: ["items"],
  setting: ["value"],
  param: ["name", "default", "clauses"],
  "fs-rule": ["access", "clauses"],
  "net-rule": ["ops", "clauses"],
  "unix-rule": ["ops", "clauses"],
  "syscall-rule": ["syscalls", "action", "clauses"],
  "command-rule": ["prefix", "clauses"],
  test: ["expect", "value", "clauses"],
  clause: ["value"],
  errno: ["value"],
  trace: ["value"],
  list: ["items"],
  word: [],
  string: [],
  integer: [],
  comment: [],
};

export class DslSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly loc: { start: { line: number; column: number } },
  ) {
    super(message);
  }
}

function parse(text: string, options: { filepath?: string }): DslFile {
  const source = new Source(options.filepath ?? "<input>.sbc", text);
  const r = parseDsl(source);
  const error = r.diagnostics.find((d) => d.severity === "error");
  if (!r.ast || error) {
    const at = error?.span ? source.position(error.span.start) : { line: 1, column: 1 };
    throw new DslSyntaxError(error ? `${error.code}: ${error.message}` : "the file does not parse", { start: at });
  }
  return r.ast;
}

const locStart = (node: Node): number => node.span.start;
const locEnd = (node: Node): number => node.span.end;

export const languages: Plugin["languages"] = [{ name: "sbc", parsers: ["sbc"], extensions: [".sbc"], vscodeLanguageIds: ["sbc"] }];

export const parsers: Plugin<Node>["parsers"] = {
  sbc: { parse: (text, options) => parse(text, options) as unknown as Node, astFormat: "sbc-ast", locStart, locEnd },
};

export const printers: Plugin<Node>["printers"] = {
  "sbc-ast": {
    print: (path: AstPath<Node>, options, print) =>
      printDsl(path as unknown as PrintPath, { originalText: options.originalText }, print as unknown as (p: PrintPath) => Doc),
    getVisitorKeys: (node: Node) => [...(VISITOR_KEYS[node.kind] ?? [])],
    canAttachComment: (node: Node) => node.kind !== undefined && node.kind !== "comment" && node.kind !== "file",
    isBlockComment: () => false,
    printComment: (path: AstPath<Node>) => commentText((path.node as unknown as DslComment).text),
  },
};

export const defaultOptions: Plugin["defaultOptions"] = { printWidth: PRINT_WIDTH, tabWidth: 2, useTabs: false };

const plugin: Plugin = { languages, parsers, printers, defaultOptions };
export default plugin;
