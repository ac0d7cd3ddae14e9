// `--format github`: one GitHub Actions workflow command per diagnostic (`::error file=…,line=…::message`),
// which the runner turns into an annotation on the file and line in the pull request. Escaping follows
// GitHub's rules (actions/toolkit `command.ts`): `%`, CR and LF in the message; also `:` and `,` in properties.

import type { Diagnostic } from "./diagnostic.js";
import { location, reportPath } from "./render.js";

/** The message part of a workflow command. */
export function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A property value (`file=`, `title=`): as data, and `:` and `,` too, which would end the value. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/**
 * One workflow command. Columns are given only when the span starts and ends on one line (GitHub ignores
 * them otherwise), and `endColumn` is the last character's column, inclusive; a span that ends at the start
 * of a line ends on the line before. The help and the secondary labels follow the message on lines of their
 * own (`%0A`), which GitHub shows in the annotation.
 */
export function toGithubCommand(d: Diagnostic, fileOf?: (d: Diagnostic) => string | undefined): string {
  const props: [string, string][] = [];
  if (d.span) {
    const l = location(d.span);
    let endLine = l.endLine;
    if (endLine > l.line && l.endColumn === 1) endLine--;
    props.push(["file", reportPath(l.file)], ["line", String(l.line)]);
    if (endLine === l.line) props.push(["col", String(l.column)], ["endLine", String(endLine)], ["endColumn", String(Math.max(l.column, l.endColumn - 1))]);
    else props.push(["endLine", String(endLine)]);
  } else {
    const file = fileOf?.(d);
    if (file !== undefined) props.push(["file", reportPath(file)]);
  }
  props.push(["title", `${d.code} ${d.name}`]);
  const lines = [d.message];
  for (const label of d.labels) {
    const l = location(label.span);
    lines.push(`${reportPath(l.file)}:${l.line}:${l.column}: ${label.message}`);
  }
  if (d.help) lines.push(`help: ${d.help}`);
  const command = d.severity === "error" ? "error" : "warning";
  return `::${command} ${props.map(([k, v]) => `${k}=${escapeProperty(v)}`).join(",")}::${escapeData(lines.join("\n"))}`;
}
