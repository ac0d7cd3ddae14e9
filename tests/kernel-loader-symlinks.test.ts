// Symlink safety of the Landlock step (Landlock alone: plans without mount lines, as `namespaces never` and
// the fallback run them). Expanding `fs-children` never follows a link: a link found there grants nothing. A
// denied name that is a link, or goes through one, or is a worktree's gitfile, protects what it resolves to:
// every grant above that place carves it out for the denied rights. Each check is an errno the kernel gave.

import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ACCESS_FS } from "../targets/landlock/abi.js";
import { describeLoader, encodePath, planText, runLoader } from "./support/loader.js";
import { tempDir } from "./support/tmp.js";

const FS = ACCESS_FS;
const READ_EXEC = FS.execute | FS.read_file | FS.read_dir;
const READ = FS.read_file | FS.read_dir;
const WRITE = 0xfff2;
const hex = (n: number) => `0x${n.toString(16)}`;
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

function scratch(): string {
  return realpathSync(tempDir("sbc-links-"));
}

/** Read and execute everywhere, and `children` lines (`[mask, dir, ...excepts]`), Landlock alone. */
function plan(children: ReadonlyArray<readonly [number, string, ...string[]]>, extra: readonly string[] = []): string {
  return planText({
    namespaces: "never",
    fs: [[READ_EXEC, "skip", "/"]],
    rules: [...children.map(([mask, dir, ...ex]) => `fs-children ${hex(mask)} skip ${encodePath(dir)} ${ex.join(" ")}`), ...extra],
  });
}

/** Each named python call's outcome, `name=ok` or `name=ERRNO`. */
function tryAll(calls: Readonly<Record<string, string>>): string[] {
  const body = Object.entries(calls).map(([n, c]) => `t(${JSON.stringify(n)}, lambda: ${c})`).join("\n");
  return [PYTHON, "-c", `import errno, os\ndef t(name, f):\n    try:\n        f()\n        print(name + "=ok")\n    except OSError as e:\n        print(name + "=" + errno.errorcode[e.errno])\n${body}\n`];
}

const lines = (r: { stdout: string }) => r.stdout.trim().split("\n");

