// What the exec benchmark needs on the machine: the built CLI (dist/), the native loader, a fresh workspace that
// is a git repository, the workspace-write plan made by sbc's own code, and the peer — the Codex CLI, installed
// from npm at a pinned version into node_modules/.cache/sbc-bench/codex when it is missing.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { compilePolicy, renderHumanAll } from "../../lib/index.js";
import { environmentBindings } from "../../compiler/passes/environment.js";
import { buildPlan } from "../../targets/landlock/plan.js";
import { lowerLandlock } from "../../targets/landlock/lower.js";
import { encode } from "../../targets/seccomp/bpf.js";
import { compileSeccomp } from "../../targets/seccomp/index.js";
import { REPO } from "../seccomp/setup.js";
import { MAX_ABI } from "../../targets/landlock/abi.js";

export { REPO };
export const WORK = join(REPO, "node_modules", ".cache", "sbc-bench");
export const LOADER = join(REPO, "native", "build", "sbc-loader");
export const SBC_BIN = join(REPO, "bin", "sbc.js");
/** The `sbc` command npm installs: a shell script with the `exec --preset` fast path, else the Node CLI. */
export const SBC_CMD = join(REPO, "bin", "sbc");

/** The plan that applies nothing: the loader's own cost (parse, no Landlock, no seccomp, execvp). */
export const EMPTY_PLAN = "sbc-loader-plan 2\nabi 0\nhandled-fs 0x0\nhandled-net 0x0\nscoped 0x0\nrestrict-flags 0x0\nnamespaces never\nend\n";

/** The Codex CLI release measured; the reference notes (shared/reference/codex-sandbox.md §2.7) are for it. */
export const CODEX_VERSION = "0.169.0";

type Log = (line?: string) => void;

