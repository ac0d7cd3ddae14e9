// Holding a call's success to the IR (targets/landlock/model-ir.ts), with what the design accepts and the known
// gaps named: shared by the model's property tests and the kernel differential test, which ask the same
// question of the model and of the real kernel. Every exemption here is a sentence in the report, and each
// known gap has a regression test in targets/landlock/model.regressions.test.ts.

import type { Access } from "../../ir/access.js";
import { evaluateFs } from "../../ir/evaluator/evaluate.js";
import { irVerdict, normalPath, type IrCheck, type Origins } from "../../targets/landlock/model-ir.js";
import { readGitfile, type FsModel, type FsNode } from "../../targets/landlock/model-fs.js";
import type { Op, Sandbox } from "../../targets/landlock/model.js";
import { classRegions } from "../../targets/landlock/regions.js";
import { RIGHTS_OF } from "../../targets/landlock/lower.js";
import type { Compiled } from "./landlock-model.js";

/** Why a call the IR denies may still succeed: what the design accepts, or a known gap. */
export type Widening = { readonly accepted: string } | { readonly gap: string };

export const GAPS = {
  outsideGrants: "a denied name outside the grants of its rights resolves into them: not carved (the plan does not carry it)",
  linkedGrant: "a denied name beneath a grant whose path is a symlink: what it resolves to is not carved from the other grants",
  beneathDenied: "a link beneath a denied name leads out of it (only read-denied names a grant carves are scanned for links)",
  reopened: "a carve-out marked `!` (mount-enforced) is reopened beneath by a deeper writable or executable mount line",
  namedUp: "a grant named by a symlink to one of its own ancestors covers the way to a protected name beneath it",
} as const;

export const ACCEPTED = {
  chmod: "fallback note: chmod is not confined",
  ldso: "fallback note: ld.so can map",
  namedLink: "an allow rule names a symlink: its grant binds the target (§4.1)",
  deeper: "a denied name resolves above a deeper grant, which stands (§4.3)",
  traversal: "a link in an ungranted place leads to a granted object (links are not access-checked)",
  ownRule: "what moved (or was linked) elsewhere keeps the rules on it and beneath it (rules bind inodes); the IR allows it where it came from",
} as const;

const within = (p: string, base: string) => base === "/" || p === base || p.startsWith(base + "/");

/** Where each rule's path led at launch: the nodes it resolved to (a gitfile's repository too), or where it was missing. */
interface AnchorAtLaunch {
  readonly path: string;
  readonly allow: boolean;
  readonly targets: readonly { readonly id: number; readonly rest: string }[];
}

export class Checker {
  /** How often each exemption was met. */
  readonly met = new Map<string, number>();
  private readonly anchors: readonly AnchorAtLaunch[];

  constructor(
    readonly c: Compiled,
    readonly launchFs: FsModel,
  ) {
    this.anchors = c.ir.filesystem.map((r) => ({ path: r.path, allow: r.effect === "allow", targets: resolveAtLaunch(launchFs, r.path, r.effect === "deny") }));
  }

  /**
   * The names under which the policy's rules see `real` (a path in `fs`) through what their paths resolved
   * to at launch: for each rule whose target is at or above `real` now, the rule's spelling of `real`.
   * `deeperGrant`: an allow rule's target lies strictly beneath that place and above `real` (§4.3: it stands).
   */
  aliases(fs: FsModel, real: string): { name: string; anchor: string; allow: boolean; deeperGrant: boolean }[] {
    const byId = new Map<number, FsNode>();
    for (const n of fs.nodes()) byId.set(n.id, n);
    const now = (t: { id: number; rest: string }) => {
      const n = byId.get(t.id);
      if (!n) return undefined;
      const p = fs.pathOf(n);
      return t.rest ? (p === "/" ? "/" : p + "/") + t.rest : p;
    };
    const allowRoots = this.anchors.filter((a) => a.allow).flatMap((a) => a.targets.map(now)).filter((x): x is string => x !== undefined);
    const out: { name: string; anchor: string; allow: boolean; deeperGrant: boolean }[] = [];
    for (const a of this.anchors) {
      for (const t of a.targets) {
        const at = now(t);
        if (at === undefined || at === a.path || !within(real, at)) continue;
        const name = normalPath(at === "/" ? a.path + real : a.path + real.slice(at.length));
        out.push({ name, anchor: a.path, allow: a.allow, deeperGrant: allowRoots.some((g) => g !== at && within(g, at) && within(real, g)) });
      }
    }
    return out;
  }

