// The DSL parser on valid input: the AST it builds (shape, spans, comments), the document tree and locator
// it hands to the shared passes, a property test that any policy document written in the DSL reads back as
// the same document, the preset twins used by the benchmark, and the promise that a YAML run never loads
// chevrotain.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import fc from "fast-check";
import { parse as parseYamlText } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { renderHumanAll } from "../diagnostics/render.js";
import { Source, type Span } from "../diagnostics/source.js";
import { irToJson } from "../ir/serialize.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { parseYaml } from "../language/yaml-source.js";
import { parseDsl, WORD_PATTERN, type DslFile } from "../grammar/index.js";
import { dslParser, ERRNO_STOP_WORDS } from "../grammar/parser.js";
import { KEYWORDS } from "../grammar/lexer.js";
import { ensureBuilt, REPO, sbc } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

const RUNS = Number(process.env.SBC_PROPERTY_RUNS ?? 200);

function parse(text: string): { ast: DslFile; value: unknown; doc: NonNullable<ReturnType<typeof parseDsl>["doc"]> } {
  const r = parseDsl(new Source("t.sbc", text));
  expect(r.diagnostics).toEqual([]);
  return { ast: r.ast!, value: r.doc!.value, doc: r.doc! };
}

const at = (text: string, s: Span) => text.slice(s.start, s.end);

describe("the AST", () => {
  const text = `# leading comment
sbc 1
policy demo { # after the brace
  extends [read-only, "./base.yaml"]
  params {
    cache = "/var/cache/app"
    data description "where datasets live"
    out
  }
  filesystem {
    allow read-write path "\${workspace}" protect [".git"] reason "edits"
  }
  network off
  syscalls {
    default errno EPERM
    rule ptrace errno reason "bare errno"
  }
  tests {
    expect allow unix connect
  }
}
`;

  it("holds every statement with spans that cover what was written", () => {
    const { ast } = parse(text);
    expect(at(text, ast.version!.span)).toBe("sbc 1");
    const p = ast.policy!;
    expect(p.name).toMatchObject({ kind: "word", value: "demo" });
    expect(at(text, p.open) + at(text, p.close)).toBe("{}");
    expect(p.statements.map((s) => `${s.kind}:${s.keyword.value}`)).toEqual([
      "setting:extends",
      "block:params",
      "block:filesystem",
      "setting:network",
      "block:syscalls",
      "block:tests",
    ]);
    const params = p.statements[1]!;
    if (params.kind !== "block") throw new Error("params is a block");
    expect(params.items.map((i) => at(text, i.span))).toEqual(['cache = "/var/cache/app"', 'data description "where datasets live"', "out"]);
    const fs = p.statements[2]!;
    if (fs.kind !== "block") throw new Error("filesystem is a block");
    const rule = fs.items[0]!;
    if (rule.kind !== "fs-rule") throw new Error("an fs rule");
    expect(rule.effect.value).toBe("allow");
    expect(rule.clauses.map((c) => c.keyword.value)).toEqual(["path", "protect", "reason"]);
    expect(rule.clauses[0]!.value).toMatchObject({ kind: "string", value: "${workspace}", raw: '"${workspace}"' });
    expect(at(text, rule.span)).toBe('allow read-write path "${workspace}" protect [".git"] reason "edits"');
    const sys = p.statements[4]!;
    if (sys.kind !== "block") throw new Error("syscalls is a block");
    expect(sys.items[0]).toMatchObject({ kind: "setting", value: { kind: "errno", value: { kind: "word", value: "EPERM" } } });
    expect(sys.items[1]).toMatchObject({ kind: "syscall-rule", action: { kind: "word", value: "errno" } });
  });

  it("keeps every comment with its span, in order", () => {
    const { ast } = parse(text);
    expect(ast.comments.map((c) => c.text)).toEqual(["# leading comment", "# after the brace"]);
    expect(ast.comments.map((c) => at(text, c.span))).toEqual(["# leading comment", "# after the brace"]);
  });

  it("measures spans in UTF-16 code units", () => {
    const t = 'sbc 1 policy p { description "😀é" extends x }';
    const { ast } = parse(t);
    const [d, e] = ast.policy!.statements;
    expect(d!.span.end - d!.span.start).toBe('description "😀é"'.length);
    expect(e!.span.start).toBe(t.indexOf("extends"));
  });
});

