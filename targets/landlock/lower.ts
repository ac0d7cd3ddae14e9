// Lowering the IR's filesystem and network sections to a Landlock rule table. Landlock is an allow-list of
// rights granted beneath inodes, so each IR access class is one or more rights, and each right gets its own
// set of grants: an allow region of the IR becomes a grant at its root, and a deny carved out of it becomes
// a "children" grant that the launcher expands over the entries that exist at launch, skipping the carved
// path. Whatever Landlock cannot say exactly is lowered to something narrower, with a diagnostic naming the
// rule (`--strict` makes those errors). See docs/targets/landlock.md.

import { diag, type Diagnostic, type Label } from "../../diagnostics/diagnostic.js";
import type { Span } from "../../diagnostics/source.js";
import type { Access } from "../../ir/access.js";
import type { FsRule, IR, NetOp, NetRule, Protocol, Widening } from "../../ir/types.js";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { namedUnixAllowed, unixPathsAll } from "../../ir/evaluator/network-syscalls.js";
import { bindIr } from "../../ir/bind.js";
import { ACCESS_CLASSES } from "../../ir/access.js";
import { components, globLiteralDepth, isWithin, joinComponents, parseTemplate } from "../../ir/paths.js";
import { ACCESS_FS, ACCESS_NET, MAX_ABI, SCOPE, abiMasks } from "./abi.js";
import { lowerMounts, mountAt, MODIFY_CLASSES, type MountLayer, type MountNode } from "./mounts.js";
import { classRegions, FILE_CLASSES, regionEffect, type ClassRegions, type RegionNarrowing, type RegionNode } from "./regions.js";

/** The Landlock rights each IR access class needs. */
export const RIGHTS_OF: Readonly<Record<Access, number>> = {
  read: ACCESS_FS.read_file,
  list: ACCESS_FS.read_dir,
  execute: ACCESS_FS.execute,
  write: ACCESS_FS.write_file,
  truncate: ACCESS_FS.truncate,
  ioctl: ACCESS_FS.ioctl_dev,
  "create-file": ACCESS_FS.make_reg,
  "create-dir": ACCESS_FS.make_dir,
  "create-symlink": ACCESS_FS.make_sym,
  "create-special": ACCESS_FS.make_char | ACCESS_FS.make_block | ACCESS_FS.make_fifo | ACCESS_FS.make_sock,
  "delete-file": ACCESS_FS.remove_file,
  "delete-dir": ACCESS_FS.remove_dir,
  rename: ACCESS_FS.refer,
};

export type Compat = "best-effort" | "soft-requirement" | "hard-requirement";

export interface FsGrant {
  /** Absolute path of the grant. */
  readonly path: string;
  readonly access: number;
  /**
   * `beneath`: a rule on the path; `file`: a rule only if the path is a file at launch (an `exact:` allow);
   * `children`: a rule on each entry of the directory that exists at launch, except the paths in `except`
   * (relative, possibly nested: the launcher descends along them; in a symbolic table an entry may also be
   * `${name}/…`, a path beneath the grant once the parameter is substituted).
   */
  readonly mode: "beneath" | "file" | "children";
  readonly except?: readonly string[];
  /**
   * The `except` entries the mount layer enforces by itself (a read-only or noexec mount at that path): in a
   * mount namespace the launcher leaves them out of the expansion, and a grant with no other entry is granted
   * whole. Without a namespace they are carved like the rest.
   */
  readonly mountEnforced?: readonly string[];
  readonly ifMissing: "skip" | "error";
}

/**
 * A parameter the table leaves symbolic: grants name it as `${name}/…`, and the launcher substitutes its value.
 * The table was computed as if the value lay apart from every other anchor of the policy (neither inside nor
 * around it): `apart` lists the anchors that must be so, `apartOrSame` those that may also equal it (the
 * table is then still exact, because neither holds a rule beneath it and both decide every class alike). The
 * launcher checks both against the real values and refuses to run otherwise; the value must not be `/`.
 */
export interface TableParam {
  readonly name: string;
  readonly apart: readonly string[];
  readonly apartOrSame: readonly string[];
}

