// The real-workload cases of tests/kernel-workloads.test.ts: what each runs inside `sbc exec`, how its effect is
// observed on the host afterwards, and the outcome the target Linux launcher must give in every situation
// (preset × enforcement × placement × user). The expectations are the source of the "Real workloads" table
// in docs/targets/landlock.md; the harness that runs them is tests/support/workloads.ts.

import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export const PRESETS = ["read-only", "workspace-write", "full-access"] as const;
export type Preset = (typeof PRESETS)[number];
/** Where the workspace lies: under the fake `$HOME` (`home`) or under `/tmp` (`tmp`, itself a writable root). */
export type Placement = "home" | "tmp";
/** `root`, or the unprivileged `nobody` (uid and gid 65534). */
export type User = "root" | "nobody";
/**
 * How the launcher enforces the policy: `namespace` = the mount layer + Landlock + seccomp (the default where
 * a mount namespace can be created); `landlock` = Landlock + seccomp alone (the fallback, or `--namespaces
 * never`).
 */
export type Enforcement = "namespace" | "landlock";

export interface Situation {
  readonly preset: Preset;
  readonly enforcement: Enforcement;
  readonly placement: Placement;
  readonly user: User;
}

/**
 * What a case did: `ok` (exit 0 and the effect observed), an errno name (it failed, nothing changed, and the
 * errno's text was printed), `noexec` (ld.so could not map the file), `no temp dir` (Python's tempfile found
 * no writable directory), or a phrase of the case's own.
 */
export type Outcome = string;

/** The workspaces a cell prepares; a case runs with one of them as its current directory (the `${workspace}`). */
export type WorkspaceKind = "main" | "plain" | "links" | "worktree" | "gitlink";

/** Host paths of one cell, for observing effects. */
export interface CellPaths {
  readonly home: string;
  readonly tmpdir: string;
  /** `$HOME/outside`: owned by the cell's user and outside every writable root, so only the sandbox refuses writes there. */
  readonly outside: string;
  readonly workspaces: Readonly<Record<WorkspaceKind, string>>;
  /** The main repository of the `worktree` workspace (under /tmp: a writable root of workspace-write). */
  readonly mainRepo: string;
}

export interface CaseContext {
  /** The host path of the case's workspace. */
  readonly ws: string;
  readonly cell: CellPaths;
}

export interface Observation extends CaseContext {
  readonly user: User;
  readonly status: number;
  readonly output: string;
  /** What `before` returned just before the run, if the case has one. */
  readonly before: string | undefined;
}

export type Family = "node" | "python" | "shell" | "git" | "escape" | "network" | "process";

export interface WorkloadCase {
  readonly id: string;
  readonly family: Family;
  /** The row label of the table (Markdown). */
  readonly title: string;
  readonly workspace: WorkspaceKind;
  /** Run under fixtures/data/workloads/policies/noexec.yaml instead of the preset (only in workspace-write cells). */
  readonly policy?: "noexec";
  /** Shell (sh) run with the workspace as current directory; stderr goes with stdout. Cases with the same script share one run of it. */
  readonly script: string;
  /** Slow (npm, pip, a policy file's Node start): run in the cells that cover every preset, placement and user, not in every cell (`node --test` keeps child processes in every cell). */
  readonly heavy?: boolean;
  /** Run after the other cases of its workspace, because under full-access it breaks what they need. */
  readonly last?: boolean;
  /** A host value taken just before the run (e.g. the HEAD commit), handed to `happened`. */
  readonly before?: (c: CaseContext) => string;
  /** Whether the thing the case tries happened, judged on the host (files) or from what it printed. */
  readonly happened?: (o: Observation) => boolean;
  /** For cases whose outcome is not "did it happen": the outcome itself. */
  readonly classify?: (o: Observation) => Outcome;
  /** Why the case cannot run meaningfully here (checked at run time), or undefined. */
  readonly inapplicable?: (c: CaseContext) => string | undefined;
  readonly expect: (s: Situation) => Outcome;
}

// ---- expectations shared by many cases ----

