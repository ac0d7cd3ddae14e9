#!/usr/bin/env node
// Entry point of the `sbc` command (bin/sbc execs it; bin/sbc.js runs the same). It runs the CLI from
// dist/sbc.cjs, the whole CLI in one file, compiled with V8's code cache that `npm run build` wrote beside it,
// which starts far faster than ~50 ES modules. Any doubt falls back to the ES modules in dist/, silently.
"use strict";
const { readFileSync, statSync } = require("node:fs");
const { join } = require("node:path");

const DIST = join(__dirname, "..", "dist");
const MAIN = join(DIST, "cli", "main.js");
const BUNDLE = join(DIST, "sbc.cjs");
/**
 * The V8 flags bin/sbc runs Node with (why: see there; tests/startup.test.ts keeps the two the same). V8 takes
 * a code cache only under the flags it was made with, so the build makes one for these flags and one for
 * plain `node bin/sbc.js`.
 */
const V8_FLAGS = ["--max-opt=2"];
/** The code cache for a Node started with `execArgv`. */
function cacheFile(execArgv) {
  return V8_FLAGS.every((f) => execArgv.includes(f)) ? `${BUNDLE}.max-opt-2.cache` : `${BUNDLE}.cache`;
}
const CACHE = cacheFile(process.execArgv);

/** SBC_DEBUG_STARTUP=1: say which code runs and whether the code cache was taken (tests, bench:startup). */
function trace(message) {
  if (process.env.SBC_DEBUG_STARTUP) process.stderr.write(`sbc: startup: ${message}\n`);
}

/**
 * The bundle, compiled (with its code cache when that is this bundle's and V8 takes it) and evaluated, or why
 * not. The bundle is not used when the ES modules in dist/ are newer (a `tsc` run without `npm run build`).
 */
function loadBundle(writeCache) {
  if (process.env.SBC_NO_BUNDLE) return { why: "SBC_NO_BUNDLE is set" };
  let text;
  try {
    const main = statSync(MAIN, { throwIfNoEntry: false });
    if (main && main.mtimeMs > statSync(BUNDLE).mtimeMs) return { why: "dist/sbc.cjs is older than dist/cli/main.js" };
    text = readFileSync(BUNDLE, "utf8");
  } catch {
    return { why: "no dist/sbc.cjs" };
  }
  // The first line names the bundle's content; the cache file starts with the name it was made for. V8 checks
  // its own version and flags, but of the source only its length: the name is what rules out another bundle.
  const id = /^\/\/ sbc bundle ([0-9a-f]+);/.exec(text)?.[1];
  let cachedData;
  let cache = "absent";
  if (!id) cache = "not used (the bundle has no id line)";
  else if (!writeCache) {
    try {
      const bytes = readFileSync(CACHE);
      const nl = bytes.indexOf(10);
      if (nl > 0 && bytes.toString("latin1", 0, nl) === id) cachedData = bytes.subarray(nl + 1);
      else cache = "stale (made for another bundle)";
    } catch {
      // absent
    }
  }
  try {
    const vm = require("node:vm");
    const { createRequire, wrap } = require("node:module");
    const script = new vm.Script(wrap(text), { filename: BUNDLE, ...(cachedData ? { cachedData } : {}) });
    if (cachedData) cache = script.cachedDataRejected ? "rejected by V8" : "accepted";
    const module = { exports: {} };
    script.runInThisContext().call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, DIST);
    if (typeof module.exports.main !== "function") return { why: "dist/sbc.cjs exports no main" };
    return { main: module.exports.main, cache, script, id };
  } catch (e) {
    return { why: `dist/sbc.cjs does not load (${e && e.message})` };
  }
}

/** Run the CLI on `argv` (process.argv's shape) and return its exit code. */
async function run(argv) {
  if (argv[2] === "--build-code-cache" && process.env.SBC_WRITE_CODE_CACHE) return buildCodeCache(process.env.SBC_WRITE_CODE_CACHE);
  const b = loadBundle(false);
  if (b.main) {
    trace(`dist/sbc.cjs, code cache ${b.cache}`);
    return b.main(argv);
  }
  trace(`dist/cli/main.js (${b.why})`);
  let cli;
  try {
    statSync(MAIN);
    cli = await import(require("node:url").pathToFileURL(MAIN).href);
  } catch (e) {
    if (e && e.code !== "ENOENT") throw e;
    process.stderr.write("sbc: the compiler is not built; run `npm run build` in the sbc package\n");
    return 2;
  }
  return cli.main(argv);
}

/**
 * For scripts/build-bundle.mjs: run the common commands once in this process, so that V8 has compiled the
 * functions they need, then write the code cache (the bundle's id line, then V8's data). Output is the
 * caller's to discard.
 */
async function buildCodeCache(file) {
  const b = loadBundle(true);
  if (!b.main) throw new Error(`cannot make the code cache: ${b.why}`);
  const runs = [
    ["--version"],
    ["check", "--preset", "workspace-write", "--preset", "read-only"],
    ["check", join(DIST, "..", "presets", "workspace-write.yaml")],
    ["compile", "--preset", "workspace-write", "-t", "seccomp"],
    ["compile", "--preset", "workspace-write", "-t", "landlock"],
    ["compile", "--preset", "read-only", "-t", "ir"],
  ];
  for (const args of runs) {
    const code = await b.main([process.argv[0], "sbc", ...args]);
    if (code !== 0) throw new Error(`sbc ${args.join(" ")} exited ${code} while making the code cache`);
  }
  process.exitCode = 0;
  require("node:fs").writeFileSync(file, Buffer.concat([Buffer.from(`${b.id}\n`, "latin1"), b.script.createCachedData()]));
  return 0;
}

module.exports = { run, V8_FLAGS, cacheFile };

/**
 * End the process once the CLI is done: at once when nothing is left to write, which skips tearing down the
 * heap and the environment (about 50 ms of a cold `sbc check` on a busy 2-CPU machine; docs/benchmarks.md,
 * "startup"). Output still queued (a pipe whose reader is slower than sbc: writes that would block are queued
 * even on Linux) is left to Node, which ends the process once it is written.
 */
function exitWith(code) {
  process.exitCode = code;
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
}

module.exports.exitWith = exitWith;

if (require.main === module) run(process.argv).then(exitWith);
