// The DSL printer: a DSL syntax tree to a Prettier document (the layout language of `prettier/doc`). The
// Prettier plugin (prettier-plugin.ts) calls it node by node and lets Prettier place the comments; `sbc
// convert` calls it on a tree built from a YAML document, with the comments given beside the tree. One
// printer for both, so converted output is already formatted.
//
// Layout: `sbc 1`, a blank line, then the policy block; statements in the order of docs/dsl-syntax.md
// (settings first, then blocks, a blank line around each block); one rule per line, its clauses in the
// documented order, wrapped onto indented continuation lines when the rule is longer than the line.

import { builders, printer, type builders as B } from "prettier/doc";
import type {
  DslAction,
  DslBlock,
  DslBlockItem,
  DslClause,
  DslComment,
  DslFile,
  DslList,
  DslPolicy,
  DslStatement,
  DslValue,
} from "./ast.js";

export type Doc = B.Doc;
const { group, indent, line, softline, hardline, join, ifBreak, lineSuffix, breakParent } = builders;

/** The width `sbc fmt` and `sbc convert` lay out for; the plugin makes it its default too. */
export const PRINT_WIDTH = 110;

/** The part of Prettier's `AstPath` the printer uses. */
export interface PrintPath {
  readonly node: unknown;
  call(print: (path: PrintPath) => Doc, ...names: (string | number)[]): Doc;
  map(print: (path: PrintPath) => Doc, ...names: (string | number)[]): Doc[];
}

export interface PrintOptions {
  /** The source text, when printing a parsed file: blank lines between statements are kept (at most one). */
  readonly originalText?: string;
  /** Comments to print after the last item of a block, the policy or the file (a built tree's comments). */
  readonly endComments?: (node: unknown) => readonly string[];
}

type AnyNode = { readonly kind: string; readonly span: { readonly start: number; readonly end: number } };

// ---- canonical orders --------------------------------------------------------------------------------------

const STATEMENT_ORDER = ["description", "extends", "params", "filesystem", "network", "syscalls", "commands", "linux", "tests"];
const SETTING_ORDER = ["mode", "unix", "pairs", "abstract", "default", "foreign-arch", "newer", "kernel", "namespaces", "accept-widening"];
const CLAUSE_ORDER: Readonly<Record<string, readonly string[]>> = {
  param: ["description"],
  "fs-rule": ["path", "exact", "glob", "protect", "if-missing", "reason"],
  "net-rule": ["protocol", "hosts", "domains", "ports", "http-methods", "http-paths", "reason"],
  "unix-rule": ["path", "reason"],
  "syscall-rule": ["args", "reason"],
  "command-rule": ["reason"],
  test: ["protocol", "args", "path", "abstract", "name"],
};

/** Indices of `items` sorted by `rank`, keeping the written order among equals. */
function orderBy<T>(items: readonly T[], rank: (item: T) => number): number[] {
  return items
    .map((item, i) => [rank(item), i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, i]) => i);
}

const rankIn = (order: readonly string[], word: string): number => {
  const i = order.indexOf(word);
  return i < 0 ? order.length : i;
};

function statementRank(s: DslStatement): number {
  return rankIn(STATEMENT_ORDER, s.keyword.value);
}

/** Settings (and `unix { }`, a setting written as a block) first, in their documented order; rules, params and tests after, as written. */
function itemRank(item: DslBlockItem): number {
  return item.kind === "setting" || item.kind === "block" ? rankIn(SETTING_ORDER, item.keyword.value) : SETTING_ORDER.length;
}

// ---- blank lines ---------------------------------------------------------------------------------------------

/** Is there an empty line after `end` (past the rest of its line, a trailing comment included)? */
export function blankLineAfter(text: string | undefined, end: number): boolean {
  if (text === undefined) return false;
  let i = end;
  while (i < text.length && text[i] !== "\n") i++;
  if (i >= text.length) return false;
  i++;
  while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\r")) i++;
  return text[i] === "\n";
}

// ---- comments that Prettier could not attach to a child ---------------------------------------------------

interface AttachedComment extends DslComment {
  leading?: boolean;
  trailing?: boolean;
  printed?: boolean;
}

/**
 * Comments a node prints itself after its content: the ones Prettier found inside it but could not attach to
 * a child (it calls them dangling: an empty block or list), and a built tree's end-of-block comments.
 */
function danglingComments(node: unknown, options: PrintOptions = {}): Doc[] {
  const list = (node as { comments?: AttachedComment[] }).comments ?? [];
  const dangling = list
    .filter((c) => !c.leading && !c.trailing)
    .map((c) => {
      c.printed = true;
      return commentText(c.text);
    });
  return [...dangling, ...(options.endComments?.(node) ?? []).map(commentText)];
}