const viaMounts = (s: Situation) => s.enforcement === "namespace";
/** A write the policy refuses: the mount layer says EROFS, Landlock alone EACCES. */
const refused = (s: Situation): Outcome => (viaMounts(s) ? "EROFS" : "EACCES");
/** Reading, running programs, child processes: allowed everywhere. */
const works = (): Outcome => "ok";
/** A change in a directory of the workspace that exists at launch. */
const inWorkspace = (s: Situation): Outcome => (s.preset === "read-only" ? refused(s) : "ok");
/**
 * A new, removed or renamed entry directly in the workspace root. In namespace mode the workspace is granted
 * whole; Landlock alone grants its entries one by one (to leave .git out), so the root itself gets nothing.
 */
const topLevel = (s: Situation): Outcome => {
  if (s.preset === "read-only") return refused(s);
  if (s.preset === "workspace-write") return viaMounts(s) ? "ok" : "EACCES";
  return "ok";
};
/** Writing what only full-access may: outside the writable roots, or the protected .git, .codex, .agents. */
const protectedWrite = (s: Situation): Outcome => (s.preset === "full-access" ? "ok" : refused(s));
/** chmod/utimes outside the writable roots: a read-only mount refuses them; Landlock has no right for them. */
const metadataOutside = (s: Situation): Outcome => (s.preset !== "full-access" && viaMounts(s) ? "EROFS" : "ok");
/** /tmp, $TMPDIR and /dev/shm: writable roots of workspace-write. */
const scratch = (s: Situation): Outcome => (s.preset === "read-only" ? refused(s) : "ok");
/**
 * A new entry directly in /tmp, or in a directory between /tmp and a workspace placed under it. Landlock
 * alone cannot keep `.git` read-only inside the /tmp grant except by granting /tmp entry by entry down to
 * the workspace, so those directories get nothing of their own: the carve-out's cost reaches /tmp.
 */
const newInTmp = (s: Situation): Outcome =>
  s.preset === "workspace-write" && !viaMounts(s) && s.placement === "tmp" ? "EACCES" : scratch(s);
/** A socket of a family `network: off` refuses (seccomp: EPERM, in both enforcements). */
const socketRefused = (s: Situation): Outcome => (s.preset === "full-access" ? "ok" : "EPERM");
/** Removing a `.git` that is a file or a symlink: pinned by a mount in namespace mode (EBUSY). */
const unlinkProtected = (s: Situation): Outcome => {
  if (s.preset === "full-access") return "ok";
  if (s.preset === "workspace-write" && viaMounts(s)) return "EBUSY";
  return refused(s);
};
/** A hard link into the workspace of a file the policy keeps read-only: another mount (EXDEV), or Landlock's refer rule (EXDEV). */
const hardLink = (s: Situation): Outcome => {
  if (s.preset === "full-access") return "ok";
  if (s.preset === "read-only") return refused(s);
  return "EXDEV";
};

// ---- host observations ----

const read = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, "utf8") : undefined);
const lexists = (p: string): boolean => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const printed = (text: string) => (o: Observation) => o.output.includes(text);
/** `git rev-parse HEAD` on the host; the workspace may belong to the other user, hence safe.directory. */
const gitHead = (dir: string): string =>
  spawnSync("git", ["-c", "safe.directory=*", "rev-parse", "HEAD"], { cwd: dir, encoding: "utf8", env: { PATH: "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1" } }).stdout.trim();

const sitePackages = (venv: string): string | undefined => {
  const lib = join(venv, "lib");
  if (!existsSync(lib)) return undefined;
  const py = readdirSync(lib).find((d) => d.startsWith("python"));
  return py === undefined ? undefined : join(lib, py, "site-packages");
};

/** One kind of socket. All share one run of `sockets.py`, which prints `KIND: ok` or `KIND: ERRNO (text)` for each. */
function socketCase(kind: string, title: string, expect: (s: Situation) => Outcome): WorkloadCase {
  return {
    id: `socket-${kind}`,
    family: "network",
    title,
    workspace: "main",
    script: "python3 py/sockets.py",
    classify: (o) => new RegExp(`^${kind}: (ok|E[A-Z]+)\\b`, "m").exec(o.output)?.[1] ?? `no answer (exit ${o.status})`,
    expect,
  };
}

