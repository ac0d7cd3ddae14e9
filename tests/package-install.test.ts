// The package as people install it: `npm pack`, then an install of the tarball with `--ignore-scripts` into an
// empty project (as pnpm 10 and Bun do by default: no install script builds the loader), and `compile`,
// `check` and `exec` run from there. `exec` builds the loader on first use, into the package when it is the
// user's own, else into the per-user cache, and refuses a cache directory others can write.
// Packed once per file with --ignore-scripts (the build `prepare` would run is the one `npm test` just did);
// the install is offline (`npm ci --offline`, from npm's cache, with a lockfile pinning the dependencies as the
// repository does): without them in the cache it skips with a printed reason, unless SBC_REQUIRE_PACK=1.

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { loaderCacheDir, loaderSourceHash } from "../lib/loader.js";
import { childEnv, ensureBuilt, REPO } from "./support/cli.js";
import { describeLoader } from "./support/loader.js";

type Setup = { ok: true; tarball: string; files: string[]; project: string; pkg: string } | { ok: false; reason: string };

const work = mkdtempSync(join(tmpdir(), "sbc-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let setup: Setup = { ok: false, reason: "not set up" };
let warned = false;
const cacheRoot = join(work, "cache");

function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: options.cwd ?? work, env: childEnv(options.env), encoding: "utf8", timeout: 120_000 });
}

const firstLines = (r: SpawnSyncReturns<string>) => `${r.error?.message ?? ""}${r.stderr}${r.stdout}`.trim().split("\n").slice(0, 3).join(" / ");

/**
 * The project's lockfile: the tarball, and sbc's dependencies pinned as the repository's lockfile pins them. With
 * it, an offline install needs only the packages' tarballs in npm's cache, which `npm ci` of a fresh clone puts
 * there; without it npm would also need the registry's metadata, which `npm ci` does not cache.
 */
function projectLock(spec: string): unknown {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; link?: boolean }> };
  const packages: Record<string, unknown> = {
    "": { name: "sbc-user", version: "1.0.0", dependencies: { sbc: spec } },
    "node_modules/sbc": { version: pkg.version, resolved: spec, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path.startsWith("node_modules/") && !entry.dev && !entry.link) packages[path] = entry;
  return { name: "sbc-user", version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

beforeAll(() => {
  ensureBuilt();
  const packed = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: REPO });
  if (packed.status !== 0) {
    setup = { ok: false, reason: `npm pack failed: ${firstLines(packed)}` };
    return;
  }
  const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  const files = run("tar", ["tzf", tarball]).stdout.split("\n").filter(Boolean);
  const project = join(work, "project");
  mkdirSync(project);
  const spec = `file:../${tarball.slice(work.length + 1)}`;
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "sbc-user", version: "1.0.0", private: true, dependencies: { sbc: spec } }));
  writeFileSync(join(project, "package-lock.json"), JSON.stringify(projectLock(spec)));
  const installed = run("npm", ["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: project });
  if (installed.status !== 0) {
    setup = { ok: false, reason: `npm ci --offline of the tarball failed (are the dependencies in npm's cache?): ${firstLines(installed)}` };
    return;
  }
  setup = { ok: true, tarball, files, project, pkg: join(project, "node_modules", "sbc") };
}, 180_000);

/** The installed package, or a skip with the reason (a failure under SBC_REQUIRE_PACK=1). */
function need(ctx: TestContext): Extract<Setup, { ok: true }> {
  if (setup.ok) return setup;
  if (process.env.SBC_REQUIRE_PACK === "1") throw new Error(`SBC_REQUIRE_PACK=1 but the package cannot be packed and installed: ${setup.reason}`);
  if (!warned) console.warn(`package install tests skipped: ${setup.reason} (set SBC_REQUIRE_PACK=1 to make this a failure)`);
  warned = true;
  ctx.skip();
  throw new Error("unreachable");
}

/** `npx sbc …` in the project, as a user of the package runs it. */
function npxSbc(s: Extract<Setup, { ok: true }>, args: readonly string[], env: Record<string, string | undefined> = {}): SpawnSyncReturns<string> {
  return run("npx", ["--no-install", "sbc", ...args], { cwd: s.project, env });
}

/** `node_modules/.bin/sbc …`: what npx runs, without npx's own second of start-up (exec runs many times here). */
function binSbc(s: Extract<Setup, { ok: true }>, args: readonly string[], env: Record<string, string | undefined> = {}): SpawnSyncReturns<string> {
  return run(join(s.project, "node_modules", ".bin", "sbc"), args, { cwd: s.project, env });
}

