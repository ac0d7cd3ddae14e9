// The executable model of sbc's Linux enforcement: the loader's launch (model-launch.ts: the mount layer in a
// namespace, the symlink-safe Landlock expansion, the carving of what denied names resolve to) over a model
// filesystem (model-fs.ts), then `attempt`, which answers one system call the way the kernel would — the
// errno, checked in the kernel's order (lookup, EROFS, Landlock's EACCES or EXDEV, permissions, EBUSY) — and
// applies its change when it succeeds. Property tests compare it with the IR's evaluator, and
// tests/kernel-model.test.ts compares it with the real loader on the real kernel.

import { components, isWithin, joinComponents } from "../../ir/paths.js";
import { ACCESS_FILE, ACCESS_FS, MAX_ABI, abiMasks } from "./abi.js";
import type { LandlockTable } from "./lower.js";
import { FsModel, type Errno, type FsNode, type FsSpecEntry } from "./model-fs.js";
import { launch, mountAttrs, mountOf, parsePlan, type Sandbox } from "./model-launch.js";
import { buildPlan } from "./plan.js";

export { launch, parsePlan, SPEC_AMENDMENTS, type Amendments, type LaunchOptions, type ParsedPlan, type Sandbox } from "./model-launch.js";
export { FsModel, type Errno, type FsNode, type FsSpec } from "./model-fs.js";

// ---- one system call ----

/**
 * The accesses the model answers, each one system call as tests/kernel-model.test.ts's probe makes it:
 * `read` open(O_RDONLY|O_NONBLOCK), `list` open(O_RDONLY|O_DIRECTORY), `write` open(O_WRONLY|O_NONBLOCK),
 * `truncate` truncate(2) to the current size, `execute` execve (the files hold no program: ENOEXEC is success),
 * `map-exec` open(O_RDONLY) and mmap(PROT_EXEC) as ld.so does, `chmod` to the current mode, `create-file`
 * open(O_CREAT|O_EXCL), `create-dir` mkdir, `create-symlink` symlink, `create-fifo` mknod(S_IFIFO), `unlink`,
 * `rmdir`, `rename` renameat2(RENAME_NOREPLACE), `link` linkat without following.
 */
export type OpName = "read" | "list" | "write" | "truncate" | "execute" | "map-exec" | "chmod" | "create-file" | "create-dir" | "create-symlink" | "create-fifo" | "unlink" | "rmdir" | "rename" | "link";

export type Op = { readonly op: Exclude<OpName, "rename" | "link">; readonly path: string } | { readonly op: "rename" | "link"; readonly path: string; readonly to: string };

export const SINGLE_OPS: readonly Exclude<OpName, "rename" | "link">[] = ["read", "list", "write", "truncate", "execute", "map-exec", "chmod", "create-file", "create-dir", "create-symlink", "create-fifo", "unlink", "rmdir"];

/** `null`: the call succeeded. */
export type Outcome = Errno | "ENXIO" | null;

/**
 * Did the call get what it asked of the kernel? Success; an execve that got as far as the file's content
 * (ENOEXEC: the files hold no program); an open(O_CREAT) that made its file and was then refused the open.
 */
export function tookEffect(op: Op, out: Outcome, fsAfter: FsModel): boolean {
  if (out === null) return true;
  if (op.op === "execute") return out === "ENOEXEC";
  if (op.op === "create-file" && out === "EACCES") return "node" in fsAfter.lookup(op.path, false);
  return false;
}

/** The target string of the symlinks `create-symlink` makes (dangling). */
export const CREATED_LINK_TARGET = "sbc-probe-link";

export interface AttemptOptions {
  /** The caller is root (CAP_DAC_OVERRIDE, CAP_FOWNER): ownership never stops it. Default true. */
  readonly root?: boolean;
}

/** Rights granted to `node` by the rules on it and on every directory above it (the kernel's walk to the root). */
export function granted(sb: Sandbox, node: FsNode): number {
  let mask = 0;
  for (let n: FsNode | null = node; n; n = n.parent) mask |= sb.rules.get(n.ino) ?? 0;
  return mask;
}

