// Round trips through the surfaces: a random IR of the kind one file compiles to (tests/support/
// policy-arbitrary.ts) is written as a document tree (ir-to-document.ts), printed as YAML and as DSL, and
// compiled again; the IR must come back identical (`irEquals`). The DSL text must also be a fixed point of
// the formatter. And random document trees with tricky values in every free position (keywords, non-words,
// escapes) print as DSL and as YAML and read back identical. Comments inserted at random lines of either
// syntax survive formatting and conversion both ways. Runs: SBC_PROPERTY_RUNS (default 150).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { irEquals, irToJson } from "../ir/serialize.js";
import { IR_VERSION, type IR } from "../ir/types.js";
import { documentToYaml } from "../language/document-to-yaml.js";
import { irToDocument } from "../language/ir-to-document.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { convertedText } from "../lib/convert.js";
import { prettierFormat } from "../lib/format.js";
import { documentToDsl } from "../grammar/from-document.js";
import { printBuiltDsl } from "../grammar/print.js";
import { Source } from "../diagnostics/source.js";
import { parseYaml } from "../language/yaml-source.js";
import { parseDsl } from "../grammar/index.js";
import { allCommentTexts } from "../language/document-comments.js";
import { readDocument, writeDocument } from "../grammar/convert.js";
import { documentArb, singleFileIrArb } from "./support/policy-arbitrary.js";

const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 150);
/** Generous per-test time for high run counts (a run through Prettier takes a few milliseconds). */
const TIME = Math.max(30_000, RUNS * 60);

function compileText(path: string, text: string): IR {
  const r = compilePolicy({ kind: "text", path, text }, { stopAfter: "build-ir" });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.ir || errors.length) throw new Error(`${path} does not compile: ${errors.map((d) => d.message).join("; ")}\n${text}`);
  return r.ir;
}

function documentOf(ir: IR): Record<string, unknown> {
  const d = irToDocument(ir);
  if (!d.ok) throw new Error(`the generator made an IR one file cannot hold: ${d.reason}`);
  return d.document;
}

function expectSameIr(back: IR, ir: IR, text: string): void {
  if (!irEquals(back, ir)) expect(irToJson(back), text).toBe(irToJson(ir));
}

describe("IR → document → text → IR", () => {
  it("YAML gives back the same IR", () => {
    fc.assert(
      fc.property(singleFileIrArb, (ir) => {
        const yaml = documentToYaml(documentOf(ir));
        expectSameIr(compileText("p.yaml", yaml), ir, yaml);
      }),
      { numRuns: RUNS },
    );
  }, TIME);

  it("DSL gives back the same IR", () => {
    fc.assert(
      fc.property(singleFileIrArb, (ir) => {
        const built = documentToDsl(documentOf(ir));
        const dsl = printBuiltDsl(built.file, built.comments);
        expectSameIr(compileText("p.sbc", dsl), ir, dsl);
      }),
      { numRuns: RUNS },
    );
  }, TIME);

  it("converted DSL is already formatted; converted YAML keeps the IR and is formatted when Prettier is faithful", async () => {
    await fc.assert(
      fc.asyncProperty(singleFileIrArb, async (ir) => {
        const dsl = await convertedText(documentOf(ir), undefined, "dsl", "p.sbc");
        expect(await prettierFormat(dsl, "dsl", "p.sbc")).toBe(dsl);
        const yaml = await convertedText(documentOf(ir), undefined, "yaml", "p.yaml");
        expectSameIr(compileText("p.yaml", yaml), ir, yaml);
        const plain = documentToYaml(documentOf(ir));
        if (yaml !== plain) expect(await prettierFormat(yaml, "yaml", "p.yaml")).toBe(yaml);
      }),
      { numRuns: Math.max(1, Math.ceil(RUNS / 3)) },
    );
  }, TIME);

  it("refuses IRs that no single file can hold, with the reason", () => {
    const base: IR = {
      irVersion: IR_VERSION,
      name: "p",
      params: [],
      filesystem: [{ effect: "allow", access: ["read"], kind: "subtree", path: "/a", ifMissing: "skip", layer: 1 }],
      network: { unix: { pairs: "deny", abstract: "deny", paths: [] }, rules: [] },
      syscalls: { defaultAction: { type: "allow" }, rules: [] },
      commands: { defaultDecision: "prompt", rules: [] },
      linux: { namespaces: "auto" },
      tests: [],
    };
    expect(irToDocument(base)).toEqual({ ok: false, reason: "filesystem rule 1 comes from an extended file (layer 1)" });
    const bound: IR = { ...base, filesystem: [], params: [{ name: "workspace", builtin: true, value: "/w" }] };
    expect(irToDocument(bound).ok).toBe(false);
    const orphan: IR = { ...base, filesystem: [{ ...base.filesystem[0]!, layer: 0, effect: "deny", protects: ".git", path: "/a/.git" }] };
    expect(irToDocument(orphan).ok).toBe(false);
    const inherited: IR = { ...base, filesystem: [], network: { unix: { pairs: "deny", abstract: "deny", paths: [{ effect: "allow", ops: ["connect"], path: "/s", layer: 2 }] }, rules: [] } };
    expect(irToDocument(inherited)).toEqual({ ok: false, reason: "unix path rule 1 comes from an extended file (layer 2)" });
  });
});

