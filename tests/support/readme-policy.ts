// The README's first policy and the acceptance edit of issue 14 (`${home}/.ssh` read-write), shared by the
// diff engine's tests and the CLI's.

import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/** The README's first policy (the block after "A first policy:"). */
export function readmePolicy(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = /A first policy:\n\n```yaml\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no block after `A first policy:`");
  return m[1]!;
}

/** The README's policy with `${home}/.ssh` read-write added after its own filesystem rule. */
export function withSshReadWrite(policy: string): string {
  const out = policy.replace(/(  - allow: read-write\n    path: \$\{home\}\/\.cache\/npm\n)/, "$1  - allow: read-write\n    path: ${home}/.ssh\n");
  if (out === policy) throw new Error("the README's policy changed shape: no `${home}/.cache/npm` rule to add beside");
  return out;
}
