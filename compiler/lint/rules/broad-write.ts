// broad-write: `/`, the home directory, or a directory between them, writable. Asked by meaning: may the
// sandbox create or change a file of a made-up name directly in that directory? A grant on the directory
// itself, on `/` above it, or a glob such as `${home}/*` all say yes; a grant on one child does not.

import type { FsRule } from "../../../ir/types.js";
import { allowingRule, ByRule, CHANGE_ACCESSES, paramValue, ruleSpan } from "../probe.js";
import type { LintRule } from "../rule.js";

/** A name no rule written for a real file would match. */
const PROBE_NAME = ".sbc-lint-probe";

export const broadWrite: LintRule = {
  id: "broad-write",
  code: "lintBroadWrite",
  defaultSeverity: "error",
  description: "`/`, the home directory or a directory above it is writable.",
  fixable: false,
  run(ctx) {
    const ir = ctx.boundIr;
    if (!ir) return;
    const home = paramValue(ir, "home");
    // `/`, then every ancestor of the home directory, then the home directory: broadest first.
    const parts = home.split("/").filter(Boolean);
    const dirs: { abs: string; shown: string }[] = [{ abs: "/", shown: "/" }];
    for (let i = 1; i <= parts.length; i++) {
      const abs = "/" + parts.slice(0, i).join("/");
      dirs.push({ abs, shown: i === parts.length ? "${home}" : abs });
    }
    const byRule = new ByRule<FsRule, string>();
    for (const d of dirs) {
      const rule = allowingRule(ir, CHANGE_ACCESSES, [`${d.abs === "/" ? "" : d.abs}/${PROBE_NAME}`]);
      if (rule) byRule.add(rule, d.shown);
    }
    for (const [rule, shown] of byRule.groups) {
      // The broadest directory a rule opens says it all: `/` writable implies the rest.
      const broadest = shown[0]!;
      const s = ruleSpan(rule);
      ctx.report({
        message: broadest === "/" ? "the whole filesystem is writable: `/`" : broadest === "${home}" ? "the home directory is writable: `${home}`" : `a directory above the home directory is writable: \`${broadest}\``,
        ...(s ? { span: s, spanLabel: "this rule makes it writable" } : {}),
        help: "a sandbox that can write everywhere can change shell start-up files, credentials and programs; grant the directories the work needs (`${workspace}`, caches) instead",
      });
    }
  },
};
