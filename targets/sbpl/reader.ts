// A reader for SBPL, Seatbelt's Scheme-based profile language: the subset sbc emits plus what common
// hand-written profiles (Codex, Chromium, sandbox-runtime, Nix) use, turned into a rule list that the
// executable model (model.ts) evaluates. What it cannot model it refuses with a diagnostic, never a guess.
//
// Facts the reader relies on, and where they come from:
// - Strings (TinyScheme `readstrexp`): `\n` `\t` `\r` `\"` `\xHH` are escapes and any other `\c` is `c`;
//   there is no `\u`. Newer TinyScheme reads `\ooo` as octal, so `\` before a digit is refused as ambiguous.
// - `#"…"` literals (Codex, Chromium, Nix) keep backslashes: they are regex text, where `\"` stands for `"`.
// - Several operations in one rule, several filters ORed, no filter = every instance (Codex base policy;
//   Bazel DarwinSandboxedSpawnRunner: "sandbox-exec doesn't care about ordering of paths in expressions").
// - `(local|remote ip "host:port")`: the host must be `localhost` or `*`, the port a number or `*`
//   (sandbox-runtime: "Seatbelt only accepts 'localhost' or '*' as the host token").
// - Regexes: AppleMatch, POSIX-extended-like; `(?i)` and `^` in mid-expression are rejected by sandbox-exec
//   (constellation-works/orbit PR #495). See `sbplRegexToJs` for the exact subset accepted here.

