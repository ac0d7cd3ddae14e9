// Comments carried across a conversion. YAML and the DSL both have `#` line comments but attach them to
// different things, so a comment is kept at the nearest *statement* of the document tree (a top-level key, a
// param, a rule, a test, a section default): the unit that has one line (or block) in both syntaxes.
// Conversion moves comments between surfaces through this map, keyed by the statement's JSON path.

import type { PathSegment } from "./yaml-source.js";

/** Comment texts are what follows `#` on the line, verbatim (usually with a leading space). */
export interface StatementComments {
  /** Own-line comments just before the statement. */
  readonly before: string[];
  /** A comment at the end of the statement's (last) line. */
  trailing?: string;
  /** Own-line comments after the last statement inside a block statement (`filesystem { … # here }`). */
  readonly end: string[];
}

export interface DocumentComments {
  /** Comments before the first statement of the file. */
  readonly head: string[];
  readonly statements: Map<string, StatementComments>;
  /** Comments after the last statement of the file. */
  readonly tail: string[];
}

export function emptyComments(): DocumentComments {
  return { head: [], statements: new Map(), tail: [] };
}

export const pathKey = (path: readonly PathSegment[]): string => JSON.stringify(path);

/** Sections whose entries are statements of their own (`default`, `rules`, …), not one value. */
const BLOCK_SECTIONS = new Set(["network", "syscalls", "commands", "linux"]);
const LIST_SECTIONS = new Set(["filesystem", "tests"]);

/**
 * The statement a document path belongs to: the longest prefix of `path` that is a statement. A `rules` key
 * has no statement of its own in the DSL (rules sit directly in the section's block), so it maps to its
 * section; so does anything nested below a statement (a rule's `path:` key belongs to the rule).
 */
export function statementOf(path: readonly PathSegment[]): PathSegment[] {
  const [top, second, third] = path;
  if (top === undefined) return [];
  if (typeof top !== "string") return [top];
  if (top === "params" || LIST_SECTIONS.has(top)) return second === undefined ? [top] : [top, second];
  if (BLOCK_SECTIONS.has(top) && second !== undefined) {
    if (second === "rules") return third === undefined ? [top] : [top, "rules", third];
    // `network.unix` as a mapping is a block of its own: `pairs`, `abstract` and each path rule are statements.
    if (top === "network" && second === "unix" && third !== undefined) {
      if (third === "paths") return path[3] === undefined ? [top, second] : [top, second, "paths", path[3]];
      return [top, second, third];
    }
    return [top, second];
  }
  return [top];
}

/** Is the statement a block (its own comments may sit after its last inner statement)? */
export function isBlockStatement(path: readonly PathSegment[], value: unknown): boolean {
  if (path.length === 2 && path[0] === "network" && path[1] === "unix") return value !== null && typeof value === "object" && !Array.isArray(value);
  if (path.length !== 1) return false;
  const top = path[0];
  if (top === "params" || (typeof top === "string" && LIST_SECTIONS.has(top))) return true;
  return typeof top === "string" && BLOCK_SECTIONS.has(top) && value !== null && typeof value === "object";
}

export function commentsAt(c: DocumentComments, path: readonly PathSegment[]): StatementComments {
  const key = pathKey(path);
  let s = c.statements.get(key);
  if (!s) {
    s = { before: [], end: [] };
    c.statements.set(key, s);
  }
  return s;
}

/** Every comment text in reading order of the statements given, for tests that check nothing was lost. */
export function allCommentTexts(c: DocumentComments): string[] {
  const out = [...c.head];
  for (const s of c.statements.values()) out.push(...s.before, ...(s.trailing !== undefined ? [s.trailing] : []), ...s.end);
  return [...out, ...c.tail];
}

/** Add a trailing comment; a statement has one trailing place, so a second one goes before the statement. */
export function addTrailing(s: StatementComments, text: string): void {
  if (s.trailing === undefined) s.trailing = text;
  else s.before.push(text);
}