describe("the document tree", () => {
  it("is what the YAML spelling of the same policy gives", () => {
    const yaml = `sbc: 1
name: demo
extends: [read-only, ./base.yaml]
params:
  cache: /var/cache/app
  data: {description: where}
  out: {}
network: {mode: loopback, unix: allow, rules: [{allow: connect, ports: [443, "8000-8999"]}]}
syscalls:
  default: {errno: EPERM}
  rules: [{syscalls: [ptrace], action: errno, reason: r}]
commands:
  default: forbidden
  rules: [{prefix: [git, [add, commit]], decision: allow}]
tests:
  - {expect: {errno: 1}, syscall: ptrace, args: [1, AF_UNIX]}
`;
    const dsl = `sbc 1
policy demo {
  extends [read-only, "./base.yaml"]
  params { cache = "/var/cache/app" data description "where" out }
  network { mode loopback unix allow allow connect ports [443, "8000-8999"] }
  syscalls { default errno EPERM rule [ptrace] errno reason "r" }
  commands { default forbidden allow [git, [add, commit]] }
  tests { expect errno 1 syscall ptrace args [1, AF_UNIX] }
}
`;
    expect(parse(dsl).value).toEqual(parseYamlText(yaml));
  });

  it("locates keys and values by JSON path", () => {
    const t = 'sbc 1\npolicy p {\n  filesystem {\n    deny write glob "/a/**"\n  }\n  syscalls {\n    rule ptrace errno EPERM\n  }\n}\n';
    const { doc } = parse(t);
    const loc = (path: (string | number)[]) => {
      const l = doc.locate(path);
      return [l.key ? at(t, l.key) : undefined, at(t, l.value)];
    };
    expect(loc(["sbc"])).toEqual(["sbc", "1"]);
    expect(loc(["filesystem", 0])).toEqual([undefined, 'deny write glob "/a/**"']);
    expect(loc(["filesystem", 0, "deny"])).toEqual(["deny", "write"]);
    expect(loc(["filesystem", 0, "glob"])).toEqual(["glob", '"/a/**"']);
    expect(loc(["syscalls", "rules", 0, "action"])).toEqual(["errno EPERM", "errno EPERM"]);
    expect(loc(["syscalls", "rules", 0, "action", "errno"])).toEqual(["errno", "EPERM"]);
    // A path that goes further than the document stops at the last node found, as the YAML locator does.
    expect(loc(["filesystem", 0, "reason"])).toEqual([undefined, 'deny write glob "/a/**"']);
    expect(at(t, doc.subSpan(["filesystem", 0, "glob"], 3, 2))).toBe("**");
    expect(at(t, doc.subSpan(["syscalls", "rules", 0, "syscalls"], 1, 3))).toBe("tra");
  });

  it("builds objects with own properties only, so a parameter may be called __proto__", () => {
    const { value } = parse('sbc 1 policy p { params { __proto__ = "/x" } }');
    const params = (value as { params: object }).params;
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(Object.keys(params)).toEqual(["__proto__"]);
  });
});

// ---- every document the DSL can spell reads back as itself ----

