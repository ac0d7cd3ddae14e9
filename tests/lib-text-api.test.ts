// The library's text functions behind `sbc fmt`, `convert`, `import` and `eval`: what they refuse (as
// UsageError, the CLI's exit 2) and that they give what the commands print. docs/api.md shows the happy paths.

import { describe, expect, it } from "vitest";
import { convert, evalPolicy, evalQuery, format, importOciSeccomp, renderDiagnostics, UsageError } from "../lib/index.js";

const POLICY = "sbc: 1\nname: demo\nfilesystem:\n  - allow: read\n    path: /usr\n";

describe("format", () => {
  it("needs a syntax it can tell", async () => {
    await expect(format(POLICY)).rejects.toThrow(UsageError);
    await expect(format(POLICY, { path: "demo.txt" })).rejects.toThrow(/cannot tell the syntax of `demo.txt`/);
    await expect(format(POLICY, { syntax: "json" as never })).rejects.toThrow(/unknown syntax `json`/);
  });

  it("takes `sbc` and `dsl` for the DSL, and drops a byte order mark as the file reader does", async () => {
    const dsl = (await convert(POLICY, { from: "yaml", to: "dsl" })).output!;
    expect((await format(dsl, { syntax: "sbc" })).changed).toBe(false);
    expect((await format(dsl, { syntax: "dsl" })).changed).toBe(false);
    const r = await format("\ufeff" + dsl, { syntax: "sbc" });
    expect(r).toMatchObject({ formatted: dsl, changed: false });
  });
});

describe("convert", () => {
  it("keeps a policy without a name nameless, named after its path in both syntaxes", async () => {
    const text = "sbc: 1\nfilesystem:\n  - allow: read\n    path: /usr\n";
    const r = await convert(text, { to: "sbc", path: "tools/my-tool.yaml" });
    expect(r.ir?.name).toBe("my-tool");
    expect(r.output).toContain("policy {");
  });

  it("refuses a path whose syntax it cannot tell when `from` is not given", async () => {
    await expect(convert(POLICY, { to: "sbc", path: "x.json" })).rejects.toThrow(UsageError);
  });
});

describe("importOciSeccomp", () => {
  it("refuses an unknown arch and a malformed kernel version before reading the profile", () => {
    expect(() => importOciSeccomp("not json", { arch: "vax" })).toThrow(/unknown arch `vax`/);
    expect(() => importOciSeccomp("not json", { minKernel: "six" })).toThrow(/--min-kernel takes a version/);
  });

  it("reports a profile that is not JSON as an error, with no output", () => {
    const r = importOciSeccomp("{ nope", { path: "p.json" });
    expect(r.output).toBeUndefined();
    expect(r.diagnostics.some((d) => d.severity === "error")).toBe(true);
    expect(renderDiagnostics(r.diagnostics, { format: "human" })).toMatch(/^error\[SBC\d{4}\]/);
  });
});

describe("evalQuery", () => {
  const { ir } = evalPolicy({ kind: "text", text: POLICY, syntax: "yaml" }, { cwd: "/work" });

  it("takes relative paths from cwd", () => {
    expect(evalQuery(ir!, ["read", "./x"], "/usr").query).toBe("read /usr/x");
    expect(evalQuery(ir!, ["read", "./x"], "/usr").decision).toBe("allow");
    expect(evalQuery(ir!, ["read", "./x"], "/home").decision).toBe("deny");
  });

  it("throws UsageError for a malformed query", () => {
    expect(() => evalQuery(ir!, [], "/")).toThrow(/no query given/);
    expect(() => evalQuery(ir!, ["frobnicate", "/x"], "/")).toThrow(/unknown query `frobnicate`/);
    expect(() => evalQuery(ir!, ["connect", "nohost"], "/")).toThrow(UsageError);
  });
});
