// The plan cache of `sbc exec`: a policy file compiled once runs later without Node. The key is computed by
// the native loader (SHA-256 over what this module passes as the cache input, the built-in parameters as the
// loader binds them, the arch and the kernel's Landlock ABI), so bin/sbc — a shell script — and this module
// cannot disagree on it. A plan names the files it was compiled from with their SHA-256 (`dep` lines), which
// the loader checks on every use. The directory must be the user's own and writable by nobody else, checked
// here before writing and by the loader before reading (native/README.md, "The plan cache").

import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { packageRoot } from "../compiler/package-root.js";

/** `$SBC_CACHE_DIR`, else `$XDG_CACHE_HOME/sbc/plans`, else `$HOME/.cache/sbc/plans` (bin/sbc spells the same rule). */
export function planCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SBC_CACHE_DIR && isAbsolute(env.SBC_CACHE_DIR)) return env.SBC_CACHE_DIR;
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : env.HOME && isAbsolute(env.HOME) ? join(env.HOME, ".cache") : undefined;
  return base ? join(base, "sbc", "plans") : undefined;
}

/** The build of this package (dist/build-id, written by `npm run build`): plans from another build are never reused. */
export function buildId(): string | undefined {
  try {
    const id = readFileSync(join(packageRoot(), "dist", "build-id"), "utf8").trim();
    return /^[0-9a-f]{64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cache input for one `sbc exec` invocation, exactly as bin/sbc writes it: the build, the `--namespaces`
 * choice of the run (`policy` when none), and the policy as named (a file path as given, or a preset).
 */
export function cacheInput(build: string, namespaces: string | undefined, policy: { file: string } | { preset: string }): string {
  const what = "file" in policy ? `policy=${policy.file}` : `preset=${policy.preset}`;
  return `sbc-exec 1 build=${build} namespaces=${namespaces ?? "policy"} ${what}`;
}

export interface CacheKey {
  readonly key: string;
  /** The built-in parameters as the loader binds them (resolved through symlinks). */
  readonly builtins: Readonly<Record<string, string>>;
}

function decodePercent(s: string): string {
  return Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
}

/** Asks the loader for the key and the built-in values; undefined when it cannot (an old or missing loader). */
export function loaderCacheKey(loader: string, input: string, params: readonly string[]): CacheKey | undefined {
  const r = spawnSync(loader, ["--cache-key", ...params.flatMap((p) => ["--param", p]), "--cache-input", input], { encoding: "utf8" });
  if (r.status !== 0 || typeof r.stdout !== "string") return undefined;
  const fields = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const key = fields.get("key");
  if (!key || !/^[0-9a-f]{64}$/.test(key)) return undefined;
  const builtins: Record<string, string> = {};
  for (const name of ["workspace", "cwd", "home", "tmpdir"]) {
    const v = fields.get(name);
    if (v !== undefined && v !== "") builtins[name] = decodePercent(v);
  }
  return { key, builtins };
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Why the directory may not hold plans, or undefined when it is the user's own and writable by nobody else. */
export function unsafeCacheDir(dir: string): string | undefined {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return "it does not exist";
  }
  if (st.isSymbolicLink()) return "it is a symbolic link";
  if (!st.isDirectory()) return "it is not a directory";
  if (typeof process.getuid === "function" && st.uid !== process.geteuid!()) return `it belongs to uid ${st.uid}, not to you`;
  if (st.mode & 0o022) return "it is writable by others";
  return undefined;
}

/** When a store leaves more plans than this, the least recently stored go, down to KEEP_PLANS. */
export const MAX_PLANS = 500;
export const KEEP_PLANS = 400;

/** Keeps the directory bounded: a workspace directory each makes an entry, and nothing else removes them. */
function prune(dir: string): void {
  const plans = readdirSync(dir).filter((f) => /^[0-9a-f]{64}\.plan$/.test(f));
  if (plans.length <= MAX_PLANS) return;
  const byAge = plans.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t || (a.f < b.f ? -1 : 1));
  for (const { f } of byAge.slice(0, plans.length - KEEP_PLANS)) rmSync(join(dir, f), { force: true });
}

/**
 * Stores a plan under its key: created mode 0600 beside its final name and renamed into place, so a reader
 * sees a whole plan or none. Returns why nothing was stored, or undefined.
 */
export function storePlan(dir: string, key: string, text: string): string | undefined {
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return `cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const unsafe = unsafeCacheDir(dir);
  if (unsafe) return `${dir} is not safe for plans: ${unsafe}`;
  const tmp = join(dir, `.${key}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, `${key}.plan`));
    prune(dir);
    return undefined;
  } catch (e) {
    rmSync(tmp, { force: true });
    return `cannot write the plan: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}
