// Start-up stays light: `sbc --version` and `sbc --help` must not load the compiler (the YAML parser, the
// schema validator, the passes). cli/main.ts imports each command's implementation with `import()`
// when that command runs; these tests keep it that way, statically (the static import graph of the built
// CLI) and at run time (the modules Node actually loads), and catch pathological start-up regressions. The
// `sbc` command runs the one-file bundle dist/sbc.cjs with its code cache (bin/sbc.cjs); the last block checks
// that it does, that it prints what the ES modules print, and that every kind of stale or foreign bundle or
// cache falls back silently.

import { copyFileSync, cpSync, existsSync, readFileSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, CLI_MAIN, ensureBuilt, REPO, sbc } from "./support/cli.js";
import { tempDir } from "./support/tmp.js";

const DIST = join(REPO, "dist");

/**
 * Specifiers of the static imports and re-exports of an ES module: `import … from "x"`, `import "x"`,
 * `export … from "x"`. Dynamic `import("x")` is not followed: it runs only when its command does.
 */
function staticImports(code: string): string[] {
  const withoutComments = code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const re = /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?["']([^"']+)["']/gm;
  return [...withoutComments.matchAll(re)].map((m) => m[1]!);
}

interface Graph {
  /** Absolute paths of the project's modules reached. */
  readonly files: Set<string>;
  /** Package names (and `node:` builtins) imported by them. */
  readonly packages: Set<string>;
}

function packageName(spec: string): string {
  if (spec.startsWith("node:")) return spec;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Follow the static import graph from `entry`, resolving relative specifiers to files. */
function staticGraph(entry: string): Graph {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of staticImports(readFileSync(file, "utf8"))) {
      if (spec.startsWith("./") || spec.startsWith("../")) {
        const target = resolve(dirname(file), spec);
        if (!existsSync(target)) throw new Error(`${relative(REPO, file)} imports ${spec}, which does not exist`);
        todo.push(target);
      } else packages.add(packageName(spec));
    }
  }
  return { files, packages };
}

const inDist = (g: Graph, dir: string) => [...g.files].filter((f) => f.startsWith(join(DIST, dir) + "/")).map((f) => relative(REPO, f));

beforeAll(() => ensureBuilt(), 180_000);

describe("the static import graph of the CLI", () => {
  it("the import scanner sees static imports and re-exports, and skips dynamic ones", () => {
    const code = [
      'import { a } from "./a.js";',
      "import b, {",
      "  c,",
      '} from "../b.js";',
      'import "side-effect";',
      "import * as ns from 'yaml';",
      'export { d } from "./d.js";',
      'export * from "@scope/pkg/sub";',
      'const later = await import("./later.js");',
      '// import { x } from "./commented.js";',
      'const s = "import x from \'./in-a-string-mid-line.js\'";',
    ].join("\n");
    expect(staticImports(code)).toEqual(["./a.js", "../b.js", "side-effect", "yaml", "./d.js", "@scope/pkg/sub"]);
  });

  it("from dist/cli/main.js reaches neither yaml nor ajv nor the passes", () => {
    const g = staticGraph(CLI_MAIN);
    expect([...g.packages]).not.toContain("yaml");
    expect([...g.packages]).not.toContain("ajv");
    expect(inDist(g, "compiler/passes")).toEqual([]);
    expect(inDist(g, "language")).toEqual([]);
    expect(inDist(g, "ir/evaluator")).toEqual([]);
    // It does reach what it needs to parse a command line.
    expect([...g.packages]).toContain("commander");
  });

  it("the commands themselves do reach the compiler (so the check above can fail)", () => {
    const g = staticGraph(join(DIST, "cli", "compile-command.js"));
    expect([...g.packages]).toContain("yaml");
    expect(inDist(g, "compiler/passes").length).toBeGreaterThan(0);
  });

  it("bin/sbc.js imports nothing of the compiler statically", () => {
    const g = staticGraph(BIN);
    expect([...g.files].map((f) => relative(REPO, f))).toEqual(["bin/sbc.js"]);
  });
});

