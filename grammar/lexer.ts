// The DSL's tokens and lexer. Keywords are tokens of their own (so the grammar, its diagrams and its error
// messages can name them) that also count as words, because a keyword is an ordinary value where a value is
// expected (`unix allow`, `extends default`). Strings are lexed leniently and checked here, so one bad string
// is one diagnostic and the parser still sees a string token.

import type { IToken, TokenType } from "chevrotain";
import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { span, type Source } from "../diagnostics/source.js";
import type { DslComment } from "./ast.js";
import { chevrotain } from "./chevrotain.js";

/** Every keyword of the grammar, as written. Token names are derived from them (`if-missing` → `IfMissing`). */
export const KEYWORDS = [
  "sbc",
  "policy",
  "description",
  "extends",
  "params",
  "filesystem",
  "network",
  "syscalls",
  "commands",
  "linux",
  "tests",
  "allow",
  "deny",
  "prompt",
  "forbidden",
  "path",
  "exact",
  "glob",
  "protect",
  "if-missing",
  "reason",
  "mode",
  "unix",
  "pairs",
  "abstract",
  "protocol",
  "hosts",
  "domains",
  "ports",
  "http-methods",
  "http-paths",
  "default",
  "foreign-arch",
  "newer",
  "kernel",
  "namespaces",
  "accept-widening",
  "rule",
  "args",
  "errno",
  "trace",
  "expect",
  "name",
] as const;
export type Keyword = (typeof KEYWORDS)[number];

/**
 * The word pattern of docs/dsl-syntax.md; the printer quotes anything that does not match it whole. A word may
 * end in `:NUMBER` (a syscall by number on one architecture: `x86_64:335`, `aarch64:0x1f`, `x86_64:-1`).
 */
export const WORD_PATTERN = /[A-Za-z_@][A-Za-z0-9_.@-]*(?::-?[0-9][A-Za-z0-9]*)?/;

export interface DslTokens {
  readonly Word: TokenType;
  readonly Identifier: TokenType;
  readonly StringLiteral: TokenType;
  readonly Integer: TokenType;
  readonly LCurly: TokenType;
  readonly RCurly: TokenType;
  readonly LBracket: TokenType;
  readonly RBracket: TokenType;
  readonly Comma: TokenType;
  readonly Equals: TokenType;
  readonly Comment: TokenType;
  readonly keyword: Readonly<Record<Keyword, TokenType>>;
  readonly all: readonly TokenType[];
}

let tokens: DslTokens | undefined;
let keywordByImage: ReadonlyMap<string, TokenType> = new Map();
/** The scanner's patterns in the order they are tried (the first that matches wins); no type: skipped. */
let scanRules: readonly (readonly [RegExp, TokenType | undefined])[] = [];

const tokenName = (k: string) => k.replace(/(^|-)([a-z])/g, (_, _d, c: string) => c.toUpperCase());

