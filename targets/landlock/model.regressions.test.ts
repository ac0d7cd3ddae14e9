// Counterexamples the model's properties found, each reduced to a named case. Three kinds:
// - holes in the design (.scratch/spec-linux-enforcement.md) that the model closes with an amendment
//   (model-launch.ts `Amendments`, all on by default): the case shows the hole with the amendment off, and
//   that the amendment closes it;
// - known gaps, open in the design, the compiler and the loader alike: `it.fails` states what should hold, so
//   the test turns red the day a fix lands (then drop `.fails` and the exemption in tests/support/model-check.ts);
// - what the design accepts on purpose, stated as it is.

import { describe, expect, it } from "vitest";
import { compileRules, rule } from "../../tests/support/landlock-model.js";
import { lowerMounts } from "./mounts.js";
import { classRegions } from "./regions.js";
import { FsModel, attempt, launch, type Amendments, type FsSpec, type Op, type Sandbox } from "./model.js";

const dir = { kind: "dir" } as const;
const file = (content?: string) => ({ kind: "file" as const, ...(content !== undefined ? { content } : {}) });
const link = (target: string) => ({ kind: "symlink" as const, target });

/** Launch, then make `ops` in order; the answer of each ("ok" or the errno). */
function calls(rules: Parameters<typeof compileRules>[0], spec: FsSpec, mode: "namespace" | "landlock", ops: readonly Op[], amendments?: Partial<Amendments>): string[] {
  const sb: Sandbox = launch(compileRules(rules).plan, FsModel.fromSpec(spec), { mode, ...(amendments ? { amendments } : {}) });
  if (sb.refused !== undefined) return [`refused: ${sb.refused}`];
  return ops.map((op) => attempt(sb, op) ?? "ok");
}

const workspace = [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["modify"], "/w/.git")];

describe("holes in the design, closed by the model's amendments", () => {
  it("`.git -> meta/repo.git`: moving `meta` away and re-creating it redirects the protected name (pin real ancestors)", () => {
    const spec = { "/w/.git": link("meta/repo.git"), "/w/meta/repo.git/config": file() };
    const attack: Op[] = [
      { op: "rename", path: "/w/meta", to: "/w/old" },
      { op: "create-dir", path: "/w/meta" },
      { op: "create-dir", path: "/w/meta/repo.git" },
      { op: "create-file", path: "/w/.git/hooks" },
    ];
    // The design pins only what the lexical walk of `/w/.git` went through: the link, not `meta`.
    expect(calls(workspace, spec, "namespace", attack, { pinRealAncestors: false })).toEqual(["ok", "ok", "ok", "ok"]);
    expect(calls(workspace, spec, "namespace", attack)[0]).toBe("EBUSY");
    // Landlock alone: the carve expands the workspace, so nothing in it can be renamed.
    expect(calls(workspace, spec, "landlock", attack)[0]).toBe("EACCES");
  });

  it("a line there for `noexec` makes what its symlink points at writable (carry only what the line changes)", () => {
    const rules = [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["execute"], "/w/dl")];
    const spec = { "/w/dl": link("/etc"), "/etc/passwd": file() };
    expect(compileRules(rules).planText).toContain("\nmount /w/dl rw noexec\n");
    const op: Op = { op: "chmod", path: "/etc/passwd" };
    expect(calls(rules, spec, "namespace", [op], { onlyWhatTheLineChanges: false })).toEqual(["ok"]);
    expect(calls(rules, spec, "namespace", [op])).toEqual(["EROFS"]);
  });

  it("a line there for `ro` makes what its symlink points at executable in a `noexec` place (carry only what the line changes)", () => {
    // Protect `.git` (read-only, executable like the workspace) where `.git -> dl/evil.git` and `dl` is noexec.
    const rules = [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["execute"], "/w/dl"), rule("deny", ["modify"], "/w/.git")];
    const spec = { "/w/.git": link("dl/evil.git"), "/w/dl/evil.git/hook": file() };
    expect(compileRules(rules).planText).toContain("\nmount /w/.git ro exec\n");
    const op: Op = { op: "execute", path: "/w/dl/evil.git/hook" };
    expect(calls(rules, spec, "namespace", [op], { onlyWhatTheLineChanges: false })).toEqual(["ENOEXEC"]);
    expect(calls(rules, spec, "namespace", [op])).toEqual(["EACCES"]);
  });

  it("a writable `.git` gitfile line makes the repository it names writable at the mount level (carry only what the line changes)", () => {
    const rules = [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["execute"], "/w"), rule("allow", ["read-write"], "/w/.git")];
    const spec = { "/w/.git": file("gitdir: /r/repo.git\n"), "/r/repo.git/config": file() };
    expect(compileRules(rules).planText).toContain("\nmount /w/.git rw exec\n");
    const op: Op = { op: "chmod", path: "/r/repo.git/config" };
    expect(calls(rules, spec, "namespace", [op], { onlyWhatTheLineChanges: false })).toEqual(["ok"]);
    expect(calls(rules, spec, "namespace", [op])).toEqual(["EROFS"]);
  });
});

