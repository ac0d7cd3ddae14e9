// What the loader does at launch, as a model: read a plan (format 2), then — in a mount namespace — apply the
// mount layer (targets, symlink and directory pins, mount points created for missing read-only names, `!`
// carve-outs dropped when their line was applied in full), and in both modes add the Landlock rules with the
// symlink-safe expansion and the carving of what denied names resolve to. This follows the design
// (.scratch/spec-linux-enforcement.md §2–§4); where the design is silent it does what native/loader does, and
// says so. The result is the sandbox the access function (model.ts) answers from.

import { ACCESS_FILE, ACCESS_FS } from "./abi.js";
import { FsModel, joinPath, parentPath, readGitfile, splitPath, walkLexical, type FsNode, type Walk } from "./model-fs.js";

// ---- the plan ----

export interface PlanMount {
  readonly path: string;
  readonly ro: boolean;
  readonly noexec: boolean;
  /** `mount-file`: applied only when the path is not a directory at launch. */
  readonly file: boolean;
}

export interface PlanExcept {
  readonly rel: string;
  /** Written `!`: the mount layer enforces it in a namespace. */
  readonly mountEnforced: boolean;
}

export interface PlanGrant {
  readonly kind: "fs" | "fs-file" | "fs-children";
  readonly mask: number;
  readonly ifMissing: "skip" | "error";
  readonly path: string;
  readonly except: readonly PlanExcept[];
}

export interface ParsedPlan {
  readonly handledFs: number;
  readonly namespaces: "auto" | "require" | "never";
  readonly fallbackNote?: string;
  readonly mounts: readonly PlanMount[];
  readonly grants: readonly PlanGrant[];
}

function decode(field: string): string {
  return Buffer.from(field.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
}

/** Parse a plan the way the loader reads it (only what the filesystem model needs); `${name}` heads get `params`. */
export function parsePlan(text: string, params: Readonly<Record<string, string>> = {}): ParsedPlan {
  const subst = (p: string) => {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}(\/.*)?$/.exec(p);
    if (!m) return p;
    const v = params[m[1]!];
    if (v === undefined) throw new Error(`no value for \${${m[1]}}`);
    return v === "/" ? (m[2] ?? "/") : v + (m[2] ?? "");
  };
  let handledFs = 0;
  let namespaces: ParsedPlan["namespaces"] = "auto";
  let fallbackNote: string | undefined;
  const mounts: PlanMount[] = [];
  const grants: PlanGrant[] = [];
  const lines = text.split("\n");
  if (lines[0] !== "sbc-loader-plan 2") throw new Error(`not a format 2 plan: ${lines[0]}`);
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const f = line.split(" ");
    switch (f[0]) {
      case "handled-fs":
        handledFs = parseInt(f[1]!, 16);
        break;
      case "namespaces":
        namespaces = f[1] as ParsedPlan["namespaces"];
        break;
      case "fallback-note":
        fallbackNote = decode(f[1]!);
        break;
      case "mount":
      case "mount-file":
        mounts.push({ path: subst(decode(f[1]!)), ro: f[2] === "ro", noexec: f[3] === "noexec", file: f[0] === "mount-file" });
        break;
      case "fs":
      case "fs-file":
      case "fs-children": {
        const path = subst(decode(f[3]!));
        const except = f.slice(4).map((e): PlanExcept => {
          const enforced = e.startsWith("!");
          const raw = decode(enforced ? e.slice(1) : e);
          // A `${name}/…` entry is absolute once substituted: relative to the grant again.
          const rel = raw.startsWith("${") ? splitPath(subst(raw)).slice(splitPath(path).length).join("/") : raw;
          return { rel, mountEnforced: enforced };
        });
        grants.push({ kind: f[0], mask: parseInt(f[1]!, 16), ifMissing: f[2] as "skip" | "error", path, except });
        break;
      }
      default:
        break; // header fields, params, net, seccomp, end: not the filesystem's business
    }
  }
  return { handledFs, namespaces, ...(fallbackNote !== undefined ? { fallbackNote } : {}), mounts, grants };
}

// ---- the sandbox ----

export type MountKind = "root" | "target" | "created" | "pin-dir" | "pin-link" | "file";

export interface MountPoint {
  readonly ro: boolean;
  readonly noexec: boolean;
  /** What put a mount here (a pin stacked on a target keeps both). */
  readonly kinds: ReadonlySet<MountKind>;
}