function landlock(sb: Sandbox, node: FsNode, rights: number): boolean {
  const need = rights & sb.handledFs;
  return (need & ~granted(sb, node)) === 0;
}

const MAKE: Readonly<Record<FsNode["kind"], number>> = { dir: ACCESS_FS.make_dir, file: ACCESS_FS.make_reg, symlink: ACCESS_FS.make_sym, fifo: ACCESS_FS.make_fifo };
const removeRight = (n: FsNode) => (n.kind === "dir" ? ACCESS_FS.remove_dir : ACCESS_FS.remove_file);

/** Landlock's check of a rename or link (security/landlock/fs.c current_check_refer_path), for one layer. */
function referCheck(sb: Sandbox, old: FsNode, newDir: FsNode, removable: boolean): Outcome {
  const handled = sb.handledFs;
  if (!handled) return null;
  const oldDir = old.parent!;
  let req1 = removable ? removeRight(old) : 0;
  let req2 = MAKE[old.kind];
  if (oldDir === newDir) return landlock(sb, newDir, req1 | req2) ? null : "EACCES";
  req1 |= ACCESS_FS.refer;
  req2 |= ACCESS_FS.refer;
  const mntRoot = mountOf(sb.fs, sb.mounts, newDir);
  const rule = (n: FsNode) => sb.rules.get(n.ino) ?? 0;
  // collect_domain_accesses: what each parent's hierarchy denies, up to the common mount's root.
  const collect = (dir: FsNode) => {
    let denied = handled;
    for (let n: FsNode | null = dir; n; n = n.parent) {
      denied &= ~rule(n);
      if (!denied || n === mntRoot) break;
    }
    return denied;
  };
  let d1 = collect(old === mntRoot ? old : oldDir);
  let d2 = collect(newDir);
  if (!d1 && !d2) return null;
  const c1 = handled & ~rule(old);
  const childMask = old.kind === "dir" ? abiMasks(MAX_ABI).fs : ACCESS_FILE;
  // is_access_to_paths_allowed from the mount's root up: first the no-more-access check on the domain's rights.
  let allowed1 = !d1;
  let allowed2 = !d2;
  let domCheck = true;
  let masked1 = handled;
  let masked2 = handled;
  for (let n: FsNode | null = mntRoot; n; n = n.parent) {
    if (domCheck && (d1 & c1 & ~d2 & childMask) === 0) {
      domCheck = false;
      masked1 = req1;
      masked2 = req2;
      d1 &= req1;
      d2 &= req2;
      allowed1 ||= !d1;
      allowed2 ||= !d2;
      if (allowed1 && allowed2) break;
    }
    const r = rule(n);
    if (r) {
      d1 &= ~(r & masked1);
      d2 &= ~(r & masked2);
      allowed1 ||= (d1 & masked1) === 0;
      allowed2 ||= (d2 & masked2) === 0;
    }
    if (allowed1 && allowed2) break;
  }
  if (allowed1 && allowed2) return null;
  if ((d1 & req1 & ~ACCESS_FS.refer) || (d2 & req2 & ~ACCESS_FS.refer)) return "EACCES";
  return "EXDEV";
}

function dacCreate(dir: FsNode, root: boolean): boolean {
  return root || !dir.foreign || !!dir.sticky;
}
function dacRemove(dir: FsNode, victim: FsNode, root: boolean): Outcome {
  if (root || !dir.foreign) return null;
  if (!dir.sticky) return "EACCES";
  return victim.foreign ? "EPERM" : null;
}

/**
 * Make the change of `op` as if it had succeeded, without asking anything: for keeping a model's tree in step
 * with a kernel that let a call through. Returns false when the call cannot change this tree.
 */
