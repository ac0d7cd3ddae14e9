// The quick DSL parser (grammar/lookahead.ts): built from the stored lookahead table instead of chevrotain's
// `performSelfAnalysis`, it must decide exactly as the analysed parser does. Checked three ways: every stored
// lookahead function against chevrotain's own on every pair of tokens; the same CST for every valid DSL file
// of the repository and for random valid policies; and on random damaged inputs, the same verdict (valid or
// not) and, through `parseDslTokens`, the same diagnostics as the analysed parser alone. Also: the table
// declines when it does not fit, and a valid file never builds the analysed parser. Runs: SBC_PROPERTY_RUNS.

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CstNode, IToken, TokenType } from "chevrotain";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Source } from "../diagnostics/source.js";
import { irToDocument } from "../language/ir-to-document.js";
import { chevrotain } from "../grammar/chevrotain.js";
import { documentToDsl } from "../grammar/from-document.js";
import { dslTokens, lexDsl } from "../grammar/lexer.js";
import { computeLookaheadTable, type LookaheadTable } from "../grammar/lookahead.js";
import { LOOKAHEAD_TABLE } from "../grammar/lookahead.generated.js";
import { buildQuickParser, dslParser, MAX_LOOKAHEAD, parseDslTokens, quickDslParser, runParser, type DslParser } from "../grammar/parser.js";
import { printBuiltDsl } from "../grammar/print.js";
import { syntaxDiagnostics } from "../grammar/syntax-messages.js";
import { ensureBuilt, REPO } from "./support/cli.js";
import { singleFileIrArb } from "./support/policy-arbitrary.js";

const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 300);

type LaFunction = (this: unknown, alts?: unknown[]) => unknown;
const laFunctions = (p: DslParser) => (p as unknown as { lookAheadFuncsCache: Map<number, LaFunction> }).lookAheadFuncsCache;

/** The token types a lexed file can contain, plus EOF. */
function vocabulary(): TokenType[] {
  const t = dslTokens();
  return [...t.all.filter((x) => x !== t.all[0] && x !== t.Comment && x !== t.Word), chevrotain().EOF];
}
const tokenOf = (type: TokenType, at = 0): IToken => ({ image: type.name.toLowerCase(), startOffset: at, tokenType: type, tokenTypeIdx: type.tokenTypeIdx! }) as IToken;

/**
 * Keys on which two parsers' lookahead functions disagree, over every sequence of two token types (the
 * grammar's lookahead depth) followed by EOF. Alternations get one alternative object per branch, without gates
 * (the grammar has none; the quick parser declines a table with one).
 */
function disagreements(a: DslParser, b: DslParser): string[] {
  const fa = laFunctions(a);
  const fb = laFunctions(b);
  const out: string[] = [];
  const keys = new Set([...fa.keys(), ...fb.keys()]);
  const vocab = vocabulary();
  const EOF = chevrotain().EOF;
  const alts = Array.from({ length: 16 }, () => ({ ALT: () => undefined }));
  for (const key of keys) {
    const f = fa.get(key);
    const g = fb.get(key);
    if (!f || !g) {
      out.push(`key ${key}: present in one parser only`);
      continue;
    }
    for (const x of vocab) {
      for (const y of vocab) {
        const tokens = [tokenOf(x), tokenOf(y), tokenOf(EOF), tokenOf(EOF)];
        a.input = tokens;
        const ra = f.call(a, alts);
        b.input = tokens;
        const rb = g.call(b, alts);
        if (ra !== rb) out.push(`key ${key} on ${x.name} ${y.name}: ${String(ra)} vs ${String(rb)}`);
      }
    }
  }
  return out;
}

/** A parse with one parser, as `{ cst, errors }` with the errors reduced to what a reader sees. */
function parseWith(parser: DslParser, tokens: IToken[]): { cst?: CstNode; errors: string[] } | "needs analysis" {
  const r = runParser(parser, tokens);
  if (!r) return "needs analysis";
  return { cst: r.cst, errors: r.errors.map((e) => `${e.name} ${e.token.startOffset} ${e.message}`) };
}

function repositoryDslFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith(".sbc")) out.push(join(dir, e.name));
    }
  };
  for (const d of ["fixtures", "bench/inputs", "presets", "docs"]) walk(join(REPO, d));
  return out.sort();
}

function dslOfIr(ir: Parameters<typeof irToDocument>[0]): string | undefined {
  const d = irToDocument(ir);
  if (!d.ok) return undefined;
  const built = documentToDsl(d.document);
  return printBuiltDsl(built.file, built.comments);
}

