// Make/Ninja depfiles (`out: dep1 dep2`), the format `cc -MD` writes: a build system that includes one knows
// that an output must be regenerated when a policy, a file it extends, or the config changes.

import { isAbsolute, relative, sep } from "node:path";

/**
 * A path as a depfile names it: relative to `base` (the directory the build tool runs in) when it lies
 * beneath it, absolute otherwise; `/`-separated.
 */
export function depPath(abs: string, base: string): string {
  const rel = relative(base, abs);
  const p = rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel : abs;
  return sep === "/" ? p : p.split(sep).join("/");
}

/**
 * Escape one path for a depfile. Make and Ninja read `\ ` as a space in a name, `\#` as `#` (Make would
 * start a comment), and `$$` as `$`; a backslash is special only before those characters, so a run of
 * backslashes before a space or `#` is doubled, as gcc does. A line break cannot be written at all: undefined.
 */
export function escapeDepPath(p: string): string | undefined {
  if (/[\n\r]/.test(p)) return undefined;
  return p.replace(/(\\*)([ #])/g, (_m, bs: string, c: string) => `${bs}${bs}\\${c}`).replace(/\$/g, "$$$$");
}

/**
 * The text of a depfile: one rule per entry, `target: deps`, deps in the order given, without duplicates; or
 * the first path that cannot be written in one.
 */
export function depfileText(rules: readonly { readonly target: string; readonly deps: readonly string[] }[], base: string): string | { readonly unwritable: string } {
  let text = "";
  for (const r of rules) {
    const names = [r.target, ...new Set(r.deps)].map((p) => depPath(p, base));
    const escaped = names.map(escapeDepPath);
    const bad = escaped.indexOf(undefined);
    if (bad >= 0) return { unwritable: names[bad]! };
    text += `${escaped[0]}: ${escaped.slice(1).join(" ")}\n`;
  }
  return text;
}
