// Running the built `sbc` command (bin/sbc.js → dist/) in a child process.

import { execSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..");
export const BIN = join(REPO, "bin", "sbc.js");
export const CLI_MAIN = join(REPO, "dist", "cli", "main.js");

/** Build dist/ once if it is missing (npm test builds it in pretest; a bare `vitest run` may not have). */
export function ensureBuilt(): void {
  if (!existsSync(CLI_MAIN)) execSync("npm run build", { cwd: REPO, stdio: "pipe", timeout: 180_000 });
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Extra environment; `undefined` removes a variable. Colour variables are cleared unless given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  readonly nodeArgs?: readonly string[];
}

let planCache: string | undefined;

/**
 * A plan cache of this test process's own (`sbc exec` stores every plan it runs): tests never read or fill the
 * user's, and each test file starts cold. Removed when the process ends.
 */
export function testPlanCache(): string {
  if (!planCache) {
    const dir = mkdtempSync(join(tmpdir(), "sbc-test-plans-"));
    planCache = join(dir, "plans");
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return planCache;
}

/** The environment of a child: ours, without colour switches or cache settings, with a private plan cache, plus `extra`. */
export function childEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SBC_CACHE_DIR: testPlanCache() };
  for (const k of ["FORCE_COLOR", "NO_COLOR", "SBC_DEBUG", "NODE_OPTIONS", "SBC_NO_CACHE", "SBC_NO_FAST_PATH"]) delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Run `node bin/sbc.js ...args`; stdout and stderr are pipes, so never a TTY. */
export function sbc(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env: childEnv(options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 25_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ms: performance.now() - started });
    });
  });
}

/** A JavaScript stack trace line, as printed by an uncaught error. */
export const STACK_TRACE = /\n\s+at /;

/** ANSI escape sequences (colours). */
export const ANSI = /\u001b\[/;