export function applyChange(fs: FsModel, op: Op): boolean {
  if (op.op === "rename" || op.op === "link") {
    const o = fs.lookup(op.path, false);
    const t = fs.lookup(op.to, false);
    if (!("node" in o) || !("missing" in t)) return false;
    if (op.op === "rename") fs.move(o.node, t.parent, t.name);
    else fs.link(o.node, t.parent, t.name);
    return true;
  }
  const r = fs.lookup(op.path, false);
  if (op.op.startsWith("create-")) {
    if (!("missing" in r)) return false;
    const kind = op.op === "create-dir" ? "dir" : op.op === "create-symlink" ? "symlink" : op.op === "create-fifo" ? "fifo" : "file";
    fs.create(r.parent, r.name, kind, kind === "symlink" ? { target: CREATED_LINK_TARGET } : {});
    return true;
  }
  if ((op.op === "unlink" || op.op === "rmdir") && "node" in r && r.parent) {
    fs.remove(r.node);
    return true;
  }
  return false;
}

/**
 * What the kernel answers to `op` in the sandbox (and the change, applied to `sb.fs`, when it succeeds).
 * Paths are absolute and lexical: symlinks in them are followed as the call would.
 */
export function attempt(sb: Sandbox, op: Op, options: AttemptOptions = {}): Outcome {
  if (sb.refused !== undefined) throw new Error(`the loader refused to run: ${sb.refused}`);
  const root = options.root ?? true;
  const fs = sb.fs;
  const ro = (n: FsNode) => mountAttrs(fs, sb.mounts, n).ro;
  const noexec = (n: FsNode) => mountAttrs(fs, sb.mounts, n).noexec;
  const isMountPoint = (n: FsNode) => sb.mounts.has(n.id);
  const follow = (p: string) => {
    const r = fs.lookup(p, true);
    if ("node" in r) return r.node;
    return "missing" in r ? "ENOENT" : r.errno;
  };
  switch (op.op) {
    case "read":
    case "list":
    case "map-exec": {
      const n = follow(op.path);
      if (typeof n === "string") return n;
      if (op.op === "list" && n.kind !== "dir") return "ENOTDIR";
      if (!landlock(sb, n, n.kind === "dir" ? ACCESS_FS.read_dir : ACCESS_FS.read_file)) return "EACCES";
      if (op.op !== "map-exec") return null;
      // mmap checks the mount's noexec before whether the file can be mapped at all.
      if (noexec(n)) return "EPERM";
      return n.kind === "file" ? null : "ENODEV";
    }
    case "write": {
      const n = follow(op.path);
      if (typeof n === "string") return n;
      if (n.kind === "dir") return "EISDIR";
      if (n.kind === "fifo") return landlock(sb, n, ACCESS_FS.write_file) ? "ENXIO" : "EACCES";
      if (ro(n)) return "EROFS";
      return landlock(sb, n, ACCESS_FS.write_file) ? null : "EACCES";
    }
    case "truncate": {
      const n = follow(op.path);
      if (typeof n === "string") return n;
      if (n.kind === "dir") return "EISDIR";
      if (n.kind !== "file") return "EINVAL";
      if (ro(n)) return "EROFS";
      return landlock(sb, n, ACCESS_FS.truncate) ? null : "EACCES";
    }
    case "execute": {
      const n = follow(op.path);
      if (typeof n === "string") return n;
      if (n.kind !== "file" || noexec(n)) return "EACCES";
      return landlock(sb, n, ACCESS_FS.execute | ACCESS_FS.read_file) ? "ENOEXEC" : "EACCES";
    }
    case "chmod": {
      const n = follow(op.path);
      if (typeof n === "string") return n;
      if (ro(n)) return "EROFS";
      return !root && n.foreign ? "EPERM" : null;
    }
    case "create-file":
    case "create-dir":
    case "create-symlink":
    case "create-fifo": {
      const r = fs.lookup(op.path, false);
      if ("errno" in r) return r.errno;
      const dir = "missing" in r ? r.parent : r.parent!;
      const kind = op.op === "create-dir" ? "dir" : op.op === "create-symlink" ? "symlink" : op.op === "create-fifo" ? "fifo" : "file";
      if (op.op === "create-file") {
        // open(O_CREAT|O_EXCL): EEXIST, then EROFS (no write access to the mount), then the LSM hook.
        if ("node" in r) return "EEXIST";
        if (ro(dir)) return "EROFS";
      } else {
        // filename_create: EEXIST wins over EROFS ("try to report other errors").
        if ("node" in r) return "EEXIST";
        if (ro(dir)) return "EROFS";
      }
      if (!landlock(sb, dir, MAKE[kind])) return "EACCES";
      if (!dacCreate(dir, root)) return "EACCES";
      const made = fs.create(dir, r.name, kind, kind === "symlink" ? { target: CREATED_LINK_TARGET } : {});
      // open(O_CREAT|O_WRONLY) then opens what it made for writing: Landlock checks WRITE_FILE on it, and the
      // file stays made when that fails.
      if (op.op === "create-file" && !landlock(sb, made, ACCESS_FS.write_file)) return "EACCES";
      return null;
    }
    case "unlink":
    case "rmdir": {
      const r = fs.lookup(op.path, false);
      if ("errno" in r) return r.errno;
      const dir = "missing" in r ? r.parent : r.parent;
      if (!dir) return op.op === "rmdir" ? "EBUSY" : "EISDIR"; // `/` itself
      if (ro(dir)) return "EROFS";
      if ("missing" in r) return "ENOENT";
      const n = r.node;
      if (!landlock(sb, dir, op.op === "rmdir" ? ACCESS_FS.remove_dir : ACCESS_FS.remove_file)) return "EACCES";
      const dac = dacRemove(dir, n, root);
      if (dac) return dac;
      if (op.op === "rmdir" && n.kind !== "dir") return "ENOTDIR";
      if (op.op === "unlink" && n.kind === "dir") return "EISDIR";
      if (isMountPoint(n)) return "EBUSY";
      if (op.op === "rmdir" && n.children!.size) return "ENOTEMPTY";
      fs.remove(n);
      return null;
    }
    case "rename":
    case "link": {
      if (op.op === "link") {
        const o = fs.lookup(op.path, false);
        if ("errno" in o) return o.errno;
        if ("missing" in o) return "ENOENT";
        const t = fs.lookup(op.to, false);
        if ("errno" in t) return t.errno;
        if ("node" in t) return "EEXIST";
        if (ro(t.parent)) return "EROFS";
        if (mountOf(fs, sb.mounts, o.node) !== mountOf(fs, sb.mounts, t.parent)) return "EXDEV";
        const l = referCheck(sb, o.node, t.parent, false);
        if (l) return l;
        if (!dacCreate(t.parent, root)) return "EACCES";
        if (o.node.kind === "dir") return "EPERM";
        fs.link(o.node, t.parent, t.name);
        return null;
      }
      const o = fs.lookup(op.path, false);
      const t = fs.lookup(op.to, false);
      if ("errno" in o) return o.errno;
      if ("errno" in t) return t.errno;
      const oldDir = "missing" in o ? o.parent : o.parent;
      const newDir = "missing" in t ? t.parent : t.parent;
      if (!oldDir) return "EBUSY";
      if (!newDir) return "EEXIST";
      if (mountOf(fs, sb.mounts, oldDir) !== mountOf(fs, sb.mounts, newDir)) return "EXDEV";
      if (ro(newDir)) return "EROFS";
      if ("missing" in o) return "ENOENT";
      if ("node" in t) return "EEXIST";
      const n = o.node;
      // The source may not be an ancestor of the destination.
      if (fs.within(newDir, n)) return "EINVAL";
      const l = referCheck(sb, n, newDir, true);
      if (l) return l;
      const dac = dacRemove(oldDir, n, root);
      if (dac) return dac;
      if (!dacCreate(newDir, root)) return "EACCES";
      if (isMountPoint(n)) return "EBUSY";
      fs.move(n, newDir, t.name);
      return null;
    }
  }
}

