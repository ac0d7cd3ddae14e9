// Running native/sbc-loader (the program `sbc exec` uses to apply a plan) from tests: builds it with the same
// code as the npm install step (scripts/build-native.mjs), hands it a plan on an extra pipe and collects what
// the command printed. describeLoader skips with a printed reason where the loader cannot be built or the
// kernel lacks what the tests need, and fails instead when CI sets SBC_REQUIRE_KERNEL=1.

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
}

/** The fd the plan arrives on: the first one after stdin, stdout and stderr. */
const PLAN_FD = 3;

/**
 * Run `sbc-loader [--report] --plan-fd 3 -- ...argv` with `plan` written to its fd 3 (a pipe the loader reads to
 * EOF), stdin from /dev/null, and stdout/stderr collected. Throws if the loader is not built or cannot be
 * started, never because of what the loader or the command did.
 */
export function runLoader(plan: string, argv: readonly string[], options: LoaderOptions = {}): LoaderRun {
  const loader = loaderPath();
  if (loader === undefined) throw new Error(`sbc-loader is not available: ${buildReason()}`);
  const args = [...(options.report ? ["--report"] : []), "--plan-fd", `${PLAN_FD}`, "--", ...argv];
  // spawnSync can feed a pipe only on stdin, so a shell moves that pipe to fd 3 and gives the loader /dev/null
  // as stdin before it execs the loader in its own place.
  const r = spawnSync("/bin/sh", ["-c", `exec "$0" "$@" ${PLAN_FD}<&0 0</dev/null`, loader, ...args], {
    input: plan,
    stdio: ["pipe", "pipe", "pipe"],
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
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
  /** The line as printed. */
  readonly line: string;
}

/** `sbc-loader --probe`, parsed. Throws if the loader is not built or prints something else. */
export function probeLoader(): LoaderProbe {
  const loader = loaderPath();
  if (loader === undefined) throw new Error(`sbc-loader is not available: ${buildReason()}`);
  const r = spawnSync(loader, ["--probe"], { encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  const line = r.stdout.trim();
  const m = /^landlock-abi=(\d+) errata=0x([0-9a-f]+) seccomp=([01])$/.exec(line);
  if (r.status !== 0 || !m) throw new Error(`sbc-loader --probe exited with ${r.status ?? r.signal}: ${r.stdout}${r.stderr}`);
  return { landlockAbi: Number(m[1]), errata: parseInt(m[2]!, 16), seccomp: m[3] === "1", line };
}

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