describe("what `sbc --version` and `sbc --help` load at run time", () => {
  const hook = join(REPO, "tests", "support", "trace-loads.mjs");

  async function loaded(args: string[]): Promise<string[]> {
    const trace = join(tempDir("sbc-trace-"), "loads.txt");
    // The ES modules of dist/ (the fallback), whose loading an ESM hook can see; the bundle is checked below.
    const r = await sbc(args, { nodeArgs: ["--import", pathToFileURL(hook).href], env: { SBC_TRACE_LOADS: trace, SBC_NO_BUNDLE: "1" } });
    expect(r.code, r.stderr).toBeLessThanOrEqual(2);
    return existsSync(trace) ? readFileSync(trace, "utf8").split("\n").filter(Boolean) : [];
  }

  for (const flag of ["--version", "--help"]) {
    it(`${flag} loads no compiler module`, async () => {
      const urls = await loaded([flag]);
      expect(urls).toContain(pathToFileURL(CLI_MAIN).href);
      const heavy = urls.filter((u) => /\/node_modules\/(yaml|ajv)\//.test(u) || /\/dist\/(compiler\/passes|language|ir)\//.test(u));
      expect(heavy).toEqual([]);
    });
  }

  it("the tracer does see the compiler when a command runs (control)", async () => {
    const urls = await loaded(["compile", "--preset", "read-only", "-t", "ir"]);
    expect(urls.some((u) => u.includes("/dist/compiler/passes/"))).toBe(true);
  });
});

describe("start-up time", () => {
  it("`sbc --version` takes well under a second", async () => {
    // A loose bound, only to catch pathological regressions; the best of three runs rides out noise.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await sbc(["--version"]);
      expect(r.code).toBe(0);
      times.push(r.ms);
    }
    expect(Math.min(...times)).toBeLessThan(1500);
  });
});

