// Recording a benchmark's result in docs/benchmarks.md: each benchmark owns the text between its two markers
// (`<!-- bench:NAME:begin -->` … `<!-- bench:NAME:end -->`), and the rest of the document is left alone.

import { readFileSync, writeFileSync } from "node:fs";

export const beginMarker = (name: string) => `<!-- bench:${name}:begin -->`;
export const endMarker = (name: string) => `<!-- bench:${name}:end -->`;

/** Replace what lies between benchmark `name`'s markers in `path` with `body`. */
export function recordInDoc(path: string, name: string, body: string): void {
  const [begin, end] = [beginMarker(name), endMarker(name)];
  const doc = readFileSync(path, "utf8");
  const b = doc.indexOf(begin);
  const e = doc.indexOf(end);
  if (b < 0 || e < b) throw new Error(`${path} has no \`${begin}\` … \`${end}\` section to write the table into`);
  writeFileSync(path, `${doc.slice(0, b + begin.length)}\n${body.trim()}\n${doc.slice(e)}`);
}