describe("narrowings once announced nowhere, now announced", () => {
  it("a change allowed from above a read-only anchor fails with EROFS, and SBC2202 says so at the rule that denies `write`", () => {
    // SBC2202 used to look only at the anchors of each change's own class, so a change allowed from `/w` and
    // refused by the read-only mount at `/w/ro` went unsaid (found reading the goldens:
    // fixtures/ok-warn-dead-rule-after-protect).
    const rules = [rule("allow", ["read-write"], "/w"), rule("deny", ["write"], "/w/ro")];
    expect(calls(rules, { "/w/ro/f": file() }, "namespace", [{ op: "unlink", path: "/w/ro/f" }, { op: "truncate", path: "/w/ro/f" }])).toEqual(["EROFS", "EROFS"]);
    const c = compileRules(rules);
    const said = c.diagnostics.filter((d) => d.code === "SBC2202").map((d) => d.message);
    expect(said.find((m) => m.includes("`/w/ro` stays read-only"))).toMatch(/`truncate`.*`delete-file`/);
    // Named at the rule that denies `write` there, not at the workspace's allow.
    const region = lowerMounts(c.ir, (cls) => classRegions(c.ir, cls)).narrowings.find((n) => n.kind === "read-only-region");
    expect(region?.rule).toMatchObject({ effect: "deny", path: "/w/ro" });
  });
});

