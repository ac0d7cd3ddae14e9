// The model by hand: path resolution as the kernel does it, the launch in both modes over trees with symlinks
// and gitfiles (the escapes that motivated the model among them), and the errno each call gets.

import { describe, expect, it } from "vitest";
import { compileRules, launchBoth, rule } from "../../tests/support/landlock-model.js";
import { FsModel, attempt, type FsSpec, type Op, type Sandbox } from "./model.js";
import { irVerdict } from "./model-ir.js";

const dir = { kind: "dir" } as const;
const file = (content?: string) => ({ kind: "file" as const, ...(content !== undefined ? { content } : {}) });
const link = (target: string) => ({ kind: "symlink" as const, target });

/** Each call on a fresh copy of the sandbox. */
function answer(sb: Sandbox, op: Op): string {
  const copy: Sandbox = { ...sb, fs: sb.fs.clone() };
  return attempt(copy, op) ?? "ok";
}

const workspaceWrite = [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["modify"], "/w/.git")];

describe("path resolution", () => {
  const fs = FsModel.fromSpec({
    "/a/b": dir,
    "/a/f": file(),
    "/l": link("a/b"),
    "/up": link("a/b/.."),
    "/loop": link("loop"),
    "/abs": link("/a"),
    "/root": link("/"),
  });
  it("follows links, takes `..` after following, and reports ENOENT, ENOTDIR and ELOOP", () => {
    expect(fs.realpath("/l")).toBe("/a/b");
    expect(fs.realpath("/l/..")).toBe("/a");
    expect(fs.realpath("/up")).toBe("/a");
    expect(fs.realpath("/root/abs/f")).toBe("/a/f");
    expect(fs.realpath("/a/f/x")).toEqual({ errno: "ENOTDIR" });
    expect(fs.realpath("/a/x/y")).toMatchObject({ errno: "ENOENT" });
    expect(fs.realpath("/loop")).toEqual({ errno: "ELOOP" });
    expect(fs.lookup("/loop", false)).toMatchObject({ name: "loop" });
  });
  it("follows 40 links in one lookup, not 41", () => {
    const spec: Record<string, FsSpec[string]> = { "/end": dir };
    for (let i = 0; i < 41; i++) spec[`/l${i}`] = link(i === 0 ? "end" : `l${i - 1}`);
    const chain = FsModel.fromSpec(spec);
    expect(chain.realpath("/l39")).toBe("/end");
    expect(chain.realpath("/l40")).toEqual({ errno: "ELOOP" });
  });
});

describe("the escapes the model was built for", () => {
  it("a `rootlink -> /` committed in the workspace grants nothing beyond the workspace", () => {
    const fs = FsModel.fromSpec({ "/w/rootlink": link("/"), "/o/secret": file(), "/w/src/a": file() });
    const { namespace, landlock } = launchBoth(compileRules(workspaceWrite), fs);
    for (const sb of [namespace, landlock]) {
      expect(answer(sb, { op: "write", path: "/w/rootlink/o/secret" })).not.toBe("ok");
      expect(answer(sb, { op: "create-file", path: "/w/rootlink/o/new" })).not.toBe("ok");
      expect(answer(sb, { op: "write", path: "/w/src/a" })).toBe("ok");
      expect(answer(sb, { op: "read", path: "/w/rootlink/o/secret" })).toBe("ok");
    }
    expect(landlock.report).toContain("skipped link /w/rootlink");
  });

  it("`.git -> meta/repo.git`: the repository it leads to stays read-only, under either name", () => {
    const fs = FsModel.fromSpec({ "/w/.git": link("meta/repo.git"), "/w/meta/repo.git/config": file(), "/w/meta/other": file() });
    const { namespace, landlock } = launchBoth(compileRules(workspaceWrite), fs);
    expect(answer(namespace, { op: "write", path: "/w/.git/config" })).toBe("EROFS");
    expect(answer(namespace, { op: "write", path: "/w/meta/repo.git/config" })).toBe("EROFS");
    expect(answer(landlock, { op: "write", path: "/w/.git/config" })).toBe("EACCES");
    expect(answer(landlock, { op: "write", path: "/w/meta/repo.git/config" })).toBe("EACCES");
    for (const sb of [namespace, landlock]) {
      expect(answer(sb, { op: "write", path: "/w/meta/other" })).toBe("ok");
      expect(answer(sb, { op: "unlink", path: "/w/.git" })).not.toBe("ok");
    }
    expect(answer(namespace, { op: "unlink", path: "/w/.git" })).toBe("EBUSY");
  });

  it("`~/.ssh -> dotfiles/ssh` denied: the key it leads to is not readable", () => {
    const fs = FsModel.fromSpec({ "/h/.ssh": link("dotfiles/ssh"), "/h/dotfiles/ssh/id": file(), "/h/dotfiles/vimrc": file() });
    const c = compileRules([rule("allow", ["read-only"], "/h"), rule("deny", ["read"], "/h/.ssh")]);
    const { namespace, landlock } = launchBoth(c, fs);
    for (const sb of [namespace, landlock]) {
      expect(answer(sb, { op: "read", path: "/h/.ssh/id" })).toBe("EACCES");
      expect(answer(sb, { op: "read", path: "/h/dotfiles/ssh/id" })).toBe("EACCES");
      expect(answer(sb, { op: "read", path: "/h/dotfiles/vimrc" })).toBe("ok");
    }
  });

  it("a worktree's `.git` file protects its gitdir and the common dir", () => {
    const fs = FsModel.fromSpec({
      "/w/.git": file("gitdir: /r/repo.git/worktrees/w\n"),
      "/r/repo.git/worktrees/w/commondir": file("../..\n"),
      "/r/repo.git/config": file(),
      "/r/other": file(),
    });
    const c = compileRules([...workspaceWrite, rule("allow", ["read-write"], "/r")]);
    const { namespace, landlock } = launchBoth(c, fs);
    expect(answer(namespace, { op: "write", path: "/r/repo.git/config" })).toBe("EROFS");
    expect(answer(landlock, { op: "write", path: "/r/repo.git/config" })).toBe("EACCES");
    expect(answer(landlock, { op: "create-file", path: "/r/repo.git/worktrees/w/x" })).toBe("EACCES");
    for (const sb of [namespace, landlock]) expect(answer(sb, { op: "write", path: "/r/other" })).toBe("ok");
  });

  it("a denied name that leads nowhere is refused in both modes", () => {
    const fs = FsModel.fromSpec({ "/w/.git": link("meta/repo.git"), "/w/src": dir });
    const { namespace, landlock } = launchBoth(compileRules(workspaceWrite), fs);
    expect(namespace.refused).toMatch(/\/w\/\.git/);
    expect(landlock.refused).toMatch(/\/w\/\.git/);
  });
});

