// The folders' import directions (ARCHITECTURE.md): the front end (language, grammar, compiler) builds the IR,
// the backends (targets/*) read only the IR, diagnostics and the Linux ABI, the library (lib) joins them, and
// the CLI (cli) is a shell around the library. Every relative import of every source file is checked, type-only
// and dynamic imports included; tests, scripts and benchmarks may import anything.

import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "..");

/** What each folder may import besides itself. `targets/*` stands for each backend: none imports another. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  diagnostics: [],
  "linux-abi": ["diagnostics"],
  ir: ["diagnostics", "linux-abi"],
  language: ["ir", "diagnostics", "linux-abi"],
  grammar: ["language", "ir", "diagnostics", "linux-abi"],
  compiler: ["grammar", "language", "ir", "diagnostics", "linux-abi"],
  "targets/*": ["ir", "diagnostics", "linux-abi"],
  lib: ["compiler", "grammar", "language", "ir", "diagnostics", "linux-abi", "targets/*"],
  cli: ["lib"],
};
const FOLDERS = ["diagnostics", "linux-abi", "ir", "language", "grammar", "compiler", "targets", "lib", "cli"];

/** The module a repository path belongs to: a top-level folder, or `targets/NAME` for a backend. */
export function moduleOf(path: string): string {
  const [top, second] = path.split("/");
  return top === "targets" && second !== undefined && path.split("/").length > 2 ? `targets/${second}` : top!;
}

function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  const rules = MAY_IMPORT[from.startsWith("targets/") ? "targets/*" : from];
  if (!rules) return true; // not a source folder (tests, scripts, bench)
  return rules.some((r) => r === to || (r === "targets/*" && to.startsWith("targets/")));
}

export interface Edge {
  readonly file: string;
  readonly spec: string;
  readonly to: string;
}

/** The imports among `edges` that go against MAY_IMPORT, as `file: specifier`. */
export function violations(edges: readonly Edge[]): string[] {
  return edges.filter((e) => !allowed(moduleOf(e.file), moduleOf(e.to))).map((e) => `${e.file}: ${e.spec}`);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["'](\.\.?\/[^"']+)["']/g;

function edgesOf(files: readonly string[]): Edge[] {
  const edges: Edge[] = [];
  for (const file of files) {
    for (const m of readFileSync(join(REPO, file), "utf8").matchAll(IMPORT)) {
      edges.push({ file, spec: m[1]!, to: posix.normalize(posix.join(posix.dirname(file), m[1]!)) });
    }
  }
  return edges;
}

describe("import directions", () => {
  const edges = edgesOf(FOLDERS.flatMap(sourceFiles));

  it("finds the imports it checks", () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges.some((e) => e.file.startsWith("targets/seccomp/") && e.to.startsWith("ir/"))).toBe(true);
  });

  it("the rules form layers: no two folders may import each other", () => {
    for (const [a, list] of Object.entries(MAY_IMPORT)) {
      for (const b of list) expect(MAY_IMPORT[b]?.includes(a) ?? false, `${a} ⇄ ${b}`).toBe(false);
    }
  });

  it("catches an import against the direction", () => {
    const bad: Edge[] = [
      { file: "targets/seccomp/x.ts", spec: "../landlock/abi.js", to: "targets/landlock/abi.js" },
      { file: "ir/x.ts", spec: "../compiler/passes/index.js", to: "compiler/passes/index.js" },
      { file: "grammar/x.ts", spec: "../compiler/passes/load-file.js", to: "compiler/passes/load-file.js" },
      { file: "lib/x.ts", spec: "../cli/exit.js", to: "cli/exit.js" },
      { file: "cli/x.ts", spec: "../targets/sbpl/index.js", to: "targets/sbpl/index.js" },
    ];
    const good: Edge[] = [
      { file: "targets/seccomp/x.ts", spec: "../../ir/types.js", to: "ir/types.js" },
      { file: "lib/x.ts", spec: "../targets/sbpl/index.js", to: "targets/sbpl/index.js" },
      { file: "cli/x.ts", spec: "../lib/index.js", to: "lib/index.js" },
    ];
    expect(violations([...bad, ...good])).toEqual(bad.map((e) => `${e.file}: ${e.spec}`));
  });

  it("every source file imports along the directions (the CLI only through lib/)", () => {
    expect(violations(edges)).toEqual([]);
  });
});
