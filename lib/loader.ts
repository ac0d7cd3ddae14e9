// Where the native loader that `sbc exec` runs comes from, and building it on first use where no install
// script ran (`npm install --ignore-scripts`, pnpm 10, Bun). The loader is the sandbox: it is taken only from
// the package (built by the install script, or by a first use when the package is the user's own and nobody
// else can write it) or from a per-user cache directory that nobody else can write; anything else fails closed.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { CodeKey } from "../diagnostics/codes.js";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { packageRoot, packageVersion } from "../compiler/package-root.js";
import { unsafeCacheDir } from "./plan-cache.js";

/** scripts/build-native.mjs's flags; they are part of the hash (tests/loader-cache.test.ts checks the two agree). */
const CFLAGS = ["-O2", "-Wall", "-pthread"];

export type LoaderLookup =
  | {
      readonly ok: true;
      readonly path: string;
      /** `package`: native/build in the package (bin/sbc's fast path runs it); `cache`: the per-user cache. */
      readonly where: "package" | "cache";
      /** Set when this lookup built it: the one line to tell the user. */
      readonly notice?: string;
    }
  | { readonly ok: false; readonly code: CodeKey; readonly message: string; readonly help?: string };

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The hash scripts/build-native.mjs keeps beside a binary: the sources in native/loader/ (names included) and the flags. */
export function loaderSourceHash(root: string = packageRoot()): string | undefined {
  const dir = join(root, "native", "loader");
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".c") || n.endsWith(".h"))
      .sort();
  } catch {
    return undefined;
  }
  if (!names.includes("main.c")) return undefined;
  const digest = createHash("sha256");
  for (const name of names) {
    const text = readFileSync(join(dir, name));
    digest.update(`${name}\0${text.length}\0`).update(text);
  }
  return digest.update(`\0${CFLAGS.join(" ")}`).digest("hex");
}

/** `$XDG_CACHE_HOME/sbc/loader/VERSION-HASH`, else under `$HOME/.cache`; undefined when neither is absolute. */
export function loaderCacheDir(hash: string, env: NodeJS.ProcessEnv = process.env, version: string = packageVersion()): string | undefined {
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : env.HOME && isAbsolute(env.HOME) ? join(env.HOME, ".cache") : undefined;
  return base ? join(base, "sbc", "loader", `${version}-${hash.slice(0, 16)}`) : undefined;
}

const euid = (): number | undefined => (typeof process.geteuid === "function" ? process.geteuid() : undefined);

/**
 * Why a loader may not be run from (or built into) `dir`, or undefined when nobody but the user can change what
 * is there. The directory itself, not a link, must be the user's, with no group or other write bit. Each
 * directory above it (through its real path) must belong to the user or root and be writable by no one else
 * unless sticky (as /tmp), so that nobody can swap the directory for their own. (OpenSSH's StrictModes.)
 */
export function unsafeLoaderDir(dir: string): string | undefined {
  // The directory itself: the plan cache's rule (lib/plan-cache.ts).
  const own = unsafeCacheDir(dir);
  if (own) return own;
  const me = euid();
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return "its real path cannot be resolved";
  }
  for (let up = dirname(real); ; up = dirname(up)) {
    const a = statSync(up);
    if (me !== undefined && a.uid !== me && a.uid !== 0) return `\`${up}\` above it belongs to uid ${a.uid}`;
    if (a.mode & 0o022 && !(a.mode & 0o1000)) return `\`${up}\` above it is writable by others`;
    if (dirname(up) === up) break;
  }
  return undefined;
}

/** Why the binary itself may not be run: it must be a regular file (not a link) of the user's, writable by no one else. */
function unsafeBinary(path: string): string | undefined {
  const st = lstatSync(path);
  const me = euid();
  if (!st.isFile()) return "it is not a regular file";
  if (me !== undefined && st.uid !== me) return `it belongs to uid ${st.uid}, not to you`;
  if (st.mode & 0o022) return "it is writable by others";
  return undefined;
}

const upToDate = (binary: string, hash: string): boolean => existsSync(binary) && readText(`${binary}.sha256`)?.trim() === hash;

type BuildResult = { ok: true; path: string; built: boolean } | { ok: false; kind: "no-compiler" | "compile" | "other"; reason: string };

/** scripts/build-native.mjs --out DIR --json: the one place that knows how the loader is compiled. */
function runBuild(root: string, dir: string): BuildResult {
  const r = spawnSync(process.execPath, [join(root, "scripts", "build-native.mjs"), "--out", dir, "--json"], { encoding: "utf8", timeout: 180_000 });
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as BuildResult;
  } catch {
    return { ok: false, kind: "other", reason: (r.error?.message ?? r.stderr ?? "").trim().split("\n")[0] || `the build script exited with ${r.status ?? r.signal}` };
  }
}

/**
 * The loader to run: the package's own (native/build/sbc-loader) when it is current, else the one in the
 * per-user cache; with `build`, one is compiled when neither is there: into the package when the package is
 * the user's own and writable by nobody else (so bin/sbc's fast path finds it), else into the cache.
 */