function newestMtime(dir: string, keep: (name: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, keep));
    else if (keep(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** `bin/sbc.js` runs dist/: build it when it is missing or older than a source file, so the CLI measured is this tree's. */
export function ensureDist(log: Log): void {
  const main = join(REPO, "dist", "cli", "main.js");
  const source = (n: string) => n.endsWith(".ts") && !n.endsWith(".test.ts") && !n.endsWith(".d.ts");
  const newestSource = Math.max(...["compiler", "targets", "grammar", "lib", "cli", "ir", "diagnostics", "linux-abi", "language"].filter((d) => existsSync(join(REPO, d))).map((d) => newestMtime(join(REPO, d), source)));
  const built = existsSync(main) ? newestMtime(join(REPO, "dist"), (n) => n.endsWith(".js")) : 0;
  if (built >= newestSource) return;
  log(built ? "dist/ is older than the sources: building it (npm run build)" : "dist/ is missing: building it (npm run build)");
  const r = spawnSync(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", join(REPO, "tsconfig.build.json")], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building dist/ failed:\n${(r.stdout + r.stderr).trim()}`);
  // The CLI runs the bundle only when it is newer than the ES modules (bin/sbc.cjs): rebuild it too.
  const b = spawnSync(process.execPath, [join(REPO, "scripts", "build-bundle.mjs")], { cwd: REPO, encoding: "utf8" });
  if (b.status !== 0) throw new Error(`bundling dist/ failed:\n${(b.stdout + b.stderr).trim()}`);
}

/** The loader `sbc exec` runs, built by scripts/build-native.mjs when it is missing. */
export function ensureLoader(log: Log): void {
  if (!existsSync(LOADER)) {
    log("native/build/sbc-loader is missing: running `node scripts/build-native.mjs`");
    spawnSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { cwd: REPO, stdio: ["ignore", "inherit", "inherit"] });
  }
  if (!existsSync(LOADER)) throw new Error("native/build/sbc-loader could not be built (see above): sbc exec cannot run here");
}

/** `landlock-abi=7 errata=0x7 seccomp=1`: what the loader finds in this kernel. */
export function probeKernel(): { abi: number; line: string } {
  const r = spawnSync(LOADER, ["--probe"], { encoding: "utf8" });
  const m = /landlock-abi=(\d+)/.exec(r.stdout ?? "");
  if (r.status !== 0 || !m) throw new Error(`sbc-loader --probe failed: ${(r.stderr || r.error?.message || "").trim()}`);
  return { abi: Number(m[1]), line: r.stdout.trim() };
}

/**
 * A fresh workspace, a git repository with one committed file, under the bench's cache directory rather than
 * $TMPDIR: a workspace inside $TMPDIR merges into the $TMPDIR grant, whose children sbc then expands one by
 * one, so the plan (and its cost) would depend on whatever else /tmp holds. Both tools take the cwd as the
 * workspace.
 */
export function makeWorkspace(): string {
  const ws = mkdtempSync(join(WORK, "exec-ws-"));
  writeFileSync(join(ws, "README.md"), "sbc exec benchmark workspace\n");
  const git = (...args: string[]) => {
    const r = spawnSync("git", ["-c", "user.name=sbc-bench", "-c", "user.email=bench@sbc.invalid", ...args], { cwd: ws, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`\`git ${args.join(" ")}\` in the workspace failed: ${(r.stderr || r.error?.message || "").trim()}`);
  };
  git("init", "-q");
  git("add", "README.md");
  git("commit", "-q", "-m", "init");
  return ws;
}

/** A plan for `sbc exec --preset PRESET` in `ws`, from the same backends (the real one is negotiated by lib/exec-plan.ts). */
export function workspacePlan(preset: string, ws: string, kernelAbi: number): { text: string; fsRules: number; insns: number } {
  const input = { kind: "preset", name: preset } as const;
  const first = compilePolicy(input, { stopAfter: "build-ir" });
  if (!first.ir) throw new Error(`preset ${preset} does not compile:\n${renderHumanAll(first.diagnostics)}`);
  const used = new Set(first.ir.params.map((p) => p.name));
  const params = Object.fromEntries(Object.entries(environmentBindings(ws)).filter(([k]) => used.has(k)));
  const compiled = compilePolicy(input, { params });
  if (!compiled.ir || compiled.diagnostics.some((d) => d.severity === "error")) throw new Error(`preset ${preset} does not compile for ${ws}:\n${renderHumanAll(compiled.diagnostics)}`);
  const abi = Math.min(kernelAbi, MAX_ABI);
  const lowered = abi > 0 ? lowerLandlock(compiled.ir, { abi, compat: "hard-requirement" }) : undefined;
  if (abi > 0 && !lowered?.table) throw new Error(`preset ${preset} has no Landlock table for ABI ${abi}:\n${renderHumanAll(lowered?.diagnostics ?? [])}`);
  const arch = process.arch === "x64" ? "x86_64" : "aarch64";
  const filter = compileSeccomp(compiled.ir, [arch]);
  if (!filter.filter) throw new Error(`preset ${preset} has no seccomp filter:\n${renderHumanAll(filter.diagnostics)}`);
  const plan = buildPlan(lowered?.table, encode(filter.filter.program));
  return { text: plan.text, fsRules: plan.text.split("\n").filter((l) => /^fs(-file|-children)? /.test(l)).length, insns: filter.filter.program.length };
}

// ---- the peer ----

export interface Codex {
  /** The native binary the npm package ships (a static musl executable). */
  readonly native: string;
  /** npm's `node_modules/.bin/codex`: a Node script that finds the native binary and spawns it. */
  readonly shim: string;
  /** `codex --version`, e.g. `codex-cli 0.169.0`. */
  readonly version: string;
  /** Which bubblewrap it runs: the first `bwrap` on PATH, else the one bundled in the package. */
  readonly bwrap: string;
}

const CODEX_TARGETS: Partial<Record<string, [pkg: string, triple: string]>> = {
  x64: ["@openai/codex-linux-x64", "x86_64-unknown-linux-musl"],
  arm64: ["@openai/codex-linux-arm64", "aarch64-unknown-linux-musl"],
};

function installedCodexVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, "node_modules", "@openai", "codex", "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function which(name: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * `npm install --prefix DIR @openai/codex@VERSION` unless that version is already there; the native binary comes
 * from the platform package npm installs beside it. Returns why the Codex rows must be skipped instead of
 * throwing: no network is not a reason to fail the benchmark.
 */
export function ensureCodex(dir: string, home: string, log: Log): Codex | { skipped: string } {
  const target = CODEX_TARGETS[process.arch];
  if (!target) return { skipped: `the Codex CLI has no Linux build for ${process.arch}` };
  const native = join(dir, "node_modules", ...target[0].split("/"), "vendor", target[1], "bin", "codex");
  const shim = join(dir, "node_modules", ".bin", "codex");
  if (installedCodexVersion(dir) !== CODEX_VERSION || !existsSync(native) || !existsSync(shim)) {
    const args = ["install", "--prefix", dir, "--save-exact", "--no-audit", "--no-fund", "--loglevel=error", `@openai/codex@${CODEX_VERSION}`];
    log(`installing the peer: npm ${args.join(" ").replace(dir, relative(REPO, dir))}`);
    const r = spawnSync("npm", args, { cwd: REPO, encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) {
      const why = (r.error?.message ?? r.stderr.trim().split("\n").slice(0, 4).join("\n")) || `exit ${r.status}`;
      return { skipped: `\`npm install @openai/codex@${CODEX_VERSION}\` failed (no network?):\n${why}` };
    }
    if (installedCodexVersion(dir) !== CODEX_VERSION) return { skipped: `npm installed @openai/codex ${installedCodexVersion(dir) ?? "(none)"}, not ${CODEX_VERSION}` };
    if (!existsSync(native)) return { skipped: `the install has no native binary at ${relative(REPO, native)} (${target[0]} not installed?)` };
  }
  const v = spawnSync(native, ["--version"], { encoding: "utf8", env: { ...process.env, CODEX_HOME: home } });
  if (v.status !== 0) return { skipped: `${relative(REPO, native)} --version failed: ${(v.stderr || v.error?.message || "").trim()}` };
  const system = which("bwrap");
  const bwrapVersion = system ? spawnSync(system, ["--version"], { encoding: "utf8" }).stdout.trim() : "";
  return { native, shim, version: v.stdout.trim(), bwrap: system ? `${system} (${bwrapVersion || "version unknown"})` : "its bundled codex-resources/bwrap (no bwrap on PATH)" };
}
