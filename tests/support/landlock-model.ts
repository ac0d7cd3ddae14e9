// Shared by the model's tests (targets/landlock/*.test.ts) and the kernel differential test: compile rules the
// way `sbc compile -t linux` does (lowerLandlock + buildPlan, concrete paths), launch the model in either mode,
// list the lexical paths worth probing in a tree (through its symlinks too), and the calls to make on them.

import type { FsRule, IR } from "../../ir/types.js";
import { expandAccess } from "../../ir/access.js";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { lowerLandlock, type LandlockTable } from "../../targets/landlock/lower.js";
import { buildPlan } from "../../targets/landlock/plan.js";
import { joinPath, type FsSpec } from "../../targets/landlock/model-fs.js";
import { FsModel, launch, parsePlan, SINGLE_OPS, type Amendments, type Op, type ParsedPlan, type Sandbox } from "../../targets/landlock/model.js";
import { makeIr } from "./ir.js";

export const rule = (effect: "allow" | "deny", access: string[], path: string, kind: FsRule["kind"] = "subtree", layer = 0): FsRule => ({
  effect,
  access: expandAccess(access),
  kind,
  path,
  ifMissing: "skip",
  layer,
});

export interface Compiled {
  readonly ir: IR;
  readonly table: LandlockTable;
  readonly diagnostics: readonly Diagnostic[];
  readonly planText: string;
  readonly plan: ParsedPlan;
}

/** Rules (sorted by layer, as the IR keeps them) → IR → table → plan text → the plan as the loader reads it. */
export function compileRules(rules: readonly FsRule[], options: { namespaces?: "auto" | "require" | "never" } = {}): Compiled {
  const ir = makeIr({ filesystem: [...rules].sort((x, y) => x.layer - y.layer) });
  const lowered = lowerLandlock(ir, { abi: 7, ...(options.namespaces ? { namespaces: options.namespaces } : {}) });
  if (!lowered.table) throw new Error(`no table: ${lowered.diagnostics.map((d) => d.message).join("; ")}`);
  const planText = buildPlan(lowered.table, undefined, { namespaces: options.namespaces ?? "auto" }).text;
  return { ir, table: lowered.table, diagnostics: lowered.diagnostics, planText, plan: parsePlan(planText) };
}

export function launchBoth(c: Compiled, fs: FsModel, amendments?: Partial<Amendments>): { namespace: Sandbox; landlock: Sandbox } {
  return {
    namespace: launch(c.plan, fs, { mode: "namespace", ...(amendments ? { amendments } : {}) }),
    landlock: launch(c.plan, fs, { mode: "landlock", ...(amendments ? { amendments } : {}) }),
  };
}

/**
 * The lexical paths to probe beneath `root`: every entry reachable by name from it, through symlinks too (a
 * link to a directory is descended as the kernel would), up to `maxDepth` components below `root`, plus one
 * new name in each directory reached. At most `limit` paths, breadth first.
 */
export function probePaths(fs: FsModel, root: string, options: { maxDepth?: number; limit?: number; newName?: string } = {}): string[] {
  const maxDepth = options.maxDepth ?? 4;
  const limit = options.limit ?? 120;
  const newName = options.newName ?? "new";
  const out: string[] = [root];
  const queue: { path: string; depth: number }[] = [{ path: root, depth: 0 }];
  while (queue.length && out.length < limit) {
    const { path, depth } = queue.shift()!;
    const r = fs.lookup(path, true);
    if (!("node" in r) || r.node.kind !== "dir" || depth >= maxDepth) continue;
    for (const name of [...r.node.children!.keys()].sort()) {
      const p = joinPath(path, name);
      out.push(p);
      queue.push({ path: p, depth: depth + 1 });
    }
    out.push(joinPath(path, newName));
  }
  return out.slice(0, limit);
}

/** Every single-path call on every path, then renames and links from each existing entry to a few new names. */
export function probeOps(fs: FsModel, paths: readonly string[], options: { moves?: number } = {}): Op[] {
  const ops: Op[] = [];
  for (const path of paths) for (const op of SINGLE_OPS) ops.push({ op, path });
  const newNames = paths.filter((p) => !("node" in fs.lookup(p, false)));
  const existing = paths.filter((p) => "node" in fs.lookup(p, false));
  const moves = options.moves ?? 3;
  for (let i = 0; i < existing.length; i++) {
    for (let k = 0; k < Math.min(moves, newNames.length); k++) {
      const to = newNames[(i * 7 + k * 13) % newNames.length]!;
      ops.push({ op: "rename", path: existing[i]!, to }, { op: "link", path: existing[i]!, to });
    }
  }
  return ops;
}

// ---- random trees and policies over them ----

/** Entries a random tree may have, relative to its root. */
export const TREE_PATHS = ["a", "b", ".git", "m", "a/a", "a/b", "a/.git", "a/m", "b/a", "b/.git", "m/r.git", "a/.git/config", "m/r.git/config", "m/r.git/commondir", "a/m/r.git", "a/a/f", "b/a/.git"] as const;

/**
 * Symlink targets: to `/`, to the tree's root and outside it, up with `..`, to siblings, to a `.git` or a
 * repository, dangling, and to itself. `@` stands for the tree's root, `%` for the directory outside it.
 */