describe("document → text → document (the spelling of every value)", () => {
  it("DSL: a document with keywords, non-words and escapes everywhere reads back the same", () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        const built = documentToDsl(doc);
        const dsl = printBuiltDsl(built.file, built.comments);
        const back = parseDsl(new Source("p.sbc", dsl));
        expect(back.diagnostics.map((d) => d.message), dsl).toEqual([]);
        expect(back.doc!.value, dsl).toEqual(doc);
      }),
      { numRuns: RUNS },
    );
  }, TIME);

  it("YAML: the same documents read back the same", () => {
    fc.assert(
      fc.property(documentArb, (doc) => {
        const yaml = documentToYaml(doc);
        const back = parseYaml(new Source("p.yaml", yaml));
        expect(back.diagnostics.map((d) => d.message), yaml).toEqual([]);
        expect(back.doc!.value, yaml).toEqual(doc);
      }),
      { numRuns: RUNS },
    );
  }, TIME);

  it("through Prettier: formatted DSL and converted YAML still read back the same, and formatting is idempotent", async () => {
    await fc.assert(
      fc.asyncProperty(documentArb, async (doc) => {
        const built = documentToDsl(doc);
        const dsl = printBuiltDsl(built.file, built.comments);
        const formatted = await prettierFormat(dsl, "dsl", "p.sbc");
        expect(formatted).toBe(dsl);
        const yaml = await convertedText(doc, undefined, "yaml", "p.yaml");
        expect(parseYaml(new Source("p.yaml", yaml)).doc!.value, yaml).toEqual(doc);
      }),
      { numRuns: Math.max(1, Math.ceil(RUNS / 3)) },
    );
  }, TIME);
});

describe("comments through conversions", () => {
  /** `yaml` with comment lines and end-of-line comments inserted where `plan` says; returns the texts. */
  function withComments(yaml: string, plan: readonly { line: number; own: boolean; indent: number }[]): { text: string; texts: string[] } {
    const lines = yaml.split("\n");
    const before = new Map<number, string[]>();
    const texts: string[] = [];
    plan.forEach((p, i) => {
      const at = p.line % lines.length;
      if (p.own) {
        before.set(at, [...(before.get(at) ?? []), `${" ".repeat(p.indent)}# own ${i}`]);
        texts.push(` own ${i}`);
      } else if (lines[at]!.trim() !== "" && !lines[at]!.includes(" # ")) {
        lines[at] += ` # end ${i}`;
        texts.push(` end ${i}`);
      }
    });
    const out = lines.flatMap((l, i) => [...(before.get(i) ?? []), l]);
    return { text: out.join("\n"), texts: texts.sort() };
  }
  const commentTexts = (text: string, syntax: "dsl" | "yaml") => allCommentTexts(readDocument(new Source(`p.${syntax === "dsl" ? "sbc" : "yaml"}`, text), syntax).comments!).sort();
  const planArb = fc.array(fc.record({ line: fc.nat(), own: fc.boolean(), indent: fc.constantFrom(0, 2, 4, 6) }), { maxLength: 8 });

  it("every comment survives YAML → DSL → YAML, the IR does not change, and a second round changes nothing", () => {
    fc.assert(
      fc.property(singleFileIrArb, planArb, (ir, plan) => {
        const doc = documentOf(ir);
        const { text, texts } = withComments(documentToYaml(doc), plan);
        expectSameIr(compileText("p.yaml", text), ir, text);
        expect(commentTexts(text, "yaml"), text).toEqual(texts);
        const read = readDocument(new Source("p.yaml", text), "yaml");
        const dsl = writeDocument(read.value!, read.comments, "dsl");
        expect(commentTexts(dsl, "dsl"), dsl).toEqual(texts);
        expectSameIr(compileText("p.sbc", dsl), ir, dsl);
        const readDsl = readDocument(new Source("p.sbc", dsl), "dsl");
        const yaml = writeDocument(readDsl.value!, readDsl.comments, "yaml");
        expect(commentTexts(yaml, "yaml"), yaml).toEqual(texts);
        const again = readDocument(new Source("p.yaml", yaml), "yaml");
        expect(writeDocument(again.value!, again.comments, "dsl"), yaml).toBe(dsl);
      }),
      { numRuns: RUNS },
    );
  }, TIME);

  it("every comment survives formatting a DSL file and DSL → YAML → DSL; formatting is idempotent", async () => {
    await fc.assert(
      fc.asyncProperty(singleFileIrArb, planArb, async (ir, plan) => {
        const built = documentToDsl(documentOf(ir));
        const { text, texts } = withComments(printBuiltDsl(built.file, built.comments), plan);
        const formatted = await prettierFormat(text, "dsl", "p.sbc");
        expect(commentTexts(formatted, "dsl"), formatted).toEqual(texts);
        expect(await prettierFormat(formatted, "dsl", "p.sbc")).toBe(formatted);
        expectSameIr(compileText("p.sbc", formatted), ir, formatted);
        const read = readDocument(new Source("p.sbc", text), "dsl");
        const yaml = writeDocument(read.value!, read.comments, "yaml");
        expect(commentTexts(yaml, "yaml"), yaml).toEqual(texts);
        const back = readDocument(new Source("p.yaml", yaml), "yaml");
        expect(commentTexts(writeDocument(back.value!, back.comments, "dsl"), "dsl")).toEqual(texts);
      }),
      { numRuns: Math.max(1, Math.ceil(RUNS / 3)) },
    );
  }, TIME);
});