export interface Sandbox {
  readonly mode: "namespace" | "landlock";
  /** The filesystem the command sees (the mount points created for missing names included); accesses change it. */
  readonly fs: FsModel;
  readonly handledFs: number;
  /** Landlock rules: inode → rights. */
  readonly rules: ReadonlyMap<number, number>;
  /** Mount points (namespace mode): node id → attributes. Landlock-only mode: `/` as the host has it. */
  readonly mounts: ReadonlyMap<number, MountPoint>;
  /** Set when the loader refuses to run the command (status 125): nothing ran. */
  readonly refused?: string;
  /** Directories made for missing read-only names, in creation order. */
  readonly created: readonly string[];
  /** Lexical paths of the mount lines applied in full. */
  readonly appliedInFull: ReadonlySet<string>;
  /** What the launch did, `--report`-like: skipped links, carves, pins, lines not applied. */
  readonly report: readonly string[];
  /** Real roots of the grants expanded entry by entry (entries made in them afterwards get nothing from them). */
  readonly expanded: readonly string[];
  /** Grants skipped because their path was missing at launch. */
  readonly skipped: readonly string[];
}

export interface LaunchOptions {
  readonly mode: "namespace" | "landlock";
  /**
   * Spec amendments, each a place where the design (§2) leaves a hole the property tests found and the
   * loader closes; all on by default, off to reproduce the hole (see the regression tests).
   */
  readonly amendments?: Partial<Amendments>;
}

export interface Amendments {
  /**
   * Pin every real directory above a read-only or noexec target whose parent is writable, not only those on
   * the lexical walk: a symlink's target can otherwise be renamed away with its parent and replaced by a
   * writable directory the link then leads to (native/loader/mounts.c does this).
   */
  readonly pinRealAncestors: boolean;
  /**
   * A line's path that leads elsewhere (through a symlink, or a gitfile to its repository) carries to its
   * target only the attributes the line changes (against the line lexically above it); the other attribute
   * stays what the target's own region says. A gitfile's repository takes only the denying ones (`ro`,
   * `noexec`). The design gives the target both attributes of the line, so a line written for `noexec` made
   * what its link points at writable, and a writable `.git` line made its repository writable (chmod, utimes).
   */
  readonly onlyWhatTheLineChanges: boolean;
  /**
   * Pins and the mount points for missing names are decided once every line is resolved, from the regions
   * all the targets make (the design: from the lines resolved so far), a pin where the parent of the pinned
   * entry is writable (the design: for a directory, where the directory itself is), and only on the way to
   * a line that denies (`ro` or `noexec`): a writable line has nothing to keep in place. Missing names are
   * created shallowest first. The design's order pinned entries whose parent a later line made read-only
   * (EXDEV where the kernel says EROFS) (native/loader/mounts.c does this).
   */
  readonly decideAfterResolving: boolean;
  /**
   * A line that leads through a symlink that does not resolve is refused only when it denies: a writable
   * root that leads nowhere has nothing to enforce (native/loader/mounts.c does this; the design refuses).
   */
  readonly refuseOnlyDenying: boolean;
}

export const SPEC_AMENDMENTS: Amendments = { pinRealAncestors: true, onlyWhatTheLineChanges: true, decideAfterResolving: true, refuseOnlyDenying: true };

class Refusal extends Error {}

/** How many entries of a read-denied directory the loader looks at for links that lead out of it. */
export const MAX_DENIED_SCAN = 4096;

/** What the loader does at launch with `plan` over `fs` (not changed: the sandbox gets its own copy). */
export function launch(plan: ParsedPlan, hostFs: FsModel, options: LaunchOptions): Sandbox {
  const fs = hostFs.clone();
  const mounts = new Map<number, MountPoint>();
  const report: string[] = [];
  const created: string[] = [];
  const appliedInFull = new Set<string>();
  const rules = new Map<number, number>();
  const expanded: string[] = [];
  const skipped: string[] = [];
  const amend = { ...SPEC_AMENDMENTS, ...options.amendments };
  const sandbox = (refused?: string): Sandbox => ({ mode: options.mode, fs, handledFs: plan.handledFs, rules, mounts, created, appliedInFull, report, expanded, skipped, ...(refused !== undefined ? { refused } : {}) });
  mounts.set(fs.root.id, { ro: false, noexec: false, kinds: new Set(["root"]) });
  try {
    const namespace = options.mode === "namespace" && plan.mounts.length > 0;
    if (namespace) applyMounts(plan, fs, mounts, created, appliedInFull, report, amend);
    addRules(plan, fs, namespace ? appliedInFull : undefined, rules, report, expanded, skipped);
    return sandbox();
  } catch (e) {
    if (e instanceof Refusal) return sandbox(e.message);
    throw e;
  }
}

