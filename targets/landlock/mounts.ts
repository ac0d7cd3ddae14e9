// The mount layer of the Linux bundle: in a private mount namespace, every path gets two attributes, writable
// and executable, from the policy's `write` and `execute` decisions. Read-only at the mount level is what
// Landlock cannot say: it stops chmod, chown, utimes and xattrs (which Landlock has no right for) and keeps a
// protected name read-only inside a writable tree without granting the tree entry by entry; `noexec` stops
// `ld.so FILE`, which maps a file without execve. The loader applies it (native/README.md, `mount` lines);
// where no namespace can be had, Landlock's carve-outs stand alone (docs/targets/landlock.md).

import { ACCESS_GROUPS, type Access } from "../../ir/access.js";
import type { FsRule, IR } from "../../ir/types.js";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { components, joinComponents } from "../../ir/paths.js";
import { regionEffect, type ClassRegions } from "./regions.js";

export interface MountNode {
  /** Absolute path (or `${param}/…` in a symbolic table). */
  readonly path: string;
  readonly writable: boolean;
  readonly executable: boolean;
  /** Applied only when the path is not a directory at launch: an `exact:` allow of a file. */
  readonly file?: boolean;
}

/** The classes a read-only mount refuses: every change to a file or a directory's entries (the `modify` group). */
export const MODIFY_CLASSES: ReadonlySet<Access> = new Set(ACCESS_GROUPS.modify);

/**
 * A rule the mount layer enforces more narrowly than written: `read-only-region` — changes allowed where
 * `write` is not, which a read-only mount refuses (`classes` lists them); `held-if-missing` — a read-only path
 * the policy lets be created, which the launcher holds with an empty read-only mount point if it is missing at
 * launch, so it cannot be created during the run.
 */
export interface MountNarrowing {
  readonly kind: "read-only-region" | "held-if-missing";
  readonly rule: FsRule;
  readonly path: string;
  readonly classes: readonly Access[];
}

export interface MountLayer {
  /** Shallow first; `/` first when there is anything at all. Empty: the policy needs no mount namespace. */
  readonly nodes: readonly MountNode[];
  readonly narrowings: readonly MountNarrowing[];
}

/**
 * The mount layer of a bound IR. `regionsOf` gives each class's regions (the same ones the Landlock grants
 * are read from). A path is writable at the mount level where the policy allows `write` (the metadata
 * changes follow `write`), executable where it allows `execute`. Where another change (create, delete,
 * rename) is allowed without `write`, the mount keeps the path read-only: narrower, and reported.
 */
export function lowerMounts(ir: IR, regionsOf: (cls: Access) => ClassRegions): MountLayer {
  const write = regionsOf("write");
  const execute = regionsOf("execute");
  const attrs = (p: string) => ({ writable: regionEffect(write, p) === "allow", executable: regionEffect(execute, p) === "allow" });

  const paths = new Set<string>(["/"]);
  for (const n of [...write.nodes, ...execute.nodes]) paths.add(n.path);
  const sorted = [...paths].sort((a, b) => components(a).length - components(b).length || (a < b ? -1 : a > b ? 1 : 0));
  const nodes: MountNode[] = [];
  const rootAttrs = attrs("/");
  for (const p of sorted) {
    const here = attrs(p);
    if (p !== "/") {
      const parts = components(p);
      const above = attrs(joinComponents(parts.slice(0, -1)));
      if (here.writable === above.writable && here.executable === above.executable) continue;
    }
    nodes.push({ path: p, ...here });
  }
  // An `exact:` allow of `write` or `execute` on a file where its directory's attributes say otherwise.
  const seen = new Set<string>();
  for (const r of ir.filesystem) {
    if (r.effect !== "allow" || r.kind !== "exact" || seen.has(r.path)) continue;
    if (!r.access.includes("write") && !r.access.includes("execute")) continue;
    seen.add(r.path);
    const want = { writable: evaluateFs(ir, "write", r.path).decision === "allow", executable: evaluateFs(ir, "execute", r.path).decision === "allow" };
    const region = attrs(r.path);
    if (want.writable === region.writable && want.executable === region.executable) continue;
    nodes.push({ path: r.path, ...want, file: true });
  }
  nodes.sort((a, b) => components(a.path).length - components(b.path).length || (a.path < b.path ? -1 : a.path > b.path ? 1 : Number(!!a.file) - Number(!!b.file)));
  const needed = !rootAttrs.writable || !rootAttrs.executable || nodes.length > 1;

  // Changes allowed where `write` is not: the read-only mount refuses them. Both region maps are constant
  // between their anchors, so looking at every anchor of either finds each place where the two disagree — a
  // change allowed from an anchor above the one that denies `write` included. The rule named is the one that
  // decides there: the denial of `write` where `write` changes, else the allow of the change.
  const narrowings: MountNarrowing[] = [];
  const byRule = new Map<FsRule, { path: string; classes: Set<Access> }>();
  const writeAnchors = new Set(write.nodes.map((n) => n.path));
  for (const cls of MODIFY_CLASSES) {
    if (cls === "write") continue;
    const regions = regionsOf(cls);
    for (const p of new Set([...regions.nodes.map((n) => n.path), ...writeAnchors])) {
      if (regionEffect(regions, p) !== "allow" || regionEffect(write, p) === "allow") continue;
      const rule = (writeAnchors.has(p) ? evaluateFs(ir, "write", p).rule : undefined) ?? evaluateFs(ir, cls, p).rule;
      if (!rule) continue;
      const e = byRule.get(rule) ?? { path: p, classes: new Set<Access>() };
      e.classes.add(cls);
      byRule.set(rule, e);
    }
  }
  for (const [rule, e] of byRule) narrowings.push({ kind: "read-only-region", rule, path: e.path, classes: [...e.classes] });
  // A read-only path inside a writable one is held by a mount point when it is missing at launch: where the
  // policy lets it be created, that is narrower.
  const CREATE: readonly Access[] = ["create-file", "create-dir", "create-symlink", "create-special"];
  for (const n of nodes) {
    if (n.path === "/" || n.file || n.writable || !attrs(joinComponents(components(n.path).slice(0, -1))).writable) continue;
    const creatable = CREATE.filter((c) => evaluateFs(ir, c, n.path).decision === "allow");
    if (!creatable.length) continue;
    const rule = evaluateFs(ir, "write", n.path).rule;
    if (rule) narrowings.push({ kind: "held-if-missing", rule, path: n.path, classes: creatable });
  }
  return { nodes: needed ? nodes : [], narrowings: needed ? narrowings : [] };
}

/** The mount node exactly at `path` (not a file node), if the layer has one. */
export function mountAt(layer: MountLayer, path: string): MountNode | undefined {
  return layer.nodes.find((n) => n.path === path && !n.file);
}