  /**
   * Does `d`'s right come from rules on an inode that moved (or got a second name) since launch, or beneath
   * it, and does the IR allow it at the corresponding place where that inode came from?
   */
  private keptFromOrigin(sb: Sandbox, d: IrCheck, origins: Origins): boolean {
    const right = RIGHTS_OF[d.cls] & sb.handledFs;
    const start = d.node ?? d.parent;
    if (!start || !right) return false;
    const moved = (n: FsNode) => {
      const from = origins.get(n.ino);
      return !!from && !from.includes(sb.fs.pathOf(n));
    };
    // The highest inode above (or at) the object that moved: the rules from the object up to it moved along.
    let top: FsNode | undefined;
    const rel: string[] = d.node ? [] : [d.name!];
    let relTop: string[] = [];
    let rights = 0;
    let acc = 0;
    for (let n: FsNode | null = start; n; n = n.parent) {
      acc |= sb.rules.get(n.ino) ?? 0;
      if (moved(n)) {
        top = n;
        rights = acc;
        relTop = [...rel];
      }
      rel.unshift(n.name);
    }
    if (!top || !(rights & right)) return false;
    const places = d.node && moved(d.node) ? origins.get(d.node.ino)! : origins.get(top.ino)!.map((o) => o + (relTop.length ? "/" + relTop.join("/") : ""));
    return places.every((o) => evaluateFs(this.c.ir, d.cls, normalPath(o)).decision === "allow");
  }

  /** Why `op`, which succeeded in `sb`, may do what the IR denies (`denied`); undefined: it may not. */
  classify(sb: Sandbox, op: Op, denied: readonly IrCheck[], origins?: Origins): Widening | undefined {
    const c = this.c;
    const fs = sb.fs;
    const allowedAs = (name: string, cls: Access) => evaluateFs(c.ir, cls, name).decision === "allow";
    const reasons = new Set<string>();
    let gap: string | undefined;
    for (const d of denied) {
      // Landlock has no right for metadata changes, and mmap(PROT_EXEC) is not execve: the mount layer's
      // job, and what the fallback note says is lost without it.
      if (sb.mode === "landlock" && op.op === "chmod" && c.plan.fallbackNote?.includes("chmod")) {
        reasons.add(ACCEPTED.chmod);
        continue;
      }
      if (sb.mode === "landlock" && op.op === "map-exec" && d.cls === "execute" && c.plan.fallbackNote?.includes("ld.so")) {
        reasons.add(ACCEPTED.ldso);
        continue;
      }
      const real = d.node ? fs.pathOf(d.node) : d.parent ? (fs.pathOf(d.parent) === "/" ? "/" : fs.pathOf(d.parent) + "/") + d.name : undefined;
      if (real === undefined) return undefined;
      if (sb.mode === "namespace" && reopened(c, d.as === "origin" ? d.path : real)) {
        gap = GAPS.reopened;
        continue;
      }
      // Rules bind inodes: what moved keeps the rules on it and beneath it. Accepted when the right comes from
      // those rules and the IR allows it where the object (or the entry, inside a moved directory) came from.
      if (d.as !== "origin" && origins && this.keptFromOrigin(sb, d, origins)) {
        reasons.add(ACCEPTED.ownRule);
        continue;
      }
      if (d.as !== "lexical") {
        // §4.1: a grant binds what its path resolves to. Accepted where an allow rule names a symlink that led
        // here at launch, and allows the object under that name.
        const aliases = d.as === "origin" ? this.aliases(this.launchFs, d.path) : this.aliases(fs, real);
        if (!aliases.some((a) => a.allow && allowedAs(a.name, d.cls))) return undefined;
        reasons.add(ACCEPTED.namedLink);
        continue;
      }
      // The lexical path is denied. A denied name that leads to the object is carved (§4.3) — unless a deeper
      // grant stands, or one of the known gaps applies.
      for (const a of this.aliases(fs, real)) {
        if (a.allow || allowedAs(a.name, d.cls)) continue;
        if (a.deeperGrant) {
          reasons.add(ACCEPTED.deeper);
          continue;
        }
        const g = deniedNameGap(c, this.launchFs, d.cls, a.anchor);
        if (!g) return undefined;
        gap = g;
      }
      // No denied name leads to the object: following a link is not an access Landlock checks.
      // A read-denied name that a grant carves is scanned for links that lead out (landlock.c, scan_denied);
      // what is left here: names denied only changes, and denied names no grant carves (named-case tests pin
      // the scanned case down: model.regressions.test.ts, tests/kernel-model.test.ts).
      const rule = evaluateFs(c.ir, d.cls, d.path).rule;
      if (rule?.effect === "deny") gap ??= GAPS.beneathDenied;
      else reasons.add(ACCEPTED.traversal);
    }
    if (gap) return { gap };
    return { accepted: [...reasons].join("; ") };
  }