/** Reads `/proc/self/status` and the ids inside the sandbox. */
const IDENTITY_SCRIPT = `echo "ids=$(id -u):$(id -g)"; grep -E '^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status`;

export const CALLER = "caller's ids";
export const CONFINED_IDENTITY = "caller's ids, no capabilities, no_new_privs";

export const CASES: readonly WorkloadCase[] = [
  // ---- Node ----
  {
    id: "npm-init",
    heavy: true,
    family: "node",
    title: "`npm init -y` (a new package.json in the workspace root)",
    workspace: "plain",
    script: "npm init -y >/dev/null && echo initialised",
    happened: (o) => existsSync(join(o.ws, "package.json")),
    expect: topLevel,
  },
  {
    id: "npm-test",
    heavy: true,
    family: "node",
    title: "`npm test` whose test spawns children (`spawnSync`, `execFileSync`, `exec`)",
    workspace: "main",
    script: "npm test",
    happened: printed("children ok"),
    expect: works,
  },
  {
    id: "node-test",
    family: "node",
    title: "`node --test` (the runner starts each test file as a child)",
    workspace: "main",
    script: "node --test tests/",
    happened: (o) => /^# pass 2$/m.test(o.output) && /^# fail 0$/m.test(o.output),
    expect: works,
  },
  {
    id: "npm-install",
    heavy: true,
    family: "node",
    title: "`npm install --offline` of a local tarball (creates node_modules/ and package-lock.json)",
    workspace: "main",
    script: 'npm install --offline --no-audit --no-fund "$WL_FIX/sbc-demo-lib-1.0.0.tgz" && node -p \'"sum " + require("sbc-demo-lib")(2, 3)\'',
    happened: (o) => existsSync(join(o.ws, "node_modules", "sbc-demo-lib", "package.json")) && o.output.includes("sum 5"),
    // Refused under read-only, but npm names the wrong errno in a namespace: Node's recursive mkdir, when its
    // mkdir fails with EROFS, stats the path to see whether it exists already, and reports that stat's ENOENT.
    expect: (s) => (s.preset === "read-only" && viaMounts(s) ? "ENOENT" : topLevel(s)),
  },

  // ---- Python ----
  {
    id: "venv",
    family: "python",
    title: "`python3 -m venv --without-pip .venv`",
    workspace: "main",
    script: "python3 -m venv --without-pip .venv && .venv/bin/python -c 'import sys; print(\"venv at\", sys.prefix)'",
    happened: (o) => existsSync(join(o.ws, ".venv", "pyvenv.cfg")),
    expect: topLevel,
  },
  {
    id: "pip-install",
    heavy: true,
    family: "python",
    title: "`pip install --no-index` of a local wheel into an existing venv (`tools/venv`)",
    workspace: "main",
    script: 'tools/venv/bin/python -m pip install --no-index --no-compile "$WL_FIX/sbc_demo-1.0.0-py3-none-any.whl" && tools/venv/bin/python -c "import sbc_demo; print(sbc_demo.greet())"',
    happened: (o) => {
      const site = sitePackages(join(o.ws, "tools", "venv"));
      return site !== undefined && existsSync(join(site, "sbc_demo", "__init__.py")) && o.output.includes("hello from the wheel");
    },
    // Under read-only no directory is writable, and Python's tempfile gives up without an errno.
    expect: (s) => (s.preset === "read-only" ? "no temp dir" : "ok"),
  },
  {
    id: "asyncio",
    family: "python",
    title: "`asyncio.run(...)` with a subprocess (the loop's self-pipe is a socketpair)",
    workspace: "main",
    script: "python3 py/async_demo.py",
    happened: printed("asyncio ok: from a child"),
    expect: works,
  },
  {
    id: "multiprocessing",
    family: "python",
    title: "`multiprocessing.Pool` (semaphores in /dev/shm)",
    workspace: "main",
    script: "python3 py/pool_demo.py",
    happened: printed("pool ok: 285"),
    expect: scratch,
  },

  // ---- shell and build ----
  {
    id: "edit-subdir",
    family: "shell",
    title: "append to a file in a subdirectory (`src/main.c`)",
    workspace: "main",
    script: "echo '/* edited */' >> src/main.c && echo appended",
    happened: (o) => (read(join(o.ws, "src", "main.c")) ?? "").includes("/* edited */"),
    expect: inWorkspace,
  },
  {
    id: "sed-i",
    family: "shell",
    title: "`sed -i` on a top-level file (`README.md`)",
    workspace: "main",
    script: "sed -i 's/^readme$/edited by sed/' README.md && cat README.md",
    happened: (o) => read(join(o.ws, "README.md")) === "edited by sed\n",
    expect: topLevel,
  },
  {
    id: "cc",
    family: "shell",
    title: "`mkdir build && cc -o build/x x.c`",
    workspace: "main",
    script: "mkdir build && cc -o build/x x.c && ./build/x",
    happened: (o) => existsSync(join(o.ws, "build", "x")) && o.output.includes("built in the sandbox"),
    expect: topLevel,
  },
  {
    id: "make",
    family: "shell",
    title: "`make` (builds `hello` in the workspace root)",
    workspace: "main",
    script: "make && ./hello",
    happened: (o) => existsSync(join(o.ws, "hello")) && o.output.includes("made in the sandbox"),
    expect: topLevel,
  },
  {
    id: "tar-x",
    family: "shell",
    title: "`tar x` into the workspace",
    workspace: "main",
    script: 'tar xf "$WL_FIX/archive.tar" && cat unpacked/hello.txt',
    happened: (o) => existsSync(join(o.ws, "unpacked", "hello.txt")),
    expect: topLevel,
  },
  {
    id: "rm",
    family: "shell",
    title: "`rm` of a top-level file",
    workspace: "main",
    script: "rm notes.txt && echo removed",
    happened: (o) => !existsSync(join(o.ws, "notes.txt")),
    expect: topLevel,
  },
  {
    id: "mv",
    family: "shell",
    title: "`mv` of a top-level file",
    workspace: "main",
    script: "mv draft.txt final.txt && echo moved",
    happened: (o) => existsSync(join(o.ws, "final.txt")) && !existsSync(join(o.ws, "draft.txt")),
    expect: topLevel,
  },
  {
    id: "atomic-save",
    family: "shell",
    title: "editor-style atomic save of a top-level file (temp file beside it, then rename)",
    workspace: "main",
    script: "python3 py/atomic_save.py config.json",
    happened: (o) => (read(join(o.ws, "config.json")) ?? "").includes("true"),
    expect: topLevel,
  },
  {
    id: "atomic-save-subdir",
    family: "shell",
    title: "editor-style atomic save in a subdirectory (`src/settings.json`)",
    workspace: "main",
    script: "python3 py/atomic_save.py src/settings.json",
    happened: (o) => (read(join(o.ws, "src", "settings.json")) ?? "").includes("true"),
    expect: inWorkspace,
  },
  {
    id: "mktemp-tmp",
    family: "shell",
    title: "`mktemp` in /tmp",
    workspace: "main",
    script: 'f=$(mktemp /tmp/sbc-wl.XXXXXX) && echo x > "$f" && rm "$f" && echo "mktemp ok"',
    happened: printed("mktemp ok"),
    expect: newInTmp,
  },
  {
    id: "mktemp-tmpdir",
    family: "shell",
    title: "`mktemp` in `$TMPDIR`",
    workspace: "main",
    script: 'f=$(mktemp -p "$TMPDIR") && echo x > "$f" && rm "$f" && echo "mktemp ok"',
    happened: printed("mktemp ok"),
    expect: scratch,
  },

  // ---- git ----
  {
    id: "git-status",
    family: "git",
    title: "`git status`",
    workspace: "main",
    script: "git status --porcelain -- diffme.txt",
    happened: (o) => /^ M diffme\.txt$/m.test(o.output),
    expect: works,
  },
  {
    id: "git-diff",
    family: "git",
    title: "`git diff`",
    workspace: "main",
    script: "git diff --stat -- diffme.txt",
    happened: printed("diffme.txt | 1 +"),
    expect: works,
  },
  {
    id: "git-log",
    family: "git",
    title: "`git log`",
    workspace: "main",
    script: "git log --oneline",
    happened: printed("initial commit"),
    expect: works,
  },
  {
    id: "git-commit",
    family: "git",
    title: "`git commit`",
    workspace: "main",
    script: "git commit -q --allow-empty -m 'from the sandbox' && echo committed",
    before: (c) => gitHead(c.ws),
    happened: (o) => gitHead(o.ws) !== o.before,
    expect: protectedWrite,
  },
  {
    id: "git-hook",
    family: "git",
    title: "write `.git/hooks/pre-commit`",
    workspace: "main",
    script: "printf '#!/bin/sh\\nexit 0\\n' > .git/hooks/pre-commit && echo written",
    happened: (o) => existsSync(join(o.ws, ".git", "hooks", "pre-commit")),
    expect: protectedWrite,
  },
  {
    id: "git-init",
    family: "git",
    title: "`git init` in a workspace without `.git`",
    workspace: "plain",
    script: "git init -q && echo initialised",
    happened: (o) => existsSync(join(o.ws, ".git", "HEAD")),
    expect: protectedWrite,
  },
  {
    id: "codex-dir",
    family: "git",
    title: "create `.codex/config.toml` (no `.codex` before)",
    workspace: "main",
    script: "mkdir -p .codex && echo 'model = \"x\"' > .codex/config.toml && echo written",
    happened: (o) => existsSync(join(o.ws, ".codex", "config.toml")),
    expect: protectedWrite,
  },
  {
    id: "agents-dir",
    family: "git",
    title: "create `.agents/skills` (no `.agents` before)",
    workspace: "main",
    script: "mkdir -p .agents/skills && echo made",
    happened: (o) => existsSync(join(o.ws, ".agents", "skills")),
    expect: protectedWrite,
  },
  {
    id: "worktree-read",
    family: "git",
    title: "worktree (`.git` is a file): `git status` and `git log`",
    workspace: "worktree",
    script: "git status --porcelain && git log --oneline",
    happened: printed("initial commit"),
    expect: works,
  },
  {
    id: "worktree-commit",
    family: "git",
    title: "worktree: `git commit`",
    workspace: "worktree",
    script: "git commit -q --allow-empty -m 'from the sandbox' && echo committed",
    before: (c) => gitHead(c.ws),
    happened: (o) => gitHead(o.ws) !== o.before,
    expect: protectedWrite,
  },
  {
    id: "worktree-hook",
    family: "git",
    title: "worktree: write a hook (in the main repository's `.git/hooks`)",
    workspace: "worktree",
    script: "hooks=$(git rev-parse --git-path hooks) && printf '#!/bin/sh\\nexit 0\\n' > \"$hooks/pre-commit\" && echo written",
    happened: (o) => existsSync(join(o.cell.mainRepo, ".git", "hooks", "pre-commit")),
    expect: protectedWrite,
  },
  {
    id: "worktree-unlink",
    family: "git",
    title: "worktree: `rm .git`",
    workspace: "worktree",
    script: "rm .git && echo removed",
    last: true,
    happened: (o) => !lexists(join(o.ws, ".git")),
    expect: unlinkProtected,
  },
  {
    id: "gitlink-commit",
    family: "git",
    title: "`.git -> meta/repo.git` (a symlink): `git commit`",
    workspace: "gitlink",
    script: "git commit -q --allow-empty -m 'from the sandbox' && echo committed",
    before: (c) => gitHead(c.ws),
    happened: (o) => gitHead(o.ws) !== o.before,
    expect: protectedWrite,
  },
  {
    id: "gitlink-hook",
    family: "git",
    title: "`.git` symlink: write `.git/hooks/pre-commit`",
    workspace: "gitlink",
    script: "printf '#!/bin/sh\\nexit 0\\n' > .git/hooks/pre-commit && echo written",
    happened: (o) => existsSync(join(o.ws, "meta", "repo.git", "hooks", "pre-commit")),
    expect: protectedWrite,
  },
  {
    id: "gitlink-hook-target",
    family: "git",
    title: "`.git` symlink: write a hook through the link's target (`meta/repo.git/hooks/`)",
    workspace: "gitlink",
    script: "printf '#!/bin/sh\\nexit 0\\n' > meta/repo.git/hooks/post-commit && echo written",
    happened: (o) => existsSync(join(o.ws, "meta", "repo.git", "hooks", "post-commit")),
    expect: protectedWrite,
  },
  {
    id: "gitlink-unlink",
    family: "git",
    title: "`.git` symlink: `rm .git`",
    workspace: "gitlink",
    script: "rm .git && echo removed",
    last: true,
    happened: (o) => !lexists(join(o.ws, ".git")),
    expect: unlinkProtected,
  },

  // ---- escapes ----
  {
    id: "write-outside",
    family: "escape",
    title: "write a file outside the writable roots (`$HOME/outside/`)",
    workspace: "main",
    script: 'echo x > "$WL_OUT/direct.txt" && echo written',
    happened: (o) => existsSync(join(o.cell.outside, "direct.txt")),
    expect: protectedWrite,
  },
  {
    id: "symlink-root",
    family: "escape",
    title: "write through a committed symlink `link-root -> /`",
    workspace: "links",
    script: 'echo x > "link-root$WL_OUT/via-root.txt" && echo written',
    happened: (o) => existsSync(join(o.cell.outside, "via-root.txt")),
    expect: protectedWrite,
  },
  {
    id: "symlink-up",
    family: "escape",
    title: "write through a committed symlink `link-up -> ..` (the workspace's parent)",
    workspace: "links",
    script: "echo x > link-up/via-up.txt && echo written",
    happened: (o) => existsSync(join(o.ws, "..", "via-up.txt")),
    // Under /tmp the parent is inside the /tmp writable root: allowed, as the policy says (but see newInTmp).
    expect: (s) => (s.preset === "workspace-write" && s.placement === "tmp" ? newInTmp(s) : protectedWrite(s)),
  },
  {
    id: "symlink-git",
    family: "escape",
    title: "write through a committed symlink `link-git -> .git`",
    workspace: "links",
    script: "echo x > link-git/via-link.txt && echo written",
    happened: (o) => existsSync(join(o.ws, ".git", "via-link.txt")),
    expect: protectedWrite,
  },
  {
    id: "hardlink-git",
    family: "escape",
    title: "`ln .git/config src/` then write through the link",
    workspace: "main",
    script: "ln .git/config src/hl-config && echo '# via a hard link' >> src/hl-config && echo written",
    before: (c) => read(join(c.ws, ".git", "config")) ?? "",
    happened: (o) => read(join(o.ws, ".git", "config")) !== o.before,
    expect: hardLink,
  },
  {
    id: "hardlink-outside",
    family: "escape",
    title: "`ln $HOME/outside/victim.txt src/` then write through the link",
    workspace: "main",
    script: 'ln "$WL_OUT/victim.txt" src/hl-victim && echo changed >> src/hl-victim && echo written',
    before: (c) => read(join(c.cell.outside, "victim.txt")) ?? "",
    happened: (o) => read(join(o.cell.outside, "victim.txt")) !== o.before,
    inapplicable: (c) =>
      statSync(c.ws).dev === statSync(c.cell.outside).dev ? undefined : "the workspace and $HOME lie on different filesystems here, so no hard link can join them",
    expect: hardLink,
  },
  {
    id: "proc-self-root",
    family: "escape",
    title: "write outside through `/proc/self/root/...`",
    workspace: "main",
    script: 'echo x > "/proc/self/root$WL_OUT/via-proc.txt" && echo written',
    happened: (o) => existsSync(join(o.cell.outside, "via-proc.txt")),
    expect: protectedWrite,
  },
  {
    id: "chmod-outside",
    family: "escape",
    title: "`chmod` a file outside the writable roots",
    workspace: "main",
    script: 'chmod 600 "$WL_OUT/mode.txt" && echo changed',
    happened: (o) => (statSync(join(o.cell.outside, "mode.txt")).mode & 0o777) === 0o600,
    expect: metadataOutside,
  },
  {
    id: "touch-outside",
    family: "escape",
    title: "`touch -d` a file outside the writable roots",
    workspace: "main",
    script: 'touch -d 2001-01-01 "$WL_OUT/time.txt" && echo touched',
    happened: (o) => statSync(join(o.cell.outside, "time.txt")).mtime.getUTCFullYear() < 2002,
    expect: metadataOutside,
  },
  {
    id: "exec-denied",
    heavy: true,
    family: "escape",
    title: "run `noexec/tool` (policy: workspace-write + `deny: execute` on `${workspace}/noexec`)",
    workspace: "main",
    policy: "noexec",
    script: "./noexec/tool ran from noexec",
    happened: printed("ran from noexec"),
    expect: () => "EACCES",
  },
  {
    id: "ldso-denied",
    heavy: true,
    family: "escape",
    title: "`/lib64/ld-linux-x86-64.so.2 noexec/tool` (same policy)",
    workspace: "main",
    policy: "noexec",
    script: "/lib64/ld-linux-x86-64.so.2 ./noexec/tool ran from noexec",
    happened: printed("ran from noexec"),
    // Landlock checks execve, not mmap: only a noexec mount stops the dynamic loader.
    expect: (s) => (viaMounts(s) ? "noexec" : "ok"),
  },

  // ---- network off ----
  socketCase("tcp", "TCP socket", socketRefused),
  socketCase("udp", "UDP socket", socketRefused),
  socketCase("raw", "raw socket (ICMP)", (s) => (s.preset !== "full-access" || s.user === "nobody" ? "EPERM" : "ok")),
  socketCase("netlink", "netlink socket", socketRefused),
  socketCase("vsock", "vsock socket", socketRefused),
  socketCase("unix-named", "unix socket bound to a path, then connected", socketRefused),
  socketCase("socketpair", "`socketpair` (what child_process and asyncio use)", works),

  // ---- the process ----
  {
    id: "identity",
    family: "process",
    title: "uid/gid, capabilities and no_new_privs of the command",
    workspace: "main",
    script: IDENTITY_SCRIPT,
    classify: (o) => classifyIdentity(o.output, o.status, o.user),
    expect: (s) => (s.preset === "full-access" ? CALLER : CONFINED_IDENTITY),
  },
];