/** Split a `yaml` package comment (lines joined by `\n`, `#` removed) into lines, dropping blank ones. */
export function commentLines(text: string | null | undefined): string[] {
  if (!text) return [];
  return text.split("\n").filter((l) => l.trim() !== "");
}

// ---- attaching comments found in a source to the statements of its document ------------------------------

export interface RawComment {
  /** Offset of the `#`. */
  readonly offset: number;
  /** The text after `#`. */
  readonly text: string;
  /** Nothing but whitespace before it on its line. */
  readonly ownLine: boolean;
  /** 0-based column of the `#`. */
  readonly column: number;
}

export interface StatementSpan {
  readonly path: PathSegment[];
  /** Where the statement starts (its key, or its first word) and ends, as offsets. */
  readonly start: number;
  readonly end: number;
  /** 0-based column of `start`. */
  readonly column: number;
  readonly block: boolean;
}

/** Every statement path of a document tree, in the tree's order. */
export function statementPaths(value: unknown): { path: PathSegment[]; block: boolean }[] {
  const out: { path: PathSegment[]; block: boolean }[] = [];
  if (!value || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out.push({ path: [key], block: isBlockStatement([key], v) });
    if (key === "params" && v && typeof v === "object") for (const name of Object.keys(v)) out.push({ path: [key, name], block: false });
    else if (LIST_SECTIONS.has(key) && Array.isArray(v)) v.forEach((_, i) => out.push({ path: [key, i], block: false }));
    else if (BLOCK_SECTIONS.has(key) && v && typeof v === "object") {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
        if (k2 === "rules" && Array.isArray(v2)) v2.forEach((_, i) => out.push({ path: [key, "rules", i], block: false }));
        else if (isBlockStatement([key, k2], v2)) {
          out.push({ path: [key, k2], block: true });
          for (const [k3, v3] of Object.entries(v2 as Record<string, unknown>)) {
            if (k3 === "paths" && Array.isArray(v3)) v3.forEach((_, i) => out.push({ path: [key, k2, "paths", i], block: false }));
            else out.push({ path: [key, k2, k3], block: false });
          }
        } else out.push({ path: [key, k2], block: false });
      }
    }
  }
  return out;
}

/**
 * Attach comments by position. A comment after code on its line trails the innermost statement started
 * before it. An own-line comment goes before the next statement, unless it sits inside a block that ends
 * before that statement (`inBlock` decides, by braces in the DSL and by indentation in YAML): then it ends
 * that block. Comments before the first statement are the file's head, after the last one its tail.
 */
export function attachComments(
  comments: readonly RawComment[],
  statements: readonly StatementSpan[],
  inBlock: (block: StatementSpan, comment: RawComment) => boolean,
): DocumentComments {
  const out = emptyComments();
  const sorted = [...statements].sort((a, b) => a.start - b.start || a.path.length - b.path.length);
  const contains = (outer: StatementSpan, inner: StatementSpan) =>
    inner.path.length > outer.path.length && outer.path.every((s, i) => inner.path[i] === s);
  for (const c of comments) {
    if (!c.ownLine) {
      let owner: StatementSpan | undefined;
      for (const s of sorted) if (s.start <= c.offset) owner = s;
      if (owner) {
        // The innermost statement that started before the comment and is not finished before its line.
        addTrailing(commentsAt(out, owner.path), c.text);
        continue;
      }
    }
    const next = sorted.find((s) => s.start > c.offset);
    let prev: StatementSpan | undefined;
    for (const s of sorted) if (s.start < c.offset) prev = s;
    // Only the block the previous statement is in (or is) can still be open here.
    const open = sorted.filter((b) => b.block && prev && (b === prev || contains(b, prev)) && (!next || !contains(b, next)) && inBlock(b, c));
    const block = open[open.length - 1];
    if (block) commentsAt(out, block.path).end.push(c.text);
    else if (!next) out.tail.push(c.text);
    else if (next === sorted[0]) out.head.push(c.text);
    else commentsAt(out, next.path).before.push(c.text);
  }
  return out;
}