export const LINK_TARGETS = ["/", "@", "%", "%/f", "..", "../..", ".", "a", "m/r.git", "../m/r.git", "../../m/r.git", "@/m", "@/a/.git", "@/b", "nowhere", "x/../a", "SELF", ".git", "b/.git"] as const;

/** Gitfile lines (`gitdir: X`) and commondir lines. */
export const GITDIRS = ["m/r.git", "../m/r.git", "@/m/r.git", "nowhere", "a"] as const;
export const COMMONDIRS = ["../..", "..", "@/m"] as const;

export type TreeEntry =
  | { readonly path: string; readonly kind: "dir" | "file" }
  | { readonly path: string; readonly kind: "symlink"; readonly target: (typeof LINK_TARGETS)[number] }
  | { readonly path: string; readonly kind: "gitfile"; readonly gitdir: (typeof GITDIRS)[number] }
  | { readonly path: string; readonly kind: "commondir"; readonly commondir: (typeof COMMONDIRS)[number] };

/** A tree as entries under `root` (and `outside`, which always holds a directory with a file `f`). */
export function treeSpec(entries: readonly TreeEntry[], root: string, outside: string): FsSpec {
  const abs = (t: string) => t.replace(/^@/, root).replace(/^%/, outside);
  const spec: Record<string, FsSpec[string]> = { [root]: { kind: "dir" }, [outside]: { kind: "dir" }, [`${outside}/f`]: { kind: "file" } };
  const kinds = new Map<string, string>();
  for (const e of entries) {
    // A child of something that is not a directory is dropped (the first kind given to a path wins).
    const parts = e.path.split("/");
    let ok = !kinds.has(e.path);
    for (let i = 1; i < parts.length && ok; i++) {
      const p = parts.slice(0, i).join("/");
      const k = kinds.get(p);
      if (k !== undefined && k !== "dir") ok = false;
    }
    if (!ok) continue;
    for (let i = 1; i < parts.length; i++) kinds.set(parts.slice(0, i).join("/"), "dir");
    const full = `${root}/${e.path}`;
    if (e.kind === "dir" || e.kind === "file") spec[full] = { kind: e.kind };
    else if (e.kind === "symlink") spec[full] = { kind: "symlink", target: e.target === "SELF" ? parts[parts.length - 1]! : abs(e.target) };
    else if (e.kind === "gitfile") spec[full] = { kind: "file", content: `gitdir: ${abs(e.gitdir)}\n` };
    else if (e.kind === "commondir") spec[full] = { kind: "file", content: `${abs(e.commondir)}\n` };
    kinds.set(e.path, e.kind === "dir" ? "dir" : "other");
  }
  // Drop entries whose parent became something else than a directory.
  for (const p of Object.keys(spec)) {
    const parts = p.split("/");
    for (let i = 2; i < parts.length; i++) {
      const parent = spec[parts.slice(0, i).join("/")];
      if (parent && parent.kind !== "dir") delete spec[p];
    }
  }
  return spec;
}

/** Policy anchors, relative to the tree's root (`""` is the root itself); `/` and `%` stand for themselves. */
export const POLICY_PATHS = ["", "a", "b", "m", "a/a", ".git", "a/.git", "m/r.git", "b/a", "/", "%"] as const;

export interface PolicyRule {
  readonly effect: "allow" | "deny";
  readonly access: readonly string[];
  readonly path: (typeof POLICY_PATHS)[number];
  readonly layer: number;
  /** `protect:`-like names: a deny of `modify` at `path/NAME` (allow rules only). */
  readonly protect: readonly string[];
}

export function policyRules(rules: readonly PolicyRule[], root: string, outside: string): FsRule[] {
  const abs = (p: string) => (p === "/" ? "/" : p === "%" ? outside : p === "" ? root : `${root}/${p}`);
  const out: FsRule[] = [];
  for (const r of rules) {
    out.push(rule(r.effect, [...r.access], abs(r.path), "subtree", r.layer));
    if (r.effect === "allow") for (const name of r.protect) out.push({ ...rule("deny", ["modify"], `${abs(r.path) === "/" ? "" : abs(r.path)}/${name}`, "subtree", r.layer), protects: name });
  }
  return out;
}

/** Paths worth probing besides the tree's entries: where every symlink points (so that a sequence can re-create a target). */
export function linkTargetPaths(fs: FsModel, root: string): string[] {
  const out = new Set<string>();
  for (const n of fs.nodes()) {
    const p = fs.pathOf(n);
    if (n.kind !== "symlink" || !(p === root || p.startsWith(root + "/"))) continue;
    const base = n.target!.startsWith("/") ? n.target! : joinPath(p.slice(0, p.lastIndexOf("/")) || "/", n.target!);
    const parts: string[] = [];
    for (const c of base.split("/")) {
      if (c === "" || c === ".") continue;
      if (c === "..") parts.pop();
      else parts.push(c);
    }
    const target = "/" + parts.join("/");
    if (target.startsWith(root + "/")) {
      out.add(target);
      out.add(target.slice(0, target.lastIndexOf("/")));
    }
  }
  return [...out];
}