// ---- §2: the mount layer ----

interface Target {
  real: string;
  ro: boolean;
  noexec: boolean;
  lines: Set<number>;
  /** Missing at launch: made in phase B under `base`. */
  created?: { base: string; missing: readonly string[] };
  file?: boolean;
}

function applyMounts(plan: ParsedPlan, fs: FsModel, mounts: Map<number, MountPoint>, created: string[], appliedInFull: Set<string>, report: string[], amend: Amendments): void {
  const root = plan.mounts[0]!;
  if (root.path !== "/") throw new Error("the first mount line must be `/`");
  let rootAttrs = { ro: root.ro, noexec: root.noexec };
  const targets: Target[] = [];
  const pins = new Map<string, { link: boolean; lines: Set<number> }>();
  const applied = plan.mounts.map(() => true);
  const notApplied = (i: number, why: string) => {
    if (applied[i]) report.push(`not applied mount ${plan.mounts[i]!.path}: ${why}`);
    applied[i] = false;
  };
  // §2.1.4: the region of a real path, from the targets resolved so far.
  const region = (real: string) => {
    let best: Target | undefined;
    for (const t of targets) if (isWithin(real, t.real) && (!best || t.real.length > best.real.length)) best = t;
    return best ? { ro: best.ro, noexec: best.noexec } : rootAttrs;
  };
  const addTarget = (real: string, ro: boolean, noexec: boolean, line: number, extra: Partial<Target> = {}) => {
    if (real === "/") {
      // A mount over `/` itself would not be seen by lookups; it joins the `/` line (native/loader does this).
      rootAttrs = { ro: rootAttrs.ro || ro, noexec: rootAttrs.noexec || noexec };
      return;
    }
    const t = targets.find((x) => x.real === real);
    if (t) {
      t.ro ||= ro;
      t.noexec ||= noexec;
      t.lines.add(line);
    } else targets.push({ real, ro, noexec, lines: new Set([line]), ...extra });
  };
  const addPin = (path: string, link: boolean, line: number) => {
    const p = pins.get(path) ?? { link, lines: new Set<number>() };
    p.lines.add(line);
    pins.set(path, p);
  };
  const refuse = (m: PlanMount, w: Walk & { status: "dangling" }) => {
    const target = fs.at(w.link)?.target ?? "?";
    throw new Refusal(`${m.path} goes through ${w.link}, a symlink to ${target}, which does not resolve: sbc cannot protect what it points at`);
  };

  const later = amend.decideAfterResolving;
  const pinCandidates: { path: string; link: boolean; parent: string; line: number }[] = [];
  const missingNames: { line: number; base: string; missing: string[] }[] = [];
  /** §2.2: a read-only name missing where it could be created is held by an empty read-only mount point. */
  const decideMissing = ({ line: i, base: cur, missing }: { line: number; base: string; missing: string[] }) => {
    const m = plan.mounts[i]!;
    const base = fs.at(cur);
    if (m.ro && !region(cur).ro) {
      if (base?.kind !== "dir") notApplied(i, `${cur} is not a directory: cannot create ${missing.join("/")}`);
      else addTarget(joinPath(cur, missing.join("/")), true, m.noexec, i, { created: { base: cur, missing } });
    } else if (m.noexec) notApplied(i, `${joinPath(cur, missing.join("/"))} does not exist`);
  };

  const indirectTargets: (() => void)[] = [];
  // Phase A, in plan order.
  for (let i = 1; i < plan.mounts.length; i++) {
    const m = plan.mounts[i]!;
    if (m.file) {
      // `mount-file` (not in the design; the compiler emits it for an exact allow of a file): a file target.
      const r = fs.realpath(m.path);
      const node = typeof r === "string" ? fs.at(r) : undefined;
      if (node && node.kind !== "dir") addTarget(r as string, m.ro, m.noexec, i, { file: true });
      continue;
    }
    const comps = splitPath(m.path);
    // The attributes the line changes, against the nearest line lexically above it.
    let above: PlanMount = root;
    for (let j = 1; j < i; j++) if (isWithin(m.path, plan.mounts[j]!.path) && plan.mounts[j]!.path !== m.path && plan.mounts[j]!.path.length > above.path.length) above = plan.mounts[j]!;
    const changes = { ro: m.ro !== above.ro, noexec: m.noexec !== above.noexec };
    /** The attributes for a target the line reaches elsewhere (`denyingOnly`: a gitfile's repository). */
    const carried = (real: string, denyingOnly: boolean) => {
      if (!amend.onlyWhatTheLineChanges) return { ro: m.ro, noexec: m.noexec };
      const r = region(real);
      return {
        ro: changes.ro && (m.ro || !denyingOnly) ? m.ro : r.ro,
        noexec: changes.noexec && (m.noexec || !denyingOnly) ? m.noexec : r.noexec,
      };
    };
    let cur = "/";
    let viaLink = false;
    let missing: string[] | undefined;
    for (let k = 0; k < comps.length; k++) {
      const c = comps[k]!;
      const last = k === comps.length - 1;
      const next = joinPath(cur, c);
      const node = fs.at(next);
      const parentNode = fs.at(cur);
      if (!node || !parentNode || parentNode.kind !== "dir") {
        missing = comps.slice(k);
        break;
      }
      if (node.kind === "symlink") {
        if (later) pinCandidates.push({ path: next, link: true, parent: cur, line: i });
        else if (!region(cur).ro) addPin(next, true, i);
        const r = fs.realpath(next);
        if (typeof r !== "string") {
          if (later && amend.refuseOnlyDenying && !m.ro && !m.noexec) {
            missing = [];
            break;
          }
          refuse(m, { status: "dangling", real: cur, link: next, links: [], dirs: [] });
        }
        cur = r as string;
        viaLink = true;
        continue;
      }
      if (!last && node.kind === "dir") {
        if (later) pinCandidates.push({ path: next, link: false, parent: cur, line: i });
        else if (!region(next).ro) addPin(next, false, i);
      }
      cur = next;
    }
    if (missing) {
      if (!missing.length) continue; // a writable line that leads nowhere
      if (later) missingNames.push({ line: i, base: cur, missing });
      else decideMissing({ line: i, base: cur, missing });
      continue;
    }
    // What a line reaches elsewhere takes the attributes it does not change from the regions of the lines
    // that name their targets directly, once all are known.
    const indirect: (() => void)[] = [];
    const target = (real: string, denyingOnly: boolean, direct: boolean) => {
      if (direct || !amend.onlyWhatTheLineChanges) addTarget(real, m.ro, m.noexec, i);
      else
        indirect.push(() => {
          const a = carried(real, denyingOnly);
          addTarget(real, a.ro, a.noexec, i);
        });
    };
    target(cur, false, !viaLink);
    // A worktree's or submodule's `.git` file: its repository gets the same attributes.
    const node = fs.at(cur)!;
    // (Read only for a line that denies something: a writable line carries nothing to the repository.)
    if (comps[comps.length - 1] === ".git" && node.kind === "file" && (m.ro || m.noexec || !amend.onlyWhatTheLineChanges)) {
      const g = readGitfile(fs, node, parentPath(cur));
      if (g && "why" in g) throw new Refusal(`${m.path} (${cur}) is a gitfile that ${g.why}: sbc cannot protect what it points at`);
      if (g) for (const t of [g.gitdir, ...(g.commondir ? [g.commondir] : [])]) target(t, true, false);
    }
    indirectTargets.push(...indirect);
  }
  for (const add of indirectTargets) add();

  if (later) {
    const depth = (x: { base: string; missing: string[] }) => splitPath(x.base).length + x.missing.length;
    for (const x of [...missingNames].sort((a, b) => depth(a) - depth(b) || a.line - b.line)) decideMissing(x);
    for (const p of pinCandidates) {
      const m = plan.mounts[p.line]!;
      if (!m.ro && !m.noexec) continue;
      if (!p.link && targets.some((t) => t.real === p.path && !t.created)) continue; // a mount point already
      if (!region(p.parent).ro) addPin(p.path, p.link, p.line);
    }
  }

  if (amend.pinRealAncestors) {
    for (const t of [...targets]) {
      if (!t.ro && !t.noexec) continue;
      const real = t.created ? t.created.base : t.real;
      const parts = splitPath(real);
      for (let k = 1; k <= parts.length - (t.created ? 0 : 1); k++) {
        const p = "/" + parts.slice(0, k).join("/");
        const isTarget = targets.some((x) => x.real === p && !x.created);
        if (!isTarget && !region(parentPath(p)).ro && fs.at(p)?.kind === "dir") for (const l of t.lines) addPin(p, false, l);
      }
    }
  }

  // Phase B: `/` first, then targets by depth (ties in plan order), then pins.
  const setMount = (node: FsNode, attrs: { ro: boolean; noexec: boolean }, kind: MountKind) => {
    const old = mounts.get(node.id);
    mounts.set(node.id, { ...attrs, kinds: new Set([...(old?.kinds ?? []), kind]) });
  };
  mounts.set(fs.root.id, { ...rootAttrs, kinds: new Set(["root"]) });
  const order = [...targets].sort((a, b) => splitPath(a.real).length - splitPath(b.real).length || Math.min(...a.lines) - Math.min(...b.lines));
  for (const t of order) {
    if (!t.created) {
      setMount(fs.at(t.real)!, t, t.file ? "file" : "target");
      continue;
    }
    let dir = fs.at(t.created.base)!;
    const names = t.created.missing;
    for (let k = 0; k < names.length; k++) {
      const existing = dir.children!.get(names[k]!);
      // An earlier created target may have made this directory already.
      dir = existing ?? fs.create(dir, names[k]!, "dir");
      if (!existing) created.push(fs.pathOf(dir));
      if (k + 1 < names.length) for (const l of t.lines) addPin(fs.pathOf(dir), false, l);
    }
    setMount(dir, { ro: true, noexec: t.noexec }, "created");
  }
  // A pin is attribute-neutral: it copies the attributes of the mount it is made in.
  for (const [path, p] of pins) {
    const node = fs.at(path);
    if (!node) continue;
    setMount(node, mountAttrs(fs, mounts, node), p.link ? "pin-link" : "pin-dir");
    report.push(`pinned ${p.link ? "link" : "dir"} ${path}`);
  }
  plan.mounts.forEach((m, i) => {
    if (applied[i]) appliedInFull.add(m.path);
  });
}

