// Extended files are loaded once per process while their bytes are unchanged (compiler/passes/resolve-extends.ts),
// which `sbc check` of many policies relies on for speed. Reuse must never be visible: an edited base is read
// again, its diagnostics come with every policy that extends it, and changing one result leaves the next alone.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../lib/index.js";
import { tempDir, writeFiles } from "./support/tmp.js";

const policy = (name: string) => `sbc: 1\nname: ${name}\nextends: ./base.yaml\n`;
const base = (path: string) => `sbc: 1\nname: base\nextends: read-only\nfilesystem:\n  - allow: read-write\n    path: ${path}\n`;
const writable = (r: ReturnType<typeof compilePolicy>) => JSON.stringify(r.ir?.filesystem ?? r.ir).includes("/opt/two");

describe("an extended file loaded before in this process", () => {
  it("is read again when its bytes change", () => {
    const dir = writeFiles(tempDir(), { "a.yaml": policy("a"), "b.yaml": policy("b"), "base.yaml": base("/opt/one") });
    const first = compilePolicy({ kind: "file", path: join(dir, "a.yaml") });
    expect(first.diagnostics).toEqual([]);
    expect(writable(first)).toBe(false);
    writeFileSync(join(dir, "base.yaml"), base("/opt/two"));
    const second = compilePolicy({ kind: "file", path: join(dir, "b.yaml") });
    expect(second.diagnostics).toEqual([]);
    expect(writable(second)).toBe(true);
    expect(second.filesRead).toContain(join(dir, "base.yaml"));
  });

  it("brings its diagnostics to every policy that extends it, as copies", () => {
    const dir = writeFiles(tempDir(), { "a.yaml": policy("a"), "b.yaml": policy("b"), "base.yaml": base("/opt//x/") });
    const a = compilePolicy({ kind: "file", path: join(dir, "a.yaml") });
    const codes = a.diagnostics.map((d) => `${d.code} ${d.span?.source.path}`);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((c) => c.startsWith("SBC0306 "))).toBe(true);
    (a.diagnostics[0] as { severity: string }).severity = "error"; // what a severity override might do
    const b = compilePolicy({ kind: "file", path: join(dir, "b.yaml") });
    expect(b.diagnostics.map((d) => `${d.code} ${d.span?.source.path}`)).toEqual(codes);
    expect(b.diagnostics.every((d) => d.severity === "warning")).toBe(true);
  });
});
