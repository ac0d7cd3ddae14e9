// One access class of the IR, seen as the Linux backend sees it: the anchors where rules of the class sit
// (globs and exact denies turned into subtrees, since neither Landlock nor a mount can match a pattern or
// stop at one path) and the decision that holds beneath each anchor. The Landlock grants and the mount layer
// are both read off these regions, so the two agree on every node by construction.

import type { Access } from "../../ir/access.js";
import type { FsRule, IR } from "../../ir/types.js";
import { components, globLiteralDepth, joinComponents } from "../../ir/paths.js";

export interface RegionNode {
  readonly path: string;
  readonly parts: readonly string[];
  /** Rules anchored here, after globs and exact rules were turned into subtrees. */
  readonly rules: { effect: "allow" | "deny"; layer: number; kind: number; rule: FsRule }[];
}

export interface RegionDecision {
  readonly effect: "allow" | "deny";
  readonly rank: readonly number[];
  readonly ifMissing: "skip" | "error";
}

export interface ClassRegions {
  /** Every anchor of the class, shallow first. */
  readonly nodes: readonly RegionNode[];
  /** The decision that holds beneath each anchor (by path). */
  readonly decision: ReadonlyMap<string, RegionDecision>;
  /** The nearest anchor above a node, if any. */
  readonly parentOf: (n: RegionNode) => RegionNode | undefined;
  /** `exact:` allows, which only a rule on the file itself can express. */
  readonly fileAllows: readonly FsRule[];
}

/** What the regions could not say exactly, for the caller to announce (once per rule). */
export type RegionNarrowing =
  | { readonly kind: "exact-deny"; readonly rule: FsRule; readonly allowBeneath: boolean }
  | { readonly kind: "exact-allow-dir"; readonly rule: FsRule }
  | { readonly kind: "allow-glob"; readonly rule: FsRule }
  | { readonly kind: "deny-glob"; readonly rule: FsRule; readonly prefix: string };

/** Classes whose rights only concern files: an `exact:` allow of them can be granted on the file itself. */
export const FILE_CLASSES: ReadonlySet<Access> = new Set(["read", "execute", "write", "truncate", "ioctl"]);

export const KIND_RANK = { subtree: 0, glob: 1, exact: 2 } as const;

/** The IR's precedence (depth, kind, layer, deny over allow); a glob or exact deny turned into a subtree keeps its kind. */
function rank(a: { effect: string; layer: number; parts: number; kind: number }): number[] {
  return [a.parts, a.kind, a.layer, a.effect === "deny" ? 1 : 0];
}

export function greater(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

const within = (x: string, base: string) => base === "/" || x === base || x.startsWith(base + "/");

/** The regions of one access class in a bound IR; `onNarrowing` hears of every rule the regions approximate. */
export function classRegions(ir: IR, cls: Access, onNarrowing?: (n: RegionNarrowing) => void): ClassRegions {
  const nodes = new Map<string, RegionNode>();
  const nodeAt = (path: string) => {
    let n = nodes.get(path);
    if (!n) nodes.set(path, (n = { path, parts: components(path), rules: [] }));
    return n;
  };
  const fileAllows: FsRule[] = [];
  for (const r of ir.filesystem) {
    if (!r.access.includes(cls)) continue;
    if (r.kind === "subtree") nodeAt(r.path).rules.push({ effect: r.effect, layer: r.layer, kind: KIND_RANK.subtree, rule: r });
    else if (r.kind === "exact") {
      if (r.effect === "deny") {
        // Neither Landlock nor a mount can deny one path without what is beneath it: deny the subtree (narrower).
        nodeAt(r.path).rules.push({ effect: "deny", layer: r.layer, kind: KIND_RANK.exact, rule: r });
        const allowBeneath = ir.filesystem.some((a) => a.effect === "allow" && a.access.includes(cls) && (within(a.path, r.path) || (a.kind !== "exact" && within(r.path, a.path))));
        onNarrowing?.({ kind: "exact-deny", rule: r, allowBeneath });
      } else if (FILE_CLASSES.has(cls)) fileAllows.push(r);
      else onNarrowing?.({ kind: "exact-allow-dir", rule: r });
    } else if (r.effect === "allow") {
      onNarrowing?.({ kind: "allow-glob", rule: r });
    } else {
      const parts = components(r.path).slice(0, globLiteralDepth(components(r.path)));
      const prefix = joinComponents(parts.map((c) => c.replace(/\\(.)/g, "$1")));
      onNarrowing?.({ kind: "deny-glob", rule: r, prefix });
      nodeAt(prefix).rules.push({ effect: "deny", layer: r.layer, kind: KIND_RANK.glob, rule: r });
    }
  }
  // Effective decision beneath each node: the best rule among the rules anchored at it and its ancestors.
  const sorted = [...nodes.values()].sort((a, b) => a.parts.length - b.parts.length || (a.path < b.path ? -1 : 1));
  const decision = new Map<string, RegionDecision>();
  const parentOf = (n: RegionNode): RegionNode | undefined => {
    for (let k = n.parts.length - 1; k >= 0; k--) {
      const p = nodes.get(joinComponents(n.parts.slice(0, k)));
      if (p) return p;
    }
    return undefined;
  };
  for (const n of sorted) {
    const parent = parentOf(n);
    let best = parent ? decision.get(parent.path) : undefined;
    for (const r of n.rules) {
      const rk = rank({ effect: r.effect, layer: r.layer, parts: n.parts.length, kind: r.kind });
      if (!best || greater(rk, best.rank)) best = { effect: r.effect, rank: rk, ifMissing: r.rule.ifMissing };
    }
    decision.set(n.path, best ?? { effect: "deny", rank: [-1], ifMissing: "skip" });
  }
  return { nodes: sorted, decision, parentOf, fileAllows };
}

/** The decision of a class at `path` (bound, normalized): the deepest anchor at or above it decides; none: deny. */
export function regionEffect(regions: ClassRegions, path: string): "allow" | "deny" {
  const parts = components(path);
  for (let k = parts.length; k >= 0; k--) {
    const d = regions.decision.get(joinComponents(parts.slice(0, k)));
    if (d) return d.effect;
  }
  return "deny";
}