describe("the packed package", () => {
  it("holds the license, the built CLI and bundle, the precompiled plans and the loader's sources, and no tests", (ctx) => {
    const s = need(ctx);
    for (const f of ["LICENSE", "bin/sbc", "bin/sbc.cjs", "dist/sbc.cjs", "dist/build-id", "dist/lib/index.js", "dist/lib/index.d.ts", "dist/lib/loader.js", "dist/plans/read-only.x86_64.plan", "native/loader/main.c", "scripts/build-native.mjs", "presets/read-only.yaml", "schema/policy.schema.json"]) {
      expect(s.files, f).toContain(`package/${f}`);
    }
    expect(s.files.filter((f) => /\.test\.|^package\/tests\/|^package\/native\/build\//.test(f))).toEqual([]);
    expect(readFileSync(join(s.pkg, "LICENSE"), "utf8")).toBe(readFileSync(join(REPO, "LICENSE"), "utf8"));
    expect(readFileSync(join(s.pkg, "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it("was installed without building the loader (no install script ran)", (ctx) => {
    const s = need(ctx);
    expect(existsSync(join(s.pkg, "native", "loader", "main.c"))).toBe(true);
    expect(existsSync(join(s.pkg, "native", "build", "sbc-loader"))).toBe(false);
  });

  it("compiles a preset with `npx sbc compile`, byte for byte as the repository's CLI", (ctx) => {
    const s = need(ctx);
    const r = npxSbc(s, ["compile", "--preset", "workspace-write", "-t", "landlock"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ policy: "workspace-write" });
    const here = run(process.execPath, [join(REPO, "bin", "sbc.js"), "compile", "--preset", "workspace-write", "-t", "landlock"], { cwd: s.project });
    expect(r.stdout).toBe(here.stdout);
  });

  it("checks a copy of a preset with `npx sbc check`, and finds the error in a broken copy", (ctx) => {
    const s = need(ctx);
    const text = readFileSync(join(s.pkg, "presets", "workspace-write.yaml"), "utf8");
    writeFileSync(join(s.project, "policy.yaml"), text);
    const ok = npxSbc(s, ["check", "policy.yaml"]);
    expect(ok.stdout + ok.stderr).toMatch(/^0 errors/m);
    expect(ok.status).toBe(0);
    writeFileSync(join(s.project, "broken.yaml"), text.replace(/^sbc: 1$/m, "sbc: 1\nfilesystem-typo: []"));
    const bad = npxSbc(s, ["check", "broken.yaml"]);
    expect(bad.status).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(/error\[SBC0201\]: unknown key `filesystem-typo`.*\n\s*--> broken\.yaml:\d+:\d+/);
  });
});

// Refusals come before anything is compiled or probed: they need no Landlock, so they run wherever the package
// installs. They run before the test that builds the loader into the package, which would then be used.
describe("sbc exec from the installed package refuses rather than run unsandboxed", () => {
  it("refuses a loader cache directory, or a directory above it, that others can write: nothing runs", (ctx) => {
    const s = need(ctx);
    const native = join(s.pkg, "native");
    chmodSync(native, 0o775); // not the user's alone: the cache is the only place left
    const env = { XDG_CACHE_HOME: join(cacheRoot, "open") };
    const leaf = loaderCacheDir(loaderSourceHash(REPO)!, env)!;
    const loaderDir = join(leaf, "..");
    mkdirSync(leaf, { recursive: true, mode: 0o700 });
    try {
      chmodSync(leaf, 0o777);
      const r = binSbc(s, ["exec", "--preset", "read-only", "--", "echo", "ran"], env);
      expect(r.stdout).toBe("");
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/SBC1362.*is not safe: it is writable by others; no loader is run from it/);
      expect(readdirSync(leaf)).toEqual([]); // nothing was built into it either

      chmodSync(leaf, 0o700);
      chmodSync(loaderDir, 0o777);
      const above = binSbc(s, ["exec", "--preset", "read-only", "--", "echo", "ran"], env);
      expect(above.stdout).toBe("");
      expect(above.status).toBe(125);
      expect(above.stderr).toContain(`SBC1362`);
      expect(above.stderr).toContain(`\`${loaderDir}\` above it is writable by others`);
      expect(readdirSync(leaf)).toEqual([]);
    } finally {
      chmodSync(loaderDir, 0o700);
      chmodSync(native, 0o755);
    }
  }, 60_000);

  it("without a working C compiler: SBC1360 saying what to install and how to build by hand (SBC1361 when it fails), exit 125, nothing runs", (ctx) => {
    const s = need(ctx);
    const native = join(s.pkg, "native");
    chmodSync(native, 0o775);
    try {
      // A PATH with node and nothing else: no cc, gcc or clang.
      const bin = join(work, "node-only");
      mkdirSync(bin, { recursive: true });
      if (!existsSync(join(bin, "node"))) symlinkSync(process.execPath, join(bin, "node"));
      const r = run(process.execPath, [join(s.pkg, "bin", "sbc.js"), "exec", "--preset", "read-only", "--", "/bin/echo", "ran"], { cwd: s.project, env: { PATH: bin, XDG_CACHE_HOME: join(cacheRoot, "b") } });
      expect(r.stdout).toBe("");
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/SBC1360.*no C compiler \(`cc`, `gcc` or `clang`\) on PATH/);
      expect(r.stderr).toContain("apt-get install gcc");
      expect(r.stderr).toContain(`node ${join(s.pkg, "scripts", "build-native.mjs")}`);
      const viaEnv = binSbc(s, ["exec", "--preset", "read-only", "--", "echo", "ran"], { SBC_CC: "/nonexistent/cc", XDG_CACHE_HOME: join(cacheRoot, "c") });
      expect(viaEnv.status).toBe(125);
      expect(viaEnv.stderr).toMatch(/SBC1360.*SBC_CC=`\/nonexistent\/cc` is not executable/);
      // A compiler that fails: SBC1361 with its first line, and nothing left behind to run.
      const broken = join(work, "broken-cc");
      writeFileSync(broken, "#!/bin/sh\necho 'cc: fatal error: out of cheese' >&2\nexit 1\n", { mode: 0o755 });
      const failed = binSbc(s, ["exec", "--preset", "read-only", "--", "echo", "ran"], { SBC_CC: broken, XDG_CACHE_HOME: join(cacheRoot, "c") });
      expect(failed.stdout).toBe("");
      expect(failed.status).toBe(125);
      expect(failed.stderr).toMatch(/SBC1361.*building the native loader failed: .*out of cheese/);
      expect(readdirSync(loaderCacheDir(loaderSourceHash(REPO)!, { XDG_CACHE_HOME: join(cacheRoot, "c") })!)).toEqual([]);
      // doctor says the same, as a problem (exit 1)
      const doctor = run(process.execPath, [join(s.pkg, "bin", "sbc.js"), "doctor"], { cwd: s.project, env: { PATH: bin, XDG_CACHE_HOME: join(cacheRoot, "b") } });
      expect(doctor.status).toBe(1);
      expect(doctor.stdout).toMatch(/! SBC1360: /);
    } finally {
      chmodSync(native, 0o755);
    }
  }, 60_000);
});

describeLoader("sbc exec from the installed package, without install scripts", () => {
  // A command that says it ran, then tries to change the workspace: the read-only preset must stop the write.
  const probe = ["exec", "--preset", "read-only", "--", "sh", "-c", "echo ran; echo x > written"];
  const startedNode = (r: SpawnSyncReturns<string>) => r.stderr.includes("sbc: startup:");

  it("with the package writable by others: builds the loader into the user's cache, says so once, and runs sandboxed", (ctx) => {
    const s = need(ctx);
    const native = join(s.pkg, "native");
    chmodSync(native, 0o775);
    try {
      const env = { XDG_CACHE_HOME: join(cacheRoot, "a"), SBC_DEBUG_STARTUP: "1" };
      const first = binSbc(s, probe, env);
      expect(first.stdout).toBe("ran\n");
      expect(first.status).not.toBe(0); // the write was refused
      expect(existsSync(join(s.project, "written"))).toBe(false);
      const notice = first.stderr.split("\n").filter((l) => l.includes("built the native loader"));
      expect(notice).toHaveLength(1);
      expect(notice[0]).toContain(`into ${join(cacheRoot, "a", "sbc", "loader")}/`);
      expect(existsSync(join(native, "build"))).toBe(false);
      const cached = notice[0]!.replace(/.* into (\S+) .*/, "$1");
      expect(statSync(cached).mode & 0o777).toBe(0o700);

      const again = binSbc(s, [...probe.slice(0, 4), "true"], env);
      expect(again.stderr).not.toContain("built the native loader");
      expect(again.status).toBe(0);
      // bin/sbc's fast path looks for the loader in the package only: this run went through Node.
      expect(startedNode(again)).toBe(true);
    } finally {
      chmodSync(native, 0o755);
    }
  }, 120_000);


  it("with the package the user's own: builds into the package, so bin/sbc's fast path starts later runs without Node", (ctx) => {
    const s = need(ctx);
    const env = { XDG_CACHE_HOME: join(cacheRoot, "d"), SBC_DEBUG_STARTUP: "1" };
    const first = binSbc(s, probe, env);
    expect(first.stdout).toBe("ran\n");
    expect(first.status).not.toBe(0);
    expect(first.stderr).toContain(`built the native loader for \`sbc exec\` into ${join(s.pkg, "native", "build")} `);
    expect(existsSync(join(s.pkg, "native", "build", "sbc-loader"))).toBe(true);
    expect(existsSync(join(cacheRoot, "d", "sbc", "loader"))).toBe(false);
    // The first run through Node stored the plan; the next finds loader and plan without Node.
    const second = binSbc(s, [...probe.slice(0, 4), "true"], env);
    expect(second.stderr).not.toContain("built the native loader");
    expect(second.status).toBe(0);
    const third = binSbc(s, [...probe.slice(0, 4), "true"], env);
    expect(third.status).toBe(0);
    expect(startedNode(third)).toBe(false);
  }, 120_000);
});