/** The attributes of the mount `node` is on: the nearest mount point at or above it. */
export function mountAttrs(fs: FsModel, mounts: ReadonlyMap<number, MountPoint>, node: FsNode): MountPoint {
  for (let n: FsNode | null = node; n; n = n.parent) {
    const m = mounts.get(n.id);
    if (m) return m;
  }
  return mounts.get(fs.root.id)!;
}

/** The mount point `node` is on (for EXDEV): the nearest mount point at or above it. */
export function mountOf(fs: FsModel, mounts: ReadonlyMap<number, MountPoint>, node: FsNode): FsNode {
  for (let n: FsNode | null = node; n; n = n.parent) if (mounts.has(n.id)) return n;
  return fs.root;
}

// ---- §4: the Landlock step ----

interface Part {
  mask: number;
  except: string[];
}

interface OpenGrant {
  readonly grant: PlanGrant;
  readonly node: FsNode;
  readonly real: string;
  readonly parts: Part[];
}

function addRules(plan: ParsedPlan, fs: FsModel, appliedInFull: ReadonlySet<string> | undefined, rules: Map<number, number>, report: string[], expanded: string[], skipped: string[]): void {
  // §4.1: grants bind what their path resolves to.
  const open: OpenGrant[] = [];
  for (const g of plan.grants) {
    const r = fs.lookup(g.path, true);
    if (!("node" in r)) {
      if (g.ifMissing === "error") throw new Refusal(`open(${g.path}): ${"missing" in r ? "ENOENT" : r.errno}`);
      report.push(`skipped ${g.kind} ${g.path}: missing`);
      skipped.push(g.path);
      continue;
    }
    if (g.kind === "fs-file" && r.node.kind === "dir") continue;
    if (g.kind === "fs-children" && r.node.kind !== "dir") continue;
    // §1: in namespace mode a `!` entry whose mount line was applied in full is left to the mount layer.
    const kept = g.except.filter((e) => !(e.mountEnforced && appliedInFull?.has(joinPath(g.path, e.rel))));
    open.push({ grant: g, node: r.node, real: fs.pathOf(r.node), parts: [{ mask: g.mask, except: g.kind === "fs-children" ? kept.map((e) => e.rel) : [] }] });
  }
  // §4.3: what a denied name resolves to is carved out of every grant above it.
  const readDenied = new Set<string>();
  for (const o of open)
    if (o.grant.kind === "fs-children" && o.grant.mask & (ACCESS_FS.read_file | ACCESS_FS.read_dir)) for (const e of o.parts[0]!.except) readDenied.add(joinPath(o.grant.path, e));
  for (const o of open) {
    if (o.grant.kind !== "fs-children") continue;
    for (const e of o.parts[0]!.except) {
      const w = walkLexical(fs, o.real, e);
      const lexical = joinPath(o.grant.path, e);
      if (w.status === "dangling") throw new Refusal(`${lexical} goes through ${w.link}, a symlink to ${fs.at(w.link)?.target}, which does not resolve: sbc cannot protect what it points at`);
      const targets: string[] = [];
      if (w.status === "missing" && w.links.length) targets.push(joinPath(w.real, w.missing.join("/")));
      if (w.status === "found") {
        if (w.links.length) targets.push(w.real);
        if (e.split("/").pop() === ".git" && w.node.kind === "file") {
          const g = readGitfile(fs, w.node, parentPath(w.real));
          if (g && "why" in g) throw new Refusal(`${lexical} (${w.real}) is a gitfile that ${g.why}: sbc cannot protect what it points at`);
          if (g) targets.push(g.gitdir, ...(g.commondir ? [g.commondir] : []));
        }
      }
      for (const t of targets) {
        report.push(`denied ${lexical} resolves to ${t}`);
        carve(open, t, o.grant.mask, report);
      }
      // A read-denied directory's links that lead out of it (GNU stow's file links) carve their targets too
      // (native/loader/landlock.c, scan_denied: at most MAX_DENIED_SCAN entries).
      if (w.status === "found" && w.node.kind === "dir" && readDenied.has(lexical)) {
        let budget = MAX_DENIED_SCAN;
        const scan = (dir: FsNode, at: string, depth: number) => {
          if (depth > 32) return;
          for (const [name, child] of dir.children ?? []) {
            if (--budget < 0) return;
            const path = joinPath(at, name);
            if (child.kind === "dir") scan(child, path, depth + 1);
            else if (child.kind === "symlink") {
              const real = fs.realpath(path);
              if (typeof real === "string" && real !== w.real && !real.startsWith(w.real === "/" ? "/" : w.real + "/")) {
                report.push(`denied ${path} leads out to ${real}`);
                carve(open, real, o.grant.mask, report);
              }
            }
          }
        };
        scan(w.node, w.real, 0);
      }
    }
  }
  const add = (node: FsNode, mask: number) => {
    const m = node.kind === "dir" ? mask : mask & ACCESS_FILE;
    if (m) rules.set(node.ino, (rules.get(node.ino) ?? 0) | m);
  };
  for (const o of open) {
    for (const p of o.parts) {
      if (!p.mask) continue;
      if (!p.except.length) add(o.node, p.mask);
      else {
        expand(fs, o.node, p.mask, p.except, add, report);
        expanded.push(o.real);
      }
    }
  }
}

