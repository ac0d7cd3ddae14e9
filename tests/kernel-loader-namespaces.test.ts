// The loader's mount layer on the real kernel (namespace mode), as root (a mount namespace only) and as uid
// 65534 (a user namespace mapping its ids to themselves). Every check observes an effect: the errno a
// sandboxed python gets, a file written or not, /proc/self/status, what is left on the host afterwards.
// Workspaces live under /var/tmp, owned by the user who runs the loader (root without capabilities cannot
// write into a directory it does not own).

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ACCESS_FS } from "../targets/landlock/abi.js";
import { NOBODY, describeLoaderAsRoot, encodePath, loaderArgv, planText, runLoader, type LoaderOptions, type LoaderRun, type PlanSpec } from "./support/loader.js";

const FS = ACCESS_FS;
const READ_EXEC = FS.execute | FS.read_file | FS.read_dir;
/** The rights a read-only mount denies: what a `!` entry on a `ro` line may carry. */
const WRITE = 0x7ff2;
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const USERS = ["root", "nobody"] as const;
type User = (typeof USERS)[number];

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under /var/tmp, resolved, with `dirs` and `files` in it, owned by `who`. */
function workspace(who: User, dirs: readonly string[] = [], files: Readonly<Record<string, string>> = {}): string {
  const d = realpathSync(mkdtempSync("/var/tmp/sbc-ns-"));
  made.push(d);
  for (const x of dirs) mkdirSync(join(d, x), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  own(who, d);
  return d;
}

function own(who: User, dir: string): void {
  if (who === "nobody") spawnSync("chown", ["-hR", `${NOBODY}:${NOBODY}`, dir]);
}

/**
 * The usual namespace plan for workspace `w`: `/` read-only, `w` writable, the extra mount lines, and Landlock
 * granting read and execute everywhere, /dev/null, and `w` entry by entry except `excepts` (or whole).
 */
function nsPlan(w: string, extra: PlanSpec["mounts"] = [], excepts: readonly string[] = [], more: Partial<PlanSpec> = {}): string {
  return planText({
    mounts: [["/", "ro", "exec"], [w, "rw", "exec"], ...(extra ?? [])],
    fs: [[READ_EXEC, "skip", "/"]],
    rules: [
      "fs-file 0x8006 skip /dev/null",
      excepts.length ? `fs-children ${`0x${WRITE.toString(16)}`} skip ${encodePath(w)} ${excepts.join(" ")}` : `fs 0x${WRITE.toString(16)} skip ${encodePath(w)}`,
    ],
    ...more,
  });
}

/**
 * A python command that runs each named call and prints `name=ok` or `name=ERRNO` (the symbolic name), one per
 * line, in order.
 */
function tryAll(calls: Readonly<Record<string, string>>): string[] {
  const body = Object.entries(calls)
    .map(([name, call]) => `t(${JSON.stringify(name)}, lambda: ${call})`)
    .join("\n");
  const script = `import errno, os, sys\ndef t(name, f):\n    try:\n        f()\n        print(name + "=ok")\n    except OSError as e:\n        print(name + "=" + errno.errorcode.get(e.errno, str(e.errno)))\n    sys.stdout.flush()\n${body}\n`;
  return [PYTHON, "-c", script];
}

const lines = (r: { stdout: string }) => r.stdout.trim().split("\n");
const as = (who: User, cwd: string, more: LoaderOptions = {}): LoaderOptions => ({ cwd, asNobody: who === "nobody", ...more });

describeLoaderAsRoot("sbc-loader namespace mode (the mount layer)", () => {
  for (const who of USERS) {
    it(`a writable root is granted whole, while .git is read-only and cannot be removed or renamed (${who})`, () => {
      const w = workspace(who, [".git", "src"], { "old.txt": "old\n" });
      writeFileSync(join(w, ".git", "config"), "[core]\n");
      own(who, w);
      const r = runLoader(
        nsPlan(w, [[`${w}/.git`, "ro", "exec"]], ["!.git"]),
        tryAll({
          "new-file": `open("new.txt", "w").write("n")`,
          mkdir: `os.mkdir("newdir")`,
          rename: `os.rename("old.txt", "moved.txt")`,
          "rename-over": `(open("tmp.txt", "w").write("t"), os.rename("tmp.txt", "moved.txt"))`,
          rm: `os.remove("new.txt")`,
          "src-write": `open("src/a", "w").write("a")`,
          "git-new": `open(".git/x", "w")`,
          "git-write": `open(".git/config", "a").write("x")`,
          "git-unlink": `os.remove(".git/config")`,
          "git-rmdir": `os.rmdir(".git")`,
          "git-rename": `os.rename(".git", "g")`,
        }),
        as(who, w),
      );
      expect(r.stderr).toBe("");
      expect(lines(r)).toEqual([
        "new-file=ok", "mkdir=ok", "rename=ok", "rename-over=ok", "rm=ok", "src-write=ok",
        "git-new=EROFS", "git-write=EROFS", "git-unlink=EROFS", "git-rmdir=EBUSY", "git-rename=EBUSY",
      ]);
      expect(readFileSync(join(w, "moved.txt"), "utf8")).toBe("t");
      expect(existsSync(join(w, "newdir"))).toBe(true);
      expect(readFileSync(join(w, ".git", "config"), "utf8")).toBe("[core]\n");
      expect(existsSync(join(w, ".git", "x"))).toBe(false);
    });

    it(`the command starts in the new mount: relative writes work, uid and gid are the caller's, no capability is left (${who})`, () => {
      const w = workspace(who, [".git"]);
      const r = runLoader(
        nsPlan(w, [[`${w}/.git`, "ro", "exec"]], ["!.git"]),
        ["sh", "-c", "echo rel > rel.txt && cat rel.txt && id -u && id -g && grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status"],
        as(who, w),
      );
      const id = who === "root" ? "0" : String(NOBODY);
      expect(r.stderr).toBe("");
      expect(lines(r)).toEqual(["rel", id, id, "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1"]);
    });

    it(`a missing protected name cannot be created during the run, and the directory made for it is gone afterwards (${who})`, () => {
      const w = workspace(who);
      const plan = nsPlan(w, [[`${w}/.agents`, "ro", "exec"], [`${w}/x/y`, "ro", "exec"]], ["!.agents", "!x/y"]);
      const r = runLoader(
        plan,
        tryAll({
          "mkdir-in": `os.mkdir(".agents/sub")`,
          "file-in": `open(".agents/f", "w")`,
          rmdir: `os.rmdir(".agents")`,
          rename: `os.rename(".agents", "a2")`,
          "deep-in": `open("x/y/f", "w")`,
          "rename-parent": `os.rename("x", "x2")`,
          "sibling": `open("x/ok", "w").write("ok")`,
        }),
        as(who, w, { report: true }),
      );
      expect(lines(r)).toEqual(["mkdir-in=EROFS", "file-in=EROFS", "rmdir=EBUSY", "rename=EBUSY", "deep-in=EROFS", "rename-parent=EBUSY", "sibling=ok"]);
      expect(r.stderr).toContain(`created ${w}/.agents\n`);
      expect(r.stderr).toContain(`created ${w}/x\ncreated ${w}/x/y\n`);
      expect(existsSync(join(w, ".agents"))).toBe(false);
      expect(existsSync(join(w, "x", "y"))).toBe(false);
      // x is not empty (the command wrote x/ok): rmdir only, so it stays.
      expect(readFileSync(join(w, "x", "ok"), "utf8")).toBe("ok");

      // A failing command cleans up the same way.
      const failing = runLoader(plan, ["sh", "-c", "exit 3"], as(who, w));
      expect(failing.status).toBe(3);
      expect(existsSync(join(w, ".agents"))).toBe(false);
    });

    it(`the created directory stays while a process the command started still runs, and still protects it (${who})`, () => {
      const w = workspace(who);
      const plan = nsPlan(w, [[`${w}/.agents`, "ro", "exec"]], ["!.agents"]);
      const r = runLoader(plan, ["sh", "-c", "(sleep 1; mkdir .agents/late 2>/dev/null; echo $? > late.txt) >/dev/null 2>&1 &"], as(who, w));
      expect(r.status).toBe(0);
      expect(existsSync(join(w, ".agents"))).toBe(true);
      spawnSync("sleep", ["1.6"]);
      expect(readFileSync(join(w, "late.txt"), "utf8")).toBe("1\n");
      expect(existsSync(join(w, ".agents", "late"))).toBe(false);
    });

    it(`.git as a symlink: its target is read-only, the link and the target's parent cannot be moved (${who})`, () => {
      const w = workspace(who, ["meta/repo.git", "meta/other"]);
      symlinkSync("meta/repo.git", join(w, ".git"));
      own(who, w);
      const r = runLoader(
        nsPlan(w, [[`${w}/.git`, "ro", "exec"]], ["!.git"]),
        tryAll({
          "through-link": `open(".git/x", "w")`,
          target: `open("meta/repo.git/x", "w")`,
          "rm-link": `os.remove(".git")`,
          "mv-link": `os.rename(".git", "g")`,
          "mv-parent": `os.rename("meta", "m")`,
          "other": `open("meta/other/x", "w").write("x")`,
        }),
        as(who, w, { report: true }),
      );
      expect(lines(r)).toEqual(["through-link=EROFS", "target=EROFS", "rm-link=EBUSY", "mv-link=EBUSY", "mv-parent=EBUSY", "other=ok"]);
      expect(r.stderr).toContain(`mounted ro exec ${w}/meta/repo.git\n`);
      expect(r.stderr).toContain(`pinned link ${w}/.git\n`);
      expect(readlinkSync(join(w, ".git"))).toBe("meta/repo.git");
    });

    it(`a protected multi-component name: the directory on the way cannot be renamed away (${who})`, () => {
      const w = workspace(who, ["a/b", "a/c"]);
      const r = runLoader(
        nsPlan(w, [[`${w}/a/b`, "ro", "exec"]], ["!a/b"]),
        tryAll({ "in-b": `open("a/b/x", "w")`, "mv-a": `os.rename("a", "a2")`, "mv-b": `os.rename("a/b", "a/b2")`, "in-c": `open("a/c/x", "w").write("x")` }),
        as(who, w),
      );
      expect(lines(r)).toEqual(["in-b=EROFS", "mv-a=EBUSY", "mv-b=EBUSY", "in-c=ok"]);
    });

    it(`outside the writable roots, chmod, utimes and xattrs give EROFS, not only writes; inside, all work (${who})`, () => {
      const w = workspace(who, [], { "in.txt": "i\n" });
      const out = workspace(who, [], { "f.txt": "f\n" });
      const r = runLoader(
        nsPlan(w),
        tryAll({
          chmod: `os.chmod("${out}/f.txt", 0o600)`,
          utime: `os.utime("${out}/f.txt")`,
          xattr: `os.setxattr("${out}/f.txt", "user.sbc", b"1")`,
          write: `open("${out}/f.txt", "a")`,
          devnull: `open("/dev/null", "w").write("x")`,
          chmodIn: `os.chmod("in.txt", 0o600)`,
          xattrIn: `os.setxattr("in.txt", "user.sbc", b"1")`,
        }),
        as(who, w),
      );
      expect(lines(r)).toEqual(["chmod=EROFS", "utime=EROFS", "xattr=EROFS", "write=EROFS", "devnull=ok", "chmodIn=ok", "xattrIn=ok"]);
      expect(lstatSync(join(out, "f.txt")).mode & 0o777).toBe(0o644);
    });

    it(`noexec: execve is refused (126), and ld.so cannot map the file either (${who})`, () => {
      const w = workspace(who, ["bin"]);
      copyFileSync("/bin/true", join(w, "bin", "true"));
      chmodSync(join(w, "bin", "true"), 0o755);
      own(who, w);
      const plan = nsPlan(w, [[`${w}/bin`, "rw", "noexec"]]);
      const direct = runLoader(plan, [`${w}/bin/true`], as(who, w));
      expect(direct).toMatchObject({ status: 126, stderr: `sbc-loader: execvp(${w}/bin/true): Permission denied\n` });
      const viaSh = runLoader(plan, ["sh", "-c", `${w}/bin/true; echo sh=$?; /lib64/ld-linux-x86-64.so.2 ${w}/bin/true; echo ldso=$?; echo x > bin/new && echo write-ok`], as(who, w));
      expect(lines(viaSh)).toEqual(["sh=126", "ldso=127", "write-ok"]);
      expect(viaSh.stderr).toMatch(/failed to map segment/);
      // Without the noexec line the same binary runs.
      expect(runLoader(nsPlan(w), [`${w}/bin/true`], as(who, w)).status).toBe(0);
    });

    it(`mount-file: one file writable inside a read-only tree; a directory, a missing path or a dangling link it names is left alone (${who})`, () => {
      const outer = workspace(who, ["ro", "ro/dir"], {});
      writeFileSync(join(outer, "ro", "history"), "old\n");
      writeFileSync(join(outer, "ro", "other"), "other\n");
      writeFileSync(join(outer, "ro", "dir", "inside"), "x\n");
      symlinkSync(join(outer, "ro", "nowhere"), join(outer, "ro", "dangling"));
      own(who, outer);
      const w = workspace(who);
      const fileLines = ["history", "dir", "missing", "dangling"].map((n) => `mount-file ${encodePath(join(outer, "ro", n))} rw exec`);
      const plan = planText({
        mounts: [["/", "ro", "exec"], [w, "rw", "exec"]],
        fs: [[READ_EXEC, "skip", "/"]],
        rules: [...fileLines, `fs 0x${WRITE.toString(16)} skip ${encodePath(w)}`, `fs-file 0x6 skip ${encodePath(join(outer, "ro", "history"))}`, `fs 0x6 skip ${encodePath(join(outer, "ro", "dir"))}`],
      });
      const r = runLoader(
        plan,
        tryAll({ history: `open(${JSON.stringify(`${outer}/ro/history`)}, "a").write("new\\n")`, other: `open(${JSON.stringify(`${outer}/ro/other`)}, "a")`, dir: `open(${JSON.stringify(`${outer}/ro/dir/inside`)}, "a")` }),
        as(who, w, { report: true }),
      );
      expect(lines(r), r.stderr).toEqual(["history=ok", "other=EROFS", "dir=EROFS"]);
      expect(readFileSync(join(outer, "ro", "history"), "utf8")).toBe("old\nnew\n");
      expect(r.stderr).toContain(`not applied mount ${join(outer, "ro", "dir")}: it is a directory\n`);
      expect(r.stderr).toContain(`not applied mount ${join(outer, "ro", "missing")}: it does not exist\n`);
      expect(r.stderr).toContain(`not applied mount ${join(outer, "ro", "dangling")}: it is a link that does not resolve\n`);
      // A file line cannot be `/`, and a `!` entry cannot lean on one.
      expect(runLoader(planText({ mounts: [["/", "ro", "exec"]], rules: ["mount-file / rw exec"] }), ["true"]).stderr).toMatch(/`mount-file \/`: `\/` is a directory/);
      const leaning = planText({ mounts: [["/", "ro", "exec"], [w, "rw", "exec"]], rules: [`mount-file ${encodePath(`${w}/f`)} ro exec`, `fs-children 0x${WRITE.toString(16)} skip ${encodePath(w)} !f`] });
      expect(runLoader(leaning, ["true"]).stderr).toMatch(/`!f`: no `mount` line for/);
    });

    it(`a mount the host made read-only stays read-only inside a writable root (${who})`, () => {
      const w = workspace(who, ["ro", "rw"]);
      // A throwaway mount namespace (as root) where w/ro is a read-only bind: the loader runs inside it.
      const wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c", `mount --bind ${w}/ro ${w}/ro && mount -o remount,bind,ro ${w}/ro && exec "$@"`, "sh"];
      const r = runLoader(nsPlan(w), tryAll({ ro: `open("ro/x", "w")`, rw: `open("rw/x", "w").write("x")`, top: `open("t", "w").write("t")` }), as(who, w, { wrap }));
      expect(lines(r)).toEqual(["ro=EROFS", "rw=ok", "top=ok"]);
      // And a writable root that is itself read-only on the host stays so, and says so.
      const whole = runLoader(nsPlan(`${w}/ro`), tryAll({ top: `open("x", "w")` }), as(who, `${w}/ro`, { wrap, report: true }));
      expect(lines(whole)).toEqual(["top=EROFS"]);
      expect(whole.stderr).toContain(`host read-only ${w}/ro stays read-only\n`);
    });
  }

  it("a run that made a directory leaves it while another run relies on it (no rmdir under a concurrent run's mount)", async () => {
    const w = workspace("nobody");
    const plan = nsPlan(w, [[`${w}/.agents`, "ro", "exec"]], ["!.agents"]);
    // A makes .agents and ends after 1 s; B starts meanwhile (it finds .agents there) and writes into it after A has ended.
    const a = runLoaderAsync(plan, ["sh", "-c", "sleep 1"], { cwd: w, asNobody: true });
    await sleep(400);
    const b = runLoaderAsync(plan, ["sh", "-c", "sleep 1.5; mkdir -p .agents/evil 2>/dev/null; echo b=$?"], { cwd: w, asNobody: true });
    expect((await a).status).toBe(0);
    expect((await b).stdout).toBe("b=1\n");
    expect(existsSync(join(w, ".agents", "evil"))).toBe(false);
    // A could not remove it while B held it: an empty directory is left, and later runs cover it as existing.
    expect(existsSync(join(w, ".agents"))).toBe(true);
  });

  it("a run whose background process outlives it marks the directories it relied on, so their maker keeps them", async () => {
    const w = workspace("nobody");
    const plan = nsPlan(w, [[`${w}/.agents`, "ro", "exec"]], ["!.agents"]);
    const a = runLoaderAsync(plan, ["sh", "-c", "sleep 1.2"], { cwd: w, asNobody: true });
    await sleep(400);
    // B's command returns at once; its background process writes after A has ended.
    const b = runLoader(plan, ["sh", "-c", "(sleep 1.5; mkdir .agents/evil 2>/dev/null; echo $? > late.txt) >/dev/null 2>&1 &"], { cwd: w, asNobody: true });
    expect(b.status).toBe(0);
    expect(existsSync(join(w, ".agents", ".sbc-in-use"))).toBe(true);
    expect((await a).status).toBe(0);
    await sleep(1600);
    expect(readFileSync(join(w, "late.txt"), "utf8")).toBe("1\n");
    expect(existsSync(join(w, ".agents", "evil"))).toBe(false);
  });

  it("a dangling protected symlink is refused with 125 and nothing runs, in both modes", () => {
    const w = workspace("root");
    symlinkSync("meta/repo.git", join(w, ".git"));
    for (const namespaces of ["auto", "never"] as const) {
      const r = runLoader(nsPlan(w, [[`${w}/.git`, "ro", "exec"]], ["!.git"], { namespaces }), ["sh", "-c", "echo ran > ran.txt"], { cwd: w });
      expect({ status: r.status, stderr: r.stderr }).toEqual({
        status: 125,
        stderr: `sbc-loader: ${w}/.git is a symlink to ${w}/meta/repo.git, which does not exist: sbc cannot protect what it points at; remove the link or create its target\n`,
      });
      expect(existsSync(join(w, "ran.txt"))).toBe(false);
    }
  });

  it("a worktree's .git file protects its gitdir and the common dir, not the rest of the repository", () => {
    const top = workspace("root");
    const git = (cwd: string, ...args: string[]) => spawnSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", ...args], { cwd, encoding: "utf8" });
    mkdirSync(join(top, "repo"));
    git(join(top, "repo"), "init", "-q");
    git(join(top, "repo"), "commit", "-q", "--allow-empty", "-m", "init");
    expect(git(join(top, "repo"), "worktree", "add", "-q", join(top, "wt")).status).toBe(0);
    const wt = join(top, "wt");
    const gitdir = join(top, "repo", ".git", "worktrees", "wt");
    expect(readFileSync(join(wt, ".git"), "utf8")).toBe(`gitdir: ${gitdir}\n`);
    const plan = planText({
      mounts: [["/", "ro", "exec"], [top, "rw", "exec"], [`${wt}/.git`, "ro", "exec"]],
      fs: [[READ_EXEC, "skip", "/"], [WRITE, "skip", top]],
      rules: ["fs-file 0x8006 skip /dev/null"],
    });
    const r = runLoader(
      plan,
      tryAll({
        gitfile: `open(".git", "a")`,
        gitdir: `open("${gitdir}/HEAD", "a")`,
        common: `open("${top}/repo/.git/HEAD", "a")`,
        "common-new": `open("${top}/repo/.git/refs/x", "w")`,
        "repo-file": `open("${top}/repo/file", "w").write("x")`,
        "wt-file": `open("file", "w").write("x")`,
      }),
      { cwd: wt, report: true },
    );
    expect(lines(r)).toEqual(["gitfile=EROFS", "gitdir=EROFS", "common=EROFS", "common-new=EROFS", "repo-file=ok", "wt-file=ok"]);
    expect(r.stderr).toContain(`mounted ro exec ${gitdir}\n`);
    expect(r.stderr).toContain(`mounted ro exec ${top}/repo/.git\n`);
    // git still reads the worktree; a commit cannot write.
    const g = runLoader(plan, ["sh", "-c", "git status --porcelain >/dev/null && echo read-ok; git -c user.email=t@t -c user.name=t commit -q --allow-empty -m x 2>/dev/null; echo commit=$?"], { cwd: wt });
    expect(lines(g)).toEqual(["read-ok", "commit=128"]);
  });

  it("a gitfile whose gitdir does not exist is refused", () => {
    const w = workspace("root");
    writeFileSync(join(w, ".git"), `gitdir: ${w}/nowhere\n`);
    const r = runLoader(nsPlan(w, [[`${w}/.git`, "ro", "exec"]], ["!.git"]), ["sh", "-c", "echo ran > ran.txt"], { cwd: w });
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(`sbc-loader: ${w}/.git is a gitfile that names the gitdir ${w}/nowhere, which does not resolve: sbc cannot protect what it points at; fix or remove the file\n`);
    expect(existsSync(join(w, "ran.txt"))).toBe(false);
  });

  it("a `!` entry stays carved by Landlock when its mount line could not be applied", () => {
    // As 65534 under a root-owned, read-only-for-others directory, the missing name cannot be created.
    const w = workspace("root");
    chmodSync(w, 0o755);
    const r = runLoader(nsPlan(w, [[`${w}/.agents`, "ro", "exec"]], ["!.agents"]), ["true"], { cwd: w, asNobody: true, report: true });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("not applied mount");
    expect(r.stderr).toContain(`expanding ${w} entry by entry\n`);
    expect(existsSync(join(w, ".agents"))).toBe(false);
  });

  it("/proc/self/mountinfo inside shows the read-only root and the writable workspace", () => {
    const w = workspace("nobody", [".git"]);
    const r = runLoader(nsPlan(w, [[`${w}/.git`, "ro", "exec"]], ["!.git"]), ["cat", "/proc/self/mountinfo"], { cwd: w, asNobody: true });
    const mounts = r.stdout.trim().split("\n").map((l) => l.split(" "));
    const at = (p: string) => mounts.filter((f) => f[4] === p).at(-1)?.[5] ?? "";
    expect(at("/").split(",")).toContain("ro");
    expect(at(w).split(",")).toContain("rw");
    expect(at(`${w}/.git`).split(",")).toContain("ro");
    expect(encodePath(w)).toBe(w);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** runLoader without blocking the test: the plan on fd 3, stdout and stderr collected. */
function runLoaderAsync(plan: string, argv: readonly string[], options: LoaderOptions): Promise<LoaderRun> {
  const full = loaderArgv(argv, options);
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    (child.stdio[3] as NodeJS.WritableStream).end(plan);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}