const IDS: Readonly<Record<User, string>> = { root: "0:0", nobody: "65534:65534" };

function classifyIdentity(output: string, status: number, user: User): Outcome {
  if (status !== 0) return `failed (exit ${status})`;
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)$`, "m").exec(output)?.[1];
  const ids = /^ids=(\S+)$/m.exec(output)?.[1];
  if (ids !== IDS[user]) return `ids ${ids ?? "unknown"}`;
  // No capability held (permitted, effective, ambient) and none to be had: the bounding set is empty, or — where
  // the loader may not empty it (an unprivileged user with Landlock alone lacks CAP_SETPCAP) — no_new_privs
  // keeps exec from granting any.
  const zero = (name: string) => /^0+$/.test(field(name) ?? "x");
  const nnp = field("NoNewPrivs") === "1";
  const noCaps = zero("CapPrm") && zero("CapEff") && zero("CapAmb") && (zero("CapBnd") || nnp);
  return noCaps && nnp ? CONFINED_IDENTITY : CALLER;
}

/** The cases a cell runs: the `noexec` policy's only where the preset is workspace-write, the heavy ones only if asked. */
export function casesFor(preset: Preset, heavy = true): WorkloadCase[] {
  return CASES.filter((c) => (c.policy === undefined || preset === "workspace-write") && (heavy || !c.heavy));
}
