// The DSL scanner (grammar/lexer.ts `scan`) against chevrotain's own Lexer built from the same token
// patterns: on random text from an alphabet of every character class the grammar cares about, both give the
// same tokens (image, offset, type), the same comments and the same error runs. The scanner replaced the
// Lexer only to spare its construction cost, so any difference is a bug.

import fc from "fast-check";
import type { IToken, TokenType } from "chevrotain";
import { describe, expect, it } from "vitest";
import { chevrotain } from "../grammar/chevrotain.js";
import { dslTokens, KEYWORDS, scan } from "../grammar/lexer.js";

const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 500);

function chevrotainLexer() {
  const t = dslTokens();
  const { Lexer } = chevrotain();
  const byName = (name: string) => t.all.find((x) => x.name === name)!;
  const order: TokenType[] = [byName("WhiteSpace"), t.Comment, t.StringLiteral, t.Integer, t.LCurly, t.RCurly, t.LBracket, t.RBracket, t.Comma, t.Equals, t.Identifier];
  return new Lexer(order, { positionTracking: "onlyOffset" });
}

const keywords = new Set<string>(KEYWORDS);
/** Keywords are Identifiers to chevrotain's Lexer; the scanner retypes them. */
const shown = (tok: IToken) => {
  const t = dslTokens();
  const type = keywords.has(tok.image) && tok.tokenType !== t.StringLiteral && tok.tokenType !== t.Comment ? "Identifier" : tok.tokenType.name;
  return `${type}@${tok.startOffset}:${tok.image}`;
};

const pieces = [
  ..."{}[],=\"\\#-_@.$/:;'~ \t\r\n\u0007\u00e9\u2028",
  "\ud83d\ude00",
  "allow",
  "deny",
  "if-missing",
  "errno",
  "x1",
  "42",
  "-7",
  '"a b"',
  '"\\"',
  "#c\n",
];

describe("the DSL scanner agrees with chevrotain's Lexer", () => {
  const lexer = chevrotainLexer();
  it("on random text", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (parts) => {
        const text = parts.join("");
        const ours = scan(text);
        const theirs = lexer.tokenize(text);
        expect(ours.tokens.map(shown)).toEqual(theirs.tokens.map(shown));
        expect(ours.comments.map(shown)).toEqual(((theirs.groups.comments ?? []) as IToken[]).map(shown));
        expect(ours.errors.map((e) => e.offset)).toEqual(theirs.errors.map((e) => e.offset));
        // And keywords come out as the keyword tokens the parser expects.
        for (const tok of ours.tokens) if (keywords.has(tok.image) && tok.tokenType.name !== "String") expect(tok.tokenType).toBe(dslTokens().keyword[tok.image as (typeof KEYWORDS)[number]]);
      }),
      { numRuns: RUNS },
    );
  });
});
