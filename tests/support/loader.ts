// Running native/build/sbc-loader (the program `sbc exec` uses to apply a plan) from tests: builds it with the
// same code as the npm install step (scripts/build-native.mjs), writes format-2 plans, hands a plan over on an
// extra pipe (as root, as uid 65534, or inside a wrapper that takes namespaces away) and collects what the
// command printed. describeLoader skips with a printed reason where the loader cannot be built or the kernel
// lacks what the tests need, and fails instead when CI sets SBC_REQUIRE_KERNEL=1.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "vitest";
import { describeKernel, kernelSupport } from "./kernel.js";

const REPO = join(import.meta.dirname, "..", "..");

type BuildResult = { ok: true; path: string; built: boolean } | { ok: false; reason: string };

// The build script is plain JavaScript without type declarations; a computed specifier keeps tsc from
// looking for them, and the cast states the one function it exports.
const buildScript = pathToFileURL(join(REPO, "scripts", "build-native.mjs")).href;
const { buildLoader } = (await import(buildScript)) as { buildLoader: () => BuildResult };

/** The Landlock ABI the tests' plans are written for (`abi 7`: ABI 7 adds no rights, only restrict flags). */
export const LOADER_TEST_ABI = 7;

let built: BuildResult | undefined;

/** Why the loader is not available, or undefined when it is (built now if its source changed). */
function buildReason(): string | undefined {
  built ??= buildLoader();
  return built.ok ? undefined : built.reason;
}

/** The path of the built loader (native/build/sbc-loader), building it first if needed; undefined if it cannot be built. */
export function loaderPath(): string | undefined {
  buildReason();
  return built?.ok ? built.path : undefined;
}

export interface LoaderRun {
  /** Exit status, or null when the process was killed by `signal`. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface LoaderOptions {
  /** Pass `--report`: one stderr line per applied or skipped item before the command starts. */
  readonly report?: boolean;
  readonly cwd?: string;
  /** The command's environment (the loader passes its own on); defaults to this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** More loader arguments, before `--plan-fd` (e.g. `--namespaces`, `--param`). */
  readonly args?: readonly string[];
  /** Run the loader as uid/gid 65534 (`setpriv --reuid 65534 --regid 65534 --clear-groups`). */
  readonly asNobody?: boolean;
  /** A command line that execs the rest (e.g. a namespace wrapper); the loader and its arguments follow it. */
  readonly wrap?: readonly string[];
  /** Give no plan on fd 3 and no `--plan-fd` (for `--cached` runs, whose `args` say where the plan is). */
  readonly noPlanFd?: boolean;
  readonly timeout?: number;
}

/** uid and gid for unprivileged runs: `nobody` on Debian. */
export const NOBODY = 65534;
export const SETPRIV_NOBODY = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"] as const;

/** The fd the plan arrives on: the first one after stdin, stdout and stderr. */
const PLAN_FD = 3;

/** The argv that runs the loader as `options` say: the wrapper, setpriv, then the loader and its arguments. */
export function loaderArgv(argv: readonly string[], options: LoaderOptions = {}): string[] {
  const loader = loaderPath();
  if (loader === undefined) throw new Error(`sbc-loader is not available: ${buildReason()}`);
  const args = [...(options.report ? ["--report"] : []), ...(options.args ?? []), ...(options.noPlanFd ? [] : ["--plan-fd", `${PLAN_FD}`]), "--", ...argv];
  return [...(options.wrap ?? []), ...(options.asNobody ? SETPRIV_NOBODY : []), loader, ...args];
}

/**
 * Run `sbc-loader [--report] --plan-fd 3 -- ...argv` with `plan` written to its fd 3 (a pipe the loader reads to
 * EOF), stdin from /dev/null, and stdout/stderr collected. Throws if the loader is not built or cannot be
 * started, never because of what the loader or the command did.
 */
