// The comments of a YAML policy, attached to the statements of its document tree (see document-comments.ts),
// so that `sbc convert` can carry them into the DSL. Comments are found with the `yaml` lexer (which knows
// quotes and block scalars); a comment belongs to a block when it is indented deeper than the block's key
// and the block has not been closed by a shallower line before it.

import { Lexer } from "yaml";
import { attachComments, statementPaths, type DocumentComments, type RawComment, type StatementSpan } from "./document-comments.js";
import type { YamlDocument } from "./yaml-source.js";

/** Lexer tokens that mark structure without consuming text (document start, flow end, scalar start). */
const CONTROL = new Set(["\x02", "\x18", "\x1f"]);

export function yamlRawComments(text: string): RawComment[] {
  const out: RawComment[] = [];
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (CONTROL.has(token)) continue;
    if (token.startsWith("#")) {
      const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
      const before = text.slice(lineStart, offset);
      out.push({ offset, text: token.slice(1), ownLine: before.trim() === "", column: offset - lineStart });
    }
    offset += token.length;
  }
  return out;
}

export function yamlComments(doc: YamlDocument): DocumentComments {
  const statements: StatementSpan[] = statementPaths(doc.value).map(({ path, block }) => {
    const loc = doc.locate(path);
    const start = (loc.key ?? loc.value).start;
    return { path, block, start, end: loc.value.end, column: doc.source.position(start).column - 1 };
  });
  const text = doc.source.text;
  /**
   * A comment is in a block when it is indented deeper than the block's key and no line between the block's
   * start and the comment is indented as shallow as the key: a key that is not a statement of its own can
   * close a nested block (`rules:` after `unix:` in `network:`).
   */
  const inBlock = (b: StatementSpan, c: RawComment) => {
    if (c.column <= b.column) return false;
    for (let at = text.indexOf("\n", b.start) + 1; at > 0 && at < c.offset; at = text.indexOf("\n", at) + 1) {
      const line = text.slice(at, text.indexOf("\n", at) < 0 ? text.length : text.indexOf("\n", at));
      const indent = line.length - line.trimStart().length;
      if (line.trim() !== "" && !line.trimStart().startsWith("#") && indent <= b.column) return false;
    }
    return true;
  };
  return attachComments(yamlRawComments(text), statements, inBlock);
}
