// Syntax errors in words a person understands. Chevrotain's default messages dump token names and
// alternative paths; this provider builds ours from the rule being parsed and the token found instead, and
// `syntaxDiagnostics` turns chevrotain's exceptions (mismatched token, no viable alternative, early exit,
// input left over) into diagnostics with a code and a span.

import type { IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from "chevrotain";
import { closest, diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { span, type Source } from "../diagnostics/source.js";

/** The message and the help travel through chevrotain as one string, split here. */
const SEP = "\u0000";

const STATEMENTS = ["description", "extends", "params", "filesystem", "network", "syscalls", "commands", "linux", "tests"];

/**
 * What may come next inside each block, for the error where neither a known word nor the closing `}` came:
 * the phrase, the words a typo is compared with, and how the block's contents are written.
 */
const BLOCK_CONTENTS: Record<string, { what: string; words: string[]; shape: string }> = {
  policy: { what: "a statement", words: STATEMENTS, shape: `statements: ${STATEMENTS.map((w) => `\`${w}\``).join(", ")}` },
  params: { what: "a parameter", words: ["description"], shape: 'a parameter is `NAME = "default"`, optionally followed by `description "..."`' },
  filesystem: {
    what: "a rule, a clause",
    words: ["allow", "deny", "path", "exact", "glob", "protect", "if-missing", "reason"],
    shape: 'a rule is `allow|deny ACCESS path|exact|glob "..."`, then optional `protect`, `if-missing`, `reason`',
  },
  network: {
    what: "a setting, a rule, a clause",
    words: ["mode", "unix", "allow", "deny", "protocol", "hosts", "domains", "ports", "http-methods", "http-paths", "reason"],
    shape: "`mode MODE`, `unix allow|deny`, `unix { ... }`, or a rule `allow|deny OPS` with optional `protocol`, `hosts` or `domains`, `ports`, `http-methods`, `http-paths`, `reason`",
  },
  unix: {
    what: "a setting, a rule, a clause",
    words: ["pairs", "abstract", "allow", "deny", "path", "reason"],
    shape: "`pairs allow|deny`, `abstract allow|deny`, or a path rule `allow|deny OPS path \"...\"` with an optional `reason`",
  },
  syscalls: {
    what: "a setting, a rule, a clause",
    words: ["default", "foreign-arch", "newer", "kernel", "rule", "args", "reason"],
    shape: "`default ACTION`, `foreign-arch ACTION`, `newer ACTION`, `kernel \"X.Y\"`, or `rule SYSCALLS ACTION` with optional `args`, `reason`",
  },
  commands: {
    what: "a rule, a clause",
    words: ["default", "allow", "prompt", "forbidden", "reason"],
    shape: "`default DECISION`, or a rule `allow|prompt|forbidden PREFIX` with an optional `reason`",
  },
  linux: {
    what: "a setting",
    words: ["namespaces", "accept-widening"],
    shape: "`namespaces auto|require|never` or `accept-widening [udp, hosts]`",
  },
  tests: {
    what: "a test, a clause",
    words: ["expect", "protocol", "args", "path", "abstract", "name"],
    shape: "a test is `expect ANSWER QUERY VALUE`, then optional `protocol`, `args`, `path`, `abstract`, `name`",
  },
};

/** A token type as the reader knows it: `{`, `allow`, a word, a string. */
function describeType(t: TokenType): string {
  switch (t.name) {
    case "Word":
    case "Identifier":
      return "a word";
    case "String":
      return "a string";
    case "Integer":
      return "an integer";
    case "EOF":
      return "the end of the file";
    default: {
      const label = t.LABEL ?? t.name;
      return `\`${label.replace(/^'|'$/g, "")}\``;
    }
  }
}

/** The token found, quoted (long ones cut short). */
export function describeFound(tok: IToken): string {
  if (tok.tokenType.name === "EOF") return "the end of the file";
  const image = tok.image.length > 24 ? `${tok.image.slice(0, 20)}…` : tok.image;
  return `\`${image}\``;
}

function orList(items: string[]): string {
  const u = [...new Set(items)];
  if (u.length <= 1) return u[0] ?? "";
  return `${u.slice(0, -1).join(", ")} or ${u[u.length - 1]}`;
}

/** Where the parser was, for "expected X after Y". */
function after(previous: IToken | undefined, ruleName: string): string {
  if (!previous || previous.tokenType.name === "EOF" || Number.isNaN(previous.startOffset)) return "";
  if (ruleName === "policy" && previous.tokenType.name !== "Policy") return " after the policy name";
  return ` after ${describeFound(previous)}`;
}

function didYouMean(found: IToken, words: readonly string[]): string | undefined {
  if (found.tokenType.name === "EOF" || !/^[A-Za-z_@]/.test(found.image)) return undefined;
  const guess = closest(found.image, words);
  return guess ? `did you mean \`${guess}\`?` : undefined;
}