export function runLoader(plan: string, argv: readonly string[], options: LoaderOptions = {}): LoaderRun {
  const full = loaderArgv(argv, options);
  // spawnSync can feed a pipe only on stdin, so a shell moves that pipe to fd 3 and gives the loader /dev/null
  // as stdin before it execs the loader (or its wrapper) in its own place.
  const r = spawnSync("/bin/sh", ["-c", `exec "$@" ${PLAN_FD}<&0 0</dev/null`, "sh", ...full], {
    input: plan,
    stdio: ["pipe", "pipe", "pipe"],
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: "utf8",
    timeout: options.timeout ?? 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** What a plan says, for planText: defaults to ABI 7, every fs right handled, no net, no scopes, `namespaces auto`. */
export interface PlanSpec {
  readonly abi?: number;
  readonly handledFs?: number;
  readonly handledNet?: number;
  readonly scoped?: number;
  readonly restrictFlags?: number;
  readonly namespaces?: "auto" | "require" | "never";
  /** Lines between the header and the first rule, as written (`param ...`, `cache-key ...`, `dep ...`). */
  readonly preamble?: readonly string[];
  /** `mount PATH rw|ro exec|noexec` lines (paths encoded here unless they start with `${`). */
  readonly mounts?: ReadonlyArray<readonly [path: string, write: "rw" | "ro", exec: "exec" | "noexec"]>;
  readonly fs?: ReadonlyArray<readonly [mask: number, missing: "skip" | "error", path: string]>;
  /** More rule lines, as written (`fs-children ...`). */
  readonly rules?: readonly string[];
  readonly net?: ReadonlyArray<readonly [mask: number, port: number]>;
  readonly seccomp?: Uint8Array;
}

const hexMask = (n: number) => `0x${n.toString(16)}`;
const encodeField = (p: string) => (p.startsWith("${") ? p.replace(/[^\x21-\x7e]|%/g, (c) => encodePath(c)) : encodePath(p));

/** A plan in the loader's text format (format 2). */
export function planText(spec: PlanSpec): string {
  const lines = [
    "sbc-loader-plan 2",
    `abi ${spec.abi ?? LOADER_TEST_ABI}`,
    `handled-fs ${hexMask(spec.handledFs ?? 0xffff)}`,
    `handled-net ${hexMask(spec.handledNet ?? 0)}`,
    `scoped ${hexMask(spec.scoped ?? 0)}`,
    `restrict-flags ${hexMask(spec.restrictFlags ?? 0)}`,
    `namespaces ${spec.namespaces ?? "auto"}`,
    ...(spec.preamble ?? []),
    ...(spec.mounts ?? []).map(([path, w, x]) => `mount ${encodeField(path)} ${w} ${x}`),
    ...(spec.fs ?? []).map(([mask, missing, path]) => `fs ${hexMask(mask)} ${missing} ${encodeField(path)}`),
    ...(spec.rules ?? []),
    ...(spec.net ?? []).map(([mask, port]) => `net ${hexMask(mask)} ${port}`),
    ...(spec.seccomp ? [`seccomp ${Buffer.from(spec.seccomp).toString("hex")}`] : []),
    "end",
  ];
  return lines.join("\n") + "\n";
}

/**
 * A path as a plan spells it: its UTF-8 bytes, with every byte outside 0x21-0x7e, and `%`, written as `%XX`
 * (upper-case hex), so that any path is one space-free printable field.
 */
export function encodePath(p: string | Uint8Array): string {
  const bytes = typeof p === "string" ? Buffer.from(p, "utf8") : p;
  let out = "";
  for (const b of bytes) {
    out += b >= 0x21 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export interface LoaderProbe {
  readonly landlockAbi: number;
  readonly errata: number;
  readonly seccomp: boolean;
  /** `user`, `admin`, or `none:STEP:ERRNO`. */
  readonly namespaces: string;
  /** `/proc/sys/kernel/io_uring_disabled`, or `absent`. */
  readonly ioUring: string;
  /** The line as printed. */
  readonly line: string;
}

/** The shape of `--probe`'s line; the first three fields are what older consumers parse. */
export const PROBE_LINE = /^landlock-abi=(\d+) errata=0x([0-9a-f]+) seccomp=([01]) namespaces=(user|admin|none:[a-z_-]+:E[A-Z0-9]+|none:child:[A-Za-z0-9-]+) io-uring=(\d+|absent|unknown)$/;

/** Parses a `--probe` line; throws on anything else. */
export function parseProbe(line: string): LoaderProbe {
  const m = PROBE_LINE.exec(line);
  if (!m) throw new Error(`not a --probe line: ${line}`);
  return { landlockAbi: Number(m[1]), errata: parseInt(m[2]!, 16), seccomp: m[3] === "1", namespaces: m[4]!, ioUring: m[5]!, line };
}

/** `sbc-loader --probe`, parsed. Throws if the loader is not built or prints something else. */
export function probeLoader(options: Pick<LoaderOptions, "asNobody" | "wrap"> = {}): LoaderProbe {
  const loader = loaderPath();
  if (loader === undefined) throw new Error(`sbc-loader is not available: ${buildReason()}`);
  const argv = [...(options.wrap ?? []), ...(options.asNobody ? SETPRIV_NOBODY : []), loader, "--probe"];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`sbc-loader --probe exited with ${r.status ?? r.signal}: ${r.stdout}${r.stderr}`);
  return parseProbe(r.stdout.trim());
}

/**
 * A wrapper (for LoaderOptions.wrap) that runs the rest where no user namespace can be created: a throwaway user
 * namespace (uid and gid 0 and 65534 mapped to themselves) whose `max_user_namespaces` is 0, then
 * `setpriv` to 65534. The loader's own unshare(CLONE_NEWUSER) then fails with ENOSPC. Needs root.
 */
export const NO_USERNS_WRAPPER: readonly string[] = [
  "python3",
  "-c",
  [
    "import ctypes, os, sys",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "r, w = os.pipe(); r2, w2 = os.pipe()",
    "pid = os.fork()",
    "if pid == 0:",
    "    os.read(r, 1)",
    "    for f in ('uid_map', 'gid_map'):",
    "        with open(f'/proc/{os.getppid()}/{f}', 'w') as m: m.write('0 0 1\\n65534 65534 1\\n')",
    "    os.write(w2, b'x'); os._exit(0)",
    "if libc.unshare(0x10000000) != 0: sys.exit('unshare: ' + os.strerror(ctypes.get_errno()))",
    "os.write(w, b'x'); os.read(r2, 1); os.waitpid(pid, 0)",
    "with open('/proc/sys/user/max_user_namespaces', 'w') as f: f.write('0\\n')",
    "os.execvp(sys.argv[1], sys.argv[1:])",
  ].join("\n"),
];

type Support = { ok: true } | { ok: false; reason: string };
let support: Support | undefined;

/** Whether the loader tests can run here: the loader builds, and the kernel has Landlock ABI 7 and seccomp. */
export function loaderSupport(): Support {
  support ??= checkSupport();
  return support;
}

function checkSupport(): Support {
  const reason = buildReason();
  if (reason !== undefined) return { ok: false, reason: `sbc-loader cannot be built: ${reason}` };
  let probe: LoaderProbe;
  try {
    probe = probeLoader();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (probe.landlockAbi < LOADER_TEST_ABI) {
    return { ok: false, reason: `the loader tests need Landlock ABI ${LOADER_TEST_ABI}, this kernel has ${probe.landlockAbi}` };
  }
  if (!probe.seccomp) return { ok: false, reason: "the loader reports no seccomp filter support" };
  return { ok: true };
}

/**
 * `describe` for tests that run the loader: like describeKernel (run, fail under SBC_REQUIRE_KERNEL=1, or skip
 * with a printed reason), and the same when the loader cannot be built or the kernel lacks Landlock ABI 7.
 */
export function describeLoader(name: string, fn: () => void): void {
  const s = loaderSupport();
  // Without kernel support describeKernel already fails or skips, with the more basic reason.
  if (s.ok || !kernelSupport().ok) return describeKernel(name, fn);
  if (process.env.SBC_REQUIRE_KERNEL === "1") {
    describe(name, () =>
      it("has the loader", () => {
        throw new Error(`SBC_REQUIRE_KERNEL=1 but the loader tests cannot run: ${s.reason}`);
      }),
    );
  } else {
    console.warn(`loader tests skipped: ${s.reason} (set SBC_REQUIRE_KERNEL=1 to make this a failure)`);
    describe.skip(name, fn);
  }
}

type RootSupport = { ok: true } | { ok: false; reason: string };
let rootSupport: RootSupport | undefined;

/** Whether the tests that switch users and namespaces can run: root, setpriv and python3, and namespaces for both. */
function checkRootSupport(): RootSupport {
  if (process.getuid?.() !== 0) return { ok: false, reason: "these loader tests run as root (they switch to uid 65534 and make mount namespaces)" };
  for (const tool of ["setpriv", "python3", "unshare"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return { ok: false, reason: `\`${tool}\` is not installed` };
  }
  try {
    const admin = probeLoader().namespaces;
    const user = probeLoader({ asNobody: true }).namespaces;
    if (admin !== "admin" || user !== "user") return { ok: false, reason: `mount namespaces are not available here (root: ${admin}, uid ${NOBODY}: ${user})` };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  return { ok: true };
}

/**
 * describeLoader for tests that need root (to run the loader as uid 65534, chown, or wrap it in namespaces) and
 * working mount namespaces for root and for 65534: skipped with a printed reason elsewhere, a failure instead
 * under SBC_REQUIRE_KERNEL=1.
 */
export function describeLoaderAsRoot(name: string, fn: () => void): void {
  const s = loaderSupport();
  if (!s.ok) return describeLoader(name, fn);
  rootSupport ??= checkRootSupport();
  const r = rootSupport;
  if (r.ok) return describeLoader(name, fn);
  if (process.env.SBC_REQUIRE_KERNEL === "1") {
    describe(name, () =>
      it("can switch users and make namespaces", () => {
        throw new Error(`SBC_REQUIRE_KERNEL=1 but these loader tests cannot run: ${r.reason}`);
      }),
    );
  } else {
    console.warn(`loader tests skipped: ${r.reason} (set SBC_REQUIRE_KERNEL=1 to make this a failure)`);
    describe.skip(name, fn);
  }
}