/** The filesystem at launch as the table-level tests describe it: every existing path, and whether it is a directory. */
export type Snapshot = ReadonlyMap<string, "dir" | "file">;

export interface AppliedRule {
  readonly path: string;
  readonly access: number;
}

/**
 * The rules the loader ends up adding for `table` over `snapshot` with Landlock alone (no links in a snapshot):
 * one per inode, masked to file rights on files. The launch model does the work (model-launch.ts).
 */
export function expandTable(table: LandlockTable, snapshot: Snapshot): AppliedRule[] {
  const spec: Record<string, FsSpecEntry> = {};
  for (const [p, kind] of snapshot) spec[p] = { kind };
  const fs = FsModel.fromSpec(spec);
  const sb = launch(parsePlan(buildPlan(table, undefined, { namespaces: "never", mounts: [] }).text), fs, { mode: "landlock" });
  const out: AppliedRule[] = [];
  for (const n of fs.nodes()) {
    const access = sb.rules.get(n.ino);
    if (access) out.push({ path: fs.pathOf(n), access });
  }
  return out;
}

/** Rights about a directory's content: the kernel checks them on the parent of the entry made or removed. */
const CONTENT_RIGHTS = ACCESS_FS.remove_dir | ACCESS_FS.remove_file | ACCESS_FS.make_char | ACCESS_FS.make_dir | ACCESS_FS.make_reg | ACCESS_FS.make_sock | ACCESS_FS.make_fifo | ACCESS_FS.make_block | ACCESS_FS.make_sym | ACCESS_FS.refer;

