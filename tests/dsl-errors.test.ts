// Syntax errors in DSL files: each has a family-12 code, a place, and a message written for a person; error
// recovery reports several in one run; hostile input (deep nesting, control characters, bad bytes) is refused
// with a diagnostic, never a crash. Errors past syntax come from the shared passes with the YAML codes.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderHumanAll } from "../diagnostics/render.js";
import { Source } from "../diagnostics/source.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { decodeSource, loadSource } from "../compiler/passes/load-file.js";
import { MAX_NESTING } from "../language/yaml-source.js";
import { parseDsl } from "../grammar/index.js";
import { MAX_SYNTAX_ERRORS } from "../grammar/parser.js";
import { REPO } from "./support/cli.js";
import { tempDir } from "./support/tmp.js";

/** `CODE line:col message` for each diagnostic of parsing `text`. */
function errors(text: string): string[] {
  const r = parseDsl(new Source("t.sbc", text));
  return r.diagnostics.map((d) => {
    const p = d.span ? d.span.source.position(d.span.start) : { line: 0, column: 0 };
    return `${d.code} ${p.line}:${p.column} ${d.message}`;
  });
}

/** Diagnostics of loading `text` as a whole file (parse, schema, lowering), as `CODE line:col message`. */
function loadErrors(text: string): string[] {
  return loadSource(new Source("t.sbc", text)).diagnostics.map((d) => {
    const p = d.span ? d.span.source.position(d.span.start) : { line: 0, column: 0 };
    return `${d.code} ${p.line}:${p.column} ${d.message}`;
  });
}

