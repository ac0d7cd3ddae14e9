// The DSL grammar's lookahead, computed ahead of time. Chevrotain's `performSelfAnalysis` records the grammar
// by running every rule, then computes, for each choice the parser makes (an OR, an OPTION, a MANY), the token
// sequences that lead into each branch. On Node 20 that costs about 15 ms on the first `.sbc` file, for a
// result that depends only on the grammar. `npm run gen` stores the result (lookahead.generated.ts, from
// chevrotain's public `getLookaheadPaths`), and the quick parser is built from it without the analysis.
//
// Installing the table writes three fields of chevrotain's parser that its public API does not name:
// `lookAheadFuncsCache` (where `performSelfAnalysis` puts the lookahead functions, keyed as below),
// `selfAnalysisDone`, and `gastProductionsCache` (the recorded grammar). chevrotain is pinned to one version
// (package.json) and the table records it; on any other version, or when the rules differ from the table's,
// `installLookahead` declines and every file goes to the analysed parser. tests/dsl-quick-parser.test.ts checks
// the installed functions against the analysed parser's on every token pair.

import type { CstParser, IProduction, IToken, Rule, TokenType } from "chevrotain";
import type { Chevrotain } from "./chevrotain.js";

/** The productions that make a lookahead decision, by chevrotain's GAST class names. */
export type DecisionKind = "Alternation" | "Option" | "Repetition" | "RepetitionMandatory" | "RepetitionWithSeparator" | "RepetitionMandatoryWithSeparator";

/** Chevrotain 11's lookahead keys: rule index << 12 | DSL method << 8 | occurrence (parse/grammar/keys.ts). */
const METHOD_KEY: Readonly<Record<DecisionKind, number>> = {
  Alternation: 1 << 8,
  Option: 2 << 8,
  Repetition: 3 << 8,
  RepetitionMandatory: 4 << 8,
  RepetitionWithSeparator: 5 << 8,
  RepetitionMandatoryWithSeparator: 6 << 8,
};
const DECISION_KINDS = Object.keys(METHOD_KEY) as DecisionKind[];

export interface LookaheadDecision {
  readonly rule: string;
  readonly kind: DecisionKind;
  /** The occurrence: 2 for `OPTION2`, 0 for `OPTION`. */
  readonly idx: number;
  /** Alternations only: some alternative has a GATE. The quick parser declines such a table (none in the grammar). */
  readonly gated: boolean;
  /**
   * For each alternative (an optional production has one: entering its body), the token sequences that
   * choose it, by token name. The first alternative with a matching sequence wins, as in chevrotain.
   */
  readonly alternatives: readonly (readonly (readonly string[])[])[];
}

export interface LookaheadTable {
  /** The chevrotain version that computed the table. */
  readonly chevrotain: string;
  readonly maxLookahead: number;
  /** The rules in the order the parser defines them (their index is part of every key). */
  readonly rules: readonly string[];
  readonly decisions: readonly LookaheadDecision[];
}

/**
 * Thrown by the quick parser when chevrotain reads the recorded grammar it does not have: only to describe a
 * syntax error (the expected tokens) or to recover from one. The caller parses the file again with the
 * analysed parser.
 */
export class NeedsGrammarAnalysis extends Error {
  constructor() {
    super("the quick DSL parser has no recorded grammar; the analysed parser takes this file");
  }
}

/** The table of an analysed parser (`performSelfAnalysis` done), in a stable order. */
export function computeLookaheadTable(parser: CstParser, chev: Chevrotain, maxLookahead: number): LookaheadTable {
  const grammar = parser.getGAstProductions() as Record<string, Rule>;
  const decisions: LookaheadDecision[] = [];
  for (const rule of Object.values(grammar)) {
    for (const [kind, prod] of decisionProductions(rule.definition, chev)) {
      const own = prod as unknown as { idx: number; maxLookahead?: number; hasPredicates?: boolean };
      const paths = chev.getLookaheadPaths({ occurrence: own.idx, rule, prodType: kind, maxLookahead: own.maxLookahead ?? maxLookahead });
      // An optional production's paths are [into its body, past it]; chevrotain decides on the first only.
      const alternatives = kind === "Alternation" ? paths : [paths[0]!];
      decisions.push({
        rule: rule.name,
        kind,
        idx: own.idx,
        gated: kind === "Alternation" && own.hasPredicates === true,
        alternatives: alternatives.map((alt) => alt.map((path) => path.map((tok) => tok.name))),
      });
    }
  }
  return { chevrotain: chev.VERSION, maxLookahead, rules: Object.keys(grammar), decisions };
}

/** Every production under `definition` that makes a decision, outer before inner, in source order. */
function decisionProductions(definition: readonly IProduction[], chev: Chevrotain): [DecisionKind, IProduction][] {
  const out: [DecisionKind, IProduction][] = [];
  const visit = (prods: readonly IProduction[]) => {
    for (const p of prods) {
      const kind = DECISION_KINDS.find((k) => p.constructor === chev[k]);
      if (kind) out.push([kind, p]);
      const inner = (p as { definition?: IProduction[] }).definition;
      if (inner && !(p instanceof chev.NonTerminal)) visit(inner);
    }
  };
  visit(definition);
  return out;
}