import { CODES } from "../../diagnostics/codes.js";
import { diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import { Source, type Span } from "../../diagnostics/source.js";

// ---- data ---------------------------------------------------------------------------------------------

export type Datum =
  | { readonly kind: "list"; readonly items: readonly Datum[]; readonly span: Span }
  | { readonly kind: "symbol"; readonly name: string; readonly span: Span }
  | { readonly kind: "string"; readonly value: string; readonly raw: boolean; readonly span: Span }
  | { readonly kind: "number"; readonly value: number; readonly span: Span }
  | { readonly kind: "bool"; readonly value: boolean; readonly span: Span };

/** A string-valued expression: text, a `-D` parameter, or their concatenation (`string-append`). */
export type StrExpr =
  | { readonly kind: "text"; readonly value: string }
  | { readonly kind: "param"; readonly name: string; readonly span: Span }
  | { readonly kind: "append"; readonly parts: readonly StrExpr[] };

/** How a filter's string compares with the query's value. */
export type MatchKind = "literal" | "subpath" | "prefix" | "regex";

export type SbplFilter =
  /** A filter on the operation's path (`literal`/`path`, `subpath`, `prefix`, `regex`). */
  | { readonly kind: "path"; readonly match: MatchKind; readonly value: StrExpr; readonly span: Span }
  /** A name-valued attribute: `global-name`, `sysctl-name-prefix`, `ipc-posix-name-regex`, … */
  | { readonly kind: "name"; readonly key: string; readonly match: Exclude<MatchKind, "subpath">; readonly value: StrExpr; readonly span: Span }
  /** A symbol or number attribute compared for equality: `(vnode-type DIRECTORY)`, `(target same-sandbox)`. */
  | { readonly kind: "token"; readonly key: string; readonly values: readonly string[]; readonly span: Span }
  /** `(local|remote ip|tcp|udp "host:port")`. */
  | { readonly kind: "ip"; readonly side: "local" | "remote"; readonly protocol: "ip" | "tcp" | "udp"; readonly family: 4 | 6 | "any"; readonly host: "localhost" | "*"; readonly port: number | "*"; readonly span: Span }
  /** `(local|remote unix-socket [path-filter])`; no inner filter matches every AF_UNIX address. */
  | { readonly kind: "unix"; readonly side: "local" | "remote"; readonly path: SbplFilter | null; readonly span: Span }
  | { readonly kind: "require-all" | "require-any"; readonly filters: readonly SbplFilter[]; readonly span: Span }
  | { readonly kind: "require-not"; readonly filter: SbplFilter; readonly span: Span };

export interface SbplModifier {
  /** `message`, `no-log`, `report`, `no-sandbox`, `send-signal`, … */
  readonly name: string;
  readonly args: readonly Datum[];
  readonly span: Span;
}

export interface SbplRule {
  /** Position among the profile's rules (0-based, source order). */
  readonly index: number;
  readonly effect: "allow" | "deny";
  /** Operation names as written; a trailing `*` is a wildcard over the names it prefixes; `default` is every operation. */
  readonly operations: readonly string[];
  /** ORed; an empty list matches every instance of the operations. */
  readonly filters: readonly SbplFilter[];
  readonly modifiers: readonly SbplModifier[];
  readonly span: Span;
}

export interface SbplProfile {
  readonly source: Source;
  readonly version: number | null;
  readonly rules: readonly SbplRule[];
  /** Every `(param "X")` the profile refers to, sorted. */
  readonly params: readonly string[];
}

// ---- s-expressions ------------------------------------------------------------------------------------

class ReadError extends Error {
  constructor(
    readonly key: "sbplSyntax" | "sbplUnsupported" | "sbplInvalidRule",
    message: string,
    readonly span: Span,
    readonly help?: string,
  ) {
    super(message);
  }
}

const DELIMITERS = new Set(["(", ")", '"', ";"]);
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";

function readData(source: Source): Datum[] {
  const t = source.text;
  let i = 0;
  const span = (start: number, end = i): Span => ({ source, start, end });

  const skipAtmosphere = () => {
    for (;;) {
      while (i < t.length && isSpace(t[i]!)) i++;
      if (t[i] === ";") {
        while (i < t.length && t[i] !== "\n" && t[i] !== "\r") i++;
      } else if (t.startsWith("#|", i)) {
        const start = i;
        const end = t.indexOf("|#", i + 2);
        if (end < 0) throw new ReadError("sbplSyntax", "unterminated block comment", span(start, start + 2), "a `#|` comment ends with `|#`");
        i = end + 2;
      } else if (t.startsWith("#;", i)) {
        // A datum comment: the next datum is skipped.
        i += 2;
        readOne();
      } else return;
    }
  };

  const readString = (start: number, raw: boolean): Datum => {
    let value = "";
    for (;;) {
      if (i >= t.length) throw new ReadError("sbplSyntax", "unterminated string", span(start, start + (raw ? 2 : 1)));
      const c = t[i]!;
      if (c === '"') {
        i++;
        return { kind: "string", value, raw, span: span(start) };
      }
      if (c !== "\\") {
        value += c;
        i++;
        continue;
      }
      const e = t[i + 1];
      if (e === undefined) throw new ReadError("sbplSyntax", "unterminated string", span(start, start + 1));
      if (raw) {
        // Regex text: the backslash stays (the regex reader gives it meaning); `\"` does not end the literal.
        value += c + e;
        i += 2;
        continue;
      }
      if (e === "n") value += "\n";
      else if (e === "t") value += "\t";
      else if (e === "r") value += "\r";
      else if (e === "x") {
        const hex = t.slice(i + 2, i + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new ReadError("sbplSyntax", "`\\x` needs exactly two hex digits", span(i, Math.min(t.length, i + 4)));
        value += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        continue;
      } else if (/[0-9]/.test(e)) {
        throw new ReadError("sbplUnsupported", `the escape \`\\${e}\` is read as octal by some TinyScheme versions and as \`${e}\` by others`, span(i, i + 2), "write the character itself or `\\xHH`");
      } else value += e;
      i += 2;
    }
  };

  const readOne = (): Datum => {
    skipAtmosphere();
    if (i >= t.length) throw new ReadError("sbplSyntax", "unexpected end of profile", span(t.length, t.length));
    const start = i;
    const c = t[i]!;
    if (c === "(" || c === "[") {
      const close = c === "(" ? ")" : "]";
      i++;
      const items: Datum[] = [];
      for (;;) {
        skipAtmosphere();
        if (i >= t.length) throw new ReadError("sbplSyntax", "unclosed `" + c + "`", span(start, start + 1), `a list ends with \`${close}\``);
        if (t[i] === close) {
          i++;
          return { kind: "list", items, span: span(start) };
        }
        if (t[i] === ")" || t[i] === "]") throw new ReadError("sbplSyntax", `\`${t[i]}\` does not close \`${c}\``, span(i, i + 1));
        items.push(readOne());
      }
    }
    if (c === ")" || c === "]") throw new ReadError("sbplSyntax", `unexpected \`${c}\``, span(i, i + 1), "there is no list to close here");
    if (c === '"') {
      i++;
      return readString(start, false);
    }
    if (t.startsWith('#"', i)) {
      i += 2;
      return readString(start, true);
    }
    if (c === "'" || c === "`" || c === ",") throw new ReadError("sbplUnsupported", "quotation is not supported in profiles read by sbc", span(i, i + 1));
    while (i < t.length && !isSpace(t[i]!) && !DELIMITERS.has(t[i]!) && t[i] !== "[" && t[i] !== "]") i++;
    const word = t.slice(start, i);
    if (word === "#t" || word === "#f") return { kind: "bool", value: word === "#t", span: span(start) };
    if (/^[+-]?[0-9]+$/.test(word)) return { kind: "number", value: Number(word), span: span(start) };
    if (word.startsWith("#")) throw new ReadError("sbplUnsupported", `\`${word}\` is not a literal sbc reads`, span(start));
    return { kind: "symbol", name: word, span: span(start) };
  };

  const out: Datum[] = [];
  for (;;) {
    skipAtmosphere();
    if (i >= t.length) return out;
    out.push(readOne());
  }
}

// ---- forms --------------------------------------------------------------------------------------------

const NAME_FILTERS = [
  "global-name",
  "local-name",
  "sysctl-name",
  "xpc-service-name",
  "ipc-posix-name",
  "iokit-registry-entry-class",
  "iokit-user-client-class",
  "iokit-property",
  "preference-domain",
  "appleevent-destination",
  "right-name",
  "notification-name",
  "require-entitlement",
  "signing-identifier",
  "extension-class",
];

/** Filters that compare a symbol, a number or a string for equality; the query supplies the value by key. */
const TOKEN_FILTERS = new Set(["vnode-type", "target", "extension", "socket-domain", "socket-type", "socket-protocol", "ioctl-command", "fcntl-command", "signal-number", "file-mode", "device-major", "debug-mode", "process-attribute"]);

const PATH_FILTERS: Readonly<Record<string, MatchKind>> = {
  literal: "literal",
  path: "literal",
  "path-literal": "literal",
  subpath: "subpath",
  prefix: "prefix",
  "path-prefix": "prefix",
  regex: "regex",
  "path-regex": "regex",
};

const IP_PROTOCOLS: Readonly<Record<string, { protocol: "ip" | "tcp" | "udp"; family: 4 | 6 | "any" }>> = {
  ip: { protocol: "ip", family: "any" },
  ip4: { protocol: "ip", family: 4 },
  ip6: { protocol: "ip", family: 6 },
  tcp: { protocol: "tcp", family: "any" },
  tcp4: { protocol: "tcp", family: 4 },
  tcp6: { protocol: "tcp", family: 6 },
  udp: { protocol: "udp", family: "any" },
  udp4: { protocol: "udp", family: 4 },
  udp6: { protocol: "udp", family: 6 },
};

const OPERATION_NAME = /^(default|[a-z][a-z0-9-]*\*?)$/;

interface Env {
  /** `(define name "text")` constants, in scope from their definition on. */
  readonly constants: Map<string, StrExpr>;
  readonly params: Set<string>;
}

function describe(d: Datum): string {
  switch (d.kind) {
    case "list":
      return d.items[0]?.kind === "symbol" ? `(${d.items[0].name} …)` : "a list";
    case "symbol":
      return d.name;
    case "string":
      return `"${d.value}"`;
    case "number":
      return String(d.value);
    case "bool":
      return d.value ? "#t" : "#f";
  }
}

function head(d: Datum): string | undefined {
  return d.kind === "list" && d.items[0]?.kind === "symbol" ? d.items[0].name : undefined;
}

function strExpr(d: Datum, env: Env, what: string): StrExpr {
  if (d.kind === "string") return { kind: "text", value: d.value };
  if (d.kind === "symbol") {
    const c = env.constants.get(d.name);
    if (c) return c;
    throw new ReadError("sbplInvalidRule", `\`${d.name}\` is not a string sbc can resolve`, d.span, `${what} takes a string, \`(param "NAME")\` or \`(string-append …)\``);
  }
  const h = head(d);
  if (d.kind === "list" && h === "param") {
    const arg = d.items[1];
    if (d.items.length !== 2 || arg?.kind !== "string") throw new ReadError("sbplInvalidRule", "`param` takes one string, the parameter's name", d.span);
    env.params.add(arg.value);
    return { kind: "param", name: arg.value, span: d.span };
  }
  if (d.kind === "list" && h === "string-append") return { kind: "append", parts: d.items.slice(1).map((x) => strExpr(x, env, what)) };
  if (d.kind === "list" && (h === "regex-quote" || h === "if" || h === "string-downcase")) throw new ReadError("sbplUnsupported", `\`${h}\` is not supported in profiles read by sbc`, d.span);
  throw new ReadError("sbplInvalidRule", `${what} takes a string, not ${describe(d)}`, d.span);
}

function textOf(e: StrExpr): string | undefined {
  if (e.kind === "text") return e.value;
  if (e.kind === "param") return undefined;
  let s = "";
  for (const p of e.parts) {
    const t = textOf(p);
    if (t === undefined) return undefined;
    s += t;
  }
  return s;
}

function oneArg(d: Datum & { kind: "list" }, name: string): Datum {
  if (d.items.length !== 2) throw new ReadError("sbplInvalidRule", `\`${name}\` takes exactly one argument`, d.span);
  return d.items[1]!;
}

function pathFilter(d: Datum & { kind: "list" }, name: string, env: Env): SbplFilter {
  const match = PATH_FILTERS[name]!;
  const value = strExpr(oneArg(d, name), env, `\`${name}\``);
  const text = textOf(value);
  if (match === "regex" && text !== undefined) {
    const arg = d.items[1]!;
    try {
      sbplRegexToJs(text);
    } catch (e) {
      throw new ReadError("sbplUnsupported", (e as Error).message, arg.span, "sbc models a POSIX-extended subset: literals, `.`, `[…]`, `(…)`, `|`, `*`, `+`, `?`, `{m,n}`, and `^`/`$` at the ends");
    }
  }
  return { kind: "path", match, value, span: d.span };
}

function nameFilter(d: Datum & { kind: "list" }, name: string, env: Env): SbplFilter | undefined {
  for (const key of NAME_FILTERS) {
    let match: "literal" | "prefix" | "regex" | undefined;
    if (name === key) match = "literal";
    else if (name === key + "-prefix") match = "prefix";
    else if (name === key + "-regex") match = "regex";
    if (!match) continue;
    const value = strExpr(oneArg(d, name), env, `\`${name}\``);
    const text = textOf(value);
    if (match === "regex" && text !== undefined) {
      try {
        sbplRegexToJs(text);
      } catch (e) {
        throw new ReadError("sbplUnsupported", (e as Error).message, d.items[1]!.span);
      }
    }
    return { kind: "name", key, match, value, span: d.span };
  }
  return undefined;
}

function addressFilter(d: Datum & { kind: "list" }, side: "local" | "remote", env: Env): SbplFilter {
  const kindDatum = d.items[1];
  if (!kindDatum || kindDatum.kind !== "symbol") throw new ReadError("sbplInvalidRule", `\`${side}\` takes an address kind (\`ip\`, \`tcp\`, \`udp\`, \`unix-socket\`)`, d.span);
  if (kindDatum.name === "unix-socket" || kindDatum.name === "unix") {
    if (d.items.length === 2) return { kind: "unix", side, path: null, span: d.span };
    if (d.items.length !== 3) throw new ReadError("sbplInvalidRule", `\`(${side} unix-socket …)\` takes at most one path filter`, d.span);
    const inner = filter(d.items[2]!, env);
    if (inner.kind !== "path") throw new ReadError("sbplInvalidRule", "a unix-socket address takes a path filter (`literal`, `subpath`, `prefix`, `regex`)", d.items[2]!.span);
    return { kind: "unix", side, path: inner, span: d.span };
  }
  const proto = IP_PROTOCOLS[kindDatum.name];
  if (!proto) throw new ReadError("sbplUnsupported", `the address kind \`${kindDatum.name}\` is not one sbc models`, kindDatum.span, "sbc reads `ip`, `ip4`, `ip6`, `tcp*`, `udp*` and `unix-socket`");
  if (d.items.length === 2) return { kind: "ip", side, ...proto, host: "*", port: "*", span: d.span };
  const arg = d.items[2]!;
  if (d.items.length !== 3 || arg.kind !== "string") throw new ReadError("sbplInvalidRule", `\`(${side} ${kindDatum.name} …)\` takes one string, \`"host:port"\``, d.span);
  const m = /^(localhost|\*):(\*|[0-9]{1,5})$/.exec(arg.value);
  if (!m) {
    throw new ReadError("sbplInvalidRule", `\`${arg.value}\` is not an address Seatbelt accepts`, arg.span, 'the host must be `localhost` or `*` and the port a number or `*`, as in `"localhost:8080"` or `"*:443"`');
  }
  const port = m[2] === "*" ? "*" : Number(m[2]);
  if (port !== "*" && port > 65535) throw new ReadError("sbplInvalidRule", `port \`${port}\` is out of 0–65535`, arg.span);
  return { kind: "ip", side, ...proto, host: m[1] as "localhost" | "*", port, span: d.span };
}

function filter(d: Datum, env: Env): SbplFilter {
  if (d.kind !== "list") throw new ReadError("sbplInvalidRule", `expected a filter, found ${describe(d)}`, d.span);
  const name = head(d);
  if (name === undefined) throw new ReadError("sbplInvalidRule", "expected a filter, found a list that does not start with a name", d.span);
  if (name in PATH_FILTERS) return pathFilter(d, name, env);
  if (name === "require-all" || name === "require-any") {
    if (d.items.length < 2) throw new ReadError("sbplInvalidRule", `\`${name}\` needs at least one filter`, d.span);
    return { kind: name, filters: d.items.slice(1).map((x) => filter(x, env)), span: d.span };
  }
  if (name === "require-not") return { kind: "require-not", filter: filter(oneArg(d, name), env), span: d.span };
  if (name === "local" || name === "remote") return addressFilter(d, name, env);
  const named = nameFilter(d, name, env);
  if (named) return named;
  if (TOKEN_FILTERS.has(name)) {
    if (d.items.length < 2) throw new ReadError("sbplInvalidRule", `\`${name}\` needs a value`, d.span);
    const values = d.items.slice(1).map((x) => {
      if (x.kind === "symbol" || x.kind === "string") return x.kind === "symbol" ? x.name : x.value;
      if (x.kind === "number") return String(x.value);
      throw new ReadError("sbplInvalidRule", `\`${name}\` takes names or numbers, not ${describe(x)}`, x.span);
    });
    return { kind: "token", key: name, values, span: d.span };
  }
  throw new ReadError("sbplUnsupported", `the filter \`${name}\` is not one sbc models`, d.span);
}

function modifier(d: Datum & { kind: "list" }): SbplModifier {
  const name = d.items[1];
  if (!name || name.kind !== "symbol") throw new ReadError("sbplInvalidRule", "`with` takes a modifier name, as in `(with no-log)`", d.span);
  return { name: name.name, args: d.items.slice(2), span: d.span };
}

function rule(d: Datum & { kind: "list" }, effect: "allow" | "deny", index: number, env: Env): SbplRule {
  const operations: string[] = [];
  const filters: SbplFilter[] = [];
  const modifiers: SbplModifier[] = [];
  for (const x of d.items.slice(1)) {
    if (x.kind === "symbol") {
      if (filters.length || modifiers.length) throw new ReadError("sbplInvalidRule", `the operation \`${x.name}\` comes after a filter`, x.span, "operations come first, then filters, then `(with …)` modifiers");
      if (!OPERATION_NAME.test(x.name)) throw new ReadError("sbplInvalidRule", `\`${x.name}\` is not an operation name`, x.span);
      operations.push(x.name);
    } else if (head(x) === "with") modifiers.push(modifier(x as Datum & { kind: "list" }));
    else {
      if (modifiers.length) throw new ReadError("sbplInvalidRule", "a filter comes after a `(with …)` modifier", x.span);
      filters.push(filter(x, env));
    }
  }
  if (!operations.length) throw new ReadError("sbplInvalidRule", `\`${effect}\` names no operation`, d.span, `write \`(${effect} OPERATION… FILTER…)\`, as in \`(${effect} file-read* (subpath "/usr"))\``);
  return { index, effect, operations, filters, modifiers, span: d.span };
}

/** Read an SBPL profile. Diagnostics carry spans into `text`; with any error there is no profile. */
export function readSbpl(text: string, file = "<profile>"): { profile?: SbplProfile; diagnostics: Diagnostic[] } {
  const source = new Source(file, text);
  const diagnostics: Diagnostic[] = [];
  const report = (e: unknown) => {
    if (!(e instanceof ReadError)) throw e;
    diagnostics.push(diag(e.key, e.message, { span: e.span, help: e.help }));
  };
  let data: Datum[];
  try {
    data = readData(source);
  } catch (e) {
    report(e);
    return { diagnostics };
  }
  const env: Env = { constants: new Map(), params: new Set() };
  const rules: SbplRule[] = [];
  let version: number | null = null;
  data.forEach((d, position) => {
    try {
      const name = head(d);
      if (d.kind !== "list" || name === undefined) throw new ReadError("sbplInvalidRule", `expected a form such as \`(allow …)\`, found ${describe(d)}`, d.span);
      const list = d as Datum & { kind: "list" };
      if (name === "version") {
        const v = list.items[1];
        if (list.items.length !== 2 || v?.kind !== "number") throw new ReadError("sbplInvalidRule", "`version` takes one number", d.span);
        if (v.value !== 1) throw new ReadError("sbplUnsupported", `version \`${v.value}\` is not one sbc models`, v.span, "profiles start with `(version 1)`");
        if (position !== 0 || version !== null) throw new ReadError("sbplInvalidRule", "`(version …)` must be the first form", d.span);
        version = v.value;
      } else if (name === "allow" || name === "deny") {
        rules.push(rule(list, name, rules.length, env));
      } else if (name === "define") {
        const target = list.items[1];
        if (target?.kind !== "symbol") throw new ReadError("sbplUnsupported", "only `(define NAME \"text\")` constants are supported, not procedures", d.span);
        if (list.items.length !== 3) throw new ReadError("sbplInvalidRule", "`define` takes a name and a value", d.span);
        env.constants.set(target.name, strExpr(list.items[2]!, env, "`define`"));
      } else if (name === "import") {
        throw new ReadError("sbplUnsupported", "`import` is not supported: the imported profile is not available to sbc", d.span, "inline the rules you need instead of importing a system profile");
      } else if (name === "debug") {
        // `(debug deny)` only changes logging.
      } else {
        throw new ReadError("sbplUnsupported", `the form \`${name}\` is not supported in profiles read by sbc`, d.span, "sbc reads `version`, `allow`, `deny`, `define` of strings and `debug`");
      }
    } catch (e) {
      report(e);
    }
  });
  if (diagnostics.length) return { diagnostics };
  return { profile: { source, version, rules, params: [...env.params].sort() }, diagnostics };
}

// ---- regexes ------------------------------------------------------------------------------------------

/** Characters outside brackets that stand for themselves when escaped with `\`. */
const ESCAPABLE = /^[.[\]()*+?{}|^$\\/"\-]$/;

/**
 * Translate an AppleMatch regex into an equivalent JavaScript one (unanchored search, as POSIX `regexec`;
 * `.` matches any character, including a newline). Throws on anything outside the modelled subset:
 * backslash classes (`\d`, `\w`, …), back-references, `(?…)` groups, POSIX classes (`[[:alpha:]]`), a
 * backslash inside brackets (POSIX reads it literally, Perl-style engines as an escape), and `^` or `$`
 * other than at the ends of the expression or of an alternative.
 */
export function sbplRegexToJs(src: string): RegExp {
  let out = "";
  let depthNow = 0;
  let atomBefore = false;
  /** At the start of the expression, of a group or of an alternative (where `^` may stand). */
  let altStart = true;
  const fail = (why: string): never => {
    throw new Error(`the regex \`${src}\` ${why}`);
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const atAltStart = altStart;
    altStart = c === "(" || c === "|";
    if (c === "\\") {
      const e = src[i + 1];
      if (e === undefined) fail("ends with a lone `\\`");
      if (!ESCAPABLE.test(e!)) fail(`uses the escape \`\\${e}\`, which sbc does not model`);
      out += "\\" + (e === "/" || e === '"' || e === "-" ? "x" + e!.charCodeAt(0).toString(16).padStart(2, "0") : e);
      i++;
      atomBefore = true;
    } else if (c === "[") {
      let j = i + 1;
      let body = "";
      if (src[j] === "^") {
        body += "^";
        j++;
      }
      if (src[j] === "]") {
        body += "\\]";
        j++;
      }
      for (; j < src.length && src[j] !== "]"; j++) {
        const d = src[j]!;
        if (d === "\\") fail("has a `\\` inside brackets, which POSIX and Perl engines read differently");
        if (d === "[" && /[:.=]/.test(src[j + 1] ?? "")) fail("uses a POSIX class or collating element, which sbc does not model");
        body += d === "[" || d === "^" ? "\\" + d : d;
      }
      if (j >= src.length) fail("has an unclosed `[`");
      const cls = `[${body}]`;
      try {
        new RegExp(cls, "u");
      } catch {
        fail(`has an invalid bracket expression \`${src.slice(i, j + 1)}\``);
      }
      out += cls;
      i = j;
      atomBefore = true;
    } else if (c === "(") {
      if (src[i + 1] === "?") fail("uses a `(?…)` group, which AppleMatch rejects");
      depthNow++;
      out += "(?:";
      atomBefore = false;
    } else if (c === ")") {
      if (depthNow === 0) fail("has an unmatched `)`");
      depthNow--;
      out += ")";
      atomBefore = true;
    } else if (c === "|") {
      out += "|";
      atomBefore = false;
    } else if (c === "*" || c === "+" || c === "?") {
      if (!atomBefore) fail(`has \`${c}\` with nothing to repeat`);
      if (src[i + 1] === "?" || src[i + 1] === "+") fail("uses a lazy or possessive quantifier, which POSIX does not have");
      out += c;
    } else if (c === "{") {
      const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(src.slice(i));
      if (!m || !atomBefore) fail("has a `{` that is not a bound `{m}`, `{m,}` or `{m,n}` after an atom");
      if (m![3] && Number(m![3]) < Number(m![1])) fail("has a bound whose maximum is below its minimum");
      out += m![0];
      i += m![0].length - 1;
    } else if (c === "^") {
      if (!atAltStart) fail("has `^` in the middle of the expression, which AppleMatch rejects");
      out += "^";
      atomBefore = false;
    } else if (c === "$") {
      const next = src[i + 1];
      if (next !== undefined && next !== ")" && next !== "|") fail("has `$` before the end of the expression");
      out += "$";
      atomBefore = false;
    } else if (c === ".") {
      out += ".";
      atomBefore = true;
    } else {
      out += /[\]}/\-]/.test(c) ? "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0") : c;
      atomBefore = true;
    }
  }
  if (depthNow !== 0) fail("has an unclosed `(`");
  try {
    return new RegExp(out, "su");
  } catch (e) {
    return fail(`cannot be translated (${(e as Error).message})`);
  }
}

/** The catalog entries the reader reports; listed here so tests can refer to them. */
export const READER_CODES = [CODES.sbplSyntax.code, CODES.sbplUnsupported.code, CODES.sbplInvalidRule.code];