/** A comment's text as printed: the `#` and what follows, without trailing blanks. */
export function commentText(text: string): string {
  const t = text.replace(/[ \t\r]+$/, "");
  return t.startsWith("#") ? t : "#" + t;
}

// ---- the printer -----------------------------------------------------------------------------------------

export function printDsl(path: PrintPath, options: PrintOptions, print: (path: PrintPath) => Doc): Doc {
  const node = path.node as AnyNode;
  switch (node.kind) {
    case "file":
      return printFile(path, options, print);
    case "version": {
      const v = node as unknown as { keyword: { value: string } };
      return [v.keyword.value, " ", path.call(print, "value")];
    }
    case "policy":
      return printPolicy(path, options, print);
    case "block":
      return printBlock(path, options, print);
    case "setting": {
      const s = node as unknown as { keyword: { value: string } };
      return [s.keyword.value, " ", path.call(print, "value")];
    }
    case "param": {
      const p = node as unknown as { default?: DslValue };
      return printStatement([path.call(print, "name"), p.default ? [" = ", path.call(print, "default")] : ""], path, print);
    }
    case "fs-rule":
    case "net-rule":
    case "unix-rule": {
      const r = node as unknown as { effect: { value: string } };
      return printStatement([r.effect.value, " ", path.call(print, node.kind === "fs-rule" ? "access" : "ops")], path, print);
    }
    case "syscall-rule": {
      const r = node as unknown as { keyword: { value: string } };
      return printStatement([r.keyword.value, " ", path.call(print, "syscalls"), " ", path.call(print, "action")], path, print);
    }
    case "command-rule": {
      const r = node as unknown as { decision: { value: string } };
      return printStatement([r.decision.value, " ", path.call(print, "prefix")], path, print);
    }
    case "test": {
      const t = node as unknown as { keyword: { value: string }; query: { value: string } };
      return printStatement([t.keyword.value, " ", path.call(print, "expect"), " ", t.query.value, " ", path.call(print, "value")], path, print);
    }
    case "clause": {
      const c = node as unknown as DslClause;
      return [c.keyword.value, " ", path.call(print, "value")];
    }
    case "errno":
    case "trace": {
      const e = node as unknown as { keyword: { value: string } };
      return [e.keyword.value, " ", path.call(print, "value")];
    }
    case "list":
      return printList(path, print);
    case "word":
      return (node as unknown as { value: string }).value;
    case "string":
    case "integer":
      return (node as unknown as { raw: string }).raw;
    default:
      throw new Error(`DSL printer: unknown node kind \`${node.kind}\``);
  }
}

function printFile(path: PrintPath, options: PrintOptions, print: (path: PrintPath) => Doc): Doc {
  const file = path.node as DslFile;
  const parts: Doc[] = [];
  if (file.version) parts.push(path.call(print, "version"));
  if (file.policy) parts.push(path.call(print, "policy"));
  const dangling = danglingComments(file, options);
  if (parts.length === 0) return dangling.length ? [join(hardline, dangling), hardline] : "";
  return [join([hardline, hardline], parts), hardline, dangling.length ? [join(hardline, dangling), hardline] : ""];
}

/** Statements or block items, one per line: a blank line where `blankBetween` says so. */
function printLines(
  path: PrintPath,
  print: (path: PrintPath) => Doc,
  field: string,
  order: readonly number[],
  blankBetween: (prev: number, next: number) => boolean,
): Doc[] {
  const out: Doc[] = [];
  order.forEach((index, k) => {
    if (k > 0) out.push(blankBetween(order[k - 1]!, index) ? [hardline, hardline] : hardline);
    out.push(path.call(print, field, index));
  });
  return out;
}

function printPolicy(path: PrintPath, options: PrintOptions, print: (path: PrintPath) => Doc): Doc {
  const policy = path.node as DslPolicy;
  const head: Doc[] = [policy.keyword.value, policy.name ? [" ", path.call(print, "name")] : "", " {"];
  const order = orderBy(policy.statements, statementRank);
  const isBlock = (i: number) => policy.statements[i]!.kind === "block";
  const body = printLines(path, print, "statements", order, (prev, next) => isBlock(prev) || isBlock(next) || blankLineAfter(options.originalText, policy.statements[prev]!.span.end));
  const dangling = danglingComments(policy, options);
  if (body.length === 0 && dangling.length === 0) return [...head, "}"];
  return [...head, indent([hardline, ...body, ...(dangling.length ? [body.length ? hardline : "", join(hardline, dangling)] : [])]), hardline, "}"];
}