export interface LandlockTable {
  readonly landlockTable: 1;
  readonly policy: string;
  readonly abi: number;
  readonly compat: Compat;
  readonly handledAccessFs: number;
  readonly handledAccessNet: number;
  readonly scoped: number;
  readonly restrictFlags: number;
  readonly fs: readonly FsGrant[];
  readonly net: readonly { readonly port: number; readonly access: number }[];
  /** The lowest ABI that enforces everything this table restricts. */
  readonly requiredAbi: number;
  /** Parameters left symbolic, with the placement the table assumes; absent when every path is concrete. */
  readonly params?: readonly TableParam[];
  /** The mount layer applied in a mount namespace (mounts.ts); empty when the policy needs none. */
  readonly mounts: readonly MountNode[];
}

export interface LowerOptions {
  readonly abi: number;
  readonly compat?: Compat;
  readonly strict?: boolean;
  /** The policy's `linux.namespaces`: with `never` the mount layer is not used, so its carve-outs cost again. */
  readonly namespaces?: "auto" | "require" | "never";
  /** Widenings accepted besides the policy's own (`sbc exec --compat best-effort` on an older kernel accepts `udp`). */
  readonly acceptAlso?: readonly Widening[];
  /** Check the ABI against what the policy needs (SBC2211); off for `sbc exec`, which decides that itself (SBC2503). */
  readonly abiCheck?: boolean;
}

export function lowerLandlock(ir: IR, options: LowerOptions): { table?: LandlockTable; diagnostics: Diagnostic[] } {
  const free = freeFsParams(ir);
  const r = free.length ? lowerSymbolic(ir, free, options) : lowerBound(ir, options);
  if (!r.table || options.abi >= MAX_ABI || options.abiCheck === false) return r;
  // A table for an older ABI handles fewer rights, and a right not handled is allowed everywhere: a widening
  // unless the compatibility level accepts it (the table records the level; the loader acts on it).
  const full = lowerLandlock(ir, { ...options, abi: MAX_ABI });
  const needed = full.table?.requiredAbi ?? 0;
  if (needed <= options.abi) return r;
  const lacking = whatAbiLacks(full.table!, options.abi);
  const hard = (options.compat ?? "hard-requirement") === "hard-requirement";
  const d = diag("landlockAbiWidened", `Landlock ABI ${options.abi} cannot enforce ${lacking.what}, which the policy restricts: the table would allow it everywhere (the policy needs ABI ${needed})`, {
    ...(lacking.span(ir) ? { span: lacking.span(ir)! } : {}),
    help: hard ? `build for ABI ${needed} or later (\`--abi ${needed}\`), or accept running with less with \`--compat best-effort\`` : "accepted by the compatibility level; the launcher says what is not enforced",
    labels: [],
    severity: hard ? "error" : "warning",
  });
  return hard ? { diagnostics: [...r.diagnostics, d] } : { table: r.table, diagnostics: [...r.diagnostics, d] };
}

/** The first thing a table for `abi` cannot enforce that `full` (the newest ABI's table) restricts, and where the policy asks for it. */
function whatAbiLacks(full: LandlockTable, abi: number): { what: string; span: (ir: IR) => Span | undefined } {
  const fsRule = (ir: IR) => (ir.filesystem.find((x) => x.span) ?? ir.filesystem[0])?.span;
  const netRule = (ir: IR) => ir.network.rules.find((x) => x.span)?.span ?? ir.network.span;
  const needs: [number, boolean, string, (ir: IR) => Span | undefined][] = [
    [1, full.handledAccessFs !== 0, "the filesystem", fsRule],
    [2, (full.handledAccessFs & ACCESS_FS.refer) !== 0 && full.fs.some((g) => (g.access & ACCESS_FS.refer) !== 0), "renames between directories (REFER)", fsRule],
    [3, (full.handledAccessFs & ACCESS_FS.truncate) !== 0, "truncation (TRUNCATE)", fsRule],
    [4, (full.handledAccessNet & (ACCESS_NET.bind_tcp | ACCESS_NET.connect_tcp)) !== 0, "TCP ports", netRule],
    [5, (full.handledAccessFs & ACCESS_FS.ioctl_dev) !== 0, "device ioctls (IOCTL_DEV)", fsRule],
    [6, full.scoped !== 0, "abstract unix sockets outside the sandbox", (ir) => ir.network.unix.span ?? ir.network.span],
    [10, (full.handledAccessNet & (ACCESS_NET.bind_udp | ACCESS_NET.connect_send_udp)) !== 0, "UDP ports", netRule],
  ];
  const first = needs.find(([v, needed]) => needed && v > abi);
  return first ? { what: first[2], span: first[3] } : { what: "everything", span: () => undefined };
}

