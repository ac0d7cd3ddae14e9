// `sbc fmt`: the format fixtures side by side (fixtures/format/x.sbc → x.sbc.formatted, or x.sbc.error when it
// does not parse; the same for .yaml), idempotence over those, the DSL twins of the golden fixtures and the
// presets, the meaning check that refuses a formatter which changes a policy, and the command's modes.
// `npm run test:update` rewrites the .formatted and .error files; read that diff like code.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { formatPolicy, prettierFormat } from "../lib/format.js";
import { renderHumanAll } from "../diagnostics/render.js";
import { sortDiagnostics } from "../diagnostics/diagnostic.js";
import { Source } from "../diagnostics/source.js";
import { syntaxOfPath, type PolicySyntax } from "../grammar/convert.js";
import { ensureBuilt, REPO, sbc, STACK_TRACE } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

const FORMAT = join(REPO, "fixtures", "format");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";

const inputs = readdirSync(FORMAT)
  .filter((f) => syntaxOfPath(f) !== undefined)
  .sort();

async function formatFile(path: string, text: string, syntax: PolicySyntax): Promise<{ formatted?: string; error?: string }> {
  const r = await formatPolicy(new Source(path, text), syntax);
  if (r.formatted !== undefined) return { formatted: r.formatted };
  return { error: renderHumanAll(sortDiagnostics(r.diagnostics)) };
}

describe("format fixtures (fixtures/format)", () => {
  it("has DSL and YAML cases, formatted and refused", () => {
    expect(inputs.filter((f) => f.endsWith(".sbc")).length).toBeGreaterThanOrEqual(8);
    expect(inputs.filter((f) => f.endsWith(".yaml")).length).toBeGreaterThanOrEqual(2);
    expect(readdirSync(FORMAT).filter((f) => f.endsWith(".error")).length).toBeGreaterThanOrEqual(3);
  });

  for (const name of inputs) {
    it(name, async () => {
      const text = readFileSync(join(FORMAT, name), "utf8");
      const r = await formatFile(`fixtures/format/${name}`, text, syntaxOfPath(name)!);
      const formattedFile = join(FORMAT, `${name}.formatted`);
      const errorFile = join(FORMAT, `${name}.error`);
      if (UPDATE) {
        rmSync(formattedFile, { force: true });
        rmSync(errorFile, { force: true });
        writeFileSync(r.formatted !== undefined ? formattedFile : errorFile, r.formatted ?? r.error!);
        return;
      }
      if (r.formatted !== undefined) {
        expect(existsSync(errorFile), `${name} formats, but ${name}.error exists`).toBe(false);
        expect(existsSync(formattedFile), `${name}.formatted is missing; run npm run test:update and review it`).toBe(true);
        expect(r.formatted).toBe(readFileSync(formattedFile, "utf8"));
        // Idempotence: the formatted text is its own format.
        expect((await formatFile(name, r.formatted, syntaxOfPath(name)!)).formatted).toBe(r.formatted);
      } else {
        expect(existsSync(formattedFile), `${name} does not parse, but ${name}.formatted exists`).toBe(false);
        expect(existsSync(errorFile), `${name}.error is missing; run npm run test:update and review it`).toBe(true);
        expect(r.error).toBe(readFileSync(errorFile, "utf8"));
      }
    });
  }

  it("holds no file that no case reads", () => {
    const stray = readdirSync(FORMAT).filter((f) => {
      if (inputs.includes(f)) return false;
      const m = /^(.*)\.(formatted|error)$/.exec(f);
      return !m || !inputs.includes(m[1]!);
    });
    expect(stray).toEqual([]);
  });
});