/** Help that depends on what was found rather than on what was expected: the usual slips. */
function foundHelp(found: IToken, ruleName: string): string | undefined {
  switch (found.tokenType.name) {
    case "EOF":
      return "a closing `}` is missing: every `{` needs its `}`";
    case "Comma":
      return "a list is written in brackets: `[443, 8080]`";
    case "Equals":
      return "`=` only gives a parameter its default; elsewhere a keyword is followed by its value, as in `reason \"...\"`";
    case "Sbc":
      return ruleName === "policy" ? "`sbc 1` comes first, before `policy`" : undefined;
    default:
      return undefined;
  }
}

const withHelp = (message: string, help: string | undefined) => (help ? `${message}${SEP}${help}` : message);

export function dslErrorMessages(): IParserErrorMessageProvider {
  return {
    buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
      const contents = BLOCK_CONTENTS[ruleName];
      if (expected.name === "RCurly" && contents) {
        const where = ruleName === "policy" ? "the policy" : `\`${ruleName}\``;
        const help = foundHelp(actual, ruleName) ?? didYouMean(actual, contents.words) ?? contents.shape;
        return `expected ${contents.what} or \`}\` in ${where}, found ${describeFound(actual)}${SEP}${help}`;
      }
      if (expected.name === "LCurly" && ruleName === "policy") {
        return `expected \`{\`${after(previous, ruleName)}, found ${describeFound(actual)}${SEP}a policy is written \`policy NAME { ... }\`; quote a name that is not a single word`;
      }
      if (ruleName === "test" && expected.name === "Word") {
        return withHelp(
          `expected what the test asks (an access class, \`connect\`, \`bind\`, \`unix\`, \`syscall\` or \`command\`)${after(previous, ruleName)}, found ${describeFound(actual)}`,
          foundHelp(actual, ruleName) ?? "a test is `expect ANSWER QUERY VALUE`, e.g. `expect deny write \"/etc/passwd\"`",
        );
      }
      return withHelp(`expected ${describeType(expected)}${after(previous, ruleName)}, found ${describeFound(actual)}`, foundHelp(actual, ruleName));
    },
    buildNotAllInputParsedMessage({ firstRedundant }) {
      const help =
        firstRedundant.tokenType.name === "RCurly"
          ? "this `}` closes nothing: check the braces above"
          : STATEMENTS.includes(firstRedundant.image)
            ? "statements belong inside `policy { ... }`"
            : "a file holds `sbc 1` and one `policy { ... }` block";
      return `unexpected ${describeFound(firstRedundant)} after the end of the policy${SEP}${help}`;
    },
    buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, ruleName }) {
      const found = actual[0]!;
      const firsts = expectedPathsPerAlt.flatMap((alt) => alt.map((path) => path[0]).filter((x): x is TokenType => x !== undefined));
      if (ruleName === "value" || ruleName === "scalar" || ruleName === "action") {
        const action = ruleName === "action";
        const what = action ? "an action (a word such as `allow` or `kill-process`, `errno NAME` or `trace N`)" : "a value (a word, a string, an integer or a list)";
        const help =
          foundHelp(found, ruleName) ??
          (action
            ? "actions: `allow`, `log`, `trace`, `trace N`, `trap`, `errno`, `errno NAME`, `user-notif`, `kill-thread`, `kill-process`"
            : 'free text such as a path is written as a string: `"..."`');
        return withHelp(`expected ${what}${after(previous, ruleName)}, found ${describeFound(found)}`, help);
      }
      const described = orList(firsts.map(describeType));
      const help = foundHelp(found, ruleName) ?? didYouMean(found, firsts.map((f) => (f.LABEL ?? f.name).replace(/^'|'$/g, "")));
      return withHelp(`expected ${described}${after(previous, ruleName)}, found ${describeFound(found)}`, help);
    },
    buildEarlyExitMessage({ expectedIterationPaths, actual, previous, ruleName }) {
      const firsts = expectedIterationPaths.map((p) => p[0]).filter((x): x is TokenType => x !== undefined);
      return withHelp(`expected ${orList(firsts.map(describeType))}${after(previous, ruleName)}, found ${describeFound(actual[0]!)}`, foundHelp(actual[0]!, ruleName));
    },
  };
}

/** Chevrotain's exceptions as diagnostics, one per exception, at the offending token. */
export function syntaxDiagnostics(source: Source, errors: readonly IRecognitionException[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<number>();
  for (const e of errors) {
    const tok = e.token;
    const eof = tok.tokenType.name === "EOF" || Number.isNaN(tok.startOffset);
    const start = eof ? source.text.length : tok.startOffset;
    // Recovery can report the same token twice (once per enclosing rule); the first report is the precise one.
    if (seen.has(start)) continue;
    seen.add(start);
    const [message, help] = e.message.split(SEP) as [string, string | undefined];
    out.push(diag("dslSyntax", message, { span: span(source, start, eof ? start : start + tok.image.length), ...(help ? { help } : {}) }));
  }
  return out;
}
