// `sbc convert`: every valid fixture and preset goes YAML → DSL → YAML and every DSL twin DSL → YAML, each step
// compiled where the file lives and compared with the original IR; comments survive both ways; converted
// text is already formatted; and the command's contract (stdout or an atomic -o, the compiler's diagnostics
// for invalid input, usage errors, deterministic bytes).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { prettierFormat } from "../lib/format.js";
import { Source } from "../diagnostics/source.js";
import { allCommentTexts } from "../language/document-comments.js";
import { irToJson } from "../ir/serialize.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { readDocument, writeDocument, type PolicySyntax } from "../grammar/convert.js";
import { ensureBuilt, REPO, sbc, STACK_TRACE } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

function irOf(path: string, text: string): string {
  const r = compilePolicy({ kind: "text", path, text }, { stopAfter: "build-ir" });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => d.message), `${path} compiles:\n${text}`).toEqual([]);
  return irToJson(r.ir!);
}

function convert(path: string, text: string, from: PolicySyntax, to: PolicySyntax): { text: string; comments: string[] } {
  const read = readDocument(new Source(path, text), from);
  expect(read.value, `${path} parses`).toBeDefined();
  return { text: writeDocument(read.value!, read.comments, to), comments: allCommentTexts(read.comments!).map((c) => c.trim()).sort() };
}

const commentsOf = (path: string, text: string, syntax: PolicySyntax) => allCommentTexts(readDocument(new Source(path, text), syntax).comments!).map((c) => c.trim()).sort();

const fixtureDirs = readdirSync(join(REPO, "fixtures")).filter((d) => d.startsWith("ok-"));
const yamlPolicies = [...readdirSync(join(REPO, "presets")).filter((f) => f.endsWith(".yaml")).map((f) => join(REPO, "presets", f)), ...fixtureDirs.map((d) => join(REPO, "fixtures", d, "policy.yaml"))];
const dslPolicies = fixtureDirs.map((d) => join(REPO, "fixtures", d, "policy.sbc")).filter(existsSync);

describe("YAML → DSL → YAML keeps the IR and the comments", () => {
  it("covers every valid fixture and every preset", () => {
    expect(yamlPolicies.length).toBeGreaterThanOrEqual(34);
  });

  for (const file of yamlPolicies) {
    it(file.slice(REPO.length + 1), async () => {
      const text = readFileSync(file, "utf8");
      const dir = dirname(file);
      // Compiled as a sibling of the original, so `extends: ./x` and the default name resolve alike.
      const want = irOf(join(dir, "policy.yaml"), text);
      const dsl = convert(file, text, "yaml", "dsl");
      expect(irOf(join(dir, "policy.sbc"), dsl.text)).toBe(want);
      expect(await prettierFormat(dsl.text, "dsl", "policy.sbc"), "converted DSL is formatted").toBe(dsl.text);
      const back = convert(join(dir, "policy.sbc"), dsl.text, "dsl", "yaml");
      expect(irOf(join(dir, "policy.yaml"), back.text)).toBe(want);
      expect(dsl.comments).toEqual(commentsOf(file, text, "yaml"));
      // Every comment but the YAML editor's schema line, which a .sbc file leaves out.
      const kept = dsl.comments.filter((c) => !c.startsWith("yaml-language-server:"));
      expect(back.comments).toEqual(kept);
      expect(commentsOf("back.yaml", back.text, "yaml")).toEqual(kept);
    });
  }
});

describe("DSL → YAML keeps the IR (the DSL twins)", () => {
  for (const file of dslPolicies) {
    it(file.slice(REPO.length + 1), () => {
      const text = readFileSync(file, "utf8");
      const want = irOf(file, text);
      const yaml = convert(file, text, "dsl", "yaml");
      expect(irOf(join(dirname(file), "policy.yaml"), yaml.text)).toBe(want);
      expect(commentsOf("x.yaml", yaml.text, "yaml")).toEqual(commentsOf(file, text, "dsl"));
    });
  }
});

describe("comments move to the matching statement", () => {
  it("YAML comments land on the same rules in the DSL and back", () => {
    const yaml = [
      "# head",
      "sbc: 1",
      "filesystem:",
      "  # about the first rule",
      "  - allow: read # why read",
      "    path: /usr",
      "  - deny: write",
      "    path: /usr/bin",
      "  # closing the list",
      "# before network",
      "network: off # no network",
      "",
    ].join("\n");
    const dsl = convert("p.yaml", yaml, "yaml", "dsl").text;
    expect(dsl).toBe(
      [
        "# head",
        "",
        "sbc 1",
        "",
        "policy {",
        "  filesystem {",
        "    # about the first rule",
        '    allow read path "/usr" # why read',
        '    deny write path "/usr/bin"',
        "    # closing the list",
        "  }",
        "",
        "  # before network",
        "  network off # no network",
        "}",
        "",
      ].join("\n"),
    );
    const back = convert("p.sbc", dsl, "dsl", "yaml").text;
    expect(back).toContain("  # about the first rule\n  - allow: read # why read\n");
    expect(back).toContain("  # closing the list\n");
    expect(back).toContain("# before network\nnetwork: off # no network\n");
  });
});