  /**
   * The IR's verdict on a call that succeeded: undefined if the IR allows it or an exemption covers it (counted
   * in `met`), else the message of the violation.
   */
  violation(sb: Sandbox, before: FsModel, op: Op, origins?: Origins): string | undefined {
    const v = irVerdict(this.c.ir, before, op, origins);
    if (v.allowed) return undefined;
    const w = this.classify({ ...sb, fs: before }, op, v.denied, origins);
    if (w) {
      for (const k of ("gap" in w ? [`gap: ${w.gap}`] : w.accepted.split("; "))) this.met.set(k, (this.met.get(k) ?? 0) + 1);
      return undefined;
    }
    return `${sb.mode}: ${showOp(op)} succeeds, but the IR denies ${v.denied.map((d) => `${d.cls} at ${d.path} (${d.as})`).join(", ")}`;
  }
}

export const showOp = (op: Op) => `${op.op} ${op.path}${"to" in op ? " -> " + op.to : ""}`;

/** What `path` led to at launch: its target, and for a denied `.git` gitfile its repository (a grant binds the file only). */
function resolveAtLaunch(fs: FsModel, path: string, gitfiles: boolean): { id: number; rest: string }[] {
  const r = fs.lookup(path, true);
  if ("node" in r) {
    const out = [{ id: r.node.id, rest: "" }];
    if (gitfiles && r.node.kind === "file" && path.endsWith("/.git")) {
      const real = fs.pathOf(r.node);
      const g = readGitfile(fs, r.node, real.slice(0, real.lastIndexOf("/")) || "/");
      if (g && !("why" in g)) for (const t of [g.gitdir, ...(g.commondir ? [g.commondir] : [])]) out.push({ id: fs.at(t)!.id, rest: "" });
    }
    return out;
  }
  if ("missing" in r) return [{ id: r.parent.id, rest: r.name }];
  return [];
}

/** Is `real` beneath a mount line that reopens (`rw`, or `exec`) a path whose `!` carve-out relies on a line above it? */
function reopened(c: Compiled, real: string): boolean {
  const enforced = c.plan.grants.flatMap((g) => g.except.filter((e) => e.mountEnforced).map((e) => (g.path === "/" ? "/" : g.path + "/") + e.rel));
  return c.plan.mounts.some(
    (inner) =>
      within(real, inner.path) &&
      c.plan.mounts.some((outer) => outer !== inner && within(inner.path, outer.path) && enforced.includes(outer.path) && ((outer.ro && !inner.ro) || (outer.noexec && !inner.noexec))),
  );
}

/** Known gaps in carving what a denied name (`anchor`, a deny rule's path) resolves to, for `cls`. */
function deniedNameGap(c: Compiled, launchFs: FsModel, cls: Access, anchor: string): string | undefined {
  const regions = classRegions(c.ir, cls);
  const node = regions.nodes.find((n) => n.path === anchor);
  const parent = node && regions.parentOf(node);
  // Not carved out of any grant of the right: the lowering leaves no except entry (and no mount line) for it.
  if (!parent || regions.decision.get(parent.path)!.effect !== "allow") return GAPS.outsideGrants;
  // Carved out of a grant whose own path goes through a symlink: the walk of §4.3 starts at the grant's real
  // root and sees no link below it, so the other grants keep what the name resolves to.
  for (let p: typeof parent | undefined = parent; p; p = regions.parentOf(p)) if (launchFs.realpath(p.path) !== p.path) return GAPS.linkedGrant;
  return undefined;
}
