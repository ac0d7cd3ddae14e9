// Builds the Linux loader that `sbc exec` runs (native/loader/*.c → native/build/sbc-loader). It runs from
// npm's `install` lifecycle, so it must never fail an install: without Linux or a C compiler, or when the
// build fails, it prints one line saying why the loader was not built and exits 0 (`sbc exec` tries again on
// first use). A hash of the
// sources (every file in native/loader/, names included) and flags is kept beside the binary, and the binary
// is rebuilt only when that changes.
//
// Where install scripts do not run (`--ignore-scripts`, pnpm 10, Bun), `sbc exec` builds the loader on first
// use through this same script (lib/loader.ts): `--out DIR` builds into DIR instead of native/build, and
// `--json` prints the result as one JSON object and exits 1 when no loader could be had.
//
// Plain Node ESM without dependencies: it runs before anything else of the package is built or installed.
// `buildLoader()` is exported for the tests (tests/support/loader.ts), which build the same way.

import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_DIR = join(REPO, "native", "loader");
const OUT_DIR = join(REPO, "native", "build");
const BINARY = join(OUT_DIR, "sbc-loader");
const HASH_FILE = `${BINARY}.sha256`;
// No -Werror: this build runs on users' machines, on first use too, and a compiler newer than ours may warn
// where ours does not; a warning must not take `sbc exec` away. tests/loader-cache.test.ts keeps the sources
// free of warnings (-Wall -Wextra -Werror) with the compiler CI has.
const CFLAGS = ["-O2", "-Wall", "-pthread"];

/** The C compiler: `SBC_CC` if set (a path or a name), else `cc`, `gcc` or `clang` on PATH. */
function findCompiler() {
  const wanted = process.env.SBC_CC;
  const names = wanted ? [wanted] : ["cc", "gcc", "clang"];
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const name of names) {
    for (const candidate of name.includes("/") ? [name] : dirs.map((d) => join(d, name))) {
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}

function readText(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * A binary built from another source may speak another plan format: when it cannot be rebuilt, it goes, so that
 * `sbc exec` says the loader is missing instead of running an old one. (Only on failure: while a build runs, the
 * old binary stays until the new one is renamed over it, as parallel builders may be reading it.)
 */
function removeStale(binary, hashFile) {
  rmSync(binary, { force: true });
  rmSync(hashFile, { force: true });
}

/**
 * Build the loader into `outDir` (default native/build) unless an up-to-date one is already there. `kind` says
 * why it failed: `no-compiler`, `compile` (the compiler failed), or `other`.
 * @param {string} [outDir]
 * @returns {{ ok: true, path: string, built: boolean } | { ok: false, kind: "no-compiler" | "compile" | "other", reason: string }}
 */
export function buildLoader(outDir = OUT_DIR) {
  const binary = join(outDir, "sbc-loader");
  const hashFile = `${binary}.sha256`;
  if (process.platform !== "linux") return { ok: false, kind: "other", reason: `the loader needs Linux, this is ${process.platform}` };
  let sources;
  try {
    // Sorted, so the hash does not depend on the directory's order; headers count, only .c files are compiled.
    const names = readdirSync(SOURCE_DIR).filter((n) => n.endsWith(".c") || n.endsWith(".h")).sort();
    sources = names.map((name) => ({ name, path: join(SOURCE_DIR, name), text: readFileSync(join(SOURCE_DIR, name)) }));
  } catch (e) {
    return { ok: false, kind: "other", reason: `cannot read ${relative(REPO, SOURCE_DIR)}: ${e.message}` };
  }
  if (!sources.some((s) => s.name === "main.c")) return { ok: false, kind: "other", reason: `${relative(REPO, SOURCE_DIR)} has no main.c` };
  // Compiler-independent on purpose: a prebuilt, current binary is used even where no compiler is installed.
  const digest = createHash("sha256");
  for (const s of sources) digest.update(`${s.name}\0${s.text.length}\0`).update(s.text);
  const hash = digest.update(`\0${CFLAGS.join(" ")}`).digest("hex");
  if (existsSync(binary) && readText(hashFile)?.trim() === hash) return { ok: true, path: binary, built: false };

  const cc = findCompiler();
  if (cc === undefined) {
    removeStale(binary, hashFile);
    const wanted = process.env.SBC_CC;
    return { ok: false, kind: "no-compiler", reason: wanted ? `SBC_CC=\`${wanted}\` is not executable` : "no C compiler (`cc`, `gcc` or `clang`) on PATH" };
  }
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    return { ok: false, kind: "other", reason: `cannot create ${outDir}: ${e.message}` };
  }
  // Build under a unique name and rename: parallel test workers may build at the same time.
  const partial = `${binary}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  const units = sources.filter((s) => s.name.endsWith(".c")).map((s) => s.path);
  const r = spawnSync(cc, [...CFLAGS, "-o", partial, ...units], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    removeStale(binary, hashFile);
    const detail = (r.error?.message ?? `${r.stderr}${r.stdout}`).trim() || `exit status ${r.status ?? r.signal}`;
    return { ok: false, kind: "compile", reason: `\`${cc} ${CFLAGS.join(" ")}\` failed on ${relative(REPO, SOURCE_DIR)}/*.c: ${detail}` };
  }
  try {
    renameSync(partial, binary);
    writeFileSync(hashFile, `${hash}\n`);
  } catch (e) {
    rmSync(partial, { force: true });
    return { ok: false, kind: "other", reason: `cannot install ${binary}: ${e.message}` };
  }
  return { ok: true, path: binary, built: true };
}

function main() {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const at = args.indexOf("--out");
  const out = at >= 0 ? args[at + 1] : undefined;
  if (at >= 0 && !out) {
    console.error("sbc: build-native.mjs: `--out` needs a directory");
    process.exitCode = 2;
    return;
  }
  let result;
  try {
    result = buildLoader(out ?? OUT_DIR);
  } catch (e) {
    result = { ok: false, kind: "other", reason: e instanceof Error ? e.message : String(e) };
  }
  if (json) {
    console.log(JSON.stringify(result));
    process.exitCode = result.ok ? 0 : 1;
    return;
  }
  if (result.ok) {
    if (result.built) console.log(`sbc: built ${relative(REPO, result.path)}`);
  } else {
    // One line, whatever the compiler printed: an install log is no place for a page of errors.
    const reason = result.reason.split("\n")[0];
    console.log(`sbc: the loader \`sbc exec\` needs was not built (\`sbc exec\` tries again on first use): ${reason}`);
  }
  process.exitCode = 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