function carve(open: OpenGrant[], t: string, m: number, report: string[]): void {
  for (const g of open) {
    if (g.real === t) {
      for (const p of g.parts) p.mask &= ~m;
      report.push(`dropped 0x${m.toString(16)} on ${t}: a denied name resolves to it`);
      continue;
    }
    if (g.node.kind !== "dir" || !isWithin(t, g.real) || t === g.real) continue;
    const rel = splitPath(t).slice(splitPath(g.real).length).join("/");
    for (const p of [...g.parts]) {
      const bits = p.mask & m;
      if (!bits) continue;
      p.mask &= ~bits;
      g.parts.push({ mask: bits, except: [...p.except, rel] });
    }
  }
}

/** §4.2: a rule on each entry but the carved ones; a link gets nothing; descend along deeper except paths into real directories. */
function expand(fs: FsModel, dir: FsNode, mask: number, except: readonly string[], add: (n: FsNode, m: number) => void, report: string[]): void {
  for (const [name, child] of dir.children!) {
    if (except.includes(name)) continue;
    const deeper = except.filter((e) => e.startsWith(name + "/")).map((e) => e.slice(name.length + 1));
    if (child.kind === "symlink") report.push(`skipped link ${fs.pathOf(child)}`);
    else if (deeper.length && child.kind === "dir") expand(fs, child, mask, deeper, add, report);
    else add(child, mask);
  }
}

function isWithin(p: string, base: string): boolean {
  return base === "/" || p === base || p.startsWith(base + "/");
}

export const CONTENT_RIGHTS = ACCESS_FS.remove_dir | ACCESS_FS.remove_file | ACCESS_FS.make_char | ACCESS_FS.make_dir | ACCESS_FS.make_reg | ACCESS_FS.make_sock | ACCESS_FS.make_fifo | ACCESS_FS.make_block | ACCESS_FS.make_sym | ACCESS_FS.refer;