describe("several syntax errors in one run", () => {
  it("reports each mistake of a file with several, in order", () => {
    const text = [
      "sbc 1",
      "policy demo", // missing {
      "  filesystem {",
      '    allow read pth "/x"', // clause typo
      '    deny write path "/y', // unterminated string
      "    allow read path '/z'", // single quotes
      "  }",
      "  netwrk off", // statement typo
      "  syscalls {",
      "    rule ptrace errno EPERM reason", // reason without a value
      "  }",
      "}",
      "}", // one brace too many
    ].join("\n");
    expect(errors(text)).toEqual([
      "SBC1205 3:3 expected `{` after the policy name, found `filesystem`",
      "SBC1205 4:16 expected a rule, a clause or `}` in `filesystem`, found `pth`",
      "SBC1202 5:21 unterminated string",
      "SBC1201 6:21 strings use double quotes, not `'`",
      "SBC1205 8:3 expected a statement or `}` in the policy, found `netwrk`",
      "SBC1205 11:3 expected a value (a word, a string, an integer or a list) after `reason`, found `}`",
      "SBC1205 13:1 unexpected `}` after the end of the policy",
    ].sort(byPosition));
  });

  it("recovers inside blocks: one error per broken rule, the rules between them still parse", () => {
    const text = `sbc 1
policy p {
  filesystem {
    allow read path "/a"
    allow read pat "/b"
    allow read path "/c"
  }
  network {
    allow connect ports [443 8080]
    allow bind
  }
  tests {
    expect allow read
  }
}
`;
    expect(errors(text)).toEqual([
      "SBC1205 5:16 expected a rule, a clause or `}` in `filesystem`, found `pat`",
      "SBC1205 9:30 expected `]` after `443`, found `8080`",
      "SBC1205 14:3 expected a value (a word, a string, an integer or a list) after `read`, found `}`",
    ]);
  });

  it("gives did-you-mean help for misspelt keywords and renders file:line:col", () => {
    const r = parseDsl(new Source("dir/t.sbc", "sbc 1\npolicy p {\n  syscalls {\n    rul ptrace kill-process\n  }\n}\n"));
    const out = renderHumanAll(r.diagnostics);
    expect(out).toContain("error[SBC1205]: expected a setting, a rule, a clause or `}` in `syscalls`, found `rul`");
    expect(out).toContain("--> dir/t.sbc:4:5");
    expect(out).toContain("help: did you mean `rule`?");
  });

  it("explains a missing closing brace at the end of the file", () => {
    expect(errors('sbc 1\npolicy p {\n  filesystem {\n    allow read path "/a"\n')).toEqual([
      "SBC1205 5:1 expected a rule, a clause or `}` in `filesystem`, found the end of the file",
    ]);
  });

  it("says what a value is when one is missing, and what an action is", () => {
    expect(errors("sbc 1\npolicy p {\n  description\n}\n")).toEqual([
      "SBC1205 4:1 expected a value (a word, a string, an integer or a list) after `description`, found `}`",
    ]);
    expect(errors("sbc 1\npolicy p {\n  syscalls {\n    rule ptrace [x]\n  }\n}\n")).toEqual([
      "SBC1205 4:17 expected an action (a word such as `allow` or `kill-process`, `errno NAME` or `trace N`) after `ptrace`, found `[`",
    ]);
  });

  it("helps with the usual slips: a bare comma list, `=` after a keyword, a missing `}`, `sbc` inside the policy", () => {
    const help = (text: string) => parseDsl(new Source("t.sbc", text)).diagnostics.map((d) => d.help);
    expect(help("sbc 1 policy p { network { allow connect ports 443, 8080 } }")).toEqual(["a list is written in brackets: `[443, 8080]`"]);
    expect(help('sbc 1 policy p { description = "x" }')[0]).toMatch(/^`=` only gives a parameter its default/);
    expect(help('sbc 1 policy p { filesystem { allow read path "/x"')).toEqual(["a closing `}` is missing: every `{` needs its `}`"]);
    expect(help("policy p { sbc 1 }")).toEqual(["`sbc 1` comes first, before `policy`"]);
    expect(errors("sbc 1 policy p { tests { expect allow } }")).toEqual([
      "SBC1205 1:39 expected what the test asks (an access class, `connect`, `bind`, `unix`, `syscall` or `command`) after `allow`, found `}`",
    ]);
  });

  it("reports statements outside the policy block", () => {
    expect(errors('sbc 1\nfilesystem {\n  allow read path "/a"\n}\n')[0]).toBe("SBC1205 2:1 unexpected `filesystem` after the end of the policy");
  });

  it("never reports chevrotain's own wording", () => {
    const bad = ["policy {", "sbc", "sbc 1 policy p { network { allow } }", "sbc 1 policy p { tests { expect } }", "sbc 1 policy p { params { = } }", "[[[", "}}}"];
    for (const text of bad) {
      for (const e of errors(text)) {
        expect(e).toMatch(/^SBC12\d\d /);
        expect(e).not.toMatch(/Expecting|but found|one of these possible|-->|\bToken\b|RCurly|LBracket|Identifier/);
      }
    }
  });
});

describe("strings and characters", () => {
  it("an unterminated string ends at its line and does not swallow the next", () => {
    expect(errors('sbc 1\npolicy p {\n  description "abc\n  extends read-only\n}\n')).toEqual(["SBC1202 3:15 unterminated string"]);
  });

  it("an unterminated string at the very end of the file", () => {
    expect(errors('sbc 1\npolicy "p')).toEqual(["SBC1202 2:8 unterminated string", "SBC1205 2:10 expected `{` after the policy name, found the end of the file"]);
  });

  it("a string whose last quote is escaped is unterminated", () => {
    expect(errors('sbc 1 policy p { description "a\\" }')).toEqual([
      "SBC1202 1:30 unterminated string",
      "SBC1205 1:36 expected a statement or `}` in the policy, found the end of the file",
    ]);
  });

  it("invalid escapes and raw control characters inside strings", () => {
    expect(errors('sbc 1 policy p { description "a\\qb\\u12" }')).toEqual([
      "SBC1203 1:32 invalid escape `\\q` in a string",
      "SBC1203 1:35 invalid escape `\\u12` in a string",
    ]);
    expect(errors('sbc 1 policy p { description "a\tb\u0007" }')).toEqual([
      "SBC1204 1:32 a string contains the control character U+0009",
      "SBC1204 1:34 a string contains the control character U+0007",
    ]);
  });

  it("control characters and stray characters outside strings", () => {
    expect(errors("sbc 1 policy p {\u0000}")).toEqual(["SBC1201 1:17 unexpected control character U+0000"]);
    expect(errors("sbc 1 policy p { extends $x }")).toEqual(["SBC1201 1:26 unexpected character `$`"]);
    const colon = parseDsl(new Source("t.sbc", "sbc: 1")).diagnostics[0]!;
    expect(colon.code).toBe("SBC1201");
    expect(colon.help).toContain("no `key: value`");
  });

  it("accepts every JSON escape, surrogate pairs included", () => {
    const r = parseDsl(new Source("t.sbc", 'sbc 1 policy p { description "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00" }'));
    expect(r.diagnostics).toEqual([]);
    expect((r.doc!.value as { description: string }).description).toBe('"\\/\b\f\n\r\té😀');
  });

  it("refuses integers that a double cannot hold exactly", () => {
    expect(errors("sbc 1 policy p { tests { expect allow syscall read args [18446744073709551615] } }")).toEqual([
      "SBC1207 1:58 integer `18446744073709551615` is too large",
    ]);
  });
});

