// The one mechanical fix the filesystem rules offer: append `deny` rules to the checked file. A deny rule in
// the last file of the merge only ever takes access away, so the fixed policy is narrower than or equal to the
// original — never wider — in either syntax. Where the file's layout is not one this module can extend
// with certainty (flow-style YAML, an empty `filesystem` section, a document end marker), no fix is offered.

import type { Fix } from "../../diagnostics/diagnostic.js";
import { span } from "../../diagnostics/source.js";
import type { PolicyFile } from "../../language/ast.js";
import { isDslPath } from "../../grammar/index.js";
import { scan } from "../../grammar/lexer.js";

export interface DenyRule {
  /** An access word or group: `read`, `modify`, `read-write`. */
  readonly access: string;
  readonly kind: "path" | "glob";
  /** As written in a policy: `${home}/.ssh`. */
  readonly path: string;
  readonly reason: string;
}

const quote = (s: string) => JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));

/** A fix that appends `rules` to the checked file's filesystem section (creating it if needed), or undefined. */
export function appendDenyRules(file: PolicyFile, rules: readonly DenyRule[], description: string): Fix | undefined {
  if (!rules.length) return undefined;
  const edit = isDslPath(file.source.path) ? dslEdit(file, rules) : yamlEdit(file, rules);
  return edit ? { description, edits: [{ span: span(file.source, edit.at, edit.at), text: edit.text }] } : undefined;
}

function eolOf(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}

/** Offset just past the line that `offset` is on (past its terminator), and whether a terminator was there. */
function lineEnd(text: string, offset: number): { at: number; terminated: boolean } {
  if (offset > 0 && text[offset - 1] === "\n") return { at: offset, terminated: true };
  const nl = text.indexOf("\n", offset);
  return nl < 0 ? { at: text.length, terminated: false } : { at: nl + 1, terminated: true };
}

function yamlEdit(file: PolicyFile, rules: readonly DenyRule[]): { at: number; text: string } | undefined {
  const text = file.source.text;
  const eol = eolOf(text);
  const item = (dash: number, keys: number) =>
    rules
      .map((r) => `${" ".repeat(dash)}- deny: ${r.access}${eol}${" ".repeat(keys)}${r.kind}: ${quote(r.path)}${eol}${" ".repeat(keys)}reason: ${quote(r.reason)}${eol}`)
      .join("");
  const last = file.filesystem[file.filesystem.length - 1];
  if (last) {
    // Only a block sequence item (`  - allow: …` or `  - {allow: …}`) can be followed by another.
    const lineStart = text.lastIndexOf("\n", last.span.start - 1) + 1;
    const prefix = text.slice(lineStart, last.span.start);
    const m = /^( *)- +$/.exec(prefix);
    if (!m) return undefined;
    const end = lineEnd(text, last.span.end);
    return { at: end.at, text: (end.terminated ? "" : eol) + item(m[1]!.length, prefix.length) };
  }
  // No rules: add the section at the end, if the file is one block mapping with nothing after its document.
  if (/^filesystem[ \t]*:/m.test(text) || !/^sbc[ \t]*:/m.test(text) || /^(\.\.\.|---)[ \t]*(#.*)?\r?$/m.test(text.slice(text.search(/^sbc[ \t]*:/m)))) {
    return undefined;
  }
  const terminated = text.length === 0 || text.endsWith("\n");
  return { at: text.length, text: (terminated ? "" : eol) + `filesystem:${eol}` + item(2, 4) };
}

function dslEdit(file: PolicyFile, rules: readonly DenyRule[]): { at: number; text: string } | undefined {
  const text = file.source.text;
  const eol = eolOf(text);
  const statement = (r: DenyRule) => `deny ${r.access} ${r.kind} ${quote(r.path)} reason ${quote(r.reason)}`;
  const last = file.filesystem[file.filesystem.length - 1];
  if (last) {
    const lineStart = text.lastIndexOf("\n", last.span.start - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart, last.span.start))![0];
    // After a comment that ends the rule's line, so the comment stays with its rule.
    const nl = text.slice(last.span.end).search(/\r?\n|$/);
    const rest = text.slice(last.span.end, last.span.end + nl);
    const at = /^[ \t]*(#.*)?$/.test(rest) ? last.span.end + nl : last.span.end;
    return { at, text: rules.map((r) => `${eol}${indent}${statement(r)}`).join("") };
  }
  const { tokens } = scan(text);
  // A `filesystem { }` without rules: where its rules would go is not worth guessing; offer nothing.
  if (tokens.some((t, i) => t.image === "filesystem" && tokens[i + 1]?.image === "{")) return undefined;
  const close = tokens[tokens.length - 1];
  if (!close || close.image !== "}") return undefined;
  const lineStart = text.lastIndexOf("\n", close.startOffset - 1) + 1;
  const alone = text.slice(lineStart, close.startOffset).trim() === "";
  const body = `  filesystem {${eol}${rules.map((r) => `    ${statement(r)}${eol}`).join("")}  }${eol}`;
  return alone ? { at: lineStart, text: body } : { at: close.startOffset, text: eol + body };
}
