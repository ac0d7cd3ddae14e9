// Start-up stays light: `sbc --version` and `sbc --help` must not load the compiler (the YAML parser, the
// schema validator, the passes). compiler/cli/main.ts imports each command's implementation with `import()`
// when that command runs; these tests keep it that way, statically (the static import graph of the built
// CLI) and at run time (the modules Node actually loads), and catch pathological start-up regressions.

import { readFileSync, existsSync } from "node:fs";
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

  it("from dist/compiler/cli/main.js reaches neither yaml nor ajv nor the passes", () => {
    const g = staticGraph(CLI_MAIN);
    expect([...g.packages]).not.toContain("yaml");
    expect([...g.packages]).not.toContain("ajv");
    expect(inDist(g, "compiler/passes")).toEqual([]);
    expect(inDist(g, "compiler/language")).toEqual([]);
    expect(inDist(g, "compiler/evaluator")).toEqual([]);
    // It does reach what it needs to parse a command line.
    expect([...g.packages]).toContain("commander");
  });

  it("the commands themselves do reach the compiler (so the check above can fail)", () => {
    const g = staticGraph(join(DIST, "compiler", "cli", "compile-command.js"));
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
    const r = await sbc(args, { nodeArgs: ["--import", pathToFileURL(hook).href], env: { SBC_TRACE_LOADS: trace } });
    expect(r.code, r.stderr).toBeLessThanOrEqual(2);
    return existsSync(trace) ? readFileSync(trace, "utf8").split("\n").filter(Boolean) : [];
  }

  for (const flag of ["--version", "--help"]) {
    it(`${flag} loads no compiler module`, async () => {
      const urls = await loaded([flag]);
      expect(urls).toContain(pathToFileURL(CLI_MAIN).href);
      const heavy = urls.filter((u) => /\/node_modules\/(yaml|ajv)\//.test(u) || /\/dist\/compiler\/(passes|language|evaluator|ir)\//.test(u));
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
