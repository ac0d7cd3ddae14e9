// The filesystem of the Landlock model: a tree of inodes (directories, files with optional content, FIFOs and
// symlinks with their target strings) and path resolution as the kernel does it — symlinks followed with a
// budget of 40, `..` taken after following, ENOENT, ENOTDIR and ELOOP where the kernel gives them. Rules and
// mounts bind inodes, not paths, so the tree keeps node identity across renames; the launch (model-launch.ts)
// and the access function (model.ts) build on it.

/** An errno the model can answer with; the kernel's names. */
export type Errno = "ENOENT" | "ENOTDIR" | "ELOOP" | "EISDIR" | "EEXIST" | "ENOTEMPTY" | "EINVAL" | "EACCES" | "EPERM" | "EROFS" | "EBUSY" | "EXDEV" | "ENOEXEC" | "ENODEV";

export type NodeKind = "dir" | "file" | "symlink" | "fifo";

/**
 * A directory entry (a dentry) and what it names. Hard links are several entries with the same `ino`;
 * Landlock rules bind the inode (`ino`), mounts bind the entry (the node itself).
 */
export interface FsNode {
  readonly id: number;
  readonly ino: number;
  readonly kind: NodeKind;
  /** The entry's name in its parent ("" for the root). */
  name: string;
  /** null for the root, and for a node removed from the tree. */
  parent: FsNode | null;
  /** Directories: entries by name. */
  readonly children?: Map<string, FsNode>;
  /** Symlinks: the target string, as readlink returns it. */
  readonly target?: string;
  /** Files: the content, when it matters (gitfiles, commondir files). */
  readonly content?: string;
  /**
   * Owned by someone else than the sandboxed caller (only matters for an unprivileged caller): the caller may
   * not create or remove entries in it (unless `sticky`: world-writable with the sticky bit, like /var/tmp) nor
   * chmod it.
   */
  readonly foreign?: boolean;
  readonly sticky?: boolean;
}

/** A tree as data: absolute path → what is there. Parents are created as directories. */
export type FsSpecEntry = ({ readonly kind: "dir" } | { readonly kind: "file"; readonly content?: string } | { readonly kind: "symlink"; readonly target: string } | { readonly kind: "fifo" }) & { readonly foreign?: boolean; readonly sticky?: boolean };
export type FsSpec = Readonly<Record<string, FsSpecEntry>>;

/** The kernel's limit on symlinks followed in one lookup (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

export type Lookup =
  /** The path names an existing inode; `parent` is the directory it was found in (null for `/`). */
  | { readonly node: FsNode; readonly parent: FsNode | null; readonly name: string }
  /** Every component but the last exists, the last does not: where a create would put it. */
  | { readonly missing: true; readonly parent: FsNode; readonly name: string }
  | { readonly errno: "ENOENT" | "ENOTDIR" | "ELOOP"; readonly missingAt?: { readonly parent: FsNode; readonly name: string } };

