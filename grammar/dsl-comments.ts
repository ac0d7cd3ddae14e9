// The comments of a parsed `.sbc` file, attached to the statements of its document tree (see
// language/document-comments.ts), so that `sbc convert --to yaml` can carry them into YAML. Blocks
// have braces, so a comment belongs to a block exactly when it sits before the block's `}`.

import { attachComments, type DocumentComments, type RawComment, type StatementSpan } from "../language/document-comments.js";
import type { PathSegment } from "../language/yaml-source.js";
import type { DslBlock, DslFile } from "./ast.js";

export function dslStatementSpans(file: DslFile): StatementSpan[] {
  const source = file.span.source;
  const out: StatementSpan[] = [];
  const add = (path: PathSegment[], start: number, end: number, block = false) =>
    out.push({ path, start, end, column: source.position(start).column - 1, block });
  if (file.version) add(["sbc"], file.version.span.start, file.version.span.end);
  const policy = file.policy;
  if (!policy) return out;
  if (policy.name) add(["name"], policy.span.start, policy.open.end);
  for (const s of policy.statements) {
    const key = s.keyword.value;
    if (s.kind === "setting") {
      add([key], s.span.start, s.span.end);
      continue;
    }
    add([key], s.span.start, s.close.end, true);
    const items = (prefix: PathSegment[], block: DslBlock, rulesKey: string) => {
      let rule = 0;
      block.items.forEach((item, i) => {
        if (item.kind === "param") add([...prefix, item.name.value], item.span.start, item.span.end);
        else if (key === "filesystem" || key === "tests") add([...prefix, i], item.span.start, item.span.end);
        else if (item.kind === "setting") add([...prefix, item.keyword.value], item.span.start, item.span.end);
        else if (item.kind === "block") {
          // `unix { }` in `network { }`: a block statement of its own, whose rules are `paths:`.
          add([...prefix, item.keyword.value], item.span.start, item.close.end, true);
          items([...prefix, item.keyword.value], item, "paths");
        } else add([...prefix, rulesKey, rule++], item.span.start, item.span.end);
      });
    };
    items([key], s, "rules");
  }
  return out;
}

export function dslComments(file: DslFile): DocumentComments {
  const source = file.span.source;
  const raw: RawComment[] = file.comments.map((c) => {
    const { column } = source.position(c.span.start);
    const lineStart = c.span.start - (column - 1);
    return { offset: c.span.start, text: c.text.replace(/^#/, "").replace(/[ \t\r]+$/, ""), ownLine: source.text.slice(lineStart, c.span.start).trim() === "", column: column - 1 };
  });
  return attachComments(raw, dslStatementSpans(file), (block, c) => c.offset < block.end);
}