describe("sbc convert", () => {
  beforeAll(() => ensureBuilt());
  const yaml = "# why this policy\nsbc: 1\nname: p\nfilesystem:\n  - allow: read\n    path: /usr # system files\n";

  it("writes DSL to stdout, and the same bytes every time", async () => {
    const dir = writeFiles(tempDir(), { "p.yaml": yaml });
    const a = await sbc(["convert", "p.yaml", "--to", "dsl"], { cwd: dir });
    const b = await sbc(["convert", "p.yaml", "--to", "dsl"], { cwd: dir });
    expect([a.code, a.stderr]).toEqual([0, ""]);
    expect(a.stdout).toBe('# why this policy\n\nsbc 1\n\npolicy p {\n  filesystem {\n    allow read path "/usr" # system files\n  }\n}\n');
    expect(b.stdout).toBe(a.stdout);
  });

  it("leaves the YAML editor's schema line out of a .sbc file", async () => {
    const dir = writeFiles(tempDir(), { "p.yaml": `# yaml-language-server: $schema=../schema/policy.schema.json\n${yaml}` });
    const r = await sbc(["convert", "p.yaml", "--to", "dsl"], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).not.toContain("yaml-language-server");
    expect(r.stdout.startsWith("# why this policy\n")).toBe(true);
  });

  it("-o writes the file; the result converts back", async () => {
    const dir = writeFiles(tempDir(), { "p.yaml": yaml });
    const r = await sbc(["convert", "p.yaml", "--to", "dsl", "-o", "p.sbc"], { cwd: dir });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""]);
    const back = await sbc(["convert", "p.sbc", "--to", "yaml"], { cwd: dir });
    expect(back.code).toBe(0);
    // A comment belongs to its statement (the rule), so it comes back at the end of the rule's first line.
    expect(back.stdout).toBe("# why this policy\n\nsbc: 1\nname: p\n\nfilesystem:\n  - allow: read # system files\n    path: /usr\n");
    expect(readdirSync(dir).sort()).toEqual(["p.sbc", "p.yaml"]);
  });

  it("resolves `extends:` files next to the input", async () => {
    const dir = writeFiles(tempDir(), { "sub/base.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /opt\n", "sub/p.yaml": "sbc: 1\nextends: ./base.yaml\n" });
    const r = await sbc(["convert", "sub/p.yaml", "--to", "dsl"], { cwd: dir });
    expect([r.code, r.stdout]).toEqual([0, 'sbc 1\n\npolicy {\n  extends "./base.yaml"\n}\n']);
  });

  it("invalid input gets the compiler's diagnostics, exit 1, and no output file", async () => {
    const bad = "sbc: 1\nfilesystem:\n  - allow: raed\n    path: /usr\n";
    const dir = writeFiles(tempDir(), { "bad.yaml": bad });
    const r = await sbc(["convert", "bad.yaml", "--to", "dsl", "-o", "bad.sbc"], { cwd: dir });
    const compiled = await sbc(["compile", "bad.yaml", "-t", "ir"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(compiled.stderr);
    expect(r.stderr).toMatch(/error\[SBC\d{4}\]/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.stdout).toBe("");
    expect(existsSync(join(dir, "bad.sbc"))).toBe(false);
    const dsl = writeFiles(tempDir(), { "bad.sbc": "sbc 1\npolicy {\n" });
    const rd = await sbc(["convert", "bad.sbc", "--to", "yaml"], { cwd: dsl });
    expect(rd.code).toBe(1);
    expect(rd.stderr).toMatch(/error\[SBC1205\]/);
  });

  it("usage errors exit 2: unknown syntax, unknown extension, mismatched -o", async () => {
    const dir = writeFiles(tempDir(), { "p.yaml": yaml, "p.txt": yaml });
    const to = await sbc(["convert", "p.yaml", "--to", "dls"], { cwd: dir });
    expect([to.code, to.stderr]).toEqual([2, expect.stringContaining("did you mean `dsl`?")]);
    expect((await sbc(["convert", "p.txt", "--to", "dsl"], { cwd: dir })).code).toBe(2);
    expect((await sbc(["convert", "p.yaml", "--to", "dsl", "-o", "out.yaml"], { cwd: dir })).code).toBe(2);
    expect((await sbc(["convert", "missing.yaml", "--to", "dsl"], { cwd: dir })).code).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(["p.txt", "p.yaml"]);
  });
});
