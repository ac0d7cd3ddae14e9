// The harness of tests/kernel-workloads.test.ts: real toolchains (npm, pip, cc, make, git, tar …) run through
// the real `sbc exec` (bin/sbc) in a matrix of cells — preset × workspace placement × user × how the launcher
// is reached — and each case's effect is observed on the host. One sandboxed shell script per workspace runs
// all of a cell's cases in sequence (they touch disjoint files), separated by markers, so a cell costs a few
// launches; cells run concurrently. The cases and their expected outcomes are in ./workload-cases.ts.

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CASES,
  casesFor,
  PRESETS,
  type CaseContext,
  type CellPaths,
  type Enforcement,
  type Family,
  type Observation,
  type Outcome,
  type Placement,
  type Preset,
  type Situation,
  type User,
  type WorkloadCase,
  type WorkspaceKind,
} from "./workload-cases.js";

const REPO = join(import.meta.dirname, "..", "..");
/**
 * The sbc under test: this checkout, or the one whose root SBC_WORKLOAD_TREE names (to try a build of another
 * worktree against these expectations; it needs its own `npm run build` and loader).
 */
const TREE = process.env.SBC_WORKLOAD_TREE || REPO;
/** The shell entry point, which may take the fast path (the loader without Node). */
export const SBC = join(TREE, "bin", "sbc");
export const FIXTURES = join(REPO, "fixtures", "data", "workloads");
const NOEXEC_POLICY = join(FIXTURES, "policies", "noexec.yaml");
const NO_UNSHARE_POLICY = join(FIXTURES, "policies", "no-unshare.yaml");
const LOADER = join(TREE, "native", "build", "sbc-loader");
const NOBODY = 65534;

/**
 * How a cell reaches the launcher:
 * - `fast`: `bin/sbc exec --preset P -- …`, the shell entry point (fast path where a precompiled plan applies);
 * - `node`: the same with SBC_NO_FAST_PATH=1 (always the Node CLI);
 * - `never`: `bin/sbc exec --namespaces never …` (Landlock alone by choice: no line printed);
 * - `fallback-userns`: inside a throwaway user namespace whose max_user_namespaces is 0, as uid 65534;
 * - `fallback-seccomp`: under a seccomp filter that makes unshare(2) fail with EPERM: the filter of
 *   fixtures/data/workloads/policies/no-unshare.yaml, applied by an outer `sbc exec` of that policy, or (in
 *   the cells, to spare a Node start per launch) by the loader with the plan `sbc compile -t linux` made of it.
 */
export type Launch = "fast" | "node" | "never" | "fallback-userns" | "fallback-seccomp";

export interface Cell {
  readonly preset: Preset;
  readonly placement: Placement;
  readonly user: User;
  readonly launch: Launch;
  /** Whether the slow cases (npm, pip, a policy file) run here too. */
  readonly heavy: boolean;
}

export const enforcementOf = (l: Launch): Enforcement => (l === "fast" || l === "node" ? "namespace" : "landlock");
export const isFallback = (l: Launch): boolean => l === "fallback-userns" || l === "fallback-seccomp";
export const cellId = (c: Cell): string => `${c.preset}.${c.placement}.${c.user}.${c.launch}`;
export const situationOf = (c: Cell): Situation => ({ preset: c.preset, enforcement: enforcementOf(c.launch), placement: c.placement, user: c.user });

const PLACEMENTS: readonly Placement[] = ["home", "tmp"];
const USERS: readonly User[] = ["root", "nobody"];

/**
 * The matrix. Every preset × placement × user through the shell entry point; the Node CLI for two of them;
 * the fallback for the presets that have a mount layer (full-access has none, so it never needs a
 * namespace: checked separately), the user namespace way for uid 65534 and the seccomp way for root (root
 * in a throwaway user namespace would hold CAP_SYS_ADMIN there and get its mount namespace after all); and
 * `--namespaces never` once. The slow cases (npm, pip, a policy file) run in two cells per preset and
 * enforcement, chosen so that they still meet both placements and both users (and, over the presets, every
 * pair of them).
 */
const slowCasesIn = (preset: Preset, placement: Placement, user: User): boolean => (placement === "home") === (user === (preset === "read-only" ? "nobody" : "root"));