const word = fc.constantFrom("read", "read-write", "allow", "deny", "EPERM", "@network-io", "kill-process", "a.b_c-d", "path", "errno", "syscall", "x", "trace", "x86_64:335", "aarch64:0x1f", "x86_64:-1", "kernel");
const text = fc.oneof(word, fc.string({ unit: "binary", maxLength: 12 }), fc.constantFrom("", "${workspace}/a b", 'q"uote\\', "line\nbreak", "\u0000\u001f\u007f"));
const int = fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 });
const scalar = fc.oneof(text, int);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("v"), { maxLength: 4 })),
})).v;
const errnoAction = fc.record({ errno: scalar });
const traceAction = fc.record({ trace: int });
const action = fc.oneof(scalar, errnoAction, traceAction);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const pick = <K extends string>(...keys: K[]) => fc.record(Object.fromEntries(keys.map((k) => [k, opt(value)])) as Record<K, fc.Arbitrary<unknown>>);
const effectRule = (clauses: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(fc.constantFrom("allow", "deny"), value, clauses).map(([e, v, c]) => ({ [e]: v, ...c }));
const paramValue = fc.oneof(
  scalar,
  value,
  fc.record({ description: value }),
  fc.record({ default: value, description: value }),
  fc.constant({}),
);
const rulesBlock = <T>(settings: Record<string, fc.Arbitrary<unknown>>, rule: fc.Arbitrary<T>) =>
  fc.tuple(fc.record(Object.fromEntries(Object.entries(settings).map(([k, a]) => [k, opt(a)]))), fc.array(rule, { maxLength: 3 })).map(([s, rules]) => ({
    ...s,
    ...(rules.length ? { rules } : {}),
  }));
const policyDoc = fc.record({
  sbc: opt(scalar),
  name: opt(text),
  description: opt(value),
  extends: opt(value),
  params: opt(fc.dictionary(fc.oneof(word, fc.string({ maxLength: 6 })), paramValue, { maxKeys: 3 })),
  filesystem: opt(fc.array(effectRule(pick("path", "exact", "glob", "protect", "if-missing", "reason")), { maxLength: 3 })),
  network: opt(fc.oneof(value, rulesBlock({ mode: value, unix: value }, effectRule(pick("protocol", "hosts", "ports", "reason"))))),
  syscalls: opt(rulesBlock({ default: action, "foreign-arch": action, newer: action, kernel: scalar }, fc.tuple(value, action, pick("args", "reason")).map(([s, a, c]) => ({ syscalls: s, action: a, ...c })))),
  commands: opt(rulesBlock({ default: value }, fc.tuple(fc.constantFrom("allow", "prompt", "forbidden"), value, pick("reason")).map(([d, p, c]) => ({ prefix: p, decision: d, ...c })))),
  tests: opt(
    fc.array(
      fc.tuple(action, fc.constantFrom("read", "write", "connect", "bind", "unix", "syscall", "command", "create-dir"), value, pick("protocol", "args", "name")).map(([e, q, v, c]) => ({ expect: e, [q]: v, ...c })),
      { maxLength: 3 },
    ),
  ),
});

const WORD = new RegExp(`^(?:${WORD_PATTERN.source})$`);
const KEYWORD_SET = new Set<string>(KEYWORDS);
/** A small writer for the property test only (the real printer lives elsewhere and is tested on its own). */
function writeDsl(doc: Record<string, unknown>): string {
  const s = (v: unknown, errno = false): string =>
    typeof v === "number" ? String(v) : WORD.test(v as string) && !(errno && ERRNO_STOP_WORDS.has(v as string)) ? (v as string) : JSON.stringify(v);
  const v = (x: unknown): string => (Array.isArray(x) ? `[${x.map(v).join(", ")}]` : s(x));
  const a = (x: unknown): string =>
    x !== null && typeof x === "object" && !Array.isArray(x)
      ? "trace" in x
        ? `trace ${String((x as { trace: number }).trace)}`
        : `errno ${s((x as { errno: unknown }).errno, true)}`
      : v(x);
  const clauses = (o: Record<string, unknown>, skip: string[]) =>
    Object.entries(o)
      .filter(([k, x]) => !skip.includes(k) && x !== undefined)
      .map(([k, x]) => ` ${k} ${v(x)}`)
      .join("");
  const effect = (r: Record<string, unknown>) => ("allow" in r ? "allow" : "deny");
  const out: string[] = [];
  if (doc.sbc !== undefined) out.push(`sbc ${s(doc.sbc)}`);
  out.push(`policy ${doc.name !== undefined ? s(doc.name) + " " : ""}{`);
  if (doc.description !== undefined) out.push(`description ${v(doc.description)}`);
  if (doc.extends !== undefined) out.push(`extends ${v(doc.extends)}`);
  if (doc.params) {
    out.push("params {");
    for (const [k, p] of Object.entries(doc.params as Record<string, unknown>)) {
      const name = WORD.test(k) && !KEYWORD_SET.has(k) ? k : JSON.stringify(k);
      if (p === null || typeof p !== "object" || Array.isArray(p)) out.push(`${name} = ${v(p)}`);
      else {
        const o = p as { default?: unknown; description?: unknown };
        out.push(`${name}${o.default !== undefined ? ` = ${v(o.default)}` : ""}${o.description !== undefined ? ` description ${v(o.description)}` : ""}`);
      }
    }
    out.push("}");
  }
  if (doc.filesystem) out.push(`filesystem {\n${(doc.filesystem as Record<string, unknown>[]).map((r) => `${effect(r)} ${v(r[effect(r)])}${clauses(r, ["allow", "deny"])}`).join("\n")}\n}`);
  if (doc.network !== undefined) {
    const n = doc.network as Record<string, unknown>;
    if (n === null || typeof n !== "object" || Array.isArray(n)) out.push(`network ${v(n)}`);
    else {
      const rules = ((n.rules ?? []) as Record<string, unknown>[]).map((r) => `${effect(r)} ${v(r[effect(r)])}${clauses(r, ["allow", "deny"])}`);
      out.push(`network {${n.mode !== undefined ? ` mode ${v(n.mode)}` : ""}${n.unix !== undefined ? ` unix ${v(n.unix)}` : ""}\n${rules.join("\n")}\n}`);
    }
  }
  if (doc.syscalls) {
    const y = doc.syscalls as Record<string, unknown>;
    const rules = ((y.rules ?? []) as Record<string, unknown>[]).map((r) => `rule ${v(r.syscalls)} ${a(r.action)}${clauses(r, ["syscalls", "action"])}`);
    const settings = ["default", "foreign-arch", "newer", "kernel"].map((k) => (y[k] !== undefined ? ` ${k} ${a(y[k])}` : "")).join("");
    out.push(`syscalls {${settings}\n${rules.join("\n")}\n}`);
  }
  if (doc.commands) {
    const c = doc.commands as Record<string, unknown>;
    const rules = ((c.rules ?? []) as Record<string, unknown>[]).map((r) => `${r.decision as string} ${v(r.prefix)}${clauses(r, ["prefix", "decision"])}`);
    out.push(`commands {${c.default !== undefined ? ` default ${v(c.default)}` : ""}\n${rules.join("\n")}\n}`);
  }
  if (doc.tests) {
    const tests = (doc.tests as Record<string, unknown>[]).map((t) => {
      const q = Object.keys(t).find((k) => !["expect", "protocol", "args", "name"].includes(k))!;
      return `expect ${a(t.expect)} ${q} ${v(t[q])}${clauses(t, ["expect", q])}`;
    });
    out.push(`tests {\n${tests.join("\n")}\n}`);
  }
  out.push("}");
  return out.join("\n");
}

/** Drop the keys fast-check left undefined: a document has no undefined values. */
const clean = (x: unknown): unknown =>
  Array.isArray(x)
    ? x.map(clean)
    : x !== null && typeof x === "object"
      ? Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined).map(([k, v]) => [k, clean(v)]))
      : x;

