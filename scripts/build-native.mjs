// Builds the Linux loader that `sbc exec` runs (native/loader/*.c → native/build/sbc-loader). It runs from
// npm's `install` lifecycle, so it must never fail an install: without Linux or a C compiler, or when the
// build fails, it prints one line saying why `sbc exec` will not be available and exits 0. A hash of the
// sources (every file in native/loader/, names included) and flags is kept beside the binary, and the binary
// is rebuilt only when that changes.
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
const CFLAGS = ["-O2", "-Wall", "-Werror"];

/** The C compiler: `SBC_CC` if set (a path or a name), else `cc` or `gcc` on PATH. */
function findCompiler() {
  const wanted = process.env.SBC_CC;
  const names = wanted ? [wanted] : ["cc", "gcc"];
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
function removeStale() {
  rmSync(BINARY, { force: true });
  rmSync(HASH_FILE, { force: true });
}

/**
 * Build the loader unless an up-to-date one is already there.
 * @returns {{ ok: true, path: string, built: boolean } | { ok: false, reason: string }}
 */
export function buildLoader() {
  if (process.platform !== "linux") return { ok: false, reason: `the loader needs Linux, this is ${process.platform}` };
  let sources;
  try {
    // Sorted, so the hash does not depend on the directory's order; headers count, only .c files are compiled.
    const names = readdirSync(SOURCE_DIR).filter((n) => n.endsWith(".c") || n.endsWith(".h")).sort();
    sources = names.map((name) => ({ name, path: join(SOURCE_DIR, name), text: readFileSync(join(SOURCE_DIR, name)) }));
  } catch (e) {
    return { ok: false, reason: `cannot read ${relative(REPO, SOURCE_DIR)}: ${e.message}` };
  }
  if (!sources.some((s) => s.name === "main.c")) return { ok: false, reason: `${relative(REPO, SOURCE_DIR)} has no main.c` };
  // Compiler-independent on purpose: a prebuilt, current binary is used even where no compiler is installed.
  const digest = createHash("sha256");
  for (const s of sources) digest.update(`${s.name}\0${s.text.length}\0`).update(s.text);
  const hash = digest.update(`\0${CFLAGS.join(" ")}`).digest("hex");
  if (existsSync(BINARY) && readText(HASH_FILE)?.trim() === hash) return { ok: true, path: BINARY, built: false };

  const cc = findCompiler();
  if (cc === undefined) {
    removeStale();
    const wanted = process.env.SBC_CC;
    return { ok: false, reason: wanted ? `SBC_CC=\`${wanted}\` is not executable` : "no C compiler (`cc` or `gcc`) on PATH" };
  }
  try {
    mkdirSync(OUT_DIR, { recursive: true });
  } catch (e) {
    return { ok: false, reason: `cannot create ${relative(REPO, OUT_DIR)}: ${e.message}` };
  }
  // Build under a unique name and rename: parallel test workers may build at the same time.
  const partial = `${BINARY}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  const units = sources.filter((s) => s.name.endsWith(".c")).map((s) => s.path);
  const r = spawnSync(cc, [...CFLAGS, "-o", partial, ...units], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    removeStale();
    const detail = (r.error?.message ?? `${r.stderr}${r.stdout}`).trim() || `exit status ${r.status ?? r.signal}`;
    return { ok: false, reason: `\`${cc} ${CFLAGS.join(" ")}\` failed on ${relative(REPO, SOURCE_DIR)}/*.c: ${detail}` };
  }
  try {
    renameSync(partial, BINARY);
    writeFileSync(HASH_FILE, `${hash}\n`);
  } catch (e) {
    rmSync(partial, { force: true });
    return { ok: false, reason: `cannot install ${relative(REPO, BINARY)}: ${e.message}` };
  }
  return { ok: true, path: BINARY, built: true };
}

function main() {
  let result;
  try {
    result = buildLoader();
  } catch (e) {
    result = { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  if (result.ok) {
    if (result.built) console.log(`sbc: built ${relative(REPO, result.path)}`);
  } else {
    // One line, whatever the compiler printed: an install log is no place for a page of errors.
    const reason = result.reason.split("\n")[0];
    console.log(`sbc: \`sbc exec\` will not be available: ${reason}`);
  }
  process.exitCode = 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