export const CELLS: readonly Cell[] = [
  ...PRESETS.flatMap((preset) =>
    PLACEMENTS.flatMap((placement) =>
      USERS.map((user): Cell => ({ preset, placement, user, launch: "fast", heavy: slowCasesIn(preset, placement, user) })),
    ),
  ),
  { preset: "workspace-write", placement: "home", user: "nobody", launch: "node", heavy: false },
  { preset: "read-only", placement: "tmp", user: "root", launch: "node", heavy: false },
  ...(["read-only", "workspace-write"] as const).flatMap((preset) =>
    PLACEMENTS.flatMap((placement) =>
      USERS.map((user): Cell => ({ preset, placement, user, launch: user === "root" ? "fallback-seccomp" : "fallback-userns", heavy: slowCasesIn(preset, placement, user) })),
    ),
  ),
  { preset: "workspace-write", placement: "tmp", user: "root", launch: "never", heavy: false },
];

// ---- what this machine offers ----

export type Support = { ok: true } | { ok: false; reason: string };

const TOOLS = ["node", "npm", "cc", "make", "git", "tar", "bash", "setpriv", "unshare", "timeout", "sed", "mktemp"] as const;

function sh(script: string, env: NodeJS.ProcessEnv = { PATH: commandPath() }): { status: number | null; out: string } {
  const r = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8", env, timeout: 60_000 });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

/** The PATH of every sandboxed command: this Node's directory (bin/sbc runs `node`), then the system's. */
export function commandPath(): string {
  return [...new Set([dirname(process.execPath), "/usr/bin", "/bin"])].join(":");
}

let tools: Support | undefined;
/** Whether the toolchains and the helpers the cells need are here (run as root: the cells switch users). */
export function toolSupport(): Support {
  tools ??= (() => {
    if (process.platform !== "linux" || process.arch !== "x64") return { ok: false, reason: `the workload tests need Linux x86_64, this is ${process.platform} ${process.arch}` };
    if (process.getuid?.() !== 0) return { ok: false, reason: "the workload tests run as root (they switch to uid 65534 with setpriv and chown its files)" };
    const missing = TOOLS.filter((t) => sh(`command -v ${t}`).status !== 0);
    if (missing.length) return { ok: false, reason: `missing ${missing.join(", ")} (scripts/install-test-deps.sh installs them)` };
    const py = sh("/usr/bin/python3 -c 'import venv, pip, asyncio, multiprocessing'");
    if (py.status !== 0) return { ok: false, reason: `/usr/bin/python3 lacks venv or pip (python3-venv, python3-pip): ${py.out}` };
    if (!existsSync("/lib64/ld-linux-x86-64.so.2")) return { ok: false, reason: "no /lib64/ld-linux-x86-64.so.2" };
    return { ok: true };
  })();
  return tools;
}

let namespaces: Support | undefined;
/** Whether this kernel lets root, and uid 65534, create a private mount namespace (what namespace mode needs). */
export function namespaceSupport(): Support {
  namespaces ??= (() => {
    const root = sh("unshare --mount true");
    if (root.status !== 0) return { ok: false, reason: `root cannot create a mount namespace: ${root.out}` };
    const user = sh(`setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups -- unshare --user --map-current-user --mount true`);
    if (user.status !== 0) return { ok: false, reason: `uid ${NOBODY} cannot create a user and mount namespace: ${user.out}` };
    return { ok: true };
  })();
  return namespaces;
}

/** Whether a cell can run here; namespace cells and the user-namespace fallback need user namespaces. */
export function cellSupport(c: Cell): Support {
  const t = toolSupport();
  if (!t.ok) return t;
  if (c.launch === "fast" || c.launch === "node" || c.launch === "never" || c.launch === "fallback-userns") return namespaceSupport();
  return { ok: true };
}

// ---- shared set-up: assets, case scripts, workspace templates ----

export interface Shared {
  /** /var/tmp/sbc-wl-XXXXXX: cells' homes and temp dirs, the assets and templates. */
  readonly root: string;
  /** /tmp/sbc-wl-XXXXXX: cells' workspaces placed under /tmp, and the worktrees' main repositories. */
  readonly tmpRoot: string;
  /** The npm tarball, the wheel and archive.tar (readable by every user). */
  readonly assets: string;
  /** One `ID.sh` per case. */
  readonly cases: string;
  /** `sbc compile -t linux` of the no-unshare policy, for the seccomp fallback. */
  readonly noUnsharePlan: string;
  readonly templates: string;
}

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "sbc tests",
  GIT_AUTHOR_EMAIL: "tests@sbc.invalid",
  GIT_COMMITTER_NAME: "sbc tests",
  GIT_COMMITTER_EMAIL: "tests@sbc.invalid",
};

