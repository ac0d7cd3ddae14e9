// Escaping for the SBPL target (targets/sbpl/strings.ts) against hostile input: every string the profile
// holds must read back as exactly the path it was made from, with a tokenizer written here (independent of
// the emitter and of the model's reader) and with the reader; glob regexes must match exactly the paths the
// reference glob matcher matches; nothing a path holds can start a new form or comment.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/passes/index.js";
import { compileGlob, components } from "../ir/paths.js";
import { compileSbpl } from "../targets/sbpl/index.js";
import { ALIAS_TARGETS_REGEX, canonicalPath, commentText, globRegexes, globToRegexes, regexQuote, sbplRegexLiteral, sbplString } from "../targets/sbpl/strings.js";
import { readSbpl, sbplRegexToJs } from "../targets/sbpl/reader.js";

const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 300);

// ---- a tokenizer of our own: TinyScheme's reader as its source describes it ----

type Tok = { t: "(" | ")" } | { t: "str"; v: string; raw: boolean } | { t: "atom"; v: string };

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ";") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "(" || c === ")") {
      out.push({ t: c });
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '"' || (c === "#" && text[i + 1] === '"')) {
      const raw = c === "#";
      i += raw ? 2 : 1;
      let v = "";
      for (;;) {
        if (i >= text.length) throw new Error("unterminated string");
        const d = text[i]!;
        if (d === '"') break;
        if (d === "\\") {
          const e = text[i + 1]!;
          if (raw) {
            // In `#"…"` only `\"` is special; the emitter never writes `"` there.
            v += "\\" + e;
          } else if (e === "x") {
            v += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
            i += 2;
          } else v += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
          i += 2;
          continue;
        }
        v += d;
        i++;
      }
      out.push({ t: "str", v, raw });
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s()";]/.test(text[j]!)) j++;
      out.push({ t: "atom", v: text.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Top-level forms' heads and balance: an injected form would show up here. */
function topLevelHeads(toks: Tok[]): string[] {
  const heads: string[] = [];
  let depth = 0;
  for (let k = 0; k < toks.length; k++) {
    const tk = toks[k]!;
    if (tk.t === "(") {
      if (depth === 0) {
        const h = toks[k + 1]!;
        const op = toks[k + 2]!;
        heads.push(`${h.t === "atom" ? h.v : "?"} ${op.t === "atom" ? op.v : op.t === "str" ? "<str>" : op.t}`);
      }
      depth++;
    } else if (tk.t === ")") {
      depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
  }
  expect(depth).toBe(0);
  return heads;
}

const HOSTILE = [
  '/tmp/a"b\\c',
  "/w/quote\"); (allow default) (\"",
  "/w/semi;colon #| block |#",
  "/w/back\\\\slash\\",
  "/w/paren(s)",
  "/w/\u00e9t\u00e9/\u{1f600}",
  "/w/\\x41",
  '/w/"',
  "/w/dollar$caret^bar|",
  "/w/#\"raw\"",
];

function policyWith(path: string, kind: "path" | "exact" = "path"): string {
  return `sbc: 1\nname: hostile\nfilesystem:\n  - allow: read-write\n    ${kind}: ${JSON.stringify(path)}\n  - deny: read\n    ${kind}: ${JSON.stringify(path + "/secret")}\n`;
}

function compile(text: string, params: "inline" | "param") {
  const r = compilePolicy({ kind: "text", path: "hostile.yaml", text });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return compileSbpl(r.ir!, { params });
}

describe("SBPL strings", () => {
  it("escapes quotes and backslashes, and writes control characters as \\xHH (never \\u)", () => {
    expect(sbplString('/tmp/a"b\\c')).toBe('"/tmp/a\\"b\\\\c"');
    expect(sbplString("/a\u0001b\nc\u007f")).toBe('"/a\\x01b\\x0ac\\x7f"');
    expect(sbplString("/\u00e9")).toBe('"/\u00e9"');
    expect(() => sbplString("/\ud800")).toThrow();
  });

  it("round-trips any string through the tokenizer", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const toks = tokenize(sbplString(s));
        expect(toks).toEqual([{ t: "str", v: s, raw: false }]);
      }),
      { numRuns: RUNS },
    );
  });

  it("keeps comments on one line whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(commentText(s)).not.toMatch(/[\n\r\u2028\u2029]/);
        expect(tokenize("; " + commentText(s))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it("writes a regex holding a quote as an ordinary string, others as #\"…\"", () => {
    expect(sbplRegexLiteral("^/a\\.b$")).toBe('#"^/a\\.b$"');
    expect(sbplRegexLiteral('^/a"b$')).toBe('"^/a\\"b$"');
  });

  for (const params of ["inline", "param"] as const) {
    it(`hostile paths stay data (${params} mode)`, () => {
      for (const p of HOSTILE) {
        const out = compile(policyWith(p), params);
        const profile = out.profile!;
        const toks = tokenize(profile);
        for (const h of topLevelHeads(toks)) expect(h).toMatch(/^(version 1|deny default|allow [a-z*-]+)$/);
        expect(profile.match(/^\(deny /gm)).toEqual(["(deny "]);
        const canonical = canonicalPath(p);
        const values = params === "inline" ? toks.filter((t) => t.t === "str").map((t) => (t as { v: string }).v) : out.defines.map(([, v]) => v);
        expect(values).toContain(canonical);
        expect(values).toContain(canonical + "/secret");
        // The model's reader reads the same strings back.
        const read = readSbpl(profile);
        expect(read.diagnostics).toEqual([]);
      }
    });
  }

  it("hostile exact paths and globs stay data", () => {
    for (const p of HOSTILE) {
      const out = compile(policyWith(p, "exact"), "inline");
      expect(readSbpl(out.profile!).diagnostics).toEqual([]);
    }
  });

  it("a deny glob over a hostile directory matches that directory's files and nothing else", () => {
    for (const p of HOSTILE) {
      const dir = p.replace(/[\\*?[\]]/g, "\\$&");
      const text = `sbc: 1\nname: hostile\nfilesystem:\n  - allow: read-only\n    path: /w\n  - allow: read-only\n    path: /tmp\n  - deny: read\n    glob: ${JSON.stringify(dir + "/*.pem")}\n`;
      const out = compile(text, "inline");
      const profile = out.profile!;
      for (const h of topLevelHeads(tokenize(profile))) expect(h).toMatch(/^(version 1|deny default|allow [a-z*-]+)$/);
      const read = readSbpl(profile);
      expect(read.diagnostics).toEqual([]);
      const regexes = [...profile.matchAll(/\(require-not \(regex (#?"(?:[^"\\]|\\.)*")\)\)/g)].map((m) => tokenize(m[1]!)[0] as { v: string; raw: boolean });
      expect(regexes.length).toBeGreaterThan(0);
      for (const r of regexes) {
        const re = sbplRegexToJs(r.raw ? r.v.replace(/\\"/g, '"') : r.v);
        expect(re.test(canonicalPath(p) + "/key.pem"), `${p}: ${r.v}`).toBe(true);
        expect(re.test(canonicalPath(p) + "/key.txt")).toBe(false);
        expect(re.test(canonicalPath(p) + "x/key.pem")).toBe(false);
      }
    }
  });
});

// ---- glob → regex ----

/** Glob components that exercise every metacharacter and class form. */
const globComponent = fc.oneof(
  fc.constantFrom("*", "?", "**", "[a-c]", "[!a]", "[]x]", "[^.]", "*.pem", "a?b", "[0-9]*", "\\*", "\\[x\\]", "x.y+z(1)", "$^|{}", "A", "tmp", "var", "etc", "private"),
  fc.stringMatching(/^[a-zA-Z0-9.+(){}$^|]{1,4}$/),
);
const nameComponent = fc.oneof(fc.constantFrom("a", "b", "c", "x", "A", ".", "x.y+z(1)", "$^|{}", "*", "[x]", "tmp", "var", "etc", "private", "ab", "a.pem", "0", "]", "é"), fc.stringMatching(/^[a-zA-Z0-9.]{1,3}$/));

function globOk(parts: string[]): boolean {
  // `**` must be a whole component (the compiler checks this); drop runs the generator may make invalid.
  return parts.every((p) => p === "**" || !p.includes("**"));
}

describe("SBPL glob regexes", () => {
  it("anchor and escape: `**` across components, `*` and `?` within one, classes", () => {
    expect(globToRegexes("/w/**/*.pem", false)).toEqual(["^/w(/.*)?/[^/]*\\.pem$"]);
    expect(globToRegexes("/tmp/*/file?.txt", false)).toEqual(["^/private/tmp/[^/]+/file[^/]\\.txt$"]);
    expect(globToRegexes("/p/a.b+c(1)", false)).toEqual(["^/p/a\\.b\\+c\\(1\\)$"]);
    expect(globToRegexes("/w/[!a]", false)).toEqual(["^/w/[^/a]$"]);
    expect(globToRegexes("/w/*.env", true)).toEqual(["^/[wW]/[^/]*\\.[eE][nN][vV]$"]);
    expect(globToRegexes("/*/x", false)).toEqual(["^/[^/]+/x$", "^/private/etc/x$", "^/private/tmp/x$", "^/private/var/x$"]);
    expect(regexQuote("a.b")).toBe("a\\.b");
    for (const r of globToRegexes("/w/**/*.pem", true)) expect(r).not.toContain("(?i)");
  });

  it("matches exactly the paths the reference glob matcher matches (canonical spelling)", () => {
    fc.assert(
      fc.property(fc.array(globComponent, { minLength: 1, maxLength: 4 }), fc.array(nameComponent, { minLength: 0, maxLength: 5 }), (g, p) => {
        fc.pre(globOk(g));
        const glob = "/" + g.join("/");
        const path = p.length ? "/" + p.join("/") : "/";
        const expected = compileGlob(components(glob))(components(path));
        const kernelPath = canonicalPath(path);
        const got = allowMatches(glob, kernelPath);
        // `/private/...` written directly is its own path to sbc; only compare paths that do not start there.
        fc.pre(components(path)[0] !== "private");
        expect(got, `${glob} vs ${path} (${kernelPath}) via ${globToRegexes(glob, false).join(" | ")}`).toBe(expected);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it("a wildcard does not reach through /etc, /tmp, /var (regression: seed 346119634, `/*/*` vs `/etc`)", () => {
    // `/*/*` does not cover `/etc` (one component) but its generic regex matched `/private/etc`, the kernel's
    // spelling of `/etc`: the allow was wider than the IR. The generic regex now excludes the alias targets.
    expect(allowMatches("/*/*", "/private/etc")).toBe(false);
    expect(allowMatches("/*/*", "/private/etc/hosts")).toBe(true); // `/etc/hosts`, two components
    expect(allowMatches("/*/*/*", "/private/etc/x")).toBe(false);
    expect(allowMatches("/*/*/*", "/private/etc/x/y")).toBe(true);
    expect(allowMatches("/**", "/private/tmp/x")).toBe(true);
    expect(allowMatches("/**/x", "/private/tmp/x")).toBe(true);
    expect(allowMatches("/**/tmp", "/private/tmp")).toBe(true);
    expect(allowMatches("/**/private", "/private")).toBe(true);
    expect(allowMatches("/private/*", "/private/var")).toBe(false);
    expect(allowMatches("/private/etc/*", "/private/etc/x")).toBe(true);
    expect(globRegexes("/*/*", false)).toEqual([
      { regex: "^/[^/]+/[^/]+$", notAliased: true },
      { regex: "^/private/etc/[^/]+$", notAliased: false },
      { regex: "^/private/tmp/[^/]+$", notAliased: false },
      { regex: "^/private/var/[^/]+$", notAliased: false },
    ]);
    // A deny is not narrowed: it keeps matching the alias targets.
    expect(globRegexes("/*/*", true).every((g) => !g.notAliased)).toBe(true);
  });

  it("folded (deny) regexes match every case variant of what the glob matches", () => {
    fc.assert(
      fc.property(fc.array(globComponent, { minLength: 1, maxLength: 3 }), fc.array(nameComponent, { minLength: 1, maxLength: 4 }), (g, p) => {
        fc.pre(globOk(g));
        const glob = "/" + g.join("/");
        const path = "/" + p.join("/");
        fc.pre(components(path)[0] !== "private");
        if (!compileGlob(components(glob))(components(path))) return;
        const regexes = globToRegexes(glob, true).map(sbplRegexToJs);
        const variants = [path, path.toUpperCase(), path.toLowerCase()].filter((v) => !/^\/(TMP|VAR|ETC)(\/|$)/.test(v));
        for (const v of variants) expect(regexes.some((r) => r.test(canonicalPath(v))), `${glob} folded vs ${v}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

/** Whether an allow glob's filter (each regex, less the alias targets where marked) matches a kernel path. */
function allowMatches(glob: string, kernelPath: string): boolean {
  const aliased = sbplRegexToJs(ALIAS_TARGETS_REGEX);
  return globRegexes(glob, false).some((g) => sbplRegexToJs(g.regex).test(kernelPath) && !(g.notAliased && aliased.test(kernelPath)));
}
