// The comments of a YAML policy, attached to the statements of its document tree (see document-comments.ts),
// so that `sbc convert` can carry them into the DSL. Comments are found with the `yaml` lexer (which knows
// quotes and block scalars); a comment belongs to a block when it is indented deeper than the block's key.

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
  return attachComments(yamlRawComments(doc.source.text), statements, (b, c) => c.column > b.column);
}