export function dslTokens(): DslTokens {
  if (tokens) return tokens;
  const { createToken, Lexer } = chevrotain();
  // `start_chars_hint` spares the lexer from analysing each pattern to find its first characters (a few
  // milliseconds of the first DSL file's start-up).
  const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED, start_chars_hint: [" ", "\t", "\r", "\n"] });
  const Comment = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments", start_chars_hint: ["#"] });
  const Word = createToken({ name: "Word", pattern: Lexer.NA, label: "WORD" });
  const Identifier = createToken({ name: "Identifier", pattern: WORD_PATTERN, categories: [Word], label: "WORD", start_chars_hint: [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_@"] });
  // Lenient on purpose: an unclosed string ends at the line's end, and bad escapes or control characters are
  // reported by `checkString`, not as a lexer failure that would swallow the rest of the line.
  const StringLiteral = createToken({ name: "String", pattern: /"(?:[^"\\\n\r]|\\[^\n\r]?)*"?/, label: "STRING", start_chars_hint: ['"'] });
  const Integer = createToken({ name: "Integer", pattern: /-?[0-9]+/, label: "INTEGER", start_chars_hint: [..."-0123456789"] });
  const punct = (name: string, pattern: string) => createToken({ name, pattern, label: `'${pattern}'` });
  const LCurly = punct("LCurly", "{");
  const RCurly = punct("RCurly", "}");
  const LBracket = punct("LBracket", "[");
  const RBracket = punct("RBracket", "]");
  const Comma = punct("Comma", ",");
  const Equals = punct("Equals", "=");
  // Keywords are not lexed by patterns of their own: the lexer reads every word as an Identifier and
  // `lexDsl` retypes the ones that are keywords (a lookup instead of 32 more patterns for the lexer to
  // analyse and try). The parser still knows them as tokens, each also a Word.
  const keyword = Object.fromEntries(KEYWORDS.map((k) => [k, createToken({ name: tokenName(k), pattern: Lexer.NA, categories: [Word], label: `'${k}'` })])) as Record<Keyword, TokenType>;
  const all = [WhiteSpace, Comment, StringLiteral, Integer, LCurly, RCurly, LBracket, RBracket, Comma, Equals, ...Object.values(keyword), Identifier, Word];
  keywordByImage = new Map(KEYWORDS.map((k) => [k as string, keyword[k]]));
  tokens = { Word, Identifier, StringLiteral, Integer, LCurly, RCurly, LBracket, RBracket, Comma, Equals, Comment, keyword, all };
  scanRules = [
    [/[ \t\r\n]+/y, undefined],
    [/#[^\n\r]*/y, Comment],
    [/"(?:[^"\\\n\r]|\\[^\n\r]?)*"?/y, StringLiteral],
    [/-?[0-9]+/y, Integer],
    [/\{/y, LCurly],
    [/\}/y, RCurly],
    [/\[/y, LBracket],
    [/\]/y, RBracket],
    [/,/y, Comma],
    [/=/y, Equals],
    [new RegExp(WORD_PATTERN.source, "y"), Identifier],
  ];
  return tokens;
}

export interface LexResult {
  readonly tokens: IToken[];
  readonly comments: DslComment[];
  readonly diagnostics: Diagnostic[];
}

const hex4 = (c: number) => c.toString(16).toUpperCase().padStart(4, "0");

function describeChar(text: string, at: number): string {
  const c = text.codePointAt(at)!;
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `control character U+${hex4(c)}`;
  if (c === 0xfeff) return "byte order mark U+FEFF";
  if (c > 0x7e) return `character \`${String.fromCodePoint(c)}\` (U+${hex4(c)})`;
  return `character \`${String.fromCodePoint(c)}\``;
}

function unexpectedCharHelp(ch: string): string | undefined {
  if (ch === "'") return "strings use double quotes: `\"...\"`";
  if (ch === "$" || ch === "/" || ch === "~" || ch === ".") return 'paths and other free text are strings: write them in double quotes, e.g. `"${workspace}/src"`';
  if (ch === "-") return 'a word cannot start with `-`; quote it, e.g. `"-c"`';
  if (ch === ":") return "the DSL has no `key: value`; write the keyword and its value, e.g. `reason \"...\"`";
  if (ch === ";") return "statements need no separator";
  return undefined;
}

/** Decode a string token as JSON does, or say what is wrong with it (with an offset into the token). */
export function decodeString(raw: string): { value: string; issues: { kind: "unterminated" | "escape" | "control"; at: number; length: number; what: string }[] } {
  const issues: { kind: "unterminated" | "escape" | "control"; at: number; length: number; what: string }[] = [];
  let value = "";
  const closed = raw.length >= 2 && raw.endsWith('"') && !isEscapedQuote(raw);
  const end = closed ? raw.length - 1 : raw.length;
  for (let i = 1; i < end; i++) {
    const c = raw[i]!;
    const code = c.charCodeAt(0);
    if (c === "\\") {
      const e = raw[i + 1];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e !== undefined && simple[e] !== undefined) {
        value += simple[e];
        i++;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(raw.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(raw.slice(i + 2, i + 6), 16));
        i += 5;
      } else {
        const len = e === undefined ? 1 : e === "u" ? Math.min(6, end - i) : 2;
        issues.push({ kind: "escape", at: i, length: len, what: raw.slice(i, i + len) });
        i += len - 1;
      }
    } else if (code < 0x20) {
      issues.push({ kind: "control", at: i, length: 1, what: `U+${hex4(code)}` });
      value += c;
    } else value += c;
  }
  if (!closed) issues.push({ kind: "unterminated", at: 0, length: raw.length, what: raw });
  return { value, issues };
}

/** `"abc\"` has a final quote that is escaped, so the string is not closed. */
function isEscapedQuote(raw: string): boolean {
  let n = 0;
  for (let i = raw.length - 2; i >= 1 && raw[i] === "\\"; i--) n++;
  return n % 2 === 1;
}

/** The end of a single-quoted run `'...'` starting at `at`, on the same line, or undefined. */
function singleQuoted(text: string, at: number): number | undefined {
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "\n" || c === "\r") return undefined;
    if (c === "'") return i + 1;
  }
  return undefined;
}

