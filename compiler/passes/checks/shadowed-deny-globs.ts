// Check: a deny glob ranks at its literal prefix, so a deeper allow subtree inside that prefix takes
// precedence over it (`deny read ${workspace}/**/.env` does not cover `${workspace}/src/.env` when
// `${workspace}/src` is allowed on its own). That is the documented rule, but rarely what the author meant.

import { diag, type Diagnostic } from "../../../diagnostics/diagnostic.js";
import type { IR } from "../../../ir/types.js";
import { formatTemplate, globLiteralDepth, globComponentRegExp, hasWildcard, parseTemplate } from "../../../ir/paths.js";

/** Could some path at or beneath `prefix` match the glob? */
function globReachesBeneath(glob: readonly string[], prefix: readonly string[]): boolean {
  const test = (p: string, x: string) => (hasWildcard(p) ? globComponentRegExp(p).test(x) : p.replace(/\\(.)/g, "$1") === x);
  // Memoized failures: without them, a glob of many `**` against a deep prefix takes exponential time.
  const failed = new Set<number>();
  const go = (pi: number, xi: number): boolean => {
    if (xi === prefix.length) return true;
    if (pi === glob.length) return false;
    const state = pi * (prefix.length + 1) + xi;
    if (failed.has(state)) return false;
    const ok = glob[pi] === "**" ? go(pi + 1, xi) || go(pi, xi + 1) : test(glob[pi]!, prefix[xi]!) && go(pi + 1, xi + 1);
    if (!ok) failed.add(state);
    return ok;
  };
  return go(0, 0);
}

export function shadowedDenyGlobs(ir: IR): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Allow subtrees filed in a trie of their components under each proper prefix (root included), in policy
  // order, so a deny glob meets only the subtrees strictly beneath its anchor: comparing every pair was
  // quadratic. The entries total the rules' depths, linear in the input.
  interface Node {
    readonly children: Map<string, Node>;
    readonly beneath: { index: number; components: readonly string[] }[];
  }
  const roots = new Map<string, Node>();
  const fresh = (): Node => ({ children: new Map(), beneath: [] });
  if (!ir.filesystem.some((g) => g.effect === "deny" && g.kind === "glob")) return out;
  ir.filesystem.forEach((r, index) => {
    if (r.effect !== "allow" || r.kind !== "subtree") return;
    // A literal path need not read as a glob (a trailing `\`); such a subtree cannot be compared with one.
    let rt: ReturnType<typeof parseTemplate>;
    try {
      rt = parseTemplate(r.path);
    } catch {
      return;
    }
    let node = roots.get(rt.param ?? "") ?? fresh();
    roots.set(rt.param ?? "", node);
    for (let k = 0; k < rt.components.length; k++) {
      node.beneath.push({ index, components: rt.components });
      const c = rt.components[k]!;
      let next = node.children.get(c);
      if (!next) node.children.set(c, (next = fresh()));
      node = next;
    }
  });
  const at = (param: string | null, comps: readonly string[]): Node | undefined => {
    let node = roots.get(param ?? "");
    for (const c of comps) node = node?.children.get(c);
    return node;
  };
  for (const g of ir.filesystem) {
    if (g.effect !== "deny" || g.kind !== "glob") continue;
    const gt = parseTemplate(g.path);
    const anchor = globLiteralDepth(gt.components);
    const literal = gt.components.slice(0, anchor).map((c) => c.replace(/\\(.)/g, "$1"));
    const found = (at(gt.param, literal)?.beneath ?? []).find(
      (c) => ir.filesystem[c.index]!.access.some((a) => g.access.includes(a)) && globReachesBeneath(gt.components, c.components),
    );
    const shadow = found ? ir.filesystem[found.index] : undefined;
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
