// Text that goes into an SBPL profile: string literals (TinyScheme's escapes, nothing else), regexes for
// globs (AppleMatch's POSIX-like dialect, every metacharacter escaped), comments, and the macOS spelling of a
// path (the kernel matches `/private/tmp/x`, never `/tmp/x`). Escaping is total: no input can end a string
// or a comment early, so a hostile path stays data.

import { components, globComponentRegExp, hasWildcard } from "../../ir/paths.js";

// ---- strings and comments --------------------------------------------------------------------------------

function hex2(code: number): string {
  return "\\x" + code.toString(16).padStart(2, "0");
}

/**
 * A TinyScheme string literal. Its reader knows `\\`, `\"`, `\n`, `\t`, `\r` and `\xHH` and reads any other
 * `\c` as `c` (there is no `\u`), so `\` and `"` are escaped and control characters become `\xHH`. Text
 * beyond ASCII is written as itself: the profile is UTF-8 and so is the path the kernel matches.
 */
export function sbplString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (c < 0x20 || c === 0x7f) out += hex2(c);
    else if (c >= 0xd800 && c <= 0xdfff) throw new Error("a lone surrogate cannot be written as UTF-8");
    else out += ch;
  }
  return out + '"';
}

/**
 * A regex literal: `#"…"`, the form Codex and Chromium use, whose text is the regex itself. A `"` inside
 * would need `\"`, and whether `\\"` then ends the literal is not documented, so a regex holding `"` is
 * written as an ordinary string instead, where every escape is certain.
 */
export function sbplRegexLiteral(regex: string): string {
  if (!regex.includes('"') && !/[\u0000-\u001f\u007f]/.test(regex)) return `#"${regex}"`;
  return sbplString(regex);
}

/** Text for a `;` comment: one line whatever the input (a newline would end the comment and start code). */
export function commentText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

/** Bytes of a string in UTF-8: sandbox-exec refuses a string literal much over 1 KB. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** The longest string literal the profile may hold (sandbox-runtime measured ~1025 bytes and keeps 900). */
export const MAX_LITERAL_BYTES = 900;

// ---- macOS paths -----------------------------------------------------------------------------------------

/** Top-level names that are symlinks into /private on macOS: the kernel only ever sees the target. */
export const PRIVATE_ROOTS: readonly string[] = ["etc", "tmp", "var"];

/** The canonical macOS spelling of a normalized absolute path's components. */
export function canonicalComponents(parts: readonly string[]): string[] {
  return parts.length && PRIVATE_ROOTS.includes(parts[0]!) ? ["private", ...parts] : [...parts];
}

/** The canonical macOS spelling of a normalized absolute path (`/tmp/x` → `/private/tmp/x`). */
export function canonicalPath(path: string): string {
  const parts = canonicalComponents(components(path));
  return parts.length ? "/" + parts.join("/") : "/";
}

// ---- regexes ---------------------------------------------------------------------------------------------

/** Characters AppleMatch reads as operators outside brackets; each is escaped with `\` (as sandbox-runtime does). */
const REGEX_SPECIAL = new Set([..."\\^$.|?*+()[]{}"]);

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function otherCase(c: number): number {
  return c >= 0x61 ? c - 0x20 : c + 0x20;
}

/** One literal character as regex text; with `fold`, an ASCII letter matches either case (`[aA]`). */
function literalChar(ch: string, fold: boolean): string {
  const c = ch.codePointAt(0)!;
  if (fold && isAsciiLetter(c)) return `[${ch}${String.fromCodePoint(otherCase(c))}]`;
  return REGEX_SPECIAL.has(ch) ? "\\" + ch : ch;
}

/** Literal text as a regex matching exactly that text. */
export function regexQuote(text: string, fold = false): string {
  let out = "";
  for (const ch of text) out += literalChar(ch, fold);
  return out;
}

type Ranges = [number, number][];

function mergeCodeRanges(r: Ranges): Ranges {
  const sorted = [...r].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Ranges = [];
  for (const x of sorted) {
    const last = out[out.length - 1];
    if (last && x[0] <= last[1] + 1) last[1] = Math.max(last[1], x[1]);
    else out.push([x[0], x[1]]);
  }
  return out;
}

function contains(r: Ranges, c: number): boolean {
  return r.some(([lo, hi]) => c >= lo && c <= hi);
}

/** Add the other case of every ASCII letter in the set. */
function foldRanges(r: Ranges): Ranges {
  const extra: Ranges = [];
  for (const [lo, hi] of r) {
    for (const [a, z] of [
      [0x41, 0x5a],
      [0x61, 0x7a],
    ] as const) {
      const s = Math.max(lo, a);
      const e = Math.min(hi, z);
      if (s <= e) extra.push([otherCase(s), otherCase(e)]);
    }
  }
  return mergeCodeRanges([...r, ...extra]);
}

