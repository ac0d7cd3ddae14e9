// Make/Ninja depfiles (`out: dep1 dep2`), the format `cc -MD` writes: a build system that includes one knows
// that an output must be regenerated when a policy, a file it extends, or the config changes.

import { isAbsolute, relative, sep } from "node:path";

/**
 * A path as a depfile names it: relative to `base` (the directory the build tool runs in) when it lies
 * beneath it, absolute otherwise; `/`-separated.
 */
export function depPath(abs: string, base: string): string {
  const rel = relative(base, abs);
  const p = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
  return sep === "/" ? p : p.split(sep).join("/");
}

/**
 * Escape one path for a depfile. Make and Ninja read `\ ` as a space in a name, `\#` as `#` (Make would
 * start a comment), and `$$` as `$`; a backslash is special only before those characters, so a run of
 * backslashes before a space or `#` is doubled, as gcc does. A newline cannot be written at all.
 */
export function escapeDepPath(p: string): string {
  if (/[\n\r]/.test(p)) throw new Error(`a depfile cannot name a path with a line break: \`${JSON.stringify(p)}\``);
  return p
    .replace(/(\\*)([ #])/g, (_m, bs: string, c: string) => `${bs}${bs}\\${c}`)
    .replace(/\$/g, "$$$$");
}

/** The text of a depfile: one rule per entry, `target: deps`, deps in the order given, without duplicates. */
export function depfileText(rules: readonly { readonly target: string; readonly deps: readonly string[] }[], base: string): string {
  return rules.map((r) => `${escapeDepPath(depPath(r.target, base))}: ${[...new Set(r.deps)].map((d) => escapeDepPath(depPath(d, base))).join(" ")}\n`).join("");
}
