// Check: an `allow` rule whose every access is also denied by a rule on the same pattern in the same file never
// decides anything (deny wins a tie), which is almost always a mistake. A later file denying what an earlier
// one allowed is an override, not a mistake, and is not reported.

import { diag, type Diagnostic } from "../../../diagnostics/diagnostic.js";
import type { FsRule, IR } from "../../../ir/types.js";

export function deadFsRules(ir: IR): Diagnostic[] {
  const out: Diagnostic[] = [];
  const key = (r: FsRule) => `${r.layer}\0${r.kind}\0${r.path}`;
  const deniesAt = new Map<string, FsRule[]>();
  for (const r of ir.filesystem) {
    if (r.effect !== "deny") continue;
    const list = deniesAt.get(key(r));
    if (list) list.push(r);
    else deniesAt.set(key(r), [r]);
  }
  ir.filesystem.forEach((r) => {
    if (r.effect !== "allow") return;
    const denies = deniesAt.get(key(r)) ?? [];
    if (!denies.length) return;
    if (!r.access.every((a) => denies.some((d) => d.access.includes(a)))) return;
    const first = denies[0]!;
    out.push(
      diag("deadRule", `this rule allows nothing: every access it allows on \`${r.path}\` is denied on the same path`, {
        ...(r.span ? { span: r.span } : {}),
        labels: first.span ? [{ span: first.span, message: "denied here; deny wins over allow on the same path" }] : [],
        help: "remove the allow rule, or narrow the deny rule",
      }),
    );
  });
  return out;
}
