// The policies shown in the documentation are compiled, with their own `tests:` run, so the docs cannot drift
// from the compiler. Every ```yaml block of docs/language.md and README.md that holds a line `sbc: 1` is a
// complete policy; a first line `# expect-error: SBC0301` says the block must fail with exactly that code.
// Blocks without `sbc: 1` are fragments: they only have to be well-formed YAML. The complete example of
// docs/ir.md (its first ```yaml block and the ```json block after it) must be the compiler's exact output.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { irToJson } from "../ir/serialize.js";
import { compilePolicy } from "../compiler/passes/index.js";

const ROOT = join(import.meta.dirname, "..");
const DOCS = ["docs/language.md", "README.md"] as const;
/** Files whose complete policies must also be free of warnings unless they say `# expect-warning: CODE`. */
const STRICT = new Set<string>(["docs/language.md"]);
const MIN_CHECKED = 10;

interface Block {
  /** `docs/language.md#42`: the file and the line of the opening fence. */
  readonly id: string;
  readonly file: string;
  readonly text: string;
}

/** The fenced blocks of one language in a Markdown file, in order. Fences must start at the beginning of a line. */
function fencedBlocks(file: string, markdown: string, language = "yaml"): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split(/\r?\n/);
  const open = new RegExp(`^\`\`\`${language}\\s*$`);
  for (let i = 0; i < lines.length; i++) {
    if (!open.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: unclosed \`\`\`${language} block`);
    blocks.push({ id: `${file}#${start + 1}`, file, text: body.join("\n") + "\n" });
  }
  return blocks;
}

const isPolicy = (text: string) => /^sbc:\s*1\s*$/m.test(text);
const directive = (text: string, name: string) => new RegExp(`^#\\s*${name}:\\s*(SBC\\d{4})\\s*$`, "m").exec(text)?.[1];

const blocks = DOCS.flatMap((f) => fencedBlocks(f, readFileSync(join(ROOT, f), "utf8")));
const policies = blocks.filter((b) => isPolicy(b.text));
const fragments = blocks.filter((b) => !isPolicy(b.text));

// A ```sbc block of README.md is the DSL twin of the ```yaml policy just before it: it compiles, its own
// tests pass, and it gives the same IR.
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const dslBlocks = fencedBlocks("README.md", readme, "sbc");

describe("DSL policies in the README", () => {
  it("has at least one", () => expect(dslBlocks.length).toBeGreaterThan(0));
  for (const b of dslBlocks) {
    it(b.id, () => {
      const line = Number(b.id.split("#")[1]);
      const before = policies.filter((p) => p.file === "README.md" && Number(p.id.split("#")[1]) < line).pop();
      expect(before, `${b.id}: no \`\`\`yaml policy before it`).toBeDefined();
      const dsl = compilePolicy({ kind: "text", path: `${b.id}.sbc`, text: b.text }, { runTests: true, cwd: ROOT });
      const yaml = compilePolicy({ kind: "text", path: before!.id, text: before!.text }, { runTests: true, cwd: ROOT });
      expect(dsl.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
      expect(irToJson(dsl.ir!)).toBe(irToJson(yaml.ir!));
    });
  }
});

describe("policies in the documentation", () => {
  it(`checks at least ${MIN_CHECKED} complete policies`, () => {
    expect(policies.length).toBeGreaterThanOrEqual(MIN_CHECKED);
  });

  for (const b of policies) {
    it(b.id, () => {
      const lines = b.text.split("\n");
      const firstReal = lines.find((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
      expect(firstReal, `${b.id}: a complete policy starts with \`sbc: 1\` (after optional comment lines)`).toMatch(/^sbc:\s*1\s*$/);

      const expectError = directive(b.text, "expect-error");
      if (expectError) expect(lines[0], `${b.id}: \`# expect-error:\` must be the first line`).toMatch(/^# expect-error:/);

      const r = compilePolicy({ kind: "text", path: b.id, text: b.text }, { runTests: true, cwd: ROOT });
      const show = r.diagnostics.map((d) => `${d.code} ${d.severity}: ${d.message}`).join("\n");
      const errors = r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code);
      if (expectError) {
        expect(errors.length, `${b.id} should fail with ${expectError}; got:\n${show}`).toBeGreaterThan(0);
        expect([...new Set(errors)], `${b.id} should fail with exactly ${expectError}; got:\n${show}`).toEqual([expectError]);
        return;
      }
      expect(errors, `${b.id} should compile; got:\n${show}`).toEqual([]);
      expect(r.ir, `${b.id} produced no IR`).toBeDefined();
      if (STRICT.has(b.file)) {
        const warnings = r.diagnostics.filter((d) => d.severity === "warning").map((d) => d.code);
        const allowed = directive(b.text, "expect-warning");
        expect([...new Set(warnings)], `${b.id} has unexpected warnings:\n${show}`).toEqual(allowed ? [allowed] : []);
      }
    });
  }

  for (const b of fragments) {
    it(`${b.id} (fragment) is well-formed YAML`, () => {
      expect(directive(b.text, "expect-error"), `${b.id}: \`# expect-error:\` needs a complete policy`).toBeUndefined();
      const docs = parseAllDocuments(b.text, { uniqueKeys: true, version: "1.2" });
      const list = Array.isArray(docs) ? docs : [];
      for (const d of list) expect(d.errors.map((e) => e.message), b.id).toEqual([]);
    });
  }
});

describe("docs/ir.md", () => {
  it("shows the exact IR of its complete example", () => {
    const file = "docs/ir.md";
    const md = readFileSync(join(ROOT, file), "utf8");
    const policy = fencedBlocks(file, md, "yaml")[0];
    expect(policy, `${file} has no \`\`\`yaml block`).toBeDefined();
    const line = (b: Block) => Number(b.id.split("#")[1]);
    const json = fencedBlocks(file, md, "json").find((b) => line(b) > line(policy!));
    expect(json, `${file} has no \`\`\`json block after its example policy`).toBeDefined();
    const r = compilePolicy({ kind: "text", path: "small.yaml", text: policy!.text }, { runTests: true, cwd: ROOT });
    expect(r.diagnostics.map((d) => `${d.code}: ${d.message}`)).toEqual([]);
    expect(irToJson(r.ir!)).toBe(json!.text);
  });
});
