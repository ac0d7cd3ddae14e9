// Values for the built-in parameters taken from the running process, for commands that act here and now
// (`sbc eval`, later `sbc exec`): the workspace and cwd are the current directory.

import { homedir, tmpdir } from "node:os";
import { formatTemplate, parsePath } from "../../ir/paths.js";

export function environmentBindings(cwd: string = process.cwd()): Record<string, string> {
  const out: Record<string, string> = {};
  const candidates: Record<string, string> = { workspace: cwd, cwd, home: process.env.HOME || homedir(), tmpdir: process.env.TMPDIR || tmpdir() };
  for (const [k, v] of Object.entries(candidates)) {
    const p = parsePath(v);
    // An odd environment (relative TMPDIR, control characters) leaves the param unbound rather than guessed.
    if (p.template && p.template.param === null && p.errors.length === 0) out[k] = formatTemplate(p.template);
  }
  return out;
}