export function findLoader(options: { build: boolean; env?: NodeJS.ProcessEnv }): LoaderLookup {
  const env = options.env ?? process.env;
  if (process.platform !== "linux") return { ok: false, code: "loaderUnavailable", message: `the native loader runs on Linux; this is ${process.platform}` };
  const root = packageRoot();
  const packaged = join(root, "native", "build", "sbc-loader");
  const hash = loaderSourceHash(root);
  if (hash === undefined) {
    // No sources to build from or to check against: only a binary the package ships can serve.
    if (existsSync(packaged)) return { ok: true, path: packaged, where: "package" };
    return { ok: false, code: "loaderUnavailable", message: "the native loader is not built and its sources (native/loader/) are missing, so it cannot be built" };
  }
  if (upToDate(packaged, hash)) return { ok: true, path: packaged, where: "package" };

  const cache = loaderCacheDir(hash, env);
  const cached = cache && join(cache, "sbc-loader");
  const refuse = (dir: string, why: string): LoaderLookup => ({
    ok: false,
    code: "loaderUnsafeDir",
    message: `the loader directory \`${dir}\` is not safe: ${why}; no loader is run from it`,
    help: "the loader is the sandbox, so sbc runs only one that nobody else can replace: fix the directory's owner or mode (`chmod go-w`), or set XDG_CACHE_HOME to a directory of your own",
  });
  if (cache && cached && existsSync(cache)) {
    const why = unsafeLoaderDir(cache) ?? (existsSync(cached) ? unsafeBinary(cached) : undefined);
    if (why) return refuse(cache, why);
    if (upToDate(cached, hash)) return { ok: true, path: cached, where: "cache" };
  }
  const buildHelp = `or build it by hand: \`node ${join(root, "scripts", "build-native.mjs")}\``;
  if (!options.build) return { ok: false, code: "loaderUnavailable", message: "the native loader is not built", help: `\`sbc exec\` and \`sbc doctor\` build it on first use; ${buildHelp}` };

  // Into the package when it is the user's own: bin/sbc's fast path looks there only.
  const native = join(root, "native");
  const packageSafe = unsafeLoaderDir(native) === undefined && (!existsSync(dirname(packaged)) || unsafeLoaderDir(dirname(packaged)) === undefined);
  let result: BuildResult | undefined;
  let where: "package" | "cache" = "package";
  if (packageSafe) {
    result = runBuild(root, dirname(packaged));
    // A package on a read-only file system: the cache may still do.
    if (!result.ok && result.kind === "other" && cache) result = undefined;
  }
  if (result === undefined) {
    if (!cache) {
      return {
        ok: false,
        code: "loaderNoPlace",
        message: `the native loader is not built, and there is nowhere safe to build it: the package directory \`${native}\` is not yours alone and neither XDG_CACHE_HOME nor HOME is set`,
        help: `set HOME or XDG_CACHE_HOME, ${buildHelp}`,
      };
    }
    where = "cache";
    try {
      mkdirSync(cache, { recursive: true, mode: 0o700 });
    } catch (e) {
      return { ok: false, code: "loaderBuildFailed", message: `cannot create the loader directory \`${cache}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    const why = unsafeLoaderDir(cache);
    if (why) return refuse(cache, why);
    result = runBuild(root, cache);
  }
  if (!result.ok) {
    if (result.kind === "no-compiler") {
      return {
        ok: false,
        code: "loaderNoCompiler",
        message: `the native loader is not built, and cannot be built here: ${result.reason}`,
        help: `install a C compiler (Debian/Ubuntu \`apt-get install gcc\`, Fedora \`dnf install gcc\`) or set SBC_CC, and run again; ${buildHelp}`,
      };
    }
    return { ok: false, code: "loaderBuildFailed", message: `building the native loader failed: ${result.reason.split("\n")[0]}`, help: `to see the whole error, build it by hand: \`node ${join(root, "scripts", "build-native.mjs")}\`` };
  }
  const path = result.path;
  if (where === "cache") {
    const why = unsafeBinary(path);
    if (why) return refuse(dirname(path), `the loader in it: ${why}`);
  }
  // Not built by this call: another `sbc exec` built it at the same time (the script found it current).
  if (!result.built) return { ok: true, path, where };
  const notice = `built the native loader for \`sbc exec\` into ${dirname(path)} (first use)${where === "cache" ? "; runs start through Node, as the fast path of bin/sbc looks in the package only" : ""}`;
  return { ok: true, path, where, notice };
}

/** A failed lookup as the diagnostic `exec` prints (its code from the catalog), ending with `consequence`. */
export function loaderDiagnostic(failed: Extract<LoaderLookup, { ok: false }>, consequence: string): Diagnostic {
  return diag(failed.code, `${failed.message}; ${consequence}`, failed.help !== undefined ? { help: failed.help } : {});
}
