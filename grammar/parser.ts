// The DSL grammar as chevrotain parsers, built on the first `.sbc` file, never for YAML. Two instances share
// the rules: a quick parser for valid files, built from a stored lookahead table in about 3 ms, and
// the analysed parser (chevrotain's `performSelfAnalysis`, about 15 ms), built only when a file has a syntax
// error. The analysed parser recovers, so one run reports several syntax errors; the messages come from
// `syntax-messages.ts`, not chevrotain. docs/dsl-syntax.md ("How the parser starts") says why and how.

import type { CstNode, CstParser, IRecognitionException, IToken, TokenType } from "chevrotain";
import { ACCESS_CLASSES } from "../ir/access.js";
import { chevrotain } from "./chevrotain.js";
import { dslTokens, KEYWORDS, type DslTokens } from "./lexer.js";
import { installLookahead, NeedsGrammarAnalysis, type LookaheadTable } from "./lookahead.js";
import { LOOKAHEAD_TABLE } from "./lookahead.generated.js";
import { dslErrorMessages } from "./syntax-messages.js";

/** Chevrotain's lookahead depth for the grammar (the stored table was computed with it). */
export const MAX_LOOKAHEAD = 2;

/** Words that end an `errno` action instead of being its value (`expect errno syscall ptrace`). */
export const ERRNO_STOP_WORDS: ReadonlySet<string> = new Set([...KEYWORDS, ...ACCESS_CLASSES, "connect", "bind", "unix", "syscall", "command"]);

export interface DslParser extends CstParser {
  file(): CstNode;
}

/** Syntax errors reported for one file at most; parsing stops at the next one. */
export const MAX_SYNTAX_ERRORS = 25;

/** Thrown (not a recognition exception, so chevrotain does not recover from it) to stop parsing. */
export class TooManySyntaxErrors extends Error {
  constructor() {
    super(`more than ${MAX_SYNTAX_ERRORS} syntax errors`);
  }
}

let instance: DslParser | undefined;
let quick: DslParser | null | undefined;

/**
 * The process's analysed parser: chevrotain's `performSelfAnalysis` records the grammar and computes its
 * lookahead and recovery sets (about 15 ms the first time). It reports syntax errors with recovery, and draws
 * the diagrams. `validate` also runs chevrotain's grammar checks (tests do; the compiler skips them).
 */
export function dslParser(options: { validate?: boolean } = {}): DslParser {
  if (instance && !options.validate) return instance;
  const built = buildParser(options.validate ?? false);
  if (!options.validate) instance = built;
  return built;
}

/**
 * The process's quick parser, or undefined when the stored lookahead table does not fit the grammar or the
 * installed chevrotain (then every file goes to `dslParser()`). See `lookahead.ts`.
 */
export function quickDslParser(): DslParser | undefined {
  if (quick === undefined) quick = buildQuickParser(LOOKAHEAD_TABLE) ?? null;
  return quick ?? undefined;
}

export interface DslParseOutcome {
  /** Absent when parsing stopped at MAX_SYNTAX_ERRORS. */
  readonly cst?: CstNode;
  readonly errors: readonly IRecognitionException[];
}

/**
 * Parses a token vector. The quick parser takes it first; on its first syntax error it gives up and the
 * analysed parser parses the file again, recovering, so an invalid file gets every error it would have got
 * without the quick parser, with the same messages. A valid file never builds the analysed parser.
 */
export function parseDslTokens(tokens: IToken[]): DslParseOutcome {
  const q = quickDslParser();
  if (q) {
    const outcome = runParser(q, tokens);
    if (outcome && outcome.errors.length === 0) return outcome;
  }
  return runParser(dslParser(), tokens) ?? { errors: [] };
}

/** Which of the two parsers this process has built (tests check that a valid file builds only the quick one). */
export function builtParsers(): { quick: boolean; analysed: boolean } {
  return { quick: quick !== undefined && quick !== null, analysed: instance !== undefined };
}

/** One parse with the given parser; undefined when the quick parser met an error it cannot describe without the analysis. */
export function runParser(parser: DslParser, tokens: IToken[]): DslParseOutcome | undefined {
  parser.input = tokens;
  try {
    return { cst: parser.file(), errors: parser.errors };
  } catch (e) {
    if (e instanceof NeedsGrammarAnalysis) return undefined;
    if (e instanceof TooManySyntaxErrors) return { errors: parser.errors };
    throw e;
  }
}

