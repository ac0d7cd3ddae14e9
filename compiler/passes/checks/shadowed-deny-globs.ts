// Check: a deny glob ranks at its literal prefix, so a deeper allow subtree inside that prefix takes
// precedence over it (`deny read ${workspace}/**/.env` does not cover `${workspace}/src/.env` when
// `${workspace}/src` is allowed on its own). That is the documented rule, but rarely what the author meant.

import { diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { IR } from "../../ir/types.js";
import { formatTemplate, globLiteralDepth, globComponentRegExp, hasWildcard, parseTemplate } from "../../paths.js";

/** Could some path at or beneath `prefix` match the glob? */
function globReachesBeneath(glob: readonly string[], prefix: readonly string[]): boolean {
  const test = (p: string, x: string) => (hasWildcard(p) ? globComponentRegExp(p).test(x) : p.replace(/\\(.)/g, "$1") === x);
  const go = (pi: number, xi: number): boolean => {
    if (xi === prefix.length) return true;
    if (pi === glob.length) return false;
    if (glob[pi] === "**") return go(pi + 1, xi) || go(pi, xi + 1);
    return test(glob[pi]!, prefix[xi]!) && go(pi + 1, xi + 1);
  };
  return go(0, 0);
}

export function shadowedDenyGlobs(ir: IR): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const g of ir.filesystem) {
    if (g.effect !== "deny" || g.kind !== "glob") continue;
    const gt = parseTemplate(g.path);
    const anchor = globLiteralDepth(gt.components);
    const shadow = ir.filesystem.find((r) => {
      if (r.effect !== "allow" || r.kind !== "subtree" || !r.access.some((a) => g.access.includes(a))) return false;
      const rt = parseTemplate(r.path);
      if (rt.param !== gt.param || rt.components.length <= anchor) return false;
      const within = gt.components.slice(0, anchor).every((c, i) => c.replace(/\\(.)/g, "$1") === rt.components[i]);
      return within && globReachesBeneath(gt.components, rt.components);
    });
    if (!shadow) continue;
    const tail = gt.components.slice(anchor);
    const st = parseTemplate(shadow.path);
    const suggestion = formatTemplate({ param: st.param, components: [...st.components, ...tail] });
    out.push(
      diag("shadowedDenyGlob", `deny glob \`${g.path}\` does not apply beneath \`${shadow.path}\`, where a more specific allow decides`, {
        ...(g.span ? { span: g.span } : {}),
        labels: shadow.span ? [{ span: shadow.span, message: "this allow is more specific than the glob's anchor" }] : [],
        help: `add the same deny anchored there: \`glob: ${suggestion}\``,
      }),
    );
  }
  return out;
}