describe("idempotence: fmt(fmt(x)) = fmt(x)", () => {
  const twins = readdirSync(join(REPO, "fixtures"))
    .filter((d) => d.startsWith("ok-") && existsSync(join(REPO, "fixtures", d, "policy.sbc")))
    .map((d) => `fixtures/${d}/policy.sbc`);
  const yamls = [
    ...readdirSync(join(REPO, "presets"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => `presets/${f}`),
    ...readdirSync(join(REPO, "fixtures"))
      .filter((d) => d.startsWith("ok-"))
      .map((d) => `fixtures/${d}/policy.yaml`),
  ];

  it("covers every DSL twin and every preset", () => {
    expect(twins.length).toBeGreaterThanOrEqual(30);
    expect(yamls.filter((f) => f.startsWith("presets/")).length).toBeGreaterThanOrEqual(4);
  });

  for (const f of [...twins, ...yamls]) {
    it(f, async () => {
      const syntax = syntaxOfPath(f)!;
      const once = await formatFile(f, readFileSync(join(REPO, f), "utf8"), syntax);
      expect(once.error).toBeUndefined();
      const twice = await formatFile(f, once.formatted!, syntax);
      expect(twice.formatted).toBe(once.formatted);
    });
  }
});

describe("the meaning check", () => {
  const source = new Source("p.sbc", 'sbc 1\npolicy p {\n  # keep me\n  filesystem {\n    allow read path "/usr"\n  }\n}\n');

  it("refuses output that parses to another document", async () => {
    const dropsRule = async (text: string) => text.replace('allow read path "/usr"', 'allow read path "/usr/local"');
    await expect(formatPolicy(source, "dsl", dropsRule)).rejects.toThrow(/would change its meaning/);
  });

  it("refuses output that does not parse", async () => {
    await expect(formatPolicy(source, "dsl", async (t) => t.replace("}", ""))).rejects.toThrow(/does not parse/);
  });

  it("refuses output that loses a comment", async () => {
    await expect(formatPolicy(source, "dsl", async (t) => t.replace("# keep me", ""))).rejects.toThrow(/lose or change a comment/);
  });

  it("names Prettier's YAML printer when YAML output would change", async () => {
    const yaml = new Source("p.yaml", "sbc: 1\ndescription: a\n");
    await expect(formatPolicy(yaml, "yaml", async (t) => t.replace("a", "b"))).rejects.toThrow("formatting `p.yaml` (Prettier's YAML printer) would change its meaning");
  });

  it("accepts Prettier's own output", async () => {
    const r = await formatPolicy(source, "dsl", prettierFormat);
    expect(r.formatted).toContain("# keep me");
  });
});

describe("sbc fmt", () => {
  beforeAll(() => ensureBuilt());
  const messy = 'sbc 1 policy p { filesystem { allow read path "/usr" } }\n';
  const tidy = 'sbc 1\n\npolicy p {\n  filesystem {\n    allow read path "/usr"\n  }\n}\n';

  it("prints the formatted text when no mode is given", async () => {
    const dir = writeFiles(tempDir(), { "p.sbc": messy });
    const r = await sbc(["fmt", "p.sbc"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(tidy);
    expect(readFileSync(join(dir, "p.sbc"), "utf8")).toBe(messy);
  });

  it("--check lists the files that would change and exits 1; 0 when all are formatted", async () => {
    const dir = writeFiles(tempDir(), { "a.sbc": messy, "b.sbc": tidy, "c.yaml": "sbc: 1\nsyscalls:\n  default: {errno: EPERM}\n" });
    const r = await sbc(["fmt", "--check", "a.sbc", "b.sbc", "c.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("a.sbc\nc.yaml\n");
    expect(r.stderr).toContain("2 files are not formatted");
    expect(readFileSync(join(dir, "a.sbc"), "utf8")).toBe(messy);
    const ok = await sbc(["fmt", "--check", "b.sbc"], { cwd: dir });
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, "", ""]);
  });

  it("--write rewrites what changes and leaves formatted files alone", async () => {
    const dir = writeFiles(tempDir(), { "a.sbc": messy, "b.sbc": tidy, "c.yaml": "sbc: 1\nsyscalls:\n  default: {errno: EPERM}\n" });
    const before = statSync(join(dir, "b.sbc")).mtimeMs;
    const r = await sbc(["fmt", "--write", "a.sbc", "b.sbc", "c.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(join(dir, "a.sbc"), "utf8")).toBe(tidy);
    expect(readFileSync(join(dir, "c.yaml"), "utf8")).toBe("sbc: 1\nsyscalls:\n  default: { errno: EPERM }\n");
    expect(statSync(join(dir, "b.sbc")).mtimeMs).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(["a.sbc", "b.sbc", "c.yaml"]);
  });

  it("a file that does not parse gets the parser's diagnostics, exit 1, and is never rewritten", async () => {
    const broken = "sbc 1\npolicy p {\n  filesystem {\n";
    const dir = writeFiles(tempDir(), { "bad.sbc": broken, "good.sbc": messy });
    const r = await sbc(["fmt", "--write", "bad.sbc", "good.sbc"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[SBC1205\]/);
    expect(r.stderr).toContain("bad.sbc:4:1");
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(readFileSync(join(dir, "bad.sbc"), "utf8")).toBe(broken);
    expect(readFileSync(join(dir, "good.sbc"), "utf8")).toBe(tidy);
    const y = writeFiles(tempDir(), { "bad.yaml": "sbc: 1\nname: [\n" });
    const ry = await sbc(["fmt", "--check", "bad.yaml"], { cwd: y });
    expect(ry.code).toBe(1);
    expect(ry.stderr).toMatch(/error\[SBC0103\]/);
  });

  it("usage errors exit 2: both modes, an unknown extension, a missing file", async () => {
    const dir = writeFiles(tempDir(), { "p.sbc": tidy, "p.txt": tidy });
    expect((await sbc(["fmt", "--check", "--write", "p.sbc"], { cwd: dir })).code).toBe(2);
    const ext = await sbc(["fmt", "p.txt"], { cwd: dir });
    expect([ext.code, ext.stderr]).toEqual([2, expect.stringContaining("cannot tell the syntax of `p.txt`")]);
    expect((await sbc(["fmt", "missing.sbc"], { cwd: dir })).code).toBe(2);
  });
});

describe("Prettier is loaded only by the commands that format", () => {
  beforeAll(() => ensureBuilt());
  const hook = join(REPO, "tests", "support", "trace-loads.mjs");
  const policy = 'sbc 1\n\npolicy p {\n  filesystem {\n    allow read path "/usr"\n  }\n}\n';

  async function loaded(args: string[], cwd: string): Promise<string[]> {
    const trace = join(tempDir("sbc-trace-"), "loads.txt");
    const r = await sbc(args, { cwd, nodeArgs: ["--import", pathToFileURL(hook).href], env: { SBC_TRACE_LOADS: trace } });
    expect(r.code, r.stderr).toBe(0);
    return existsSync(trace) ? readFileSync(trace, "utf8").split("\n").filter(Boolean) : [];
  }
  const prettierUrls = (urls: string[]) => urls.filter((u) => u.includes("/node_modules/prettier/"));

  it("`sbc compile` and `sbc check` of a DSL policy never load it", async () => {
    const dir = writeFiles(tempDir(), { "p.sbc": policy });
    expect(prettierUrls(await loaded(["compile", "p.sbc", "-t", "ir"], dir))).toEqual([]);
    expect(prettierUrls(await loaded(["check", "p.sbc"], dir))).toEqual([]);
  });

  it("`sbc fmt` does (control)", async () => {
    const dir = writeFiles(tempDir(), { "p.sbc": policy });
    expect(prettierUrls(await loaded(["fmt", "--check", "p.sbc"], dir)).length).toBeGreaterThan(0);
  });
});

describe("the plugin in Prettier itself", () => {
  beforeAll(() => ensureBuilt());
  it("loads by its package name, `sbc/prettier-plugin`, and formats like `sbc fmt`", async () => {
    const messy = 'sbc 1\npolicy p {\nfilesystem {\n  allow   read path "/usr"   # system\n}\n}\n';
    // Prettier's own CLI, resolving the plugin the way a project's .prettierrc names it.
    const bin = join(REPO, "node_modules", "prettier", "bin", "prettier.cjs");
    const dir = writeFiles(tempDir(), { "p.sbc": messy });
    // Run from the package (it resolves `sbc` to itself, as a project resolves its dependency).
    const viaPrettier = spawnSync(process.execPath, [bin, "--plugin", "sbc/prettier-plugin", join(dir, "p.sbc")], { cwd: REPO, encoding: "utf8" });
    expect([viaPrettier.status, viaPrettier.stderr]).toEqual([0, ""]);
    const ours = await sbc(["fmt", "p.sbc"], { cwd: dir });
    expect(ours.code).toBe(0);
    expect(viaPrettier.stdout).toBe(ours.stdout);
    expect(viaPrettier.stdout).toContain('allow read path "/usr" # system');
  });
});
