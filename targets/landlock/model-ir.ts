// What the IR says about one system call of the model (model.ts `Op`) on a filesystem as it is now: the access
// classes the call exercises, at which paths. A call is allowed by the IR when every class is allowed at the
// lexical path it was made with and at the real path of the object it touches (a symlink's target, the entry a
// create makes). The property tests and the kernel differential test hold the model — and the kernel — to it.

import type { Access } from "../../compiler/language/access.js";
import type { IR } from "../../compiler/ir/types.js";
import { evaluateFs } from "../../compiler/evaluator/evaluate.js";
import { joinPath, splitPath, type FsModel, type FsNode } from "./model-fs.js";
import type { Op } from "./model.js";

export interface IrCheck {
  readonly cls: Access;
  readonly path: string;
  /** `lexical`: the path as the call spelled it; `real`: where it really is. */
  readonly as: "lexical" | "real";
}

export interface IrVerdict {
  readonly allowed: boolean;
  /** Every class at every path the call needs, with the IR's decision. */
  readonly checks: readonly (IrCheck & { readonly decision: "allow" | "deny" })[];
  /** The checks the IR denies. */
  readonly denied: readonly IrCheck[];
}

const CREATE_OF: Readonly<Record<FsNode["kind"], Access>> = { dir: "create-dir", file: "create-file", symlink: "create-symlink", fifo: "create-special" };
const DELETE_OF: Readonly<Record<FsNode["kind"], Access>> = { dir: "delete-dir", file: "delete-file", symlink: "delete-file", fifo: "delete-file" };

/** A path the IR can evaluate: absolute, without `.`/`..` (the lexical probe paths and real paths are). */
function normal(p: string): string {
  const parts = splitPath(p);
  return parts.length ? "/" + parts.join("/") : "/";
}

/**
 * The classes `op` needs, at its lexical and real paths, on `fs` as it is before the call. Calls that cannot
 * touch anything (the path does not resolve, the entry to create exists) need nothing: whatever the kernel
 * answers them, it grants nothing.
 */
export function irChecks(ir: IR, fs: FsModel, op: Op): IrCheck[] {
  const out: IrCheck[] = [];
  const at = (cls: Access, lexical: string, real: string) => {
    out.push({ cls, path: normal(lexical), as: "lexical" }, { cls, path: real, as: "real" });
  };
  const followed = () => {
    const r = fs.lookup(op.path, true);
    return "node" in r ? r.node : undefined;
  };
  /** The entry a non-following call names: its real parent and name, and the node if it exists. */
  const entry = (p: string) => {
    const r = fs.lookup(p, false);
    if ("errno" in r) return undefined;
    if ("missing" in r) return { real: joinPath(fs.pathOf(r.parent), r.name), dir: r.parent, node: undefined };
    if (!r.parent) return undefined; // `/` itself
    return { real: joinPath(fs.pathOf(r.parent), r.name), dir: r.parent, node: r.node };
  };
  switch (op.op) {
    case "read":
    case "list":
    case "write":
    case "truncate":
    case "execute":
    case "map-exec":
    case "chmod": {
      const n = followed();
      if (!n) return out;
      const real = fs.pathOf(n);
      const classes: Access[] =
        op.op === "read" ? [n.kind === "dir" ? "list" : "read"] : op.op === "list" ? ["list"] : op.op === "map-exec" ? ["read", "execute"] : op.op === "chmod" ? ["write"] : [op.op];
      for (const c of classes) at(c, op.path, real);
      return out;
    }
    case "create-file":
    case "create-dir":
    case "create-symlink":
    case "create-fifo": {
      const e = entry(op.path);
      if (!e || e.node) return out;
      const cls: Access = op.op === "create-fifo" ? "create-special" : op.op;
      at(cls, op.path, e.real);
      return out;
    }
    case "unlink":
    case "rmdir": {
      const e = entry(op.path);
      if (!e?.node) return out;
      at(DELETE_OF[e.node.kind], op.path, e.real);
      return out;
    }
    case "rename":
    case "link": {
      const from = entry(op.path);
      const to = entry(op.to);
      if (!from?.node || !to || to.node) return out;
      const crossDir = from.dir !== to.dir;
      if (crossDir) {
        at("rename", op.path, from.real);
        at("rename", op.to, to.real);
      }
      if (op.op === "link") {
        at(CREATE_OF[from.node.kind], op.to, to.real);
        // The same inode under a second name: what the new name allows, the old one must allow too.
        for (const c of ["read", "write", "truncate", "execute"] as const) {
          const newAllows = [op.to, to.real].every((p) => evaluateFs(ir, c, p).decision === "allow");
          if (newAllows) at(c, op.path, from.real);
        }
        return out;
      }
      // A move takes the entry and everything beneath it from its old paths to the new ones.
      const walk = (n: FsNode, rel: string) => {
        const sub = (p: string) => (rel ? p + "/" + rel : p);
        at(DELETE_OF[n.kind], sub(op.path), sub(from.real));
        at(CREATE_OF[n.kind], sub(op.to), sub(to.real));
        if (n.kind === "dir") for (const [name, c] of n.children!) walk(c, rel ? rel + "/" + name : name);
      };
      walk(from.node, "");
      return out;
    }
  }
}

/** The IR's verdict on `op` (bound IR; `fs` as it is before the call). */
export function irVerdict(ir: IR, fs: FsModel, op: Op): IrVerdict {
  const checks = irChecks(ir, fs, op).map((c) => ({ ...c, decision: evaluateFs(ir, c.cls, c.path).decision }));
  const denied = checks.filter((c) => c.decision === "deny");
  return { allowed: denied.length === 0, checks, denied };
}