describe("the stored lookahead table", () => {
  it("is what chevrotain computes for the grammar now (else: npm run gen)", () => {
    expect(computeLookaheadTable(dslParser(), chevrotain(), MAX_LOOKAHEAD)).toEqual(LOOKAHEAD_TABLE);
  });

  it("fits this chevrotain and grammar, so the quick parser is used", () => {
    expect(quickDslParser()).toBeDefined();
    expect(quickDslParser()).toBe(quickDslParser());
  });

  it("gives every lookahead function the analysed parser has, deciding the same on every token pair", () => {
    const quick = quickDslParser()!;
    expect([...laFunctions(quick).keys()].sort()).toEqual([...laFunctions(dslParser()).keys()].sort());
    expect(disagreements(quick, dslParser())).toEqual([]);
  });

  it("the comparison above notices a table with two alternatives swapped or a path removed", () => {
    const i = LOOKAHEAD_TABLE.decisions.findIndex((d) => d.rule === "value" && d.kind === "Alternation");
    const swapped: LookaheadTable = {
      ...LOOKAHEAD_TABLE,
      decisions: LOOKAHEAD_TABLE.decisions.map((d, j) => (j === i ? { ...d, alternatives: [...d.alternatives].reverse() } : d)),
    };
    expect(disagreements(buildQuickParser(swapped)!, dslParser()).length).toBeGreaterThan(0);
    const k = LOOKAHEAD_TABLE.decisions.findIndex((d) => d.rule === "policy" && d.kind === "Repetition");
    const shorter: LookaheadTable = {
      ...LOOKAHEAD_TABLE,
      decisions: LOOKAHEAD_TABLE.decisions.map((d, j) => (j === k ? { ...d, alternatives: [d.alternatives[0]!.slice(1)] } : d)),
    };
    expect(disagreements(buildQuickParser(shorter)!, dslParser())).toEqual(expect.arrayContaining([expect.stringMatching(/on Description /)]));
  });

  it("is declined, and the analysed parser used, for another chevrotain version or depth, other rules, an unknown token or a gate", () => {
    expect(buildQuickParser({ ...LOOKAHEAD_TABLE, chevrotain: "11.1.0" })).toBeUndefined();
    expect(buildQuickParser({ ...LOOKAHEAD_TABLE, maxLookahead: 3 })).toBeUndefined();
    expect(buildQuickParser({ ...LOOKAHEAD_TABLE, rules: LOOKAHEAD_TABLE.rules.slice(1) })).toBeUndefined();
    expect(buildQuickParser({ ...LOOKAHEAD_TABLE, rules: [...LOOKAHEAD_TABLE.rules].reverse() })).toBeUndefined();
    const unknown = LOOKAHEAD_TABLE.decisions.map((d, j) => (j === 0 ? { ...d, alternatives: [[["NoSuchToken"]]] } : d));
    expect(buildQuickParser({ ...LOOKAHEAD_TABLE, decisions: unknown })).toBeUndefined();
    const gated = LOOKAHEAD_TABLE.decisions.map((d) => (d.kind === "Alternation" && d.rule === "value" ? { ...d, gated: true } : d));
    expect(buildQuickParser({ ...LOOKAHEAD_TABLE, decisions: gated })).toBeUndefined();
    expect(buildQuickParser(LOOKAHEAD_TABLE)).toBeDefined();
  });
});