describe("hostile and degenerate input", () => {
  it("refuses nesting deeper than MAX_NESTING before parsing, without a stack overflow", () => {
    const deep = `sbc 1 policy p { extends ${"[".repeat(100_000)}${"]".repeat(100_000)} }`;
    const e = errors(deep);
    expect(e).toEqual([`SBC1206 1:${26 + MAX_NESTING - 1} the file nests deeper than ${MAX_NESTING} levels`]);
    // Just under the limit parses (the schema then refuses the shape, but that is not a syntax error).
    const ok = `sbc 1 policy p { extends ${"[".repeat(MAX_NESTING - 1)}a${"]".repeat(MAX_NESTING - 1)} }`;
    expect(errors(ok)).toEqual([]);
  });

  it("stops after MAX_SYNTAX_ERRORS errors instead of exhausting the stack on thousands of them", () => {
    const rules = Array.from({ length: 5000 }, (_, i) => `    allow read pth "/srv/${i}"`).join("\n");
    const e = errors(`sbc 1\npolicy p {\n  filesystem {\n${rules}\n  }\n}\n`);
    expect(e.length).toBe(MAX_SYNTAX_ERRORS + 1);
    expect(e[MAX_SYNTAX_ERRORS]).toMatch(/^SBC1205 \d+:\d+ too many errors; stopped after 25$/);
    const lexical = errors("$ ".repeat(10_000));
    expect(lexical.length).toBe(MAX_SYNTAX_ERRORS + 1);
    expect(lexical[MAX_SYNTAX_ERRORS]).toMatch(/too many errors; stopped after 25$/);
    // The parser is usable again afterwards.
    expect(errors("sbc 1 policy p {}")).toEqual([]);
  });

  it("an empty file, blank lines and comments only: no policy", () => {
    for (const text of ["", "\n\n  \t\n", "# just a comment\n# and another"]) expect(errors(text)).toEqual(["SBC0106 1:1 the file holds no policy"]);
  });

  it("a byte order mark at the start is dropped; one elsewhere is an error", () => {
    const bom = decodeSource("t.sbc", Buffer.from("\ufeffsbc 1\npolicy p {}\n"));
    expect(parseDsl(bom.source!).diagnostics).toEqual([]);
    expect(errors("sbc 1\npolicy p {\ufeff}\n")).toEqual(["SBC1201 2:11 unexpected byte order mark U+FEFF"]);
  });

  it("a file that is not UTF-8 is refused before parsing", () => {
    const dir = tempDir("sbc-dsl-");
    writeFileSync(join(dir, "p.sbc"), Buffer.from([0x73, 0x62, 0x63, 0x20, 0x31, 0x0a, 0xff, 0xfe]));
    const r = compilePolicy({ kind: "file", path: "p.sbc" }, { cwd: dir });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["SBC0102"]);
  });
});