/**
 * The scanner: the token patterns tried in order at each offset, the first match taken (as chevrotain's lexer
 * does), words that are keywords retyped by lookup. A run of characters no pattern starts is one error at its
 * first character. Our own loop rather than chevrotain's Lexer, whose construction alone costs the first DSL
 * file about 5 ms (bench/dsl.ts); the tokens are the shape its lexer makes with `positionTracking: "onlyOffset"`.
 */
export function scan(text: string, t: DslTokens = dslTokens()): { tokens: IToken[]; comments: IToken[]; errors: { offset: number }[] } {
  const tokens: IToken[] = [];
  const comments: IToken[] = [];
  const errors: { offset: number }[] = [];
  let errorRun = false;
  for (let at = 0; at < text.length; ) {
    let matched = false;
    for (const [re, type] of scanRules) {
      re.lastIndex = at;
      const m = re.exec(text);
      if (!m) continue;
      matched = true;
      errorRun = false;
      const image = m[0];
      if (type) {
        const kind = type === t.Identifier ? (keywordByImage.get(image) ?? type) : type;
        const token = { image, startOffset: at, tokenType: kind, tokenTypeIdx: kind.tokenTypeIdx! } as IToken;
        (type === t.Comment ? comments : tokens).push(token);
      }
      at += image.length;
      break;
    }
    if (matched) continue;
    if (!errorRun) errors.push({ offset: at });
    errorRun = true;
    at += text.codePointAt(at)! > 0xffff ? 2 : 1;
  }
  return { tokens, comments, errors };
}

/** Lex a whole file: tokens for the parser, comments for the printer, and lexical diagnostics. */
export function lexDsl(source: Source): LexResult {
  const t = dslTokens();
  const r = scan(source.text, t);
  const diagnostics: Diagnostic[] = [];
  let coveredUntil = -1;
  for (const e of r.errors) {
    if (e.offset < coveredUntil) continue;
    const ch = String.fromCodePoint(source.text.codePointAt(e.offset)!);
    const single = ch === "'" ? singleQuoted(source.text, e.offset) : undefined;
    if (single !== undefined) {
      // One diagnostic for `'text'`, not one per quote and one per character between them.
      coveredUntil = single;
      diagnostics.push(
        diag("dslUnexpectedCharacter", "strings use double quotes, not `'`", {
          span: span(source, e.offset, single),
          help: `write \`${JSON.stringify(source.text.slice(e.offset + 1, single - 1))}\``,
        }),
      );
      continue;
    }
    const code = ch.codePointAt(0)!;
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    diagnostics.push(
      diag("dslUnexpectedCharacter", `unexpected ${describeChar(source.text, e.offset)}`, {
        span: span(source, e.offset, e.offset + ch.length),
        help: control ? "control characters may only appear in strings, written as escapes such as `\\t`" : unexpectedCharHelp(ch),
      }),
    );
  }
  for (const tok of r.tokens) {
    if (tok.tokenType !== t.StringLiteral) {
      if (tok.tokenType === t.Integer && !Number.isSafeInteger(Number(tok.image))) {
        diagnostics.push(
          diag("dslIntegerRange", `integer \`${tok.image}\` is too large`, {
            span: span(source, tok.startOffset, tok.startOffset + tok.image.length),
            help: "integers in a policy are ports, errno numbers and syscall arguments; write a large argument as a string, e.g. `\"0xffffffffffffffff\"`",
          }),
        );
      }
      continue;
    }
    for (const issue of decodeString(tok.image).issues) {
      const at = tok.startOffset + issue.at;
      if (issue.kind === "unterminated") {
        diagnostics.push(
          diag("dslUnterminatedString", "unterminated string", {
            span: span(source, tok.startOffset, tok.startOffset + tok.image.length),
            spanLabel: "starts here",
            help: "add the closing `\"` on the same line; a line break inside a string is written `\\n`",
          }),
        );
      } else if (issue.kind === "escape") {
        diagnostics.push(
          diag("dslInvalidEscape", `invalid escape \`${issue.what}\` in a string`, {
            span: span(source, at, at + issue.length),
            help: 'escapes are those of JSON: `\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t`, `\\uXXXX`',
          }),
        );
      } else {
        diagnostics.push(
          diag("dslControlCharacter", `a string contains the control character ${issue.what}`, {
            span: span(source, at, at + 1),
            help: "write it as an escape (`\\t`, `\\n`, `\\u0007`)",
          }),
        );
      }
    }
  }
  const comments: DslComment[] = r.comments.map((c) => ({
    kind: "comment",
    text: c.image,
    span: span(source, c.startOffset, c.startOffset + c.image.length),
  }));
  return { tokens: r.tokens, comments, diagnostics };
}
