// Running seccomp filters on the real kernel: builds native/seccomp-probe.c once per source version, feeds it a
// filter and a list of syscalls, and parses its answers. Kernel tests use describeKernel/itKernel so that they
// skip with a printed reason where seccomp or a C compiler is missing, and fail instead when CI sets
// SBC_REQUIRE_KERNEL=1.

import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, it } from "vitest";

const REPO = join(import.meta.dirname, "..", "..");
const CACHE_DIR = join(REPO, "node_modules", ".cache", "sbc-native");
const CFLAGS = ["-O2", "-Wall", "-Werror"];

export type KernelSupport = { ok: true } | { ok: false; reason: string };

/** What one probed syscall did under the filter (see native/README.md for the wire format). */
export type ProbeResult =
  | { kind: "returned"; ret: bigint; errno: number }
  | { kind: "signal"; signal: number }
  | { kind: "load-error"; errno: number }
  /** The probed syscall itself ended the child (only if a test probes exit or exit_group). */
  | { kind: "exited"; status: number };

export interface ProbeCall {
  readonly nr: number;
  /** Up to six unsigned 64-bit arguments; missing ones are 0. */
  readonly args?: readonly bigint[];
}

/** The C compiler: `SBC_CC` if set (a path or a name), else `cc` or `gcc` found on PATH. */
function findCompiler(): string | undefined {
  const wanted = process.env.SBC_CC;
  const names = wanted !== undefined && wanted !== "" ? [wanted] : ["cc", "gcc"];
  for (const name of names) {
    const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
    const candidates = name.includes("/") ? [name] : dirs.map((d) => join(d, name));
    for (const c of candidates) {
      try {
        accessSync(c, fsConstants.X_OK);
        return c;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}

let builtProbe: string | undefined;

/**
 * The path of the compiled probe, building it if this source (and compiler) has not been built yet. The cache
 * key is a hash of the source, the compiler path and the flags, so an edited probe rebuilds. Throws with the
 * compiler's output if the build fails.
 */
export function buildProbe(): string {
  builtProbe ??= buildNative("seccomp-probe.c");
  return builtProbe;
}

/**
 * Build `native/NAME` into node_modules/.cache/sbc-native (once per source, compiler and flags), for the tests'
 * helper programs; `extraFlags` after the usual ones (`-static` for a probe that must need no library).
 */
export function buildNative(name: string, extraFlags: readonly string[] = []): string {
  const cc = findCompiler();
  if (cc === undefined) {
    const wanted = process.env.SBC_CC;
    throw new Error(`no C compiler (${wanted ? `SBC_CC=\`${wanted}\` is not executable` : "`cc` or `gcc` on PATH"})`);
  }
  const sourcePath = join(REPO, "native", name);
  const source = readFileSync(sourcePath);
  const flags = [...CFLAGS, ...extraFlags];
  const key = createHash("sha256")
    .update(source)
    .update(`\0${cc}\0${flags.join(" ")}`)
    .digest("hex")
    .slice(0, 16);
  const out = join(CACHE_DIR, `${name.replace(/\.c$/, "")}-${key}`);
  if (!existsSync(out)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Build under a unique name and rename: test files run in parallel workers and may race to build.
    const partial = `${out}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
    const r = spawnSync(cc, [...flags, "-o", partial, sourcePath], { encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) {
      rmSync(partial, { force: true });
      const detail = (r.error?.message ?? `${r.stderr}${r.stdout}`).trim();
      throw new Error(`\`${cc} ${flags.join(" ")}\` failed on native/${name}: ${detail}`);
    }
    renameSync(partial, out);
  }
  return out;
}

let support: KernelSupport | undefined;

/** Whether kernel tests can run here: Linux x86_64, a C compiler, and a seccomp filter that loads (--selftest). */
export function kernelSupport(): KernelSupport {
  support ??= checkSupport();
  return support;
}

function checkSupport(): KernelSupport {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return { ok: false, reason: `kernel tests need Linux x86_64, this is ${process.platform} ${process.arch}` };
  }
  let probe: string;
  try {
    probe = buildProbe();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  try {
    const out = execFileSync(probe, ["--selftest"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    if (out.trim() === "seccomp ok") return { ok: true };
    return { ok: false, reason: `seccomp-probe --selftest printed \`${out.trim()}\`` };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, reason: `seccomp is not usable: ${(err.stderr ?? "").trim() || err.message}` };
  }
}

function formatArg(v: bigint): string {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`a syscall argument is an unsigned 64-bit value, got ${v}`);
  return `0x${v.toString(16)}`;
}

function parseLine(line: string): ProbeResult | undefined {
  let m = /^ret=(-?\d+) errno=(\d+)$/.exec(line);
  if (m) return { kind: "returned", ret: BigInt(m[1]!), errno: Number(m[2]) };
  m = /^signal=(\d+)$/.exec(line);
  if (m) return { kind: "signal", signal: Number(m[1]) };
  m = /^load-error errno=(\d+)$/.exec(line);
  if (m) return { kind: "load-error", errno: Number(m[1]) };
  m = /^exited=(\d+)$/.exec(line);
  if (m) return { kind: "exited", status: Number(m[1]) };
  return undefined;
}

/**
 * Install `filterBytes` (encoded `struct sock_filter[]`, see targets/seccomp/bpf.ts `encode`) in a fresh child
 * process per call, issue the call there, and return what happened, in call order. Throws if the probe itself
 * fails (bad input, fork failure), never because of what the filter did.
 */
export function runProbe(filterBytes: Uint8Array, calls: readonly ProbeCall[]): ProbeResult[] {
  const probe = buildProbe();
  const input = calls
    .map(({ nr, args = [] }) => {
      if (args.length > 6) throw new RangeError(`a syscall has at most 6 arguments, got ${args.length}`);
      if (!Number.isInteger(nr) || nr < 0 || nr > 0xffff_ffff) throw new RangeError(`bad syscall number ${nr}`);
      return [`${nr}`, ...args.map(formatArg)].join(" ") + "\n";
    })
    .join("");
  const dir = mkdtempSync(join(tmpdir(), "sbc-seccomp-"));
  let r;
  try {
    writeFileSync(join(dir, "filter.bpf"), filterBytes);
    r = spawnSync(probe, [join(dir, "filter.bpf")], { input, encoding: "utf8", timeout: 60_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`seccomp-probe exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== calls.length) {
    throw new Error(`seccomp-probe answered ${lines.length} of ${calls.length} calls: ${r.stdout}${r.stderr}`);
  }
  return lines.map((line) => {
    const parsed = parseLine(line);
    if (parsed === undefined) throw new Error(`seccomp-probe printed an unknown answer \`${line}\``);
    return parsed;
  });
}

const requireKernel = (): boolean => process.env.SBC_REQUIRE_KERNEL === "1";

let warned = false;
function warnSkip(reason: string): void {
  if (warned) return;
  warned = true;
  console.warn(`kernel tests skipped: ${reason} (set SBC_REQUIRE_KERNEL=1 to make this a failure)`);
}

const requiredButMissing = (reason: string) => () => {
  throw new Error(`SBC_REQUIRE_KERNEL=1 but kernel tests cannot run: ${reason}`);
};

/** `describe` for tests that need the kernel: runs, fails (SBC_REQUIRE_KERNEL=1) or skips with a printed reason. */
export function describeKernel(name: string, fn: () => void): void {
  const s = kernelSupport();
  if (s.ok) describe(name, fn);
  else if (requireKernel()) describe(name, () => it("has kernel support", requiredButMissing(s.reason)));
  else {
    warnSkip(s.reason);
    describe.skip(name, fn);
  }
}

/** `it` for one test that needs the kernel, with the same run / fail / skip rule as describeKernel. */
export function itKernel(name: string, fn: () => void | Promise<void>, timeoutMs?: number): void {
  const s = kernelSupport();
  if (s.ok) it(name, fn, timeoutMs);
  else if (requireKernel()) it(name, requiredButMissing(s.reason));
  else {
    warnSkip(s.reason);
    it.skip(name, fn);
  }
}
