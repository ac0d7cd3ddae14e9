// The DSL's own syntax tree: what a `.sbc` file says, statement by statement, with a span on every node and
// the comments kept on the side. The compiler never reads this tree directly (`to-document.ts` turns it into
// the same document tree a YAML file gives); the printer and the formatter are built on it.

import type { Span } from "../diagnostics/source.js";

/** A keyword or a fixed word as written (`allow`, `rule`, `read-write` in a query position): its text and span. */
export interface DslKeyword {
  readonly value: string;
  readonly span: Span;
}

/** `# text` to the end of the line. `text` includes the `#`; the span covers it, not the line break. */
export interface DslComment {
  readonly kind: "comment";
  readonly text: string;
  readonly span: Span;
}

// ---- values ----

/** A bare word (`read-write`, `EPERM`, `@network-io`, `${`-free identifiers); its value is its text. */
export interface DslWord {
  readonly kind: "word";
  readonly value: string;
  readonly span: Span;
}

/** A double-quoted string. `value` is decoded (escapes applied); `raw` is the source text with the quotes. */
export interface DslString {
  readonly kind: "string";
  readonly value: string;
  readonly raw: string;
  readonly span: Span;
}

/** A decimal integer (`443`, `-1`); `raw` keeps the spelling (`0644` is refused later, as in YAML). */
export interface DslInteger {
  readonly kind: "integer";
  readonly value: number;
  readonly raw: string;
  readonly span: Span;
}

/** `[a, b, c]`; items may be lists themselves (command prefixes). The span covers the brackets. */
export interface DslList {
  readonly kind: "list";
  readonly items: readonly DslValue[];
  readonly span: Span;
}

export type DslScalar = DslWord | DslString | DslInteger;
export type DslValue = DslScalar | DslList;

/**
 * `errno X` (→ `{errno: X}`) or `trace N` (→ `{trace: N}`); a bare `errno` or `trace` is a plain word action.
 * The span runs from the keyword to X.
 */
export interface DslErrno {
  readonly kind: "errno" | "trace";
  readonly keyword: DslKeyword;
  readonly value: DslScalar;
  readonly span: Span;
}

/** A syscall action, a default, or a test's expected answer: a scalar, `errno X` or `trace N`. */
export type DslAction = DslScalar | DslErrno;

/** `KEYWORD VALUE` after a statement's head: `reason "..."`, `path "..."`, `ports [443]`, `args [...]`. */
export interface DslClause {
  readonly kind: "clause";
  readonly keyword: DslKeyword;
  readonly value: DslValue;
  readonly span: Span;
}

// ---- statements ----

/**
 * `KEYWORD VALUE` as a statement of its own: `description "..."`, `extends [...]`, `network off` in the
 * policy; `mode`, `unix` in `network { }`; `pairs`, `abstract` in `unix { }`; `default`, `foreign-arch` in
 * `syscalls { }`; `default` in `commands { }`; `namespaces` in `linux { }`. The value is a `DslAction` only
 * for the two syscall settings.
 */
export interface DslSetting {
  readonly kind: "setting";
  readonly keyword: DslKeyword;
  readonly value: DslValue | DslAction;
  readonly span: Span;
}

/** In `params { }`: `NAME [= DEFAULT] [description "..."]` (NAME a word or a string). */
export interface DslParam {
  readonly kind: "param";
  readonly name: DslWord | DslString;
  /** The `=` token, when a default is given. */
  readonly equals?: Span;
  readonly default?: DslValue;
  /** Only `description`. */
  readonly clauses: readonly DslClause[];
  readonly span: Span;
}

/** In `filesystem { }`: `allow|deny ACCESS` then clauses `path|exact|glob|protect|if-missing|reason`. */
export interface DslFsRule {
  readonly kind: "fs-rule";
  readonly effect: DslKeyword;
  readonly access: DslValue;
  readonly clauses: readonly DslClause[];
  readonly span: Span;
}