/** Remove one code point from a set of ranges. */
function without(r: Ranges, c: number): Ranges {
  const out: Ranges = [];
  for (const [lo, hi] of r) {
    if (c < lo || c > hi) out.push([lo, hi]);
    else {
      if (lo < c) out.push([lo, c - 1]);
      if (c < hi) out.push([c + 1, hi]);
    }
  }
  return out;
}

/** Parse a glob bracket expression (`[abc]`, `[!a-z]`, `[]x]`) starting at `i`; returns its set and end. */
function parseClass(part: string, i: number): { negate: boolean; ranges: Ranges; end: number } {
  let j = i + 1;
  let negate = false;
  if (part[j] === "!" || part[j] === "^") {
    negate = true;
    j++;
  }
  const items: number[] = [];
  if (part[j] === "]") {
    items.push(0x5d);
    j++;
  }
  while (j < part.length && part[j] !== "]") {
    const c = part.codePointAt(j)!;
    items.push(c);
    j += c > 0xffff ? 2 : 1;
  }
  // Ranges read as JavaScript (the reference evaluator's engine) reads them: `x-y` between two atoms.
  const ranges: Ranges = [];
  for (let k = 0; k < items.length; k++) {
    if (items[k + 1] === 0x2d && k + 2 < items.length) {
      ranges.push([items[k]!, items[k + 2]!]);
      k += 2;
    } else ranges.push([items[k]!, items[k]!]);
  }
  return { negate, ranges: mergeCodeRanges(ranges), end: j };
}

/** Characters that change meaning inside brackets, and so are written outside them. */
const BRACKET_UNSAFE = new Set([0x5d, 0x5e, 0x2d, 0x5c, 0x5b]);

function bracketBody(r: Ranges): { body: string; outside: number[] } {
  let set = r;
  const outside: number[] = [];
  for (const c of BRACKET_UNSAFE) {
    if (contains(set, c)) {
      outside.push(c);
      set = without(set, c);
    }
  }
  let body = "";
  for (const [lo, hi] of set) {
    body += String.fromCodePoint(lo);
    if (hi > lo + 1) body += "-";
    if (hi > lo) body += String.fromCodePoint(hi);
  }
  return { body, outside: outside.sort((a, b) => a - b) };
}

export class GlobRegexError extends Error {}

/**
 * One glob component (not `**`) as regex text matching exactly the names the glob component matches.
 * `*` → `[^/]*`, `?` → `[^/]`, `[...]` → a bracket expression (its `/` removed or, negated, added), escaped
 * characters and everything else literal. With `fold`, ASCII letters match either case, for a deny on a
 * case-insensitive volume. A negated class that excludes a character that cannot stand in brackets
 * (`]`, `^`, `-`, `\`, `[`) has no safe spelling: that throws.
 */
export function globComponentRegex(part: string, fold: boolean, widenUnsafe = false): string {
  let out = "";
  for (let i = 0; i < part.length; i++) {
    const ch = part[i]!;
    if (ch === "\\") {
      const next = String.fromCodePoint(part.codePointAt(i + 1)!);
      out += literalChar(next, fold);
      i += next.length;
    } else if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else if (ch === "[") {
      const cls = parseClass(part, i);
      i = cls.end;
      let set = without(cls.ranges, 0x2f);
      if (!cls.negate) {
        if (fold) set = foldRanges(set);
        const { body, outside } = bracketBody(set);
        const alts = [...(body ? [`[${body}]`] : []), ...outside.map((c) => "\\" + String.fromCodePoint(c))];
        out += alts.length === 1 ? alts[0] : `(${alts.join("|")})`;
      } else {
        // Folded, a negated class excludes a letter only when it excludes both cases.
        if (fold) {
          const all = set;
          set = set.flatMap(([lo, hi]) => expandKeepBothCases(lo, hi, all));
        }
        const { body, outside } = bracketBody(set);
        if (outside.length && widenUnsafe) out += "[^/]";
        else if (outside.length) throw new GlobRegexError(`the class in \`${part}\` excludes \`${String.fromCodePoint(outside[0]!)}\`, which a Seatbelt regex cannot exclude safely`);
        else out += `[^/${body}]`;
      }
    } else {
      const c = String.fromCodePoint(part.codePointAt(i)!);
      out += literalChar(c, fold);
      i += c.length - 1;
    }
  }
  return out;
}

/** For a folded negated class: keep a letter excluded only if its other case is excluded too. */
function expandKeepBothCases(lo: number, hi: number, set: Ranges): Ranges {
  const out: Ranges = [];
  for (let c = lo; c <= hi; c++) {
    if (isAsciiLetter(c) && !contains(set, otherCase(c))) continue;
    const last = out[out.length - 1];
    if (last && last[1] === c - 1) last[1] = c;
    else out.push([c, c]);
  }
  return out;
}

