// The DSL printer and its Prettier plugin: how values are spelled when a tree is built from a document (words
// only where the syntax writes words, strings escaped so the lexer takes them back), where comments go, the
// statement and clause order, and the plugin's parser errors.

import * as prettier from "prettier";
import { describe, expect, it } from "vitest";
import { Source } from "../diagnostics/source.js";
import { emptyComments, commentsAt } from "../language/document-comments.js";
import { decodeString } from "../grammar/lexer.js";
import { documentToDsl, quoteString } from "../grammar/from-document.js";
import { parseDsl } from "../grammar/index.js";
import plugin, { DslSyntaxError } from "../grammar/prettier-plugin.js";
import { printBuiltDsl } from "../grammar/print.js";

const printDoc = (doc: Record<string, unknown>, comments = emptyComments()) => {
  const b = documentToDsl(doc, comments);
  return printBuiltDsl(b.file, b.comments);
};
const fmt = (text: string) => prettier.format(text, { parser: "sbc", plugins: [plugin] });
const docOf = (text: string) => {
  const r = parseDsl(new Source("t.sbc", text));
  expect(r.diagnostics).toEqual([]);
  return r.doc!.value;
};

describe("spelling values of a built tree", () => {
  it("escapes every character the DSL lexer refuses raw, and the lexer decodes it back", () => {
    const nasty = 'a"b\\c\n\t\u0000\u001f\u007f\u0085\u2028é😀#';
    const quoted = quoteString(nasty);
    expect(quoted).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028]/);
    const decoded = decodeString(quoted);
    expect(decoded.issues).toEqual([]);
    expect(decoded.value).toBe(nasty);
  });

  it("writes paths and free text as strings, enum values and names as words", () => {
    const text = printDoc({
      sbc: 1,
      name: "demo",
      extends: ["read-only", "./base.yaml"],
      filesystem: [{ allow: "read", path: "/usr", reason: "read" }],
      commands: { rules: [{ prefix: ["git", ["-c", "status"]], decision: "allow" }, { prefix: "git log", decision: "prompt" }] },
      tests: [{ command: ["git", "-c"], expect: "forbidden" }, { read: "/usr/x", expect: "allow", name: "allow" }],
    });
    expect(text).toContain("extends [read-only, \"./base.yaml\"]");
    expect(text).toContain('allow read path "/usr" reason "read"');
    expect(text).toContain('allow [git, ["-c", status]]');
    expect(text).toContain('prompt "git log"');
    expect(text).toContain('expect forbidden command [git, "-c"]');
    expect(text).toContain('expect allow read "/usr/x" name "allow"');
  });

  it("keeps integers integers and strings that look like numbers strings", () => {
    const doc = { sbc: 1, network: { rules: [{ allow: "connect", ports: [443, "8000-8999", "80"] }] }, syscalls: { default: { errno: 13 }, rules: [{ syscalls: "read", action: { errno: "EPERM" } }] } };
    const text = printDoc(doc);
    expect(text).toContain('ports [443, "8000-8999", "80"]');
    expect(text).toContain("default errno 13");
    expect(text).toContain("rule read errno EPERM");
    expect(docOf(text)).toEqual(doc);
  });

  it("quotes what the parser would read as a keyword: an errno value it stops at, a parameter named description", () => {
    const doc = { sbc: 1, params: { description: {}, data: { description: "d" } }, syscalls: { default: { errno: "read" }, rules: [{ syscalls: "read", action: { errno: "path" } }] } };
    const text = printDoc(doc);
    expect(text).toContain('"description"\n');
    expect(text).toContain('default errno "read"');
    expect(docOf(text)).toEqual(doc);
  });

  it("spells every kind of param", () => {
    const params = { a: "/x", b: { default: "/y", description: "why" }, c: { description: "d" }, d: {} };
    const text = printDoc({ sbc: 1, params });
    expect(text).toContain('a = "/x"\n    b = "/y" description "why"\n    c description "d"\n    d\n');
    expect((docOf(text) as { params: unknown }).params).toEqual(params);
  });
});

describe("comments of a built tree", () => {
  it("puts head, before, trailing and end comments where Prettier would, so fmt leaves the text alone", async () => {
    const c = emptyComments();
    c.head.push(" header");
    c.tail.push(" the end");
    commentsAt(c, ["sbc"]).trailing = " version";
    commentsAt(c, ["name"]).before.push(" the name");
    commentsAt(c, ["filesystem"]).trailing = " on the block line";
    commentsAt(c, ["filesystem", 0]).before.push(" first rule");
    commentsAt(c, ["filesystem", 0]).trailing = " trailing";
    commentsAt(c, ["filesystem"]).end.push(" last in block");
    commentsAt(c, ["network"]).end.push(" empty block");
    const text = printDoc({ sbc: 1, name: "n", filesystem: [{ allow: "read", path: "/a" }], network: {} }, c);
    expect(text).toBe(
      [
        "# header",
        "",
        "sbc 1 # version",
        "",
        "# the name",
        "policy n {",
        "  filesystem {",
        "    # on the block line",
        "    # first rule",
        '    allow read path "/a" # trailing',
        "    # last in block",
        "  }",
        "",
        "  network {",
        "    # empty block",
        "  }",
        "}",
        "# the end",
        "",
      ].join("\n"),
    );
    expect(await fmt(text)).toBe(text);
  });
});

describe("the Prettier plugin", () => {
  it("declares the language, a parser with locations and a printer that handles comments", () => {
    expect(plugin.languages?.[0]?.extensions).toEqual([".sbc"]);
    const parser = plugin.parsers!.sbc!;
    const ast = parser.parse('sbc 1\npolicy p {}\n', {} as never) as { kind: string; span: { start: number; end: number } };
    expect(parser.locStart(ast)).toBe(0);
    expect(parser.locEnd(ast)).toBe('sbc 1\npolicy p {}\n'.length);
    const printer = plugin.printers!["sbc-ast"]!;
    expect(typeof printer.printComment).toBe("function");
    expect(printer.canAttachComment!({ kind: "fs-rule" } as never, [])).toBe(true);
    expect(printer.canAttachComment!({ kind: "comment" } as never, [])).toBe(false);
  });

  it("keeps a comment inside an empty list and inside a statement that spans lines", async () => {
    const text = 'sbc 1\npolicy p {\n  extends [\n    # nothing yet\n  ]\n  filesystem {\n    allow read # why\n      path "/a"\n  }\n}\n';
    const out = await fmt(text);
    expect(out).toContain("# nothing yet");
    expect(out).toContain("# why");
    expect(await fmt(out)).toBe(out);
    expect(docOf(out)).toEqual(docOf(text));
  });

  it("orders statements, settings and clauses as documented; rules keep their order", async () => {
    const out = await fmt('sbc 1 policy p { tests { expect allow read "/b" expect deny read "/a" } network { allow connect reason "r" ports [1] unix allow } description "d" }');
    expect(out).toBe(
      'sbc 1\n\npolicy p {\n  description "d"\n\n  network {\n    unix allow\n    allow connect ports [1] reason "r"\n  }\n\n  tests {\n    expect allow read "/b"\n    expect deny read "/a"\n  }\n}\n',
    );
  });

  it("reports a parse error with its code and position", async () => {
    const err = await fmt("sbc 1\npolicy p {\n  filesystem {\n").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain("SBC1205");
    expect(plugin.parsers!.sbc!.parse.bind(null, "sbc 1 policy {", {} as never)).toThrow(DslSyntaxError);
  });
});