describe("the mount layer", () => {
  const fs = FsModel.fromSpec({ "/w/src/a": file(), "/w/sub/.git/config": file(), "/o/f": file() });
  const c = compileRules([...workspaceWrite, rule("deny", ["modify"], "/w/sub/.git")]);
  const { namespace, landlock } = launchBoth(c, fs);

  it("lets the command create at the top of the workspace, which Landlock alone cannot", () => {
    expect(answer(namespace, { op: "create-file", path: "/w/new" })).toBe("ok");
    expect(answer(landlock, { op: "create-file", path: "/w/new" })).toBe("EACCES");
    expect(answer(namespace, { op: "create-file", path: "/o/new" })).toBe("EROFS");
  });

  it("holds a missing protected name with an empty read-only mount point", () => {
    expect(namespace.created).toEqual(["/w/.git"]);
    expect(answer(namespace, { op: "create-dir", path: "/w/.git" })).toBe("EEXIST");
    expect(answer(namespace, { op: "create-file", path: "/w/.git/HEAD" })).toBe("EROFS");
    // Its parent is writable: removing it fails because it is a mount point.
    expect(answer(namespace, { op: "rmdir", path: "/w/.git" })).toBe("EBUSY");
    expect(answer(landlock, { op: "create-dir", path: "/w/.git" })).toBe("EACCES");
  });

  it("pins what leads to a protected name, and refuses moves across mounts", () => {
    expect(answer(namespace, { op: "rename", path: "/w/sub", to: "/w/sub2" })).toBe("EBUSY");
    // A pinned directory is a mount of its own: moving into it is a move across mounts (mv copies instead).
    expect(answer(namespace, { op: "rename", path: "/w/src/a", to: "/w/sub/a" })).toBe("EXDEV");
    expect(answer(namespace, { op: "rename", path: "/w/src/a", to: "/w/a" })).toBe("ok");
    expect(answer(namespace, { op: "rename", path: "/w/sub/.git/config", to: "/w/config" })).toBe("EXDEV");
    expect(answer(namespace, { op: "link", path: "/w/sub/.git/config", to: "/w/config" })).toBe("EXDEV");
  });

  it("Landlock refuses a move that would gain rights with EXDEV, and one it cannot make with EACCES", () => {
    const fs2 = FsModel.fromSpec({ "/w/x/f": file(), "/w/y": dir });
    const c2 = compileRules([rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["execute"], "/w/x")], { namespaces: "never" });
    const { landlock: sb } = launchBoth(c2, fs2);
    expect(answer(sb, { op: "rename", path: "/w/x/f", to: "/w/y/f" })).toBe("EXDEV");
    expect(answer(sb, { op: "rename", path: "/w/y", to: "/w/x/y" })).toBe("ok");
    expect(answer(sb, { op: "rename", path: "/w/x/f", to: "/o" })).toBe("EACCES");
  });
});

describe("the IR's verdict on a call", () => {
  it("checks the lexical path and the real one", () => {
    const fs = FsModel.fromSpec({ "/w/l": link("/o"), "/o/f": file() });
    const c = compileRules([rule("allow", ["read"], "/w")]);
    const v = irVerdict(c.ir, fs, { op: "read", path: "/w/l/f" });
    expect(v.allowed).toBe(false);
    expect(v.denied.map((d) => [d.cls, d.path, d.as])).toEqual([["read", "/o/f", "real"]]);
  });
});