function buildParser(validate: boolean): DslParser {
  const { CstParser: Base, tokenMatcher } = chevrotain();
  const t = dslTokens();

  class Parser extends Base {
    constructor() {
      super([...t.all], { recoveryEnabled: true, maxLookahead: MAX_LOOKAHEAD, errorMessageProvider: dslErrorMessages(), skipValidations: !validate });
      defineRules(this, t, tokenMatcher);
      this.performSelfAnalysis();
    }

    /**
     * Chevrotain's recovery inside a repetition recurses once per error it recovers from, so a file with
     * thousands of errors in one block would exhaust the stack. Stop after MAX_SYNTAX_ERRORS: nobody reads
     * more, and the rest are usually consequences of the first ones.
     */
    SAVE_ERROR(error: unknown): unknown {
      const self = this as unknown as { _errors: unknown[] };
      if (self._errors.length >= MAX_SYNTAX_ERRORS) throw new TooManySyntaxErrors();
      return (Base.prototype as unknown as { SAVE_ERROR(e: unknown): unknown }).SAVE_ERROR.call(this, error);
    }
  }

  return new Parser() as unknown as DslParser;
}

/**
 * The quick parser: the same rules, no recovery, and instead of `performSelfAnalysis` the lookahead functions
 * built from the stored table. It has no recorded grammar, which chevrotain reads only to describe an error or
 * to recover, so reading it throws `NeedsGrammarAnalysis` and the analysed parser takes the file.
 */
export function buildQuickParser(table: LookaheadTable): DslParser | undefined {
  const chev = chevrotain();
  const t = dslTokens();
  let installed = false;

  class QuickParser extends chev.CstParser {
    constructor() {
      super([...t.all], { recoveryEnabled: false, maxLookahead: MAX_LOOKAHEAD, skipValidations: true });
      defineRules(this, t, chev.tokenMatcher);
      installed = installLookahead(this, table, chev, t.all);
    }
  }
  const parser = new QuickParser() as unknown as DslParser;
  return installed ? parser : undefined;
}