describe("the bundle and its code cache (bin/sbc.cjs)", () => {
  const startup = (stderr: string) => stderr.split("\n").find((l) => l.startsWith("sbc: startup: "))?.slice("sbc: startup: ".length);

  it("`sbc` runs dist/sbc.cjs with the code cache made at build time, through bin/sbc and bin/sbc.js", async () => {
    const r = await sbc(["--version"], { env: { SBC_DEBUG_STARTUP: "1" } });
    expect(r.code).toBe(0);
    expect(startup(r.stderr)).toBe("dist/sbc.cjs, code cache accepted");
    const { spawnSync } = await import("node:child_process");
    const viaShell = spawnSync(join(REPO, "bin", "sbc"), ["--version"], { env: { ...process.env, SBC_DEBUG_STARTUP: "1" }, encoding: "utf8" });
    expect(viaShell.status).toBe(0);
    expect(startup(viaShell.stderr)).toBe("dist/sbc.cjs, code cache accepted");
    expect(viaShell.stdout).toBe(r.stdout);
  });

  it("bin/sbc runs Node with the V8 flags bin/sbc.cjs names, and the build made a code cache for them", async () => {
    const { createRequire } = await import("node:module");
    const { V8_FLAGS, cacheFile } = createRequire(import.meta.url)("../bin/sbc.cjs") as { V8_FLAGS: string[]; cacheFile: (a: readonly string[]) => string };
    const script = readFileSync(join(REPO, "bin", "sbc"), "utf8");
    expect(/^node_flags=(\S+)$/m.exec(script)?.[1]).toBe(V8_FLAGS.join(" "));
    expect(V8_FLAGS).toEqual(["--max-opt=2"]);
    // The flags go on both places that start Node: the CLI, and the loader's fallback to it.
    expect(script).toMatch(/^exec node "\$node_flags" "\$root\/bin\/sbc.cjs" "\$@"$/m);
    expect(script).toMatch(/q fallback node\n\s*q fallback "\$node_flags"\n/);
    expect(cacheFile(V8_FLAGS)).not.toBe(cacheFile([]));
    for (const f of [cacheFile(V8_FLAGS), cacheFile([])]) expect(existsSync(f), f).toBe(true);
    // Each cache is taken only under its own flags (V8 checks a hash of them).
    const { spawnSync } = await import("node:child_process");
    const under = (flags: string[]) =>
      startup(spawnSync(process.execPath, [...flags, join(REPO, "bin", "sbc.cjs"), "--version"], { env: { ...process.env, SBC_DEBUG_STARTUP: "1", SBC_NO_BUNDLE: "" }, encoding: "utf8" }).stderr);
    expect(under(V8_FLAGS)).toBe("dist/sbc.cjs, code cache accepted");
    expect(under([])).toBe("dist/sbc.cjs, code cache accepted");
  });

  it("a start loads neither child_process nor perf_hooks unless a command needs them", async () => {
    const { spawnSync } = await import("node:child_process");
    const probe = join(tempDir("sbc-builtins-"), "probe.cjs");
    writeFileSync(
      probe,
      `const before = new Set(process.moduleLoadList);
       require(${JSON.stringify(join(REPO, "bin", "sbc.cjs"))}).run(process.argv).then(() => {
         process.stderr.write("LOADED " + process.moduleLoadList.filter((m) => !before.has(m)).join(",") + "\\n");
       });`,
    );
    for (const args of [["--version"], ["check", "presets/read-only.yaml"], ["compile", "--preset", "read-only", "-t", "seccomp", "-o", join(dirname(probe), "f.bpf")]]) {
      const r = spawnSync(process.execPath, [probe, ...args], { cwd: REPO, env: { ...process.env, SBC_NO_BUNDLE: "" }, encoding: "utf8" });
      const loaded = /^LOADED (.*)$/m.exec(r.stderr)?.[1]?.split(",") ?? [];
      expect(loaded.length, args.join(" ")).toBeGreaterThan(0);
      expect(loaded, args.join(" ")).not.toContain("NativeModule child_process");
      expect(loaded, args.join(" ")).not.toContain("NativeModule perf_hooks");
    }
  });

  it("exiting as soon as the CLI is done loses no output queued for a slow pipe", async () => {
    // bin/sbc.cjs exits at once only when stdout and stderr have nothing queued: more than a pipe holds
    // (64 KiB on Linux), read only after sbc is done, must still arrive whole.
    const { spawnSync } = await import("node:child_process");
    const dir = tempDir("sbc-slow-pipe-");
    const text = readFileSync(join(REPO, "presets", "read-only.yaml"), "utf8");
    for (let i = 0; i < 30; i++) writeFileSync(join(dir, `p${i}.yaml`), text.replace(/^name: .*$/m, `name: copy-${i}`));
    const env = { ...process.env, SBC_NO_BUNDLE: "", SBC_DEBUG_STARTUP: "" };
    const sh = (cmd: string) => spawnSync("sh", ["-c", cmd], { cwd: REPO, env, encoding: "utf8", maxBuffer: 1 << 26 });
    const direct = sh(`bin/sbc check --format sarif '${dir}' > '${dir}/out.json'; echo $?`);
    expect(direct.stdout.trim()).toBe("0");
    const whole = readFileSync(join(dir, "out.json"), "utf8");
    expect(whole.length).toBeGreaterThan(200_000);
    const slow = sh(`bin/sbc check --format sarif '${dir}' | (sleep 1; cat)`);
    expect(slow.stdout.length).toBe(whole.length);
    expect(slow.stdout).toBe(whole);
  }, 60_000);

  it("the bundle prints byte for byte what the ES modules print (artifacts, diagnostics, exit codes)", async () => {
    const cases = [
      ["compile", "--preset", "workspace-write", "-t", "seccomp-disasm"],
      ["compile", "fixtures/ok-ci-job/policy.yaml", "-t", "sbpl"],
      ["compile", "fixtures/ok-ci-job/policy.sbc", "-t", "landlock"],
      ["check", "fixtures/err-test-failed/policy.yaml", "fixtures/ok-warn-dead-rule/policy.yaml", "--format", "json"],
      ["check", "fixtures/err-test-failed/policy.yaml"],
      ["compile", "--preset", "nope", "-t", "ir"],
      ["fmt", "fixtures/ok-ci-job/policy.sbc"],
    ];
    for (const args of cases) {
      const bundled = await sbc(args, { env: { SBC_DEBUG_STARTUP: "1" } });
      const modules = await sbc(args, { env: { SBC_NO_BUNDLE: "1" } });
      expect(startup(bundled.stderr), args.join(" ")).toBe("dist/sbc.cjs, code cache accepted");
      expect({ code: bundled.code, stdout: bundled.stdout, stderr: bundled.stderr.replace(/^sbc: startup: .*\n/m, "") }, args.join(" ")).toEqual({
        code: modules.code,
        stdout: modules.stdout,
        stderr: modules.stderr,
      });
    }
  }, 120_000);

  /** A copy of the built package (bin/, dist/, presets/, package.json) to spoil without touching the real one. */
  function copyPackage(): string {
    const dir = tempDir("sbc-startup-");
    for (const d of ["bin", "dist", "presets"]) cpSync(join(REPO, d), join(dir, d), { recursive: true, preserveTimestamps: true });
    copyFileSync(join(REPO, "package.json"), join(dir, "package.json"));
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
    return dir;
  }

  async function runCopy(dir: string, nodeArgs: string[] = []) {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, [...nodeArgs, join(dir, "bin", "sbc.cjs"), "compile", "--preset", "read-only", "-t", "ir"], {
      env: { ...process.env, SBC_DEBUG_STARTUP: "1", SBC_NO_BUNDLE: "" },
      encoding: "utf8",
    });
    return { code: r.status, stdout: r.stdout, startup: startup(r.stderr), stderr: r.stderr };
  }

  it("a stale, foreign or missing bundle or cache falls back silently, with the same output", async () => {
    const expected = (await sbc(["compile", "--preset", "read-only", "-t", "ir"], { env: { SBC_NO_BUNDLE: "1" } })).stdout;
    expect(expected).toContain('"name": "read-only"');
    const dir = copyPackage();
    const cache = join(dir, "dist", "sbc.cjs.cache");
    const good = readFileSync(cache);
    const ok = (r: Awaited<ReturnType<typeof runCopy>>, startupLine: string) => {
      expect(r.startup).toBe(startupLine);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1); // the trace line only: no warning
    };
    ok(await runCopy(dir), "dist/sbc.cjs, code cache accepted"); // the control: the copy works as built

    // Made for another bundle (its id line differs): never handed to V8, which checks only the length.
    writeFileSync(cache, Buffer.concat([Buffer.from("0".repeat(32) + "\n"), good.subarray(good.indexOf(10) + 1)]));
    ok(await runCopy(dir), "dist/sbc.cjs, code cache stale (made for another bundle)");

    // Made by another V8 (a different flag hash stands in for another Node) or damaged: V8 rejects it.
    writeFileSync(cache, good);
    ok(await runCopy(dir, ["--no-opt"]), "dist/sbc.cjs, code cache rejected by V8");
    const damaged = Buffer.from(good);
    for (let i = good.indexOf(10) + 1; i < damaged.length; i += 97) damaged[i] ^= 0xff;
    writeFileSync(cache, damaged);
    ok(await runCopy(dir), "dist/sbc.cjs, code cache rejected by V8");
    writeFileSync(cache, good.subarray(0, 200));
    ok(await runCopy(dir), "dist/sbc.cjs, code cache rejected by V8");

    unlinkSync(cache);
    ok(await runCopy(dir), "dist/sbc.cjs, code cache absent");

    // tsc ran after the bundle was made: the bundle is stale, the ES modules run.
    const main = join(dir, "dist", "cli", "main.js");
    const later = new Date(Date.now() + 60_000);
    utimesSync(main, later, later);
    ok(await runCopy(dir), "dist/cli/main.js (dist/sbc.cjs is older than dist/cli/main.js)");

    unlinkSync(join(dir, "dist", "sbc.cjs"));
    ok(await runCopy(dir), "dist/cli/main.js (no dist/sbc.cjs)");
  }, 120_000);

  it("a bundle that does not load falls back too", async () => {
    const dir = copyPackage();
    writeFileSync(join(dir, "dist", "sbc.cjs"), "// sbc bundle 00; broken\nthrow new Error('boom');\n");
    const r = await runCopy(dir);
    expect(r.startup).toBe("dist/cli/main.js (dist/sbc.cjs does not load (boom))");
    expect(r.code).toBe(0);
  });
});