describe("never a crash", () => {
  const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 200);
  const twins = readdirSync(join(REPO, "fixtures"))
    .filter((c) => c.startsWith("ok-"))
    .map((c) => readFileSync(join(REPO, "fixtures", c, "policy.sbc"), "utf8"));

  /** Every diagnostic has a code and a span inside the text; the parse either fails or gives a document. */
  const wellFormed = (text: string) => {
    const r = parseDsl(new Source("t.sbc", text));
    for (const d of r.diagnostics) {
      expect(d.code).toMatch(/^SBC\d{4}$/);
      expect(d.span, d.message).toBeDefined();
      expect(d.span!.start).toBeGreaterThanOrEqual(0);
      expect(d.span!.end).toBeLessThanOrEqual(text.length);
      expect(d.message).not.toMatch(/\n/);
    }
    if (r.diagnostics.length === 0) expect(r.doc).toBeDefined();
    else expect(r.doc).toBeUndefined();
  };

  it("property: any text gives diagnostics or a document, never an exception", () => {
    const alphabet = fc.constantFrom(..."{}[],=\"\\#\n ab-_@.01".split(""), "allow ", "policy ", "sbc 1 ", "rule ", "errno ", "expect ", "path ");
    fc.assert(fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.array(alphabet, { maxLength: 80 }).map((a) => a.join(""))), wellFormed), { numRuns: RUNS });
  });

  it("property: a valid twin with a few characters deleted, doubled or replaced still never throws", () => {
    const edit = fc.tuple(fc.constantFrom(...twins), fc.array(fc.tuple(fc.nat(), fc.constantFrom("", "{", "}", "[", "]", ",", '"', "x", "\n")), { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(edit, ([text, edits]) => {
        let t = text;
        for (const [at, insert] of edits) {
          const i = at % (t.length + 1);
          t = t.slice(0, i) + insert + t.slice(i + 1);
        }
        wellFormed(t);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("duplicates and errors past syntax", () => {
  it("a clause, a statement, a setting or a parameter given twice", () => {
    const text = `sbc 1
policy p {
  description "a"
  description "b"
  params {
    x = "/a"
    x = "/b"
  }
  filesystem {
    allow read path "/a" reason "r" reason "s"
  }
  syscalls {
    default allow
    default kill-process
  }
}
`;
    expect(errors(text)).toEqual([
      "SBC0104 4:3 duplicate statement `description`",
      "SBC0104 7:5 duplicate parameter `x`",
      "SBC0104 10:37 duplicate clause `reason`",
      "SBC0104 14:5 duplicate setting `default`",
    ]);
    const first = parseDsl(new Source("t.sbc", text)).diagnostics[0]!;
    expect(first.labels[0]!.message).toBe("first given here");
  });

  it("the shared passes report with the YAML codes, at the DSL's spans (inside strings too)", () => {
    const text = (path: string) => `sbc 1\npolicy p {\n  filesystem {\n    allow read path ${path}\n  }\n}\n`;
    const dotDot = (path: string) => loadSource(new Source("t.sbc", text(path))).diagnostics.map((d) => [d.code, d.span!.start, d.span!.end]);
    // The sub-span is the `..` inside the string, as written: with an escape it covers the escape.
    expect(dotDot('"/a/../b"')).toEqual([["SBC0302", 56, 58]]);
    expect(dotDot('"/a/\\u002e./b"')).toEqual([["SBC0302", 56, 63]]);
    expect(loadErrors(text('"/a/../b"'))).toEqual(["SBC0302 4:25 path `/a/../b` contains `..`"]);
    expect(loadErrors('sbc 2\npolicy p {}\n')).toEqual(["SBC0206 1:5 format version `2` is not supported"]);
    expect(loadErrors('policy p {}\n')).toEqual(["SBC0204 1:1 the policy is missing `sbc`"]);
    expect(loadErrors('sbc 1\npolicy p {\n  network offf\n}\n')).toEqual(["SBC0203 3:11 `offf` is not a valid `network`"]);
  });
});

function byPosition(a: string, b: string): number {
  const pos = (s: string) => s.split(" ")[1]!.split(":").map(Number) as [number, number];
  const [la, ca] = pos(a);
  const [lb, cb] = pos(b);
  return la - lb || ca - cb;
}