describe("every document the DSL can spell reads back as itself", () => {
  it("property: write a random policy document in the DSL, parse it, get the same document", () => {
    fc.assert(
      fc.property(policyDoc, (raw) => {
        const doc = clean(raw) as Record<string, unknown>;
        const r = parseDsl(new Source("t.sbc", writeDsl(doc)));
        expect(r.diagnostics).toEqual([]);
        expect(r.doc!.value).toEqual(doc);
      }),
      { numRuns: RUNS },
    );
  });

  it("the preset twins in bench/inputs are the presets' documents", () => {
    for (const name of ["full-access", "read-only", "safe-commands", "workspace-write"]) {
      const yaml = parseYaml(new Source("p.yaml", readFileSync(join(REPO, "presets", `${name}.yaml`), "utf8"))).doc!.value;
      const dsl = parseDsl(new Source("p.sbc", readFileSync(join(REPO, "bench", "inputs", `preset-${name}.sbc`), "utf8")));
      expect(dsl.diagnostics, name).toEqual([]);
      expect(dsl.doc!.value, name).toEqual(yaml);
    }
  });
});

describe("files of both syntaxes extend each other", () => {
  it("a DSL file extends a YAML file that extends a DSL file, and compiles as its YAML twin does", () => {
    const dir = writeFiles(tempDir("sbc-dsl-"), {
      "top.sbc": 'sbc 1\npolicy top {\n  extends "./mid.yaml"\n  filesystem { allow read path "/srv" }\n}\n',
      "mid.yaml": "sbc: 1\nextends: ./base.sbc\nfilesystem:\n  - allow: read\n    path: /opt\n",
      "base.sbc": 'sbc 1\npolicy {\n  extends read-only\n  network loopback\n}\n',
      "top.yaml": "sbc: 1\nname: top\nextends: ./mid2.yaml\nfilesystem:\n  - allow: read\n    path: /srv\n",
      "mid2.yaml": "sbc: 1\nextends: ./base.yaml\nfilesystem:\n  - allow: read\n    path: /opt\n",
      "base.yaml": "sbc: 1\nextends: read-only\nnetwork: loopback\n",
    });
    const a = compilePolicy({ kind: "file", path: "top.sbc" }, { cwd: dir });
    const b = compilePolicy({ kind: "file", path: "top.yaml" }, { cwd: dir });
    expect(a.diagnostics).toEqual([]);
    expect(a.filesRead.filter((f) => f.startsWith(dir)).map((f) => f.slice(dir.length + 1))).toEqual(["top.sbc", "mid.yaml", "base.sbc"]);
    expect(irToJson(a.ir!)).toBe(irToJson(b.ir!));
  });
});