describe("where the design's text and the loader differ, the model does what the loader does", () => {
  it("pins are decided from the regions of all lines: a later line that makes the parent read-only leaves nothing to pin", () => {
    // `/w/b/up -> ..` is protected: its target is /w itself, which becomes read-only. The design decided the pin
    // of /w/b while /w was still writable; a pinned directory is a mount of its own, so a move out of it was
    // EXDEV where the kernel, with the loader's pins, says EROFS.
    const rules = [rule("allow", ["read-write"], "/w"), rule("deny", ["modify"], "/w/b/up")];
    const spec = { "/w/b/up": link(".."), "/w/b/f": file() };
    const op: Op = { op: "rename", path: "/w/b/f", to: "/w/f" };
    expect(calls(rules, spec, "namespace", [op], { decideAfterResolving: false })).toEqual(["EXDEV"]);
    expect(calls(rules, spec, "namespace", [op])).toEqual(["EROFS"]);
  });

  it("a writable root that leads nowhere is not refused: it has nothing to enforce", () => {
    const rules = [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w/l")];
    const spec = { "/w/l": link("nowhere"), "/w/f": file() };
    expect(calls(rules, spec, "namespace", [{ op: "read", path: "/w/f" }], { refuseOnlyDenying: false })[0]).toMatch(/^refused/);
    expect(calls(rules, spec, "namespace", [{ op: "read", path: "/w/f" }])).toEqual(["ok"]);
  });
  it("a `!` carve-out is not the mount layer's where a deeper writable line reopens the tree: protect `a`, allow `write` on `a/.git` — nothing can be created in `a/.git`", () => {
    // Found by the model (it was marked `!`, so a namespace granted /w whole for creating, and the deeper `rw`
    // line for `a/.git` undid the read-only mount there). Only `write`, which the policy allows in `a/.git`,
    // may rest on the mounts now; creating, truncating and the rest stay carved by Landlock.
    const rules = [rule("allow", ["read-write"], "/w"), rule("deny", ["modify"], "/w/a"), rule("allow", ["write"], "/w/a/.git")];
    const plan = compileRules(rules).planText;
    expect(plan).toMatch(/\nfs-children 0x2 skip \/w !a\n/);
    expect(plan).toMatch(/\nfs-children 0x7ff0 skip \/w a\n/);
    expect(calls(rules, { "/w/a/.git": dir }, "namespace", [{ op: "create-file", path: "/w/a/.git/x" }])).toEqual(["EACCES"]);
  });
});

describe("known gaps (open): what should hold", () => {
  it.fails("a denied name outside every grant that links into one: `deny /t/.git` with `.git -> /o/f`, `/o` allowed — not readable", () => {
    // Nothing is carved out of a grant, so the plan has no except entry and §4.3 never sees the name.
    const rules = [rule("allow", ["read-write"], "/o"), rule("deny", ["read-write"], "/t/.git")];
    const spec = { "/t/.git": link("/o/f"), "/o/f": file() };
    expect(calls(rules, spec, "landlock", [{ op: "read", path: "/t/.git" }])).toEqual(["EACCES"]);
  });

  it.fails("a denied name beneath a grant named by a symlink: `b -> .`, protect `b/a` — `a` is not creatable in", () => {
    // The walk of §4.3 starts at the grant's real root (/t) and sees no link in `a`; the grant on /t/a keeps it.
    const rules = [rule("allow", ["create"], "/t/a"), rule("allow", ["create"], "/t/b"), rule("deny", ["modify"], "/t/b/a")];
    const spec = { "/t/b": link("."), "/t/a": dir };
    expect(calls(rules, spec, "landlock", [{ op: "create-dir", path: "/t/b/a/new" }])).toEqual(["EACCES"]);
  });

  it("a link beneath a denied directory: `deny read ~/.ssh`, `~/.ssh/config -> ../dotfiles/ssh/config` (GNU stow) — not readable", () => {
    // §4.3 walks the denied name itself; links inside the denied directory are not followed.
    const rules = [rule("allow", ["read-only"], "/h"), rule("deny", ["read"], "/h/.ssh")];
    const spec = { "/h/.ssh/config": link("../dotfiles/ssh/config"), "/h/dotfiles/ssh/config": file() };
    expect(calls(rules, spec, "landlock", [{ op: "read", path: "/h/.ssh/config" }])).toEqual(["EACCES"]);
  });

  it.fails("a grant named by a symlink to its own ancestor covers the way to the protected name: `w -> /` — `.git` cannot be redirected", () => {
    const rules = [rule("allow", ["read-write"], "/t/w"), rule("deny", ["modify"], "/t/w/.git")];
    const spec = { "/t/w": link("/"), "/t/x": dir };
    const attack: Op[] = [
      { op: "rename", path: "/t/w", to: "/t/old" },
      { op: "create-dir", path: "/t/w" },
      { op: "create-dir", path: "/t/w/.git" },
    ];
    expect(calls(rules, spec, "landlock", attack)).not.toEqual(["ok", "ok", "ok"]);
  });
});

describe("what the design accepts", () => {
  it("a file moved elsewhere keeps its own rule: Landlock binds inodes, the IR paths", () => {
    const rules = [rule("allow", ["read", "write", "create", "delete", "rename"], "/t"), rule("allow", ["read-write"], "/t/.git")];
    const ops: Op[] = [
      { op: "rename", path: "/t/.git", to: "/t/new" },
      { op: "execute", path: "/t/new" },
    ];
    expect(calls(rules, { "/t/.git": file() }, "landlock", ops)).toEqual(["ok", "ENOEXEC"]);
  });

  it("a link in an ungranted place leads to a granted object: following a link is not an access Landlock checks", () => {
    const rules = [rule("allow", ["read-write"], "/o")];
    expect(calls(rules, { "/t/l": link("/o"), "/o/f": file() }, "landlock", [{ op: "read", path: "/t/l/f" }])).toEqual(["ok"]);
  });

  it("a denied name that resolves above a deeper grant: the deeper grant stands (§4.3)", () => {
    const rules = [rule("allow", ["read-write"], "/t"), rule("deny", ["modify"], "/t/up")];
    const spec = { "/t/up": link(".."), "/t/f": file() };
    for (const mode of ["namespace", "landlock"] as const) expect(calls(rules, spec, mode, [{ op: "write", path: "/t/up/t/f" }])).toEqual(["ok"]);
  });
});

describe("narrower than the IR and announced nowhere (what the narrowing property names `unannounced`)", () => {
  const codes = (rules: Parameters<typeof compileRules>[0]) => compileRules(rules).diagnostics.map((d) => d.code);

  it("running a file needs `read` as well as `execute`: execve opens it for reading", () => {
    const rules = [rule("allow", ["execute", "list"], "/w")];
    expect(calls(rules, { "/w/tool": file() }, "landlock", [{ op: "execute", path: "/w/tool" }])).toEqual(["EACCES"]);
    expect(codes(rules)).toEqual([]);
  });

  it("what leads to a protected name is pinned: renaming it fails with EBUSY, and moving into it with EXDEV", () => {
    const rules = [...workspace, rule("deny", ["modify"], "/w/sub/.git")];
    const spec = { "/w/sub/.git/config": file(), "/w/f": file() };
    expect(calls(rules, spec, "namespace", [{ op: "rename", path: "/w/sub", to: "/w/sub2" }, { op: "rename", path: "/w/f", to: "/w/sub/f" }])).toEqual(["EBUSY", "EXDEV"]);
    expect(codes(rules)).toEqual([]);
  });

  it("a grant expanded entry by entry is skipped when its path is a file (a protected name beneath a file)", () => {
    const rules = [rule("allow", ["read-write"], "/w/f"), rule("deny", ["modify"], "/w/f/.git")];
    expect(calls(rules, { "/w/f": file() }, "landlock", [{ op: "write", path: "/w/f" }])).toEqual(["EACCES"]);
  });

  it("a `!` carve-out whose mount line cannot be applied (beneath a file) leaves the workspace expanded in a namespace", () => {
    const rules = [...workspace, rule("deny", ["modify"], "/w/f/.git")];
    expect(compileRules(rules).planText).toMatch(/ !f\/\.git\n/);
    expect(calls(rules, { "/w/f": file() }, "namespace", [{ op: "create-file", path: "/w/new" }])).toEqual(["EACCES"]);
    expect(codes(rules)).toEqual([]);
  });
});