/** In `network { }`: `allow|deny OPS` then clauses `protocol|hosts|domains|ports|reason`. */
export interface DslNetRule {
  readonly kind: "net-rule";
  readonly effect: DslKeyword;
  readonly ops: DslValue;
  readonly clauses: readonly DslClause[];
  readonly span: Span;
}

/** In `unix { }` (inside `network { }`): `allow|deny OPS` then clauses `path|reason`. */
export interface DslUnixRule {
  readonly kind: "unix-rule";
  readonly effect: DslKeyword;
  readonly ops: DslValue;
  readonly clauses: readonly DslClause[];
  readonly span: Span;
}

/** In `syscalls { }`: `rule SYSCALLS ACTION` then clauses `args|reason`. */
export interface DslSyscallRule {
  readonly kind: "syscall-rule";
  readonly keyword: DslKeyword;
  readonly syscalls: DslValue;
  readonly action: DslAction;
  readonly clauses: readonly DslClause[];
  readonly span: Span;
}

/** In `commands { }`: `allow|prompt|forbidden PREFIX` then the clause `reason`. */
export interface DslCommandRule {
  readonly kind: "command-rule";
  readonly decision: DslKeyword;
  readonly prefix: DslValue;
  readonly clauses: readonly DslClause[];
  readonly span: Span;
}

/** In `tests { }`: `expect ANSWER QUERY VALUE` then clauses `protocol|args|name`. */
export interface DslTest {
  readonly kind: "test";
  readonly keyword: DslKeyword;
  readonly expect: DslAction;
  /** The query key as written: an access class, `connect`, `bind`, `unix`, `syscall` or `command`. */
  readonly query: DslKeyword;
  readonly value: DslValue;
  readonly clauses: readonly DslClause[];
  readonly span: Span;
}

export type DslBlockItem = DslSetting | DslParam | DslFsRule | DslNetRule | DslUnixRule | DslSyscallRule | DslCommandRule | DslTest | DslBlock;

/**
 * `KEYWORD { ... }`: `params`, `filesystem`, `network`, `syscalls`, `commands`, `linux`, `tests`, and `unix`
 * inside `network`. Which items a block holds follows from its keyword (the parser admits no others): params →
 * DslParam; filesystem → DslFsRule; network → DslSetting (mode, unix), a `unix` DslBlock and DslNetRule; unix →
 * DslSetting (pairs, abstract) and DslUnixRule; syscalls → DslSetting (default, foreign-arch) and
 * DslSyscallRule; commands → DslSetting (default) and DslCommandRule; linux → DslSetting (namespaces); tests →
 * DslTest.
 */
export interface DslBlock {
  readonly kind: "block";
  readonly keyword: DslKeyword;
  readonly items: readonly DslBlockItem[];
  /** The `{` and `}` tokens. */
  readonly open: Span;
  readonly close: Span;
  readonly span: Span;
}

export type DslStatement = DslSetting | DslBlock;

/** `sbc VERSION` (→ `sbc:`). */
export interface DslVersion {
  readonly kind: "version";
  readonly keyword: DslKeyword;
  readonly value: DslValue;
  readonly span: Span;
}

/** `policy [NAME] { statements }` (NAME → `name:`). */
export interface DslPolicy {
  readonly kind: "policy";
  readonly keyword: DslKeyword;
  readonly name?: DslWord | DslString;
  readonly statements: readonly DslStatement[];
  readonly open: Span;
  readonly close: Span;
  readonly span: Span;
}

/** A whole file. Both parts are optional in the grammar; a file without `sbc` is refused by the schema. */
export interface DslFile {
  readonly kind: "file";
  readonly version?: DslVersion;
  readonly policy?: DslPolicy;
  /** Every comment in the file, in source order (the printer attaches them to the nearest node). */
  readonly comments: readonly DslComment[];
  /** The whole text, [0, length). */
  readonly span: Span;
}