/** The generated module holding a table (reviewable: one decision per line). */
export function lookaheadTableModule(table: LookaheadTable): string {
  return [
    "// Code generated by scripts/generators.ts from grammar/parser.ts with chevrotain's getLookaheadPaths (grammar/lookahead.ts).",
    "// DO NOT EDIT; regenerate with `npm run gen`.",
    "",
    'import type { LookaheadTable } from "./lookahead.js";',
    "",
    "export const LOOKAHEAD_TABLE: LookaheadTable = {",
    `  chevrotain: ${JSON.stringify(table.chevrotain)},`,
    `  maxLookahead: ${table.maxLookahead},`,
    `  rules: ${JSON.stringify(table.rules)},`,
    "  decisions: [",
    ...table.decisions.map((d) => `    ${JSON.stringify(d)},`),
    "  ],",
    "};",
    "",
  ].join("\n");
}

/** What `installLookahead` reads and writes of a parser whose rules are defined. */
interface ParserInternals {
  definedRulesNames: string[];
  fullRuleNameToShort: Record<string, number>;
  lookAheadFuncsCache: Map<number, LookaheadFunction>;
  selfAnalysisDone: boolean;
  maxLookahead: number;
  LA(i: number): IToken;
}
type LookaheadFunction = (this: ParserInternals) => number | boolean | undefined;

/**
 * Makes a parser whose rules are defined (and whose constructor has not called `performSelfAnalysis`) ready to
 * parse valid input, with the table's lookahead. Returns false, leaving the parser unusable, when the table
 * does not fit: another chevrotain or lookahead depth, other rules, a gated alternation, or a token it does
 * not know.
 */
export function installLookahead(parser: CstParser, table: LookaheadTable, chev: Chevrotain, tokens: readonly TokenType[]): boolean {
  const p = parser as unknown as ParserInternals;
  if (table.chevrotain !== chev.VERSION || table.maxLookahead !== p.maxLookahead) return false;
  if (!(p.lookAheadFuncsCache instanceof Map) || typeof p.fullRuleNameToShort !== "object") return false;
  if (p.definedRulesNames.length !== table.rules.length || p.definedRulesNames.some((r, i) => r !== table.rules[i])) return false;
  const byName = new Map<string, TokenType>(tokens.map((t) => [t.name, t]));
  byName.set(chev.EOF.name, chev.EOF);
  for (const d of table.decisions) {
    // Gates are not in this grammar; a gated alternation would need the GATE calls chevrotain makes.
    if (d.gated) return false;
    const alternatives = d.alternatives.map((alt) => alt.map((path) => path.map((name) => byName.get(name))));
    if (alternatives.some((alt) => alt.some((path) => path.includes(undefined)))) return false;
    const alts = alternatives as TokenType[][][];
    const oneToken = alts.every((alt) => alt.every((path) => path.length === 1));
    const fn = oneToken
      ? oneTokenLookahead(alts, d.kind === "Alternation")
      : d.kind === "Alternation"
        ? alternationLookahead(alts, chev.tokenMatcher)
        : optionalLookahead(alts[0]!, chev.tokenMatcher);
    p.lookAheadFuncsCache.set(p.fullRuleNameToShort[d.rule]! | METHOD_KEY[d.kind] | d.idx, fn);
  }
  Object.defineProperty(p, "gastProductionsCache", {
    configurable: true,
    get() {
      throw new NeedsGrammarAnalysis();
    },
  });
  p.selfAnalysisDone = true;
  return true;
}

type Matcher = (token: IToken, type: TokenType) => boolean;

const matches = (parser: ParserInternals, path: readonly TokenType[], tokenMatcher: Matcher): boolean => {
  for (let i = 0; i < path.length; i++) if (!tokenMatcher(parser.LA(i + 1), path[i]!)) return false;
  return true;
};

/** The index of the first alternative one of whose paths matches, as chevrotain's. */
function alternationLookahead(alternatives: TokenType[][][], tokenMatcher: Matcher): LookaheadFunction {
  return function (this: ParserInternals) {
    for (let a = 0; a < alternatives.length; a++) {
      for (const path of alternatives[a]!) if (matches(this, path, tokenMatcher)) return a;
    }
    return undefined;
  };
}

/**
 * A decision on the next token alone (most of the grammar's): a table from token type index to the first
 * alternative it starts, a token also starting the alternatives of its categories (a keyword is a Word).
 * The same answers as the general functions below, in one lookup.
 */
function oneTokenLookahead(alternatives: TokenType[][][], alternation: boolean): LookaheadFunction {
  const choice: number[] = [];
  alternatives.forEach((alt, a) => {
    for (const [type] of alt) {
      for (const idx of [type!.tokenTypeIdx!, ...(type!.categoryMatches ?? [])]) if (choice[idx] === undefined) choice[idx] = a;
    }
  });
  return alternation
    ? function (this: ParserInternals) {
        return choice[this.LA(1).tokenTypeIdx];
      }
    : function (this: ParserInternals) {
        return choice[this.LA(1).tokenTypeIdx] !== undefined;
      };
}

/** Whether one of the body's paths matches. */
function optionalLookahead(paths: TokenType[][], tokenMatcher: Matcher): LookaheadFunction {
  return function (this: ParserInternals) {
    for (const path of paths) if (matches(this, path, tokenMatcher)) return true;
    return false;
  };
}