// ---- symbolic parameters ----
//
// Precedence compares rules on one chain of ancestors, so a table depends on the values of its parameters
// only through which anchors lie inside which. A free parameter is lowered as a placeholder directory
// directly under `/` that no other anchor can be inside or around; the table is then right for every value
// with that placement, and the launcher checks the placement before it applies anything (fail closed).

/** Free params that filesystem rules are anchored at, sorted. */
function freeFsParams(ir: IR): string[] {
  const free = new Set(ir.params.filter((p) => p.value === null).map((p) => p.name));
  const used = new Set<string>();
  for (const r of ir.filesystem) {
    const t = parseTemplate(r.path);
    if (t.param !== null && free.has(t.param)) used.add(t.param);
  }
  return [...used].sort();
}

/** U+F8FF (private use) cannot come from a policy's literal paths in practice, and is checked against them. */
const PLACEHOLDER_MARK = "\uf8ff";

function lowerSymbolic(ir: IR, free: readonly string[], options: LowerOptions): { table?: LandlockTable; diagnostics: Diagnostic[] } {
  const literalFirst = new Set(ir.filesystem.filter((r) => parseTemplate(r.path).param === null).map((r) => components(r.path)[0]));
  let mark = PLACEHOLDER_MARK;
  while (free.some((n) => literalFirst.has(`${mark}${n}`))) mark += PLACEHOLDER_MARK;
  const placeholder = new Map(free.map((n) => [n, `/${mark}${n}`]));
  // Free params no filesystem rule uses (only tests, say) get a placeholder too; the table does not name them.
  const unused = Object.fromEntries(ir.params.filter((p) => p.value === null && !placeholder.has(p.name)).map((p) => [p.name, `/${mark}${p.name}`]));
  const bound = bindIr(ir, { ...unused, ...Object.fromEntries(placeholder) }).ir!;
  const r = lowerBound(bound, options);

  // Back from placeholders to `${name}`, in the table and in every message.
  const back = (s: string) => {
    for (const [n, ph] of placeholder) s = s.split(ph).join(`\${${n}}`);
    return s;
  };
  const diagnostics = r.diagnostics.map((d) => ({
    ...d,
    message: back(d.message),
    ...(d.help !== undefined ? { help: back(d.help) } : {}),
    labels: d.labels.map((l) => ({ ...l, message: back(l.message) })),
  }));
  if (!r.table) return { diagnostics };

  // The anchors of the bound policy: a rule's path, or a glob's literal directory.
  const anchorOf = (rule: FsRule) => {
    if (rule.kind !== "glob") return rule.path;
    const parts = components(rule.path);
    return joinComponents(parts.slice(0, globLiteralDepth(parts)).map((c) => c.replace(/\\(.)/g, "$1")));
  };
  const anchors = bound.filesystem.map((rule) => ({ rule, at: anchorOf(rule) }));
  // Only subtree rules exactly at the root, and nothing anchored beneath it.
  const simpleRoot = (root: string) => anchors.every(({ rule, at }) => !isWithin(at, root) || (at === root && rule.kind === "subtree"));
  const decisions = (b: IR, path: string) => ACCESS_CLASSES.map((c) => evaluateFs(b, c, path).decision).join();

  const params: TableParam[] = [];
  for (const name of free) {
    const ph = placeholder.get(name)!;
    const apart = new Set<string>();
    const apartOrSame = new Set<string>();
    const others = new Set<string>();
    for (const { at } of anchors) {
      if (at === "/" || isWithin(at, ph)) continue;
      const root = [...placeholder].find(([, p]) => isWithin(at, p));
      if (root) {
        if (root[0] > name) others.add(root[1]); // each pair of params once
      } else others.add(at);
    }
    for (const other of others) {
      const shown = back(other);
      // May the value equal `other`? Only if that changes nothing: neither has a rule beneath it, and the
      // merged node decides every class as each did alone.
      let same = false;
      if (simpleRoot(ph) && simpleRoot(other)) {
        const merged = bindIr(ir, { ...unused, ...Object.fromEntries([...placeholder].map(([n, p]) => [n, n === name ? other : p])) }).ir!;
        const alone = decisions(bound, ph);
        same = alone === decisions(bound, other) && alone === decisions(merged, other);
      }
      (same ? apartOrSame : apart).add(shown);
    }
    params.push({ name, apart: [...apart].sort(), apartOrSame: [...apartOrSame].sort() });
  }
  // An except entry under a placeholder (only possible beneath `/`: params lie apart from every other anchor)
  // is written from the parameter, `${name}/rest`, and the launcher makes it relative again.
  const backExcept = (root: string, e: string) => {
    if (back(root).startsWith("${")) return e;
    const full = back(joinComponents([...components(root), ...e.split("/")]));
    return full.startsWith("${") ? full : e;
  };
  const fs = r.table.fs
    .map((g) => ({
      ...g,
      path: back(g.path),
      ...(g.except ? { except: g.except.map((e) => backExcept(g.path, e)).sort() } : {}),
      ...(g.mountEnforced ? { mountEnforced: g.mountEnforced.map((e) => backExcept(g.path, e)).sort() } : {}),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.mode < b.mode ? -1 : a.mode > b.mode ? 1 : a.access - b.access));
  const mounts = r.table.mounts.map((m) => ({ ...m, path: back(m.path) }));
  return { table: { ...r.table, fs, params, mounts }, diagnostics };
}

function lowerBound(ir: IR, options: LowerOptions): { table?: LandlockTable; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const masks = abiMasks(options.abi);
  const narrow = (message: string, span: Span | undefined, help?: string, labels: Label[] = []) =>
    diagnostics.push(diag("landlockNarrowed", message, { ...(span ? { span } : {}), ...(help ? { help } : {}), labels, severity: options.strict ? "error" : "warning" }));

  // ---- filesystem, per Landlock right ----
  const grants = new Map<string, { path: string; access: number; mode: FsGrant["mode"]; except?: string[]; mountEnforced?: string[]; ifMissing: "skip" | "error" }>();
  const addGrant = (path: string, bit: number, mode: FsGrant["mode"], except: string[] | undefined, enforced: readonly string[], ifMissing: "skip" | "error") => {
    const ex = except ? [...except].sort() : undefined;
    const me = ex?.filter((e) => enforced.includes(e));
    const key = `${mode}\0${path}\0${ex?.map((e) => (me?.includes(e) ? "!" : "") + e).join("\0") ?? ""}\0${ifMissing}`;
    const g = grants.get(key);
    if (g) g.access |= bit;
    else grants.set(key, { path, access: bit, mode, ...(ex ? { except: ex } : {}), ...(me?.length ? { mountEnforced: me } : {}), ifMissing });
  };
  const reported = new Set<FsRule>();
  const once = (r: FsRule, f: () => void) => {
    if (!reported.has(r)) {
      reported.add(r);
      f();
    }
  };

  const carvedOut = new Map<string, { root: string; rootSpan: Span | undefined; path: string; span: Span | undefined; classes: Set<Access> }>();
  const everything = ir.filesystem.some((r) => r.effect === "allow" && r.kind === "subtree" && r.path === "/" && r.access.length === 13) && !ir.filesystem.some((r) => r.effect === "deny");
  // RESOLVE_UNIX is handled only where the unix rules need it (below); every other right of the ABI is.
  const fsHandled = (everything ? 0 : masks.fs & ~ACCESS_FS.resolve_unix) | (resolveUnixNeeded(ir, options.abi) ? ACCESS_FS.resolve_unix : 0);

  // Each class's regions, computed once; what they approximate is announced when the class is lowered (and
  // only if the ABI has a right for it), in class order.
  const regions = new Map<Access, ClassRegions>();
  const approximations = new Map<Access, RegionNarrowing[]>();
  const regionsOf = (cls: Access): ClassRegions => {
    let r = regions.get(cls);
    if (!r) {
      const found: RegionNarrowing[] = [];
      regions.set(cls, (r = classRegions(ir, cls, (n) => found.push(n))));
      approximations.set(cls, found);
    }
    return r;
  };
  const announce = (cls: Access, n: RegionNarrowing) => {
    const r = n.rule;
    if (n.kind === "exact-deny") {
      if (n.allowBeneath) once(r, () => narrow(`Landlock cannot deny \`${r.path}\` alone; it is enforced as a deny of everything beneath it too`, r.span, "if the path is a directory, allows beneath it are lost on Linux"));
    } else if (n.kind === "exact-allow-dir") once(r, () => narrow(`Landlock cannot grant \`${cls}\` on \`${r.path}\` without everything beneath it; the rule is dropped`, r.span, "use `path:` to grant the whole subtree"));
    else if (n.kind === "allow-glob") once(r, () => narrow(`Landlock cannot match globs; the allow rule \`${r.path}\` is dropped`, r.span, "list the paths, or allow their common directory with `path:`"));
    else once(r, () => narrow(`Landlock cannot match globs; the deny glob \`${r.path}\` is enforced as a deny of all of \`${n.prefix}\``, r.span, "a deny glob costs its whole literal directory on Linux; narrow the glob's prefix to limit that"));
  };

  // The mount layer, read off the same regions: which carve-outs it enforces by itself in a namespace.
  const mounts: MountLayer = everything ? { nodes: [], narrowings: [] } : lowerMounts(ir, regionsOf);
  const namespaces = options.namespaces ?? "auto";
  // A carve-out at `path` is the mount layer's when, in a namespace — where the directory around it is then
  // granted whole for the class — the mounts alone decide the class as the policy does beneath it: a node
  // there denies it, and wherever below a deeper node makes the tree writable (or executable) again, the
  // policy allows the class too. (`allow: write` on `a/.git` under a protected `a` reopens writing there, not
  // creating: that carve-out stays Landlock's.)
  const enforcedByMount = (cls: Access, path: string): boolean => {
    if (!mountAt(mounts, path)) return false;
    const modify = MODIFY_CLASSES.has(cls);
    if (!modify && cls !== "execute") return false;
    const byMount = (p: string) => regionEffect(regionsOf(modify ? "write" : "execute"), p) === "allow";
    const byPolicy = (p: string) => regionEffect(regionsOf(cls), p) === "allow";
    if (byMount(path)) return false;
    const inside = [...regionsOf(cls).nodes.map((n) => n.path), ...mounts.nodes.filter((n) => !n.file).map((n) => n.path)].filter((p) => isWithin(p, path));
    if (inside.some((p) => byMount(p) && !byPolicy(p))) return false;
    // A file the mount layer makes writable (or executable) on its own: only file rights reach it.
    return !(FILE_CLASSES.has(cls) && mounts.nodes.some((n) => n.file && isWithin(n.path, path) && (modify ? n.writable : n.executable) && evaluateFs(ir, cls, n.path).decision !== "allow"));
  };

  // The grants of one set of regions: an allow region becomes a grant at its root, the denies carved out of
  // it leave a "children" grant. `cls` is the access class whose mount layer may enforce a carve-out.
  const grantRegions = (r: ClassRegions, bits: number, cls: Access | undefined, evaluate: (path: string) => "allow" | "deny") => {
      const { nodes: sorted, decision, parentOf, fileAllows } = r;
      for (const n of sorted) {
        const d = decision.get(n.path)!;
        const parent = parentOf(n);
        if (d.effect !== "allow" || (parent && decision.get(parent.path)!.effect === "allow")) continue;
        // n roots an allow region: the deny nodes whose every node between them and n allows are carved out.
        const carved = sorted.filter((m) => {
          if (m.parts.length <= n.parts.length || decision.get(m.path)!.effect !== "deny") return false;
          let p = parentOf(m);
          while (p && p !== n && decision.get(p.path)!.effect === "allow") p = parentOf(p);
          return p === n;
        });
        if (!carved.length) addGrant(n.path, bits, "beneath", undefined, [], d.ifMissing);
        else {
          const rel = (m: RegionNode) => m.parts.slice(n.parts.length).join("/");
          const enforced = cls ? carved.filter((m) => enforcedByMount(cls, m.path)).map(rel) : [];
          addGrant(n.path, bits, "children", carved.map(rel), enforced, d.ifMissing);
          const rootSpan = n.rules.find((r) => r.effect === "allow")?.rule.span;
          // A carve-out the mount layer enforces costs nothing in a namespace; it is announced where it does cost.
          for (const m of carved) {
            if (cls && namespaces !== "never" && enforcedByMount(cls, m.path)) continue;
            const key = `${n.path}\0${m.path}`;
            const e = carvedOut.get(key) ?? { root: n.path, rootSpan, path: m.path, span: m.rules[0]?.rule.span, classes: new Set<Access>() };
            if (cls) e.classes.add(cls);
            carvedOut.set(key, e);
          }
        }
      }
      // An exact allow is granted on its file only where it decides: a deny of equal or higher rank at that
      // path (or an ancestor's deny that outranks it) keeps the file closed.
      for (const r of fileAllows) if (evaluate(r.path) === "allow") addGrant(r.path, bits, "file", undefined, [], r.ifMissing);
  };
  if (!everything) {
    for (const [cls, rights] of Object.entries(RIGHTS_OF) as [Access, number][]) {
      const bits = rights & masks.fs;
      if (!bits) continue;
      regionsOf(cls);
      for (const n of approximations.get(cls) ?? []) announce(cls, n);
      grantRegions(regionsOf(cls), bits, cls, (path) => evaluateFs(ir, cls, path).decision);
    }
  }

  // ---- pathname unix sockets (ABI 9: RESOLVE_UNIX) ----
  // Where the policy limits connecting to named sockets by path, RESOLVE_UNIX enforces it: connect(2) and
  // sendmsg(2) to a socket file bound outside the sandbox need the right beneath the socket's path. The unix
  // path rules have the filesystem's precedence for subtrees, so their regions are those of a class. Handled
  // only then: elsewhere the seccomp filter decides alone, and a handled right would only raise the ABI.
  const resolvesUnix = resolveUnixNeeded(ir, options.abi);
  if (resolvesUnix) {
    const paths: FsRule[] = ir.network.unix.paths
      .filter((r) => r.ops.includes("connect"))
      .map((r) => ({ effect: r.effect, access: ["read"], kind: "subtree", path: r.path, ifMissing: "skip", layer: r.layer, ...(r.span ? { span: r.span } : {}) }));
    const unixIr: IR = { ...ir, filesystem: paths };
    grantRegions(classRegions(unixIr, "read"), ACCESS_FS.resolve_unix, undefined, (path) => evaluateFs(unixIr, "read", path).decision);
  }

  // The mount layer's own narrowings: only where it is used.
  if (namespaces !== "never") {
    for (const n of mounts.narrowings) {
      const classes = n.classes.map((c) => `\`${c}\``).join(", ");
      const [message, help] =
        n.kind === "read-only-region"
          ? [
              `in a mount namespace \`${n.path}\` stays read-only, because the policy does not allow \`write\` there: ${classes} fail with EROFS`,
              "the mount layer makes a path writable where `write` is allowed (chmod and utimes follow `write`); allow `write` there too, or run with `--namespaces never`",
            ]
          : [
              `in a mount namespace \`${n.path}\` is held read-only from launch: if it does not exist then, it cannot be created during the run, although the policy allows ${classes}`,
              "a missing read-only name gets an empty read-only mount point for the run, which is what keeps protected names such as `.git` from being created",
            ];
      diagnostics.push(diag("mountNarrowed", message, { ...(n.rule.span ? { span: n.rule.span } : {}), help, labels: [], severity: options.strict ? "error" : "warning" }));
    }
  }

  // One diagnostic per expanded root: at the allow rule whose tree is expanded, with a label on each deny
  // that carves it (a `protect:` entry, a deny rule).
  const byRoot = new Map<string, { paths: Set<string>; span: Span | undefined; carvers: Map<Span, string>; classes: Set<Access> }>();
  for (const c of carvedOut.values()) {
    const e = byRoot.get(c.root) ?? { paths: new Set<string>(), span: c.rootSpan, carvers: new Map<Span, string>(), classes: new Set<Access>() };
    e.paths.add(c.path.slice(c.root === "/" ? 1 : c.root.length + 1));
    for (const k of c.classes) e.classes.add(k);
    if (c.span && !e.carvers.has(c.span)) e.carvers.set(c.span, c.path);
    byRoot.set(c.root, e);
  }
  for (const [root, e] of [...byRoot].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const names = [...e.paths].sort().map((p) => `\`${p}\``).join(", ");
    const labels = [...e.carvers]
      .sort(([a], [b]) => (a.source.path < b.source.path ? -1 : a.source.path > b.source.path ? 1 : a.start - b.start))
      .map(([span, path]) => ({ span, message: `carves out \`${path}\`` }));
    // In a mount namespace the mounts enforce most carve-outs; name the classes Landlock still carves, so a
    // warning about `truncate` alone does not read as if writing were lost too.
    const listed = [...e.classes].sort().map((k) => `\`${k}\``).join(", ");
    const which = namespaces !== "never" && e.classes.size > 0;
    narrow(
      `Landlock cannot deny ${names} inside the allowed \`${root}\`${which ? ` for ${listed}` : ""}: its entries are granted one by one at launch, so entries created directly in \`${root}\` afterwards get ${which ? `no ${listed}` : "nothing"}`,
      e.span ?? labels[0]?.span,
      "that is the cost of keeping names such as `.git` read-only on Linux; `sbc debug landlock` shows the expansion",
      e.span ? labels : labels.slice(1),
    );
  }

  // ---- network ----
  // Per protocol and operation: the ports open for every host are granted; an operation open on every port is
  // left unhandled. Landlock sees TCP from ABI 4 and UDP from ABI 10, ports only, never hosts.
  const accepted = new Set([...(ir.linux.acceptWidening?.widenings ?? []), ...(options.acceptAlso ?? [])]);
  const widened = (message: string, span: Span | undefined, help: string) =>
    diagnostics.push(diag("linuxWidened", message, { ...(span ? { span } : {}), help, labels: ir.linux.acceptWidening?.span ? [{ span: ir.linux.acceptWidening.span, message: "the widenings this policy accepts" }] : [] }));
  const udpSeen = (masks.net & ACCESS_NET.bind_udp) !== 0;
  const hostsOf = (r: NetRule) => (Array.isArray(r.hosts) ? r.hosts.join(", ") : String(r.hosts));
  let netHandled = 0;
  const netRights = new Map<number, number>();
  const lowered: [Protocol, NetOp, number][] = [];
  if (masks.net & ACCESS_NET.connect_tcp) lowered.push(["tcp", "connect", ACCESS_NET.connect_tcp], ["tcp", "bind", ACCESS_NET.bind_tcp]);
  if (udpSeen) lowered.push(["udp", "connect", ACCESS_NET.connect_send_udp], ["udp", "bind", ACCESS_NET.bind_udp]);
  const allowedPorts = new Map<string, Uint8Array>();
  const udpAllowedAtAll = ir.network.rules.some((r) => r.effect === "allow" && r.protocols.includes("udp"));
  for (const [proto, op, bit] of lowered) {
    // No UDP at all: the seccomp filter refuses UDP sockets, and handling the UDP rights would only raise the ABI.
    if (proto === "udp" && !udpAllowedAtAll) continue;
    const P = proto.toUpperCase();
    const rules = ir.network.rules.filter((r) => r.ops.includes(op) && r.protocols.includes(proto));
    const allowed = new Uint8Array(65536);
    for (const r of rules) {
      if (r.effect !== "allow") continue;
      if (r.hosts !== "any") {
        if (!accepted.has("hosts")) {
          narrow(
            `Landlock sees ${P} ports, not hosts: the ${op} rule for \`${hostsOf(r)}\` is not enforced for those hosts and its ports stay closed on Linux`,
            r.span,
            "allow the ports for any host if the program needs them, or accept the widening with `linux: {accept-widening: [hosts]}` to open them for every host",
          );
          continue;
        }
        // Accepted by name (`accept-widening: [hosts]`): the ports open for every host.
      }
      for (const [lo, hi] of r.ports) for (let p = lo; p <= hi; p++) allowed[p] = 1;
    }
    for (const r of rules) {
      if (r.effect !== "deny") continue;
      if (r.hosts !== "any") narrow(`Landlock sees ${P} ports, not hosts: the ${op} deny for \`${hostsOf(r)}\` closes its ports for every host on Linux`, r.span);
      for (const [lo, hi] of r.ports) for (let p = lo; p <= hi; p++) allowed[p] = 0;
    }
    allowedPorts.set(`${proto} ${op}`, allowed);
    if (allowed.every((v) => v === 1)) continue; // every port: leave the operation unhandled
    netHandled |= bit;
    for (let p = 0; p < 65536; p++) if (allowed[p]) netRights.set(p, (netRights.get(p) ?? 0) | bit);
  }
  const net = [...netRights].sort((a, b) => a[0] - b[0]).map(([port, access]) => ({ port, access }));

  // UDP. From ABI 10 a UDP socket's first send or connect binds it to an ephemeral port, which Landlock checks
  // as a bind to port 0: without a rule allowing that, UDP clients fail (narrower, said at each connect rule).
  const udpRules = ir.network.rules.filter((r) => r.protocols.includes("udp"));
  const udpAllowed = udpRules.some((r) => r.effect === "allow");
  if (udpSeen && netHandled & ACCESS_NET.bind_udp && !allowedPorts.get("udp bind")![0]) {
    for (const r of udpRules) {
      if (r.effect === "allow" && r.ops.includes("connect") && (r.hosts === "any" || accepted.has("hosts"))) {
        narrow(
          "Landlock (ABI 10) checks the ephemeral port a UDP socket is bound to when it first connects or sends as a bind to port 0, which the policy does not allow: UDP sockets must bind an allowed port first on Linux",
          r.span,
          "allow `bind` for UDP on port 0 (`allow: [bind], protocol: udp, ports: [0]`) so the kernel can pick the client's port",
        );
      }
    }
  }
  // Below ABI 10 nothing sees UDP ports or hosts: the seccomp filter creates UDP sockets when a rule allows
  // UDP, and then every UDP send, connect and bind goes through. A widening: an error unless accepted.
  if (!udpSeen && udpAllowed && !accepted.has("udp")) {
    const whole = (r: NetRule) => r.hosts === "any" && r.ops.includes("connect") && r.ops.includes("bind") && r.ports.length === 1 && r.ports[0]![0] === 0 && r.ports[0]![1] === 65535;
    const all = udpRules.every((r) => r.effect === "allow") && udpRules.some((r) => r.effect === "allow" && whole(r));
    if (!all) {
      const why = options.abi >= 1 ? `Landlock ABI ${options.abi} cannot see UDP (ABI 10 can)` : "without Landlock nothing sees UDP";
      const help = "accept it with `linux: {accept-widening: [udp]}`, allow UDP everywhere, or run where Landlock ABI 10 is available (`--abi 10`)";
      for (const r of udpRules) {
        if (r.effect === "allow" && whole(r)) continue;
        const what = `${r.ops.join(" and ")} to \`${hostsOf(r)}\` on ${r.ports.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(", ")}`;
        widened(
          r.effect === "allow"
            ? `${why}: this rule makes the seccomp filter allow UDP sockets, and then UDP reaches every host and port, not only ${what}`
            : `${why}: this UDP deny (${what}) is not enforced on Linux, because another rule makes the seccomp filter allow UDP sockets`,
          r.span,
          help,
        );
      }
    }
  }

  // ---- scopes ----
  // Abstract names bound outside the sandbox: what the abstract-unix scope refuses (connect and send).
  const scoped = ir.network.unix.abstract === "deny" ? SCOPE.abstract_unix_socket & masks.scoped : 0;

  // ---- the lowest ABI that enforces it all ----
  const fsAll = [...grants.values()].reduce((m, g) => m | g.access, 0);
  let requiredAbi = fsHandled || netHandled || scoped ? 1 : 0;
  const need = (abi: number) => (requiredAbi = Math.max(requiredAbi, abi));
  if (fsHandled & ACCESS_FS.truncate) need(3);
  if (fsHandled & ACCESS_FS.refer && fsAll & ACCESS_FS.refer) need(2);
  if (fsHandled & ACCESS_FS.ioctl_dev) need(5);
  if (netHandled & (ACCESS_NET.bind_tcp | ACCESS_NET.connect_tcp)) need(4);
  // Below ABI 9 the seccomp filter narrows unix connects instead (SBC2003), which widens nothing: RESOLVE_UNIX
  // raises the plan's ABI (the loader checks the masks) but not this. UDP below ABI 10 is a widening, unless
  // the policy accepts it.
  if (netHandled & (ACCESS_NET.bind_udp | ACCESS_NET.connect_send_udp) && !accepted.has("udp")) need(10);
  if (scoped) need(6);

  const fs = [...grants.values()]
    .map((g) => ({ ...g }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.mode < b.mode ? -1 : a.mode > b.mode ? 1 : a.access - b.access));
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  return {
    table: {
      landlockTable: 1,
      policy: ir.name,
      abi: options.abi,
      compat: options.compat ?? "hard-requirement",
      handledAccessFs: fsHandled,
      handledAccessNet: netHandled,
      scoped,
      restrictFlags: 0,
      fs,
      net,
      requiredAbi,
      mounts: mounts.nodes,
    },
    diagnostics,
  };
}

/**
 * Whether a table of this ABI handles RESOLVE_UNIX: from ABI 9, where the policy allows named unix sockets but
 * limits connecting to them by path, which is the only case where the seccomp filter would otherwise narrow
 * (SBC2003). The `linux` bundle's seccomp filter then leaves connect(2) to Landlock (docs/targets/landlock.md).
 */
export function resolveUnixNeeded(ir: IR, abi: number): boolean {
  const u = ir.network.unix;
  return abi >= 9 && namedUnixAllowed(u) && !unixPathsAll(u, "connect");
}
