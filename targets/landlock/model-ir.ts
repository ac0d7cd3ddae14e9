// What the IR says about one system call of the model (model.ts `Op`) on a filesystem as it is now: the access
// classes the call exercises, at which paths. A call is allowed by the IR when every class is allowed at the
// lexical path it was made with, at the real path of the object it touches (a symlink's target, the entry a
// create makes), and at the object's origin — where it was at launch, or where it was created: a file moved
// or hard-linked elsewhere is still the file the policy spoke of there. The property tests and the kernel
// differential test hold the model — and the kernel — to it.

import type { Access } from "../../ir/access.js";
import type { IR } from "../../ir/types.js";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { joinPath, splitPath, type FsModel, type FsNode } from "./model-fs.js";
import type { Op } from "./model.js";

export interface IrCheck {
  readonly cls: Access;
  readonly path: string;
  /** `lexical`: the path as the call spelled it; `real`: where it really is; `origin`: where the object came from. */
  readonly as: "lexical" | "real" | "origin";
  /** What is checked: the object (an existing one), or the entry a create makes (`parent` and `name`). */
  readonly node?: FsNode;
  readonly parent?: FsNode;
  readonly name?: string;
}

export interface IrVerdict {
  readonly allowed: boolean;
  /** Every class at every path the call needs, with the IR's decision. */
  readonly checks: readonly (IrCheck & { readonly decision: "allow" | "deny" })[];
  /** The checks the IR denies. */
  readonly denied: readonly IrCheck[];
}

/** Where each inode came from: its real path(s) at launch, or where the run created it. */
export type Origins = ReadonlyMap<number, readonly string[]>;

/** The origins of everything in `fs` (at launch). */
export function originsAtLaunch(fs: FsModel): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const n of fs.nodes()) m.set(n.ino, [...(m.get(n.ino) ?? []), fs.pathOf(n)]);
  return m;
}

const CREATE_OF: Readonly<Record<FsNode["kind"], Access>> = { dir: "create-dir", file: "create-file", symlink: "create-symlink", fifo: "create-special" };
const DELETE_OF: Readonly<Record<FsNode["kind"], Access>> = { dir: "delete-dir", file: "delete-file", symlink: "delete-file", fifo: "delete-file" };

function followedClasses(op: Op["op"], n: FsNode): Access[] {
  if (n.kind === "dir" && (op === "read" || op === "map-exec")) return ["list"];
  return op === "read" ? ["read"] : op === "list" ? ["list"] : op === "map-exec" ? ["read", "execute"] : op === "chmod" ? ["write"] : [op as Access];
}

/** A path the IR can evaluate: absolute, without `.`/`..` (the lexical probe paths and real paths are). */
export function normalPath(p: string): string {
  const parts = splitPath(p);
  return parts.length ? "/" + parts.join("/") : "/";
}

/**
 * The classes `op` needs, and where, on `fs` as it is before the call. Calls that cannot touch anything (the
 * path does not resolve, the entry to create exists) need nothing: whatever the kernel answers them, it
 * grants nothing.
 */
export function irChecks(fs: FsModel, op: Op, origins?: Origins): IrCheck[] {
  const out: IrCheck[] = [];
  const onObject = (cls: Access, lexical: string, node: FsNode, removes = false) => {
    const real = fs.pathOf(node);
    out.push({ cls, path: normalPath(lexical), as: "lexical", node }, { cls, path: real, as: "real", node });
    // Removing one name of a hard-linked inode removes nothing where it came from.
    if (removes && fs.hardLinksOf(node).length) return;
    for (const o of origins?.get(node.ino) ?? []) if (o !== real) out.push({ cls, path: o, as: "origin", node });
  };
  const onEntry = (cls: Access, lexical: string, parent: FsNode, name: string) => {
    out.push({ cls, path: normalPath(lexical), as: "lexical", parent, name }, { cls, path: joinPath(fs.pathOf(parent), name), as: "real", parent, name });
  };
  /** The entry a non-following call names: its real parent, its name, and the node if it exists. */
  const entry = (p: string) => {
    const r = fs.lookup(p, false);
    if ("errno" in r) return undefined;
    if ("missing" in r) return { dir: r.parent, name: r.name, node: undefined };
    if (!r.parent) return undefined; // `/` itself
    return { dir: r.parent, name: r.name, node: r.node };
  };
  switch (op.op) {
    case "read":
    case "list":
    case "write":
    case "truncate":
    case "execute":
    case "map-exec":
    case "chmod": {
      const r = fs.lookup(op.path, true);
      if (!("node" in r)) return out;
      for (const c of followedClasses(op.op, r.node)) onObject(c, op.path, r.node);
      return out;
    }
    case "create-file":
    case "create-dir":
    case "create-symlink":
    case "create-fifo": {
      const e = entry(op.path);
      if (!e || e.node) return out;
      onEntry(op.op === "create-fifo" ? "create-special" : op.op, op.path, e.dir, e.name);
      return out;
    }
    case "unlink":
    case "rmdir": {
      const e = entry(op.path);
      if (!e?.node) return out;
      // Landlock asks REMOVE_DIR of rmdir and REMOVE_FILE of unlink, whatever the entry is (it fails after).
      onObject(op.op === "rmdir" ? "delete-dir" : "delete-file", op.path, e.node, true);
      return out;
    }
    case "rename":
    case "link": {
      const from = entry(op.path);
      const to = entry(op.to);
      if (!from?.node || !to || to.node) return out;
      if (from.dir !== to.dir) {
        onObject("rename", op.path, from.node);
        onEntry("rename", op.to, to.dir, to.name);
      }
      // A move takes the entry from its name (and what is beneath it along: each keeps its origin, so what it
      // may have done there is checked on every later call); a link gives the inode one more name.
      if (op.op === "rename") onObject(DELETE_OF[from.node.kind], op.path, from.node, true);
      onEntry(CREATE_OF[from.node.kind], op.to, to.dir, to.name);
      return out;
    }
  }
}

/** The IR's verdict on `op` (bound IR; `fs` as it is before the call; `origins` of the inodes, if tracked). */
export function irVerdict(ir: IR, fs: FsModel, op: Op, origins?: Origins): IrVerdict {
  const checks = irChecks(fs, op, origins).map((c) => ({ ...c, decision: evaluateFs(ir, c.cls, c.path).decision }));
  const denied = checks.filter((c) => c.decision === "deny");
  return { allowed: denied.length === 0, checks, denied };
}
