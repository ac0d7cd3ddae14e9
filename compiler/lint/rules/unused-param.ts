// Rule `unused-param` (SBC0405): a parameter declared in the checked file that no path refers to. A leftover
// declaration looks like configuration — `--param logs=…` seems to mean something — while it changes
// nothing. It was a compiler warning; as a lint rule it can be configured and suppressed like the others.
// "Used" is what the compiler resolves: a path of a filesystem or unix socket rule in any file of the merge,
// a path of one of the checked file's tests, or the default of a parameter that is itself used.

import type { PathRef } from "../../../language/ast.js";
import { BUILTIN_PARAMS } from "../../../language/schema.js";
import type { LintRule } from "../rule.js";

export const unusedParam: LintRule = {
  id: "unused-param",
  code: "unusedParam",
  defaultSeverity: "warning",
  description: "A parameter declared in the policy is never used by any path.",
  fixable: false,
  run(context) {
    const { files, file, ir } = context;
    const used = new Set<string>();
    const note = (ref: PathRef) => {
      if (ref.template.param !== null) used.add(ref.template.param);
    };
    for (const f of files) {
      for (const r of f.filesystem) note(r.path);
      const u = f.network?.unix;
      if (u?.kind === "detail") for (const r of u.paths) note(r.path);
    }
    for (const t of file.tests) if ("path" in t) note(t.path);
    // A used parameter uses the one its default starts with (the last declaration of a name wins).
    const defaultHead = new Map<string, string | null>();
    for (const f of files) for (const p of f.params) defaultHead.set(p.name, p.default?.template.param ?? null);
    for (const name of [...used]) for (let d = defaultHead.get(name); d && !used.has(d); d = defaultHead.get(d)) used.add(d);
    for (const p of file.params) {
      if ((BUILTIN_PARAMS as readonly string[]).includes(p.name) || used.has(p.name)) continue;
      // Bound on the command line: the caller gave it a value, so it is not a leftover of the file. A config
      // file's default binding does not count: it applies to every policy that declares the name.
      if (context.givenParams ? context.givenParams.has(p.name) : ir.params.some((q) => q.name === p.name && q.value !== null)) continue;
      context.report({
        message: `parameter \`${p.name}\` is never used`,
        span: p.nameSpan,
        help: "remove it, or refer to it as `${" + p.name + "}`",
      });
    }
  },
};