/**
 * A bound glob (a normalized absolute IR glob) as anchored regexes over canonical macOS paths. `**` is zero
 * or more whole components (`(/.*)?`). The first component is canonicalized: `/tmp/**` becomes
 * `^/private/tmp(/.*)?$`; a wildcard first component (`/*`, `**`) gets one more regex for each of `etc`,
 * `tmp`, `var` it matches, under `/private`, since the kernel never sees `/tmp/…`. `fold` is for denies:
 * letters match either case, and a class that cannot be written exactly matches any character instead.
 */
export function globToRegexes(glob: string, fold: boolean): string[] {
  return globRegexes(glob, fold).map((g) => g.regex);
}

/** One regex of a glob; `notAliased`: the filter must also exclude ALIAS_TARGETS_REGEX (see globRegexes). */
export interface GlobRegex {
  readonly regex: string;
  readonly notAliased: boolean;
}

/** What `/etc`, `/tmp` and `/var` resolve to: the kernel's spelling of every path under those links. */
export const ALIAS_TARGETS_REGEX = "^/private/(etc|tmp|var)(/|$)";

// globToRegexes, for an allow: the generic regex of a glob whose wildcards can reach `/private/etc`,
// `/private/tmp` or `/private/var` (`/*/*`, `/private/*`, `/**`) is marked `notAliased`, to be emitted as
// `(require-all (regex G) (require-not (regex ALIAS_TARGETS_REGEX)))`. The kernel spells `/etc` as
// `/private/etc`, and sbc does not follow a link the policy did not name: `/*/*` does not cover `/etc`
// (one component), so the generic regex must not grant `/private/etc` either (seed 346119634). What the
// glob does match under those links (`/etc/x` for `/*/x`) comes back through the explicit `/private/…`
// alternatives. A deny keeps matching more (`fold`): a wider deny is only narrower.
export function globRegexes(glob: string, fold: boolean): GlobRegex[] {
  const parts = components(glob);
  const build = (ps: readonly string[]): string => {
    let re = "^";
    // A lone `*` must still match a whole (non-empty) component: `/*` does not match `/`.
    for (const p of ps) re += p === "**" ? "(/.*)?" : p === "*" ? "/[^/]+" : "/" + globComponentRegex(p, fold, fold);
    return (ps.length ? re : "^/") + "$";
  };
  const first = parts[0];
  if (first === undefined) return [{ regex: build(parts), notAliased: false }];
  if (first !== "**" && !hasWildcard(first)) {
    const name = unescapeComponent(first);
    if (PRIVATE_ROOTS.includes(name)) return [{ regex: build(["private", first, ...parts.slice(1)]), notAliased: false }];
    return [{ regex: build(parts), notAliased: !fold && wildcardsReachAliases(parts) }];
  }
  const out: GlobRegex[] = [{ regex: build(parts), notAliased: !fold && wildcardsReachAliases(parts) }];
  // A leading `**` already matches every alias target, unless the exclusion takes them away.
  if (first === "**" && !out[0]!.notAliased) return out;
  const seen = new Set(out.map((g) => g.regex));
  for (const name of PRIVATE_ROOTS) {
    for (const rest of afterComponent(parts, name, fold)) {
      const regex = build(["private", name, ...rest]);
      if (!seen.has(regex)) out.push({ regex, notAliased: false });
      seen.add(regex);
    }
  }
  return out;
}

function unescapeComponent(part: string): string {
  return part.replace(/\\(.)/gu, "$1");
}

function componentMatches(part: string, name: string, fold: boolean): boolean {
  if (!hasWildcard(part)) return fold ? unescapeComponent(part).toLowerCase() === name : unescapeComponent(part) === name;
  const m = globComponentRegExp(part);
  return m.test(name) || (fold && m.test(name.toUpperCase()));
}

/** The rests of a glob after its leading components consume one component `name` (`**` may consume none). */
function afterComponent(parts: readonly string[], name: string, fold: boolean): (readonly string[])[] {
  const [p, ...rest] = parts;
  if (p === undefined) return [];
  if (p === "**") return [parts, ...afterComponent(rest, name, fold)];
  return componentMatches(p, name, fold) ? [rest] : [];
}

/** Whether a glob matches some `/private/<alias>…` path with a wildcard standing for `private` or the alias. */
export function wildcardsReachAliases(parts: readonly string[]): boolean {
  const [p0, p1] = parts;
  if (p0 === undefined) return false;
  if (p0 === "**") return true;
  if (!componentMatches(p0, "private", false) || p1 === undefined) return false;
  if (p1 === "**") return true;
  if (!PRIVATE_ROOTS.some((a) => componentMatches(p1, a, false))) return false;
  return hasWildcard(p0) || hasWildcard(p1);
}