/** The grammar: both parsers define these rules in their constructors. */
function defineRules(parser: CstParser, t: DslTokens, tokenMatcher: (token: IToken, type: TokenType) => boolean): void {
  const k = t.keyword;
  const $ = parser as unknown as ParserDsl;
  const R = parser as unknown as Record<string, Rule>;
  const words = (list: TokenType[], label: string) => $.OR(list.map((tok) => ({ ALT: () => $.CONSUME(tok, { LABEL: label }) })));
  const keywordValue = (tok: TokenType) => {
    $.CONSUME(tok, { LABEL: "keyword" });
    $.SUBRULE(R.value, { LABEL: "value" });
  };
  const block = (tok: TokenType, item: () => CstNode) => {
    $.CONSUME(tok, { LABEL: "keyword" });
    $.CONSUME(t.LCurly, { LABEL: "open" });
    $.MANY(() => $.SUBRULE(item, { LABEL: "items" }));
    $.CONSUME(t.RCurly, { LABEL: "close" });
  };

  $.RULE("file", () => {
    $.OPTION(() => $.SUBRULE(R.version));
    $.OPTION2(() => $.SUBRULE(R.policy));
  });
  $.RULE("version", () => keywordValue(k.sbc));
  $.RULE("policy", () => {
    $.CONSUME(k.policy, { LABEL: "keyword" });
    $.OPTION(() => words([t.Word, t.StringLiteral], "name"));
    $.CONSUME(t.LCurly, { LABEL: "open" });
    $.MANY(() => $.SUBRULE(R.statement, { LABEL: "statements" }));
    $.CONSUME(t.RCurly, { LABEL: "close" });
  });
  $.RULE("statement", () =>
    $.OR([
      { ALT: () => $.SUBRULE(R.description) },
      { ALT: () => $.SUBRULE(R.extends) },
      { ALT: () => $.SUBRULE(R.params) },
      { ALT: () => $.SUBRULE(R.filesystem) },
      { ALT: () => $.SUBRULE(R.network) },
      { ALT: () => $.SUBRULE(R.syscalls) },
      { ALT: () => $.SUBRULE(R.commands) },
      { ALT: () => $.SUBRULE(R.linux) },
      { ALT: () => $.SUBRULE(R.tests) },
    ]),
  );
  $.RULE("description", () => keywordValue(k.description));
  $.RULE("extends", () => keywordValue(k.extends));

  $.RULE("params", () => block(k.params, R.param));
  $.RULE("param", () => {
    words([t.Word, t.StringLiteral], "name");
    $.OPTION(() => {
      $.CONSUME(t.Equals, { LABEL: "equals" });
      $.SUBRULE(R.value, { LABEL: "default" });
    });
    $.MANY(() => $.SUBRULE(R.paramClause, { LABEL: "clauses" }));
  });
  $.RULE("paramClause", () => keywordValue(k.description));

  $.RULE("filesystem", () => block(k.filesystem, R.fsRule));
  $.RULE("fsRule", () => {
    words([k.allow, k.deny], "head");
    $.SUBRULE(R.value, { LABEL: "subject" });
    $.MANY(() => $.SUBRULE(R.fsClause, { LABEL: "clauses" }));
  });
  $.RULE("fsClause", () => {
    words([k.path, k.exact, k.glob, k.protect, k["if-missing"], k.reason], "keyword");
    $.SUBRULE(R.value, { LABEL: "value" });
  });

  $.RULE("network", () => {
    $.CONSUME(k.network, { LABEL: "keyword" });
    $.OR([
      {
        ALT: () => {
          $.CONSUME(t.LCurly, { LABEL: "open" });
          $.MANY(() => $.SUBRULE(R.networkItem, { LABEL: "items" }));
          $.CONSUME(t.RCurly, { LABEL: "close" });
        },
      },
      { ALT: () => $.SUBRULE(R.value, { LABEL: "value" }) },
    ]);
  });
  $.RULE("networkItem", () =>
    $.OR([{ ALT: () => $.SUBRULE(R.networkSetting, { LABEL: "setting" }) }, { ALT: () => $.SUBRULE(R.netRule, { LABEL: "rule" }) }]),
  );
  $.RULE("networkSetting", () => $.OR([{ ALT: () => keywordValue(k.mode) }, { ALT: () => $.SUBRULE(R.unix, { LABEL: "unix" }) }]));
  // `unix allow|deny`, or `unix { ... }` with the settings `pairs`, `abstract` and path rules.
  $.RULE("unix", () => {
    $.CONSUME(k.unix, { LABEL: "keyword" });
    $.OR([
      {
        ALT: () => {
          $.CONSUME(t.LCurly, { LABEL: "open" });
          $.MANY(() => $.SUBRULE(R.unixItem, { LABEL: "items" }));
          $.CONSUME(t.RCurly, { LABEL: "close" });
        },
      },
      { ALT: () => $.SUBRULE(R.value, { LABEL: "value" }) },
    ]);
  });
  $.RULE("unixItem", () => $.OR([{ ALT: () => $.SUBRULE(R.unixSetting, { LABEL: "setting" }) }, { ALT: () => $.SUBRULE(R.unixRule, { LABEL: "rule" }) }]));
  $.RULE("unixSetting", () => {
    words([k.pairs, k.abstract], "keyword");
    $.SUBRULE(R.value, { LABEL: "value" });
  });
  $.RULE("unixRule", () => {
    words([k.allow, k.deny], "head");
    $.SUBRULE(R.value, { LABEL: "subject" });
    $.MANY(() => $.SUBRULE(R.unixClause, { LABEL: "clauses" }));
  });
  $.RULE("unixClause", () => {
    words([k.path, k.reason], "keyword");
    $.SUBRULE(R.value, { LABEL: "value" });
  });
  $.RULE("netRule", () => {
    words([k.allow, k.deny], "head");
    $.SUBRULE(R.value, { LABEL: "subject" });
    $.MANY(() => $.SUBRULE(R.netClause, { LABEL: "clauses" }));
  });
  $.RULE("netClause", () => {
    words([k.protocol, k.hosts, k.domains, k.ports, k["http-methods"], k["http-paths"], k.reason], "keyword");
    $.SUBRULE(R.value, { LABEL: "value" });
  });

  $.RULE("syscalls", () => block(k.syscalls, R.syscallsItem));
  $.RULE("syscallsItem", () =>
    $.OR([{ ALT: () => $.SUBRULE(R.syscallsSetting, { LABEL: "setting" }) }, { ALT: () => $.SUBRULE(R.syscallRule, { LABEL: "rule" }) }]),
  );
  $.RULE("syscallsSetting", () => {
    words([k.default, k["foreign-arch"], k.newer, k.kernel], "keyword");
    $.SUBRULE(R.action, { LABEL: "value" });
  });
  $.RULE("syscallRule", () => {
    $.CONSUME(k.rule, { LABEL: "head" });
    $.SUBRULE(R.value, { LABEL: "subject" });
    $.SUBRULE(R.action, { LABEL: "action" });
    $.MANY(() => $.SUBRULE(R.syscallClause, { LABEL: "clauses" }));
  });
  $.RULE("syscallClause", () => {
    words([k.args, k.reason], "keyword");
    $.SUBRULE(R.value, { LABEL: "value" });
  });
  $.RULE("action", () =>
    $.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          ALT: () => {
            $.CONSUME(k.errno, { LABEL: "errno" });
            $.OPTION({ GATE: () => errnoValueFollows($.LA(1)), DEF: () => $.SUBRULE(R.scalar, { LABEL: "value" }) });
          },
        },
        {
          // `trace N`: only an integer is its data, so `expect trace syscall ptrace` is the bare word.
          ALT: () => {
            $.CONSUME(k.trace, { LABEL: "trace" });
            $.OPTION2({ GATE: () => tokenMatcher($.LA(1), t.Integer), DEF: () => $.SUBRULE3(R.scalar, { LABEL: "value" }) });
          },
        },
        { ALT: () => $.SUBRULE2(R.scalar, { LABEL: "value" }) },
      ],
    }),
  );

  $.RULE("commands", () => block(k.commands, R.commandsItem));
  $.RULE("commandsItem", () =>
    $.OR([{ ALT: () => $.SUBRULE(R.commandsSetting, { LABEL: "setting" }) }, { ALT: () => $.SUBRULE(R.commandRule, { LABEL: "rule" }) }]),
  );
  $.RULE("commandsSetting", () => keywordValue(k.default));
  $.RULE("commandRule", () => {
    words([k.allow, k.prompt, k.forbidden], "head");
    $.SUBRULE(R.value, { LABEL: "subject" });
    $.MANY(() => $.SUBRULE(R.commandClause, { LABEL: "clauses" }));
  });
  $.RULE("commandClause", () => keywordValue(k.reason));

  $.RULE("linux", () => block(k.linux, R.linuxSetting));
  $.RULE("linuxSetting", () => {
    words([k.namespaces, k["accept-widening"]], "keyword");
    $.SUBRULE(R.value, { LABEL: "value" });
  });

  $.RULE("tests", () => block(k.tests, R.test));
  $.RULE("test", () => {
    $.CONSUME(k.expect, { LABEL: "head" });
    $.SUBRULE(R.action, { LABEL: "action" });
    $.CONSUME(t.Word, { LABEL: "query" });
    $.SUBRULE(R.value, { LABEL: "subject" });
    $.MANY(() => $.SUBRULE(R.testClause, { LABEL: "clauses" }));
  });
  $.RULE("testClause", () => {
    words([k.protocol, k.args, k.path, k.abstract, k.name], "keyword");
    $.SUBRULE(R.value, { LABEL: "value" });
  });

  $.RULE("value", () => $.OR([{ ALT: () => $.SUBRULE(R.scalar, { LABEL: "scalar" }) }, { ALT: () => $.SUBRULE(R.list, { LABEL: "list" }) }]));
  $.RULE("scalar", () => words([t.Word, t.StringLiteral, t.Integer], "token"));
  $.RULE("list", () => {
    $.CONSUME(t.LBracket, { LABEL: "open" });
    $.OPTION(() => {
      $.SUBRULE(R.value, { LABEL: "items" });
      $.MANY(() => {
        $.CONSUME(t.Comma);
        $.SUBRULE2(R.value, { LABEL: "items" });
      });
      $.OPTION2(() => $.CONSUME2(t.Comma));
    });
    $.CONSUME(t.RBracket, { LABEL: "close" });
  });

  const errnoValueFollows = (next: IToken): boolean =>
    tokenMatcher(next, t.Integer) || tokenMatcher(next, t.StringLiteral) || (tokenMatcher(next, t.Word) && !ERRNO_STOP_WORDS.has(next.image));
}

/** The parts of chevrotain's protected DSL the grammar uses, with the rules as properties. */
type Rule = (idx?: number) => CstNode;
interface ParserDsl {
  RULE(name: string, body: () => unknown): Rule;
  CONSUME(tok: TokenType, opts?: { LABEL?: string }): IToken;
  CONSUME2(tok: TokenType, opts?: { LABEL?: string }): IToken;
  SUBRULE(rule: Rule, opts?: { LABEL?: string }): CstNode;
  SUBRULE2(rule: Rule, opts?: { LABEL?: string }): CstNode;
  SUBRULE3(rule: Rule, opts?: { LABEL?: string }): CstNode;
  OPTION(def: (() => unknown) | { GATE: () => boolean; DEF: () => unknown }): unknown;
  OPTION2(def: (() => unknown) | { GATE: () => boolean; DEF: () => unknown }): unknown;
  MANY(def: () => unknown): void;
  OR(alts: { ALT: () => unknown }[] | { IGNORE_AMBIGUITIES: boolean; DEF: { ALT: () => unknown }[] }): unknown;
  LA(i: number): IToken;
}