function run(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: "utf8", env: { PATH: commandPath(), HOME: cwd, LC_ALL: "C", ...GIT_ENV, ...env }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`set-up step \`${argv.join(" ")}\` in ${cwd} failed (${r.status ?? r.signal}): ${r.error?.message ?? ""}${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A new git repository at `dir` with one committed README.md. */
function repoWithReadme(dir: string): void {
  mkdirSync(dir);
  writeFileSync(join(dir, "README.md"), "readme\n");
  run(["git", "init", "-q"], dir);
  run(["git", "add", "README.md"], dir);
  run(["git", "commit", "-q", "-m", "initial commit"], dir);
}

/** Builds everything the cells share. Throws with the failing step. */
export function prepareShared(): Shared {
  const root = mkdtempSync("/var/tmp/sbc-wl-");
  const tmpRoot = mkdtempSync("/tmp/sbc-wl-");
  for (const d of [root, tmpRoot]) chmodSync(d, 0o755);
  const shared: Shared = { root, tmpRoot, assets: join(root, "assets"), cases: join(root, "cases"), templates: join(root, "templates"), noUnsharePlan: join(root, "no-unshare.plan") };
  for (const d of [shared.assets, shared.cases, shared.templates]) mkdirSync(d, { mode: 0o755 });

  // npm pack outside the sandbox, with its cache kept out of the real home.
  run(["npm", "pack", "--silent", "--pack-destination", shared.assets, join(FIXTURES, "lib-package")], root, { npm_config_cache: join(root, "npm-cache"), npm_config_update_notifier: "false" });
  run(["/usr/bin/python3", join(FIXTURES, "make-wheel.py"), shared.assets], root);
  run(["tar", "cf", join(shared.assets, "archive.tar"), "--owner=0", "--group=0", "--numeric-owner", "-C", join(FIXTURES, "archive"), "unpacked"], root);

  for (const c of CASES) writeFileSync(join(shared.cases, `${c.id}.sh`), `${c.script}\n`);
  run([process.execPath, join(TREE, "bin", "sbc.js"), "compile", NO_UNSHARE_POLICY, "-t", "linux", "-q", "-o", shared.noUnsharePlan], root);

  // The main workspace: the fixture project, committed, then one tracked file changed.
  const project = join(shared.templates, "project");
  cpSync(join(FIXTURES, "project"), project, { recursive: true });
  mkdirSync(join(project, "noexec"));
  cpSync("/bin/echo", join(project, "noexec", "tool"));
  chmodSync(join(project, "noexec", "tool"), 0o755);
  writeFileSync(join(project, ".gitignore"), "tools/\n");
  run(["git", "init", "-q"], project);
  run(["git", "add", "-A"], project);
  run(["git", "commit", "-q", "-m", "initial commit"], project);
  // pip comes from the system's site-packages: `tools/venv/bin/python -m pip` installs into the venv.
  run(["/usr/bin/python3", "-m", "venv", "--without-pip", "--system-site-packages", "tools/venv"], project);
  writeFileSync(join(project, "diffme.txt"), "committed\nchanged\n");

  // A repository with committed symlinks out of it, apart from the main workspace: a launcher that followed
  // them while granting would open everything, and the other cases must not depend on that.
  const links = join(shared.templates, "links");
  mkdirSync(links);
  writeFileSync(join(links, "README.md"), "readme\n");
  run(["ln", "-s", "/", "link-root"], links);
  run(["ln", "-s", "..", "link-up"], links);
  run(["ln", "-s", ".git", "link-git"], links);
  run(["git", "init", "-q"], links);
  run(["git", "add", "-A"], links);
  run(["git", "commit", "-q", "-m", "initial commit"], links);

  // A workspace without .git.
  const plain = join(shared.templates, "plain");
  mkdirSync(plain);
  writeFileSync(join(plain, "README.md"), "readme\n");

  // A workspace whose .git is a symlink to a repository inside it: .git -> meta/repo.git.
  const gitlink = join(shared.templates, "gitlink");
  repoWithReadme(gitlink);
  mkdirSync(join(gitlink, "meta"));
  run(["mv", ".git", "meta/repo.git"], gitlink);
  run(["ln", "-s", "meta/repo.git", ".git"], gitlink);
  writeFileSync(join(gitlink, "meta", "repo.git", "info", "exclude"), "meta/\n");

  // The main repository of the worktree workspaces (`git worktree add` per cell: it records absolute paths).
  const mainRepo = join(shared.templates, "main-repo");
  repoWithReadme(mainRepo);

  return shared;
}

export function removeShared(s: Shared): void {
  // rmSync does not follow symlinks (link-root -> /): it removes the links themselves.
  for (const d of [s.root, s.tmpRoot]) rmSync(d, { recursive: true, force: true });
}

/** Per-cell directories and workspaces, owned by the cell's user. */
function prepareCell(s: Shared, cell: Cell): CellPaths {
  const id = cellId(cell);
  const dir = join(s.root, id);
  const tmpDir = join(s.tmpRoot, id);
  const home = join(dir, "home");
  const tmpdir = join(dir, "tmpdir");
  const outside = join(home, "outside");
  for (const d of [dir, home, tmpdir, outside, tmpDir]) mkdirSync(d, { recursive: true, mode: 0o755 });
  writeFileSync(join(outside, "victim.txt"), "victim\n");
  writeFileSync(join(outside, "mode.txt"), "mode\n");
  chmodSync(join(outside, "mode.txt"), 0o644);
  writeFileSync(join(outside, "time.txt"), "time\n");
  utimesSync(join(outside, "time.txt"), new Date("2020-06-01T00:00:00Z"), new Date("2020-06-01T00:00:00Z"));

  const base = cell.placement === "home" ? home : tmpDir;
  const workspaces: Record<WorkspaceKind, string> = {
    main: join(base, "proj"),
    plain: join(base, "plain"),
    links: join(base, "links"),
    worktree: join(base, "wt"),
    gitlink: join(base, "gitlink"),
  };
  // cp -a keeps the symlinks as links (Node's cpSync would resolve a relative link against the copy).
  run(["cp", "-a", join(s.templates, "project"), workspaces.main], dir);
  run(["cp", "-a", join(s.templates, "plain"), workspaces.plain], dir);
  run(["cp", "-a", join(s.templates, "links"), workspaces.links], dir);
  run(["cp", "-a", join(s.templates, "gitlink"), workspaces.gitlink], dir);
  const mainRepo = join(tmpDir, "repos", "main");
  mkdirSync(dirname(mainRepo), { recursive: true });
  run(["cp", "-a", join(s.templates, "main-repo"), mainRepo], dir);
  run(["git", "worktree", "add", "-q", "-b", "feature", workspaces.worktree], mainRepo);

  if (cell.user === "nobody") run(["chown", "-R", `${NOBODY}:${NOBODY}`, home, tmpdir, tmpDir], dir);
  return { home, tmpdir, outside, workspaces, mainRepo };
}

// ---- running ----

export interface RunRecord {
  readonly label: string;
  readonly argv: readonly string[];
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
}

export interface CaseRecord {
  readonly id: string;
  readonly expected: Outcome;
  /** The observed outcome, or undefined when the case could not apply here (`skipped` says why). */
  readonly observed?: Outcome;
  readonly skipped?: string;
  readonly ms?: number;
  /** Exit status, output and the run it belonged to, for failure messages. */
  readonly detail: string;
}

export interface CellResult {
  readonly cell: Cell;
  readonly paths: CellPaths;
  readonly runs: readonly RunRecord[];
  readonly cases: ReadonlyMap<string, CaseRecord>;
  readonly ms: number;
  /** Milliseconds from the start of the pool (runCells) to the end of this cell. */
  readonly doneAt?: number;
}

/** The environment of every sandboxed command: nothing inherited from the test process. */
function commandEnv(s: Shared, cell: Cell, p: CellPaths): NodeJS.ProcessEnv {
  return {
    PATH: commandPath(),
    HOME: p.home,
    TMPDIR: p.tmpdir,
    LANG: "C",
    LC_ALL: "C",
    WL_FIX: s.assets,
    WL_OUT: p.outside,
    WL_CASES: s.cases,
    // npm: its cache (default ~/.npm, outside every writable root) must be writable, and the update check off.
    npm_config_cache: join(p.tmpdir, "npm-cache"),
    npm_config_update_notifier: "false",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    ...GIT_ENV,
    ...(cell.launch === "node" ? { SBC_NO_FAST_PATH: "1" } : {}),
  };
}

const SETPRIV_NOBODY = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"];

export interface ExecOptions {
  readonly namespaces?: "require" | "never";
  /** For `fallback-seccomp`: what applies the no-unshare filter (default: the loader with the compiled plan). */
  readonly outer?: "sbc exec" | "loader";
}

/** argv of `sbc exec` for a cell, before any user switch; `policy` is `--preset NAME` or a policy file. */
export function execArgv(s: Shared, launch: Launch, policy: readonly string[], command: readonly string[], o: ExecOptions = {}): string[] {
  const ns = o.namespaces ?? (launch === "never" ? "never" : undefined);
  const inner = [SBC, "exec", ...(ns ? ["--namespaces", ns] : []), ...policy, "--", ...command];
  if (launch !== "fallback-seccomp") return inner;
  if (o.outer === "sbc exec") return [SBC, "exec", NO_UNSHARE_POLICY, "--", ...inner];
  return ["/bin/sh", "-c", 'plan=$1; shift; exec "$0" --plan-fd 3 -- "$@" 3<"$plan"', LOADER, s.noUnsharePlan, ...inner];
}

export interface Spawned {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Run argv as `user`; with `userns`, inside a throwaway user namespace (0 and 65534 mapped to themselves)
 * whose max_user_namespaces is 0, switching to 65534 there: the launcher's own unshare then fails (ENOSPC).
 */
export async function spawnAs(user: User, argv: readonly string[], o: { cwd: string; env: NodeJS.ProcessEnv; userns?: boolean; timeoutMs?: number }): Promise<Spawned> {
  const started = performance.now();
  let full: string[];
  if (o.userns) {
    if (user !== "nobody") throw new Error("the user namespace fallback runs as uid 65534 (root there would have CAP_SYS_ADMIN)");
    // unshare(1) execs the shell before the maps exist, so the shell has no capabilities; once the maps are
    // written it re-executes itself as the mapped root, which may then set the namespace limit.
    const inner = `read go && exec sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec ${SETPRIV_NOBODY.join(" ")} "$@" </dev/null' sh "$@"`;
    full = ["unshare", "--user", "--", "sh", "-c", inner, "sh", ...argv];
  } else full = user === "nobody" ? [...SETPRIV_NOBODY, ...argv] : [...argv];
  const child = spawn(full[0]!, full.slice(1), { cwd: o.cwd, env: o.env, stdio: [o.userns ? "pipe" : "ignore", "pipe", "pipe"], detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (b: Buffer) => out.push(b));
  child.stderr!.on("data", (b: Buffer) => err.push(b));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal }));
  });
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, o.timeoutMs ?? 300_000);
  try {
    if (o.userns) await mapUserNamespace(child.pid!, child.stdin!);
    const { status, signal } = await done;
    return { status, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function mapUserNamespace(pid: number, stdin: NodeJS.WritableStream): Promise<void> {
  const ours = readlinkSync("/proc/self/ns/user");
  for (let i = 0; ; i++) {
    let theirs: string;
    try {
      theirs = readlinkSync(`/proc/${pid}/ns/user`);
    } catch {
      return; // the child is gone; its status says why
    }
    if (theirs !== ours) break;
    if (i > 2000) throw new Error("unshare --user did not enter a user namespace within 10 s");
    await sleep(5);
  }
  const map = `0 0 1\n${NOBODY} ${NOBODY} 1\n`;
  writeFileSync(`/proc/${pid}/uid_map`, map);
  writeFileSync(`/proc/${pid}/gid_map`, map);
  stdin.end("go\n");
}

/** The script of one run: every case in turn, each behind a marker, each with its exit status. */
function runScript(s: Shared, cases: readonly WorkloadCase[]): string {
  // bash for $EPOCHREALTIME (no process per timestamp); the cases themselves run under sh.
  const lines = ["# written by tests/support/workloads.ts: one sandboxed run of several workload cases", "exec 2>&1"];
  for (const c of cases) {
    lines.push(`echo "@@case ${c.id} $EPOCHREALTIME"`, `timeout -k 5 120 sh "${s.cases}/${c.id}.sh" </dev/null`, `echo "@@status ${c.id} $? $EPOCHREALTIME"`);
  }
  return `${lines.join("\n")}\n`;
}

export interface ParsedCase {
  readonly status: number;
  readonly output: string;
  readonly ms: number;
}

/** Splits a run's stdout at the markers: case id → exit status, output and duration. */
export function parseRun(stdout: string): Map<string, ParsedCase> {
  const found = new Map<string, ParsedCase>();
  let current: { id: string; at: number } | undefined;
  let buf: string[] = [];
  for (const line of stdout.split("\n")) {
    const start = /^@@case (\S+) ([\d.]+)$/.exec(line);
    const end = /^@@status (\S+) (\d+) ([\d.]+)$/.exec(line);
    if (start) {
      current = { id: start[1]!, at: Number(start[2]) };
      buf = [];
    } else if (end && end[1] === current?.id) {
      found.set(current.id, { status: Number(end[2]), output: buf.join("\n"), ms: Math.round((Number(end[3]) - current.at) * 1000) });
      current = undefined;
    } else if (current !== undefined) buf.push(line);
  }
  return found;
}

/** errno names and the texts strerror gives them, as tools print them. */
const ERRNO_TEXTS: readonly (readonly [Outcome, RegExp])[] = [
  ["EROFS", /Read-only file system|\bEROFS\b/],
  ["EACCES", /Permission denied|\bEACCES\b/],
  ["EPERM", /Operation not permitted|\bEPERM\b/],
  ["EXDEV", /Invalid cross-device link|\bEXDEV\b/],
  ["EBUSY", /Device or resource busy|\bEBUSY\b/],
  ["EEXIST", /File exists|\bEEXIST\b/],
  ["ENOENT", /No such file or directory|\bENOENT\b/],
  ["noexec", /failed to map segment from shared object/],
  ["no temp dir", /No usable temporary directory found/],
];

/** The errnos named in `output`, in order of first appearance. */
export function errnosIn(output: string): Outcome[] {
  return ERRNO_TEXTS.map(([name, re]) => [name, output.search(re)] as const)
    .filter(([, at]) => at >= 0)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name);
}

/**
 * The outcome of a case: `ok` when it exited 0 and its effect is seen; when it failed and nothing happened,
 * the errno its output names (the expected one if named at all, else the first); otherwise what went wrong.
 */
export function judge(c: WorkloadCase, o: Observation, expected: Outcome): Outcome {
  if (c.classify) return c.classify(o);
  if (o.status === 124 || o.status === 137) return `timed out (exit ${o.status})`;
  const happened = c.happened!(o);
  if (o.status === 0 && happened) return "ok";
  if (o.status !== 0 && !happened) {
    const named = errnosIn(o.output);
    return named.includes(expected) ? expected : (named[0] ?? `failed (exit ${o.status})`);
  }
  return happened ? `happened, but exit ${o.status}` : "exit 0, but nothing happened";
}

const tail = (text: string, n = 15) => text.trimEnd().split("\n").slice(-n).join("\n");

/** Runs every case of a cell (several launches, one per workspace and policy) and judges them. */
export async function runCell(s: Shared, cell: Cell): Promise<CellResult> {
  const started = performance.now();
  const paths = prepareCell(s, cell);
  const env = commandEnv(s, cell, paths);
  const situation = situationOf(cell);
  const cases = casesFor(cell.preset, cell.heavy);
  const groups = new Map<string, WorkloadCase[]>();
  for (const c of cases) {
    const key = `${c.workspace}${c.policy ? `.${c.policy}` : ""}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const runs: RunRecord[] = [];
  const records = new Map<string, CaseRecord>();
  for (const [key, group] of groups) {
    const ordered = [...group.filter((c) => !c.last), ...group.filter((c) => c.last)];
    const ws = paths.workspaces[group[0]!.workspace];
    const ctx: CaseContext = { ws, cell: paths };
    const skipped = new Map(ordered.map((c) => [c.id, c.inapplicable?.(ctx)] as const).filter((e): e is readonly [string, string] => e[1] !== undefined));
    const toRun = ordered.filter((c) => !skipped.has(c.id));
    const before = new Map(toRun.map((c) => [c.id, c.before?.(ctx)] as const));
    // Cases with the same script share one run of it (the socket kinds: one Python process tries them all).
    const runner = new Map<string, string>();
    for (const c of toRun) if (!runner.has(c.script)) runner.set(c.script, c.id);
    const script = join(s.root, cellId(cell), `run-${key}.sh`);
    writeFileSync(script, runScript(s, toRun.filter((c) => runner.get(c.script) === c.id)));
    const policy = group[0]!.policy === "noexec" ? [NOEXEC_POLICY] : ["--preset", cell.preset];
    const argv = execArgv(s, cell.launch, policy, ["bash", script]);
    const r = await spawnAs(cell.user, argv, { cwd: ws, env, userns: cell.launch === "fallback-userns" });
    const label = `${cellId(cell)} ${key}`;
    runs.push({ label, argv, status: r.status, signal: r.signal, stderr: r.stderr, ms: r.ms });
    const parsed = parseRun(r.stdout);
    for (const c of ordered) {
      const expected = c.expect(situation);
      const why = skipped.get(c.id);
      if (why !== undefined) {
        records.set(c.id, { id: c.id, expected, skipped: why, detail: why });
        continue;
      }
      const got = parsed.get(runner.get(c.script)!);
      if (!got) {
        const detail = `${label}: the case did not run; the launch exited ${r.status ?? r.signal}\n--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`;
        records.set(c.id, { id: c.id, expected, observed: `not run (launch exited ${r.status ?? r.signal})`, detail });
        continue;
      }
      const o: Observation = { ...ctx, user: cell.user, status: got.status, output: got.output, before: before.get(c.id) };
      const observed = judge(c, o, expected);
      const detail = `${label} › ${c.id}: expected ${expected}, observed ${observed} (exit ${got.status})\n$ ${c.script}\n${tail(got.output)}\n`;
      records.set(c.id, { id: c.id, expected, observed, detail, ms: got.ms });
    }
  }
  return { cell, paths, runs, cases: records, ms: performance.now() - started };
}

/** Runs `cells` with at most `jobs` at a time; the map holds each cell's eventual result. */
export function runCells(s: Shared, cells: readonly Cell[], jobs = defaultJobs()): Map<string, Promise<CellResult>> {
  const results = new Map<string, Promise<CellResult>>();
  const resolvers = new Map<string, { resolve: (r: CellResult) => void; reject: (e: unknown) => void }>();
  for (const c of cells) {
    const p = new Promise<CellResult>((resolve, reject) => resolvers.set(cellId(c), { resolve, reject }));
    p.catch(() => undefined); // a test awaits it; an unawaited rejection must not end the run
    results.set(cellId(c), p);
  }
  // Longest first, so that the last cells to start are short ones (the order of the tests does not change).
  const queue = [...cells].sort((a, b) => Number(b.heavy) - Number(a.heavy));
  const started = performance.now();
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const r = resolvers.get(cellId(c))!;
      try {
        const result = await runCell(s, c);
        r.resolve({ ...result, doneAt: performance.now() - started });
      } catch (e) {
        r.reject(e);
      }
    }
  };
  for (let i = 0; i < jobs; i++) void worker();
  return results;
}

/** SBC_WORKLOAD_JOBS, else one cell per core (at most 4): the cases are mostly single-threaded. */
export function defaultJobs(): number {
  const n = Number(process.env.SBC_WORKLOAD_JOBS);
  return Number.isInteger(n) && n > 0 ? n : Math.max(1, Math.min(availableParallelism(), 4));
}

/** One line per (case, expected, observed) that differ, with the cells it happened in: the overview of a run. */
export function mismatchSummary(results: readonly CellResult[]): string[] {
  const groups = new Map<string, string[]>();
  for (const r of results)
    for (const c of r.cases.values()) {
      if (c.observed === undefined || c.observed === c.expected) continue;
      const key = `${c.id}: expected ${c.expected}, observed ${c.observed}`;
      groups.set(key, [...(groups.get(key) ?? []), cellId(r.cell)]);
    }
  return [...groups].map(([key, cells]) => `${key} — ${cells.length} cell${cells.length === 1 ? "" : "s"}: ${cells.join(" ")}`);
}

/** SBC_WORKLOAD_CELLS: a regular expression on cell ids (`PRESET.PLACEMENT.USER.LAUNCH`) to run only some cells. */
export function selectedByEnv(c: Cell): boolean {
  const pattern = process.env.SBC_WORKLOAD_CELLS;
  return pattern === undefined || pattern === "" || new RegExp(pattern).test(cellId(c));
}

// ---- the launcher's own line ----

/** The one line `sbc exec` prints when it falls back to Landlock alone (auto mode, no namespace). */
export const FALLBACK_LINE = /^sbc: no mount namespace here \((.+?)\); running with Landlock alone: .+$/;

export const fallbackLines = (stderr: string): string[] => stderr.split("\n").filter((l) => FALLBACK_LINE.test(l));

// ---- the outcome table ----

const FAMILY_TITLES: Readonly<Record<Family, string>> = {
  node: "Node",
  python: "Python",
  shell: "Shell and build",
  git: "Git",
  escape: "Escapes",
  network: "Network off",
  process: "Process",
};

const PLACEMENT_NAMES: Readonly<Record<Placement, string>> = { home: "under ~", tmp: "under /tmp" };
const USER_NAMES: Readonly<Record<User, string>> = { root: "root", nobody: "uid 65534" };

/** One table cell: the outcome when it is the same everywhere, else what it depends on. */
function summarise(c: WorkloadCase, preset: Preset, enforcement: Enforcement): string {
  const combos = PLACEMENTS.flatMap((placement) => USERS.map((user) => ({ placement, user, outcome: c.expect({ preset, enforcement, placement, user }) })));
  const distinct = new Set(combos.map((x) => x.outcome));
  if (distinct.size === 1) return combos[0]!.outcome;
  const byPlacement = PLACEMENTS.every((p) => new Set(combos.filter((x) => x.placement === p).map((x) => x.outcome)).size === 1);
  if (byPlacement) return PLACEMENTS.map((p) => `${combos.find((x) => x.placement === p)!.outcome} ${PLACEMENT_NAMES[p]}`).join(", ");
  const byUser = USERS.every((u) => new Set(combos.filter((x) => x.user === u).map((x) => x.outcome)).size === 1);
  if (byUser) return USERS.map((u) => `${combos.find((x) => x.user === u)!.outcome} as ${USER_NAMES[u]}`).join(", ");
  return combos.map((x) => `${x.outcome} (${PLACEMENT_NAMES[x.placement]}, ${USER_NAMES[x.user]})`).join(", ");
}

const COLUMNS: readonly { readonly title: string; readonly preset: Preset; readonly enforcement: Enforcement }[] = [
  { title: "read-only: namespace", preset: "read-only", enforcement: "namespace" },
  { title: "read-only: Landlock alone", preset: "read-only", enforcement: "landlock" },
  { title: "workspace-write: namespace", preset: "workspace-write", enforcement: "namespace" },
  { title: "workspace-write: Landlock alone", preset: "workspace-write", enforcement: "landlock" },
  { title: "full-access", preset: "full-access", enforcement: "namespace" },
];

/** The Markdown table of expected outcomes (docs/targets/landlock.md, between the workloads markers). */
export function renderOutcomeTable(cases: readonly WorkloadCase[] = CASES): string {
  const rows = [`| | workload | ${COLUMNS.map((c) => c.title).join(" | ")} |`, `| --- | --- |${COLUMNS.map(() => " --- |").join("")}`];
  let family: Family | undefined;
  for (const c of cases) {
    const first = c.family !== family;
    family = c.family;
    const cells = COLUMNS.map((col) => (c.policy === "noexec" && col.preset !== "workspace-write" ? "—" : summarise(c, col.preset, col.enforcement)));
    rows.push(`| ${first ? `**${FAMILY_TITLES[c.family]}**` : ""} | ${c.title.replaceAll("|", "\\|")} | ${cells.join(" | ")} |`);
  }
  return rows.join("\n");
}

export const TABLE_BEGIN = "<!-- workloads:begin -->";
export const TABLE_END = "<!-- workloads:end -->";

/** The text between the markers in `doc`, or undefined when the markers are missing. */
export function tableInDoc(doc: string): string | undefined {
  const b = doc.indexOf(TABLE_BEGIN);
  const e = doc.indexOf(TABLE_END);
  return b < 0 || e < b ? undefined : doc.slice(b + TABLE_BEGIN.length, e).trim();
}

/** `doc` with `table` between the markers. */
export function withTable(doc: string, table: string): string {
  const b = doc.indexOf(TABLE_BEGIN);
  const e = doc.indexOf(TABLE_END);
  if (b < 0 || e < b) throw new Error(`no \`${TABLE_BEGIN}\` … \`${TABLE_END}\` section to write the table into`);
  return `${doc.slice(0, b + TABLE_BEGIN.length)}\n${table}\n${doc.slice(e)}`;
}