describe("the quick parser and the analysed parser", () => {
  it("give the same CST for every DSL file in the repository, and the same verdict on the broken ones", () => {
    const files = repositoryDslFiles();
    let valid = 0;
    let broken = 0;
    for (const f of files) {
      const { tokens } = lexDsl(new Source(f, readFileSync(f, "utf8")));
      const quick = parseWith(quickDslParser()!, tokens);
      const analysed = parseWith(dslParser(), tokens);
      if (analysed === "needs analysis") throw new Error("the analysed parser never needs analysis");
      if (analysed.errors.length === 0) {
        valid++;
        expect(quick, f).toEqual(analysed);
      } else {
        broken++;
        expect(quick === "needs analysis" || quick.errors.length > 0, f).toBe(true);
      }
    }
    expect(valid).toBeGreaterThan(50);
    expect(broken).toBeGreaterThan(0);
  });

  it("give the same CST for random valid policies", () => {
    fc.assert(
      fc.property(singleFileIrArb, (ir) => {
        const text = dslOfIr(ir);
        if (text === undefined) return;
        const { tokens } = lexDsl(new Source("p.sbc", text));
        const quick = parseWith(quickDslParser()!, tokens);
        expect(quick).toEqual(parseWith(dslParser(), tokens));
        expect(quick).not.toBe("needs analysis");
      }),
      { numRuns: RUNS },
    );
  }, 60_000);

  it("agree on damaged policies: the quick parser gives up exactly when the analysed one finds an error, and parseDslTokens reports what the analysed parser does", () => {
    const vocab = vocabulary().filter((t) => t !== chevrotain().EOF);
    const edit = fc.oneof(
      fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("duplicate" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("swap" as const), at: fc.nat() }),
      fc.record({ op: fc.constant("insert" as const), at: fc.nat(), type: fc.constantFrom(...vocab) }),
    );
    let damaged = 0;
    fc.assert(
      fc.property(singleFileIrArb, fc.array(edit, { minLength: 1, maxLength: 3 }), (ir, edits) => {
        const text = dslOfIr(ir);
        if (text === undefined) return;
        const source = new Source("p.sbc", text);
        const tokens = [...lexDsl(source).tokens];
        for (const e of edits) {
          if (tokens.length === 0) break;
          const at = e.at % tokens.length;
          if (e.op === "delete") tokens.splice(at, 1);
          else if (e.op === "duplicate") tokens.splice(at, 0, { ...tokens[at]! });
          else if (e.op === "swap" && at + 1 < tokens.length) [tokens[at], tokens[at + 1]] = [tokens[at + 1]!, tokens[at]!];
          else if (e.op === "insert") tokens.splice(at, 0, tokenOf(e.type, tokens[at]!.startOffset));
        }
        const analysed = parseWith(dslParser(), tokens);
        if (analysed === "needs analysis") throw new Error("the analysed parser never needs analysis");
        const quick = parseWith(quickDslParser()!, tokens);
        const quickFailed = quick === "needs analysis" || quick.errors.length > 0;
        expect(quickFailed).toBe(analysed.errors.length > 0);
        if (!quickFailed) expect(quick).toEqual(analysed);
        else damaged++;
        const both = parseDslTokens(tokens);
        const alone = runParser(dslParser(), tokens)!;
        expect(syntaxDiagnostics(source, both.errors)).toEqual(syntaxDiagnostics(source, alone.errors));
        expect(both.cst === undefined).toBe(alone.cst === undefined);
      }),
      { numRuns: RUNS },
    );
    expect(damaged).toBeGreaterThan(RUNS / 4);
  }, 60_000);

  it("the quick parser parses valid files again after giving up on a broken one", () => {
    const parse = (text: string) => parseWith(quickDslParser()!, lexDsl(new Source("p.sbc", text)).tokens);
    const valid = 'sbc 1\npolicy p {\n  network none\n}\n';
    const first = parse(valid);
    expect(parse("sbc 1\npolicy p {\n  network { allow }\n}\n")).toBe("needs analysis");
    expect(parse("sbc 1\npolicy p {\n  network none\n")).toMatchObject({ errors: [expect.stringMatching(/^MismatchedTokenException/)] });
    expect(parse(valid)).toEqual(first);
  });
});

describe("in a fresh process (the built dist/)", () => {
  it("a valid file builds only the quick parser; a file with a syntax error builds the analysed one too", () => {
    ensureBuilt();
    const script = `
      const { parseDsl } = await import(${JSON.stringify(pathToFileURL(join(REPO, "dist/grammar/index.js")).href)});
      const { builtParsers } = await import(${JSON.stringify(pathToFileURL(join(REPO, "dist/grammar/parser.js")).href)});
      const { Source } = await import(${JSON.stringify(pathToFileURL(join(REPO, "dist/diagnostics/source.js")).href)});
      const before = builtParsers();
      const ok = parseDsl(new Source("a.sbc", "sbc 1\\npolicy a {\\n  network none\\n}\\n"));
      const afterValid = builtParsers();
      const bad = parseDsl(new Source("b.sbc", "sbc 1\\npolicy b {\\n  network { allow }\\n}\\n"));
      console.log(JSON.stringify({ before, ok: ok.diagnostics.length, afterValid, bad: bad.diagnostics.map((d) => d.code), afterBad: builtParsers() }));
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      before: { quick: false, analysed: false },
      ok: 0,
      afterValid: { quick: true, analysed: false },
      bad: [expect.stringMatching(/^SBC12/)],
      afterBad: { quick: true, analysed: true },
    });
  });
});