describeLoader("sbc-loader symlink safety (Landlock alone)", () => {
  it("a link to / among the entries of a carved writable root grants nothing; links to granted places still work", () => {
    const t = scratch();
    const w = join(t, "ws");
    mkdirSync(join(w, ".git"), { recursive: true });
    mkdirSync(join(w, "src"));
    mkdirSync(join(t, "outside"));
    writeFileSync(join(t, "outside", "existing"), "keep\n");
    symlinkSync("/", join(w, "rootlink"));
    symlinkSync(join(t, "outside", "existing"), join(w, "filelink"));
    symlinkSync("src", join(w, "srclink"));
    const r = runLoader(
      plan([[WRITE, w, ".git"]]),
      tryAll({
        "via-root": `open("${w}/rootlink${t}/outside/new", "w")`,
        "via-file": `open("${w}/filelink", "a")`,
        "via-src": `open("${w}/srclink/f", "w").write("x")`,
        git: `open("${w}/.git/x", "w")`,
      }),
      { report: true },
    );
    expect(lines(r)).toEqual(["via-root=EACCES", "via-file=EACCES", "via-src=ok", "git=EACCES"]);
    expect(r.stderr).toContain(`skipped link ${w}/rootlink\n`);
    expect(r.stderr).toContain(`skipped link ${w}/filelink\n`);
    expect(existsSync(join(t, "outside", "new"))).toBe(false);
    expect(readFileSync(join(t, "outside", "existing"), "utf8")).toBe("keep\n");
    expect(readFileSync(join(w, "src", "f"), "utf8")).toBe("x");
  });

  it("a .git that is a link to meta/repo.git protects meta/repo.git", () => {
    const w = scratch();
    mkdirSync(join(w, "meta", "repo.git"), { recursive: true });
    mkdirSync(join(w, "meta", "other"));
    symlinkSync("meta/repo.git", join(w, ".git"));
    const r = runLoader(
      plan([[WRITE, w, ".git"]]),
      tryAll({ through: `open("${w}/.git/x", "w")`, target: `open("${w}/meta/repo.git/x", "w")`, other: `open("${w}/meta/other/x", "w").write("x")` }),
      { report: true },
    );
    expect(lines(r)).toEqual(["through=EACCES", "target=EACCES", "other=ok"]);
    expect(r.stderr).toContain(`denied ${w}/.git resolves to ${w}/meta/repo.git\n`);
    expect(r.stderr).toContain(`carved out ${w}/meta/repo.git\n`);
  });

  it("~/.ssh linked to dotfiles/ssh with a read carve keeps dotfiles/ssh/key unreadable", () => {
    const home = scratch();
    mkdirSync(join(home, "dotfiles", "ssh"), { recursive: true });
    writeFileSync(join(home, "dotfiles", "ssh", "key"), "secret\n");
    writeFileSync(join(home, "dotfiles", "vimrc"), "set nu\n");
    writeFileSync(join(home, "notes.txt"), "notes\n");
    symlinkSync("dotfiles/ssh", join(home, ".ssh"));
    // Read only where the program needs it, and the home entry by entry except .ssh.
    const p = planText({ namespaces: "never", fs: [[READ_EXEC, "skip", "/usr"], [READ_EXEC, "skip", "/etc"]], rules: [`fs-children ${hex(READ)} skip ${encodePath(home)} .ssh`] });
    const r = runLoader(p, tryAll({ key: `open("${home}/dotfiles/ssh/key").read()`, "via-link": `open("${home}/.ssh/key").read()`, vimrc: `open("${home}/dotfiles/vimrc").read()`, notes: `open("${home}/notes.txt").read()` }));
    expect(r.stderr).toBe("");
    expect(lines(r)).toEqual(["key=EACCES", "via-link=EACCES", "vimrc=ok", "notes=ok"]);
    // A grant on exactly the place the denied name resolves to loses the denied rights.
    const exact = planText({ namespaces: "never", fs: [[READ_EXEC, "skip", "/usr"], [READ_EXEC, "skip", "/etc"], [READ, "skip", join(home, "dotfiles", "ssh")]], rules: [`fs-children ${hex(READ)} skip ${encodePath(home)} .ssh`] });
    const e = runLoader(exact, tryAll({ key: `open("${home}/dotfiles/ssh/key").read()` }), { report: true });
    expect(lines(e)).toEqual(["key=EACCES"]);
    expect(e.stderr).toContain(`dropped 0xc on ${home}/dotfiles/ssh: a denied name resolves to it\n`);
  });

  it("a protected name behind a linked directory cannot be created where the link leads", () => {
    const w = scratch();
    mkdirSync(join(w, "real"));
    writeFileSync(join(w, "real", "present"), "p\n");
    symlinkSync("real", join(w, "a"));
    const r = runLoader(plan([[WRITE, w, "a/secret"]]), tryAll({ secret: `open("${w}/real/secret", "w")`, present: `open("${w}/real/present", "a").write("x")` }));
    expect(lines(r)).toEqual(["secret=EACCES", "present=ok"]);
    expect(existsSync(join(w, "real", "secret"))).toBe(false);
  });

  it("a worktree's .git file protects the gitdir and the common dir from grants above them", () => {
    const top = scratch();
    const git = (cwd: string, ...args: string[]) => spawnSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", ...args], { cwd, encoding: "utf8" });
    mkdirSync(join(top, "repo"));
    git(join(top, "repo"), "init", "-q");
    git(join(top, "repo"), "commit", "-q", "--allow-empty", "-m", "init");
    expect(git(join(top, "repo"), "worktree", "add", "-q", join(top, "wt")).status).toBe(0);
    const gitdir = join(top, "repo", ".git", "worktrees", "wt");
    // Existing files: a directory the carve descends into gives new entries nothing (the documented cost).
    writeFileSync(join(top, "repo", "file"), "");
    writeFileSync(join(top, "wt", "file"), "");
    const r = runLoader(
      plan([[WRITE, top, "wt/.git"]]),
      tryAll({
        gitfile: `open("${top}/wt/.git", "a")`,
        gitdir: `open("${gitdir}/HEAD", "a")`,
        common: `open("${top}/repo/.git/HEAD", "a")`,
        "repo-file": `open("${top}/repo/file", "a").write("x")`,
        "wt-file": `open("${top}/wt/file", "a").write("x")`,
      }),
      { report: true },
    );
    expect(lines(r)).toEqual(["gitfile=EACCES", "gitdir=EACCES", "common=EACCES", "repo-file=ok", "wt-file=ok"]);
    expect(r.stderr).toContain(`denied ${top}/wt/.git resolves to ${gitdir}\n`);
    expect(r.stderr).toContain(`denied ${top}/wt/.git resolves to ${top}/repo/.git\n`);
  });

  it("a denied name that is a dangling link, or a loop, is refused before anything runs", () => {
    const w = scratch();
    symlinkSync("nowhere", join(w, ".git"));
    symlinkSync("loop", join(w, "loop"));
    const marker = join(w, "ran");
    const dangling = runLoader(plan([[WRITE, w, ".git"]]), ["sh", "-c", `echo > ${marker}`]);
    expect({ status: dangling.status, stderr: dangling.stderr }).toEqual({
      status: 125,
      stderr: `sbc-loader: ${w}/.git is a symlink to ${w}/nowhere, which does not exist: sbc cannot protect what it points at; remove the link or create its target\n`,
    });
    const loop = runLoader(plan([[WRITE, w, "loop/x"]]), ["sh", "-c", `echo > ${marker}`]);
    expect({ status: loop.status, stderr: loop.stderr }).toEqual({
      status: 125,
      stderr: `sbc-loader: ${w}/loop/x goes through ${w}/loop, a symlink to ${w}/loop, which loops: sbc cannot protect what it points at; remove the link or create its target\n`,
    });
    expect(existsSync(marker)).toBe(false);
  });

  it("paths in these messages are percent-encoded", () => {
    const w = join(scratch(), "a b\nc");
    mkdirSync(w);
    symlinkSync("no\twhere", join(w, ".git"));
    const r = runLoader(plan([[WRITE, w, ".git"]]), ["true"]);
    const e = encodePath(w);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(`sbc-loader: ${e}/.git is a symlink to ${e}/no%09where, which does not exist: sbc cannot protect what it points at; remove the link or create its target\n`);
  });
});