/**
 * Is `right` for `path` allowed? For content rights `path` is the entry created, removed or moved, and the
 * kernel asks its parent directory; for the others it asks `path`. A path created after launch inherits from
 * its ancestors.
 */
export function landlockAllows(table: LandlockTable, rules: readonly AppliedRule[], path: string, right: number): boolean {
  if ((table.handledAccessFs & right) === 0) return true;
  const at = right & CONTENT_RIGHTS ? joinComponents(components(path).slice(0, -1)) : path;
  if (right & CONTENT_RIGHTS && path === "/") return false;
  return rules.some((r) => (r.access & right) !== 0 && isWithin(at, r.path));
}

/**
 * What the loader does with a table's symbolic parameters (native/sbc-loader.c, `param` lines): substitute
 * the values and check the placement the table assumes. Paths here are taken as they are (the loader also
 * resolves symlinks first). Returns the concrete table, or why the loader refuses it.
 */
export function resolveTable(table: LandlockTable, values: Readonly<Record<string, string>>): { table?: LandlockTable; refused?: string } {
  if (!table.params?.length) return { table };
  const subst = (p: string): string => {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}(\/.*)?$/.exec(p);
    if (!m) return p;
    const v = values[m[1]!];
    if (v === undefined) throw new Error(`no value for \${${m[1]}}`);
    return v === "/" ? (m[2] ?? "/") : v + (m[2] ?? "");
  };
  for (const p of table.params) {
    const v = values[p.name];
    if (v === undefined) return { refused: `parameter \`${p.name}\` has no value` };
    if (v === "/") return { refused: `parameter \`${p.name}\` is \`/\`` };
    for (const [anchors, mayEqual] of [
      [p.apart, false],
      [p.apartOrSame, true],
    ] as const) {
      for (const a of anchors) {
        const at = subst(a);
        const same = at === v;
        if ((same && !mayEqual) || (!same && (isWithin(v, at) || isWithin(at, v)))) return { refused: `\${${p.name}} = ${v} is not apart from ${a} = ${at}` };
      }
    }
  }
  const { params: _params, ...rest } = table;
  const relative = (root: string, e: string) => {
    if (!e.startsWith("${")) return e;
    const abs = subst(e);
    if (!isWithin(abs, root) || abs === root) throw new Error(`except ${e} = ${abs} is not beneath ${root}`);
    return components(abs).slice(components(root).length).join("/");
  };
  return {
    table: {
      ...rest,
      fs: table.fs.map((g) => {
        const path = subst(g.path);
        return { ...g, path, ...(g.except ? { except: g.except.map((e) => relative(path, e)) } : {}) };
      }),
    },
  };
}