describe("the parser", () => {
  it("passes chevrotain's grammar validations (ambiguities, left recursion), which the compiler skips", () => {
    expect(() => dslParser({ validate: true })).not.toThrow();
  });

  it("is built once per process", () => {
    expect(dslParser()).toBe(dslParser());
  });
});

/** Fenced blocks of one language in docs/language.md, with the line of their opening fence. */
function docBlocks(language: string): { line: number; text: string }[] {
  const lines = readFileSync(join(REPO, "docs", "language.md"), "utf8").split("\n");
  const out: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```" + language) continue;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    out.push({ line: start, text: body.join("\n") + "\n" });
  }
  return out;
}

describe("docs/language.md §16", () => {
  const sbcBlocks = docBlocks("sbc");
  const yamlBlocks = docBlocks("yaml");
  const examples = sbcBlocks.filter((b) => !b.text.startsWith("# error example"));

  it("shows each DSL block beside the YAML block it reads like (same document)", () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
    for (const b of examples) {
      const twin = yamlBlocks.filter((y) => y.line < b.line).pop()!;
      const whole = /^(?:sbc|policy)\b/m.test(b.text);
      const dsl = parseDsl(new Source(`language.md:${b.line}`, whole ? b.text : `policy {\n${b.text}}\n`));
      expect(dsl.diagnostics.map((d) => d.message), `language.md:${b.line}`).toEqual([]);
      expect(dsl.doc!.value, `language.md:${b.line} against the YAML at line ${twin.line}`).toEqual(parseYamlText(twin.text));
    }
  });

  it("shows the exact output of its error example", () => {
    const example = sbcBlocks.find((b) => b.text.startsWith("# error example"))!;
    const output = docBlocks("text").find((t) => t.line > example.line)!;
    const r = parseDsl(new Source("example.sbc", example.text));
    expect(renderHumanAll(r.diagnostics).trim()).toBe(output.text.trim());
  });
});

describe("the railroad diagrams", () => {
  it("the committed page draws one diagram per grammar rule with its local scripts only", () => {
    const html = readFileSync(join(REPO, "docs", "dsl-syntax-diagrams.generated.html"), "utf8");
    const refs = [...html.matchAll(/(?:src|href)='([^']+)'/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) {
      expect(r.startsWith("./dsl-diagrams/"), r).toBe(true);
      expect(existsSync(join(REPO, "docs", r)), r).toBe(true);
    }
    // Run the page's renderer (no DOM needed for the drawing itself) on the grammar embedded in the page.
    const sandbox: Record<string, unknown> = {};
    sandbox.window = sandbox;
    vm.createContext(sandbox);
    for (const f of ["vendor/railroad-diagrams.js", "src/diagrams_builder.js"]) vm.runInContext(readFileSync(join(REPO, "docs", "dsl-diagrams", f), "utf8"), sandbox);
    const grammar = JSON.parse(/window\.serializedGrammar = (\[[\s\S]*?\]);\n<\/script>/.exec(html)![1]!) as { name: string }[];
    sandbox.grammar = grammar;
    const out = vm.runInContext("diagrams_builder.buildSyntaxDiagramsText(grammar)", sandbox) as string;
    expect(grammar.map((r) => r.name)).toEqual(expect.arrayContaining(["file", "policy", "fsRule", "syscallRule", "test", "value", "list"]));
    expect(out.match(/<svg/g)?.length).toBe(grammar.length);
  });
});

describe("start-up: a YAML run never loads chevrotain", () => {
  const requires = join(REPO, "tests", "support", "trace-requires.cjs");
  const loads = join(REPO, "tests", "support", "trace-loads.mjs");
  beforeAll(() => ensureBuilt(), 180_000);

  /** The package itself, by name or by a path into it (not our own grammar/chevrotain.js, which loads it). */
  const isChevrotain = (s: string) => s === "chevrotain" || s.startsWith("chevrotain/") || s.includes("/node_modules/chevrotain/");

  /** Module requests (require) and module URLs (ESM loader) of one CLI run. */
  async function traced(args: string[], cwd: string): Promise<string[]> {
    const dir = tempDir("sbc-trace-");
    const req = join(dir, "requires.txt");
    const esm = join(dir, "loads.txt");
    const r = await sbc(args, {
      cwd,
      nodeArgs: ["--require", requires, "--import", pathToFileURL(loads).href],
      env: { SBC_TRACE_REQUIRES: req, SBC_TRACE_LOADS: esm },
    });
    expect(r.code, r.stderr).toBe(0);
    return [req, esm].flatMap((f) => (existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean) : []));
  }

  it("compiling a YAML policy requests no chevrotain module", async () => {
    const seen = await traced(["compile", "policy.yaml", "-t", "ir"], join(REPO, "fixtures", "ok-network-detailed-rules"));
    // The compiler is the one-file bundle (bin/sbc.cjs requires it), or the ES modules of dist/ without it.
    expect(seen.some((s) => s.includes("/dist/compiler/passes/") || s === "./sbc.cjs"), "the tracers saw the compiler load").toBe(true);
    expect(seen.filter(isChevrotain)).toEqual([]);
  });

  it("compiling its DSL twin does load it (so the check above can fail)", async () => {
    const seen = await traced(["compile", "policy.sbc", "-t", "ir"], join(REPO, "fixtures", "ok-network-detailed-rules"));
    expect(seen.some(isChevrotain)).toBe(true);
  });
});