export function splitPath(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

export class FsModel {
  readonly root: FsNode;
  private nextId = 1;

  constructor() {
    this.root = this.newNode("dir", "", null);
  }

  static fromSpec(spec: FsSpec): FsModel {
    const fs = new FsModel();
    for (const path of Object.keys(spec).sort((a, b) => splitPath(a).length - splitPath(b).length || (a < b ? -1 : 1))) {
      const e = spec[path]!;
      const parts = splitPath(path);
      if (!parts.length) continue;
      let dir = fs.root;
      for (const c of parts.slice(0, -1)) {
        let next = dir.children!.get(c);
        if (!next) next = fs.attach(dir, c, fs.newNode("dir", c, dir));
        if (next.kind !== "dir") throw new Error(`${path}: ${c} is not a directory`);
        dir = next;
      }
      const name = parts[parts.length - 1]!;
      const existing = dir.children!.get(name);
      if (existing) {
        if (existing.kind === "dir" && e.kind === "dir") continue;
        throw new Error(`${path} given twice`);
      }
      fs.attach(dir, name, fs.newNode(e.kind, name, dir, { ...(e.kind === "symlink" ? { target: e.target } : e.kind === "file" && e.content !== undefined ? { content: e.content } : {}), ...(e.foreign ? { foreign: true } : {}), ...(e.sticky ? { sticky: true } : {}) }));
    }
    for (const path of Object.keys(spec)) {
      // Directories named only as parents keep the defaults; an explicit `/` entry marks the root.
      if (splitPath(path).length === 0 && spec[path]!.foreign) (fs.root as { foreign?: boolean }).foreign = true;
    }
    return fs;
  }

  /** A deep copy with the same node ids (so rule and mount tables keyed by id carry over). */
  clone(): FsModel {
    const fs = new FsModel();
    const copy = (n: FsNode, parent: FsNode | null): FsNode => {
      const c: FsNode = { ...n, parent, ...(n.children ? { children: new Map() } : {}) };
      for (const [k, v] of n.children ?? []) c.children!.set(k, copy(v, c));
      return c;
    };
    const root = copy(this.root, null);
    (fs as { root: FsNode }).root = root;
    fs.nextId = this.nextId;
    return fs;
  }

  newNode(kind: NodeKind, name: string, parent: FsNode | null, extra: { target?: string; content?: string; foreign?: boolean; sticky?: boolean } = {}, ino?: number): FsNode {
    const id = this.nextId++;
    return { id, ino: ino ?? id, kind, name, parent, ...(kind === "dir" ? { children: new Map<string, FsNode>() } : {}), ...extra };
  }

  private attach(dir: FsNode, name: string, node: FsNode): FsNode {
    dir.children!.set(name, node);
    node.name = name;
    node.parent = dir;
    return node;
  }

  /** The node's path from the root: its real path (no symlink in it). */
  pathOf(node: FsNode): string {
    const parts: string[] = [];
    for (let n: FsNode | null = node; n && n !== this.root; n = n.parent) parts.push(n.name);
    return "/" + parts.reverse().join("/");
  }

  /** Is `node` in the tree (not removed)? */
  attached(node: FsNode): boolean {
    let n: FsNode | null = node;
    while (n && n !== this.root) n = n.parent;
    return n === this.root;
  }

  /** Is `a` equal to `b` or beneath it, in the tree as it is now? */
  within(a: FsNode, b: FsNode): boolean {
    for (let n: FsNode | null = a; n; n = n.parent) if (n === b) return true;
    return false;
  }

  /** Every node, parents first. */
  *nodes(from: FsNode = this.root): Generator<FsNode> {
    yield from;
    for (const name of [...(from.children?.keys() ?? [])].sort()) yield* this.nodes(from.children!.get(name)!);
  }

  /**
   * Resolve `path` from the root the way the kernel's path walk does: every symlink met before the last
   * component is followed, the last one only when `followLast`; `..` goes to the parent of where the walk is
   * (so after a link, of the link's target); at most 40 links in all.
   */
  lookup(path: string, followLast: boolean): Lookup {
    if (!path.startsWith("/")) throw new Error(`not absolute: ${path}`);
    // Pending components, each marked when it is the path's own last one (links expand in its place).
    const queue: { name: string; last: boolean }[] = [];
    const push = (p: string, last: boolean, from: string[] = p.split("/")) => {
      const parts = from.filter((c) => c !== "");
      for (let i = parts.length - 1; i >= 0; i--) queue.unshift({ name: parts[i]!, last: last && i === parts.length - 1 });
    };
    push(path, true);
    let cur = this.root;
    let parent: FsNode | null = null;
    let name = "";
    let links = 0;
    if (!queue.length) return { node: this.root, parent: null, name: "" };
    while (queue.length) {
      const { name: c, last } = queue.shift()!;
      if (cur.kind !== "dir") return { errno: "ENOTDIR" };
      if (c === ".") {
        if (last) return { node: cur, parent: cur.parent, name: cur.name };
        continue;
      }
      if (c === "..") {
        cur = cur.parent ?? this.root;
        if (last) return { node: cur, parent: cur.parent, name: cur.name };
        continue;
      }
      const next = cur.children!.get(c);
      if (!next) {
        if (last && !queue.length) return { missing: true, parent: cur, name: c };
        return { errno: "ENOENT", missingAt: { parent: cur, name: c } };
      }
      if (next.kind === "symlink" && (!last || followLast)) {
        if (++links > MAX_SYMLINKS) return { errno: "ELOOP" };
        const t = next.target!;
        if (t.startsWith("/")) {
          cur = this.root;
          if (splitPath(t).length === 0) {
            // A link to `/`: the walk stands on the root.
            if (last) return { node: this.root, parent: null, name: "" };
            continue;
          }
        }
        push(t, last);
        continue;
      }
      parent = cur;
      name = c;
      cur = next;
      if (last) return { node: cur, parent, name };
    }
    return { node: cur, parent, name };
  }

  /** The real path `path` resolves to (following every link), or why it does not resolve. */
  realpath(path: string): string | { errno: "ENOENT" | "ENOTDIR" | "ELOOP" } {
    const r = this.lookup(path, true);
    if ("node" in r) return this.pathOf(r.node);
    if ("missing" in r) return { errno: "ENOENT" };
    return r;
  }

  /** The node at a real path (no link followed anywhere), if any. */
  at(realPath: string): FsNode | undefined {
    let cur = this.root;
    for (const c of splitPath(realPath)) {
      const next = cur.children?.get(c);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  // ---- changes (no permission checks: the access function decides first) ----

  create(dir: FsNode, name: string, kind: NodeKind, extra: { target?: string; content?: string } = {}): FsNode {
    if (dir.children!.has(name)) throw new Error(`${this.pathOf(dir)}/${name} exists`);
    return this.attach(dir, name, this.newNode(kind, name, dir, extra));
  }

  remove(node: FsNode): void {
    const p = node.parent;
    if (!p) throw new Error("cannot remove the root");
    p.children!.delete(node.name);
    node.parent = null;
  }

  move(node: FsNode, dir: FsNode, name: string): void {
    this.remove(node);
    this.attach(dir, name, node);
  }

  /** A hard link: a second entry for the inode of `node` (not a directory). */
  link(node: FsNode, dir: FsNode, name: string): FsNode {
    if (node.kind === "dir") throw new Error("no hard links to directories");
    if (dir.children!.has(name)) throw new Error(`${this.pathOf(dir)}/${name} exists`);
    const extra = { ...(node.target !== undefined ? { target: node.target } : {}), ...(node.content !== undefined ? { content: node.content } : {}) };
    return this.attach(dir, name, this.newNode(node.kind, name, dir, extra, node.ino));
  }

  /** The other entries of `node`'s inode (hard links), in the tree as it is now. */
  hardLinksOf(node: FsNode): FsNode[] {
    if (node.kind === "dir") return [];
    return [...this.nodes()].filter((n) => n.ino === node.ino && n !== node);
  }

  /** The tree as text, one line per entry: for failure messages. */
  describe(from: FsNode = this.root, indent = ""): string {
    const lines: string[] = [];
    for (const name of [...(from.children?.keys() ?? [])].sort()) {
      const n = from.children!.get(name)!;
      const what = n.kind === "symlink" ? ` -> ${n.target}` : n.kind === "file" && n.content !== undefined ? ` (${JSON.stringify(n.content)})` : n.kind === "fifo" ? " (fifo)" : n.kind === "dir" ? "/" : "";
      lines.push(`${indent}${name}${what}`);
      if (n.kind === "dir") {
        const sub = this.describe(n, indent + "  ");
        if (sub) lines.push(sub);
      }
    }
    return lines.join("\n");
  }
}

// ---- the loader's lexical walk (native/loader/resolve.c) ----

export type Walk =
  | { readonly status: "found"; readonly real: string; readonly node: FsNode; readonly links: readonly WalkStep[]; readonly dirs: readonly WalkStep[] }
  | { readonly status: "missing"; readonly real: string; readonly missing: readonly string[]; readonly links: readonly WalkStep[]; readonly dirs: readonly WalkStep[] }
  | { readonly status: "dangling"; readonly real: string; readonly link: string; readonly links: readonly WalkStep[]; readonly dirs: readonly WalkStep[] };

/** A symlink or directory a walk went through: its real path and the real directory it is in. */
export interface WalkStep {
  readonly path: string;
  readonly parent: string;
}

const join = (dir: string, name: string) => (dir === "/" ? "/" + name : dir + "/" + name);
const parentOf = (p: string) => (p.lastIndexOf("/") <= 0 ? "/" : p.slice(0, p.lastIndexOf("/")));

/**
 * Walk `rel` from the real directory `start` one component at a time with lstat (spec §2.1.2, §4.3): a symlink
 * is resolved by realpath of that one prefix and recorded; a directory that is not the last component is
 * recorded; a missing component ends the walk with the rest missing; a link that does not resolve ends it as
 * dangling. With `dotdot`, `.` and `..` are taken lexically on the real path so far (for gitdir paths).
 */
export function walkLexical(fs: FsModel, start: string, rel: string, dotdot = false): Walk {
  const comps = rel.split("/").filter((c) => c !== "");
  const links: WalkStep[] = [];
  const dirs: WalkStep[] = [];
  let cur = start;
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!;
    const last = i === comps.length - 1;
    if (dotdot && c === ".") continue;
    if (dotdot && c === "..") {
      cur = parentOf(cur);
      continue;
    }
    const next = join(cur, c);
    const node = fs.at(next);
    // lstat: a missing component, or one beneath a file, ends the walk.
    if (!node) return { status: "missing", real: cur, missing: comps.slice(i), links, dirs };
    if (node.kind === "symlink") {
      links.push({ path: next, parent: cur });
      const r = fs.realpath(next);
      if (typeof r !== "string") return { status: "dangling", real: cur, link: next, links, dirs };
      cur = r;
      continue;
    }
    if (!last && node.kind === "dir") dirs.push({ path: next, parent: cur });
    if (!last && node.kind !== "dir") return { status: "missing", real: next, missing: comps.slice(i + 1), links, dirs };
    cur = next;
  }
  const node = fs.at(cur);
  if (!node) throw new Error(`walk ended on a missing ${cur}`);
  return { status: "found", real: cur, node, links, dirs };
}

/** The first line of a file, as git reads gitfiles and commondir files (without `\n` and a trailing `\r`). */
export function firstLine(node: FsNode): string {
  const text = node.content ?? "";
  const nl = text.indexOf("\n");
  let line = nl < 0 ? text : text.slice(0, nl);
  if (line.endsWith("\r")) line = line.slice(0, -1);
  return line;
}

/**
 * A `.git` file's repository (native/loader/resolve.c read_gitfile): for a regular file whose first line is
 * `gitdir: X`, X resolved from the file's directory, and the commondir its `commondir` file names. `null`
 * when the file is not a gitfile; `why` when something does not resolve (the loader refuses then).
 */
export function readGitfile(fs: FsModel, file: FsNode, dir: string): { gitdir: string; commondir?: string } | { why: string } | null {
  const line = firstLine(file);
  if (!line.startsWith("gitdir: ")) return null;
  const x = line.slice(8);
  if (x === "") return { why: "names an empty gitdir" };
  const resolveGit = (base: string, p: string): string | undefined => {
    const lexical = p.startsWith("/") ? p : join(base, p);
    const w = walkLexical(fs, "/", lexical.slice(1), true);
    return w.status === "found" ? w.real : undefined;
  };
  const gitdir = resolveGit(dir, x);
  if (gitdir === undefined) return { why: `names the gitdir ${x}, which does not resolve` };
  const common = fs.lookup(join(gitdir, "commondir"), true);
  if (!("node" in common)) {
    if ("missing" in common || common.errno === "ENOENT") return { gitdir };
    return { why: `has a gitdir whose commondir cannot be read (${common.errno})` };
  }
  if (common.node.kind === "dir") return { why: "has a gitdir whose commondir cannot be read (EISDIR)" };
  const c = firstLine(common.node);
  const commondir = c ? resolveGit(gitdir, c) : undefined;
  if (commondir === undefined) return { why: `has a gitdir whose commondir ${c} does not resolve` };
  return { gitdir, commondir };
}

export { join as joinPath, parentOf as parentPath };