function printBlock(path: PrintPath, options: PrintOptions, print: (path: PrintPath) => Doc): Doc {
  const block = path.node as DslBlock;
  const order = orderBy(block.items, itemRank);
  const body = printLines(path, print, "items", order, (prev) => blankLineAfter(options.originalText, block.items[prev]!.span.end));
  const dangling = danglingComments(block, options);
  if (body.length === 0 && dangling.length === 0) return [block.keyword.value, " {}"];
  return [block.keyword.value, " {", indent([hardline, ...body, ...(dangling.length ? [body.length ? hardline : "", join(hardline, dangling)] : [])]), hardline, "}"];
}

/** A statement's head, then its clauses in the documented order: on one line, or one clause per line. */
function printStatement(head: Doc, path: PrintPath, print: (path: PrintPath) => Doc): Doc {
  const node = path.node as { kind: string; clauses: readonly DslClause[] };
  const order = orderBy(node.clauses, (c) => rankIn(CLAUSE_ORDER[node.kind] ?? [], c.keyword.value));
  if (order.length === 0) return group(head);
  return group([head, indent(order.map((i) => [line, path.call(print, "clauses", i)]))]);
}

function printList(path: PrintPath, print: (path: PrintPath) => Doc): Doc {
  const list = path.node as DslList;
  const dangling = danglingComments(list);
  if (list.items.length === 0) return dangling.length ? group(["[", indent([hardline, join(hardline, dangling)]), hardline, "]"]) : "[]";
  const items = path.map(print, "items");
  return group(["[", indent([softline, join([",", line], items)]), ifBreak(","), softline, "]"]);
}

// ---- printing a tree with comments given beside it (sbc convert) ----------------------------------------

/** Comments for a node of a tree that was built, not parsed: Prettier never saw them. */
export interface NodeComments {
  readonly before: readonly string[];
  readonly trailing?: string;
  /** Inside a block, after its last item. */
  readonly end: readonly string[];
}

/** A minimal `AstPath` over a built tree that prints each node's comments around it. */
class BuiltPath implements PrintPath {
  private readonly stack: unknown[];
  constructor(root: unknown) {
    this.stack = [root];
  }
  get node(): unknown {
    return this.stack[this.stack.length - 1];
  }
  call(print: (path: PrintPath) => Doc, ...names: (string | number)[]): Doc {
    let cur = this.node as Record<string | number, unknown>;
    const pushed: unknown[] = [];
    for (const n of names) {
      cur = cur[n] as Record<string | number, unknown>;
      pushed.push(cur);
    }
    this.stack.push(...pushed);
    try {
      return print(this);
    } finally {
      this.stack.length -= pushed.length;
    }
  }
  map(print: (path: PrintPath) => Doc, ...names: (string | number)[]): Doc[] {
    let cur = this.node as Record<string | number, unknown>;
    for (const n of names) cur = cur[n] as Record<string | number, unknown>;
    return (cur as unknown as unknown[]).map((_, i) => this.call(print, ...names, i));
  }
}

/**
 * Print a built tree. `comments` gives each node's comments (statements, blocks and the file: `before` of the
 * file is its head, `end` its tail); the layout matches what Prettier makes of the same comments when it
 * formats the output again, so `sbc fmt` leaves converted files alone.
 */
export function printBuiltDsl(file: DslFile, comments: (node: unknown) => NodeComments | undefined): string {
  const options: PrintOptions = { endComments: (node) => (node === file ? [] : (comments(node)?.end ?? [])) };
  const print = (path: PrintPath): Doc => {
    const node = path.node;
    let doc = printDsl(path, options, print);
    const c = comments(node);
    if (!c) return doc;
    if (node === file) {
      const head = c.before.map(commentText);
      const tail = c.end.map(commentText);
      return [head.length ? [join(hardline, head), hardline, file.version || file.policy ? hardline : ""] : "", doc, tail.length ? [join(hardline, tail), hardline] : ""];
    }
    if (c.trailing !== undefined) doc = [doc, lineSuffix(" " + commentText(c.trailing)), breakParent];
    if (c.before.length) doc = [join(hardline, c.before.map(commentText)), hardline, doc];
    return doc;
  };
  const root = new BuiltPath(file);
  return printer.printDocToString(print(root), { printWidth: PRINT_WIDTH, tabWidth: 2, useTabs: false } as never).formatted;
}

export type { DslAction };
