// `compilePolicy(…, { allErrors })`, as `sbc check` runs it: every error that can be found meaningfully in one
// run, and never a test failure that only a half-built policy would produce.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/passes/index.js";

const run = (text: string, allErrors = true) => compilePolicy({ kind: "text", path: "p.yaml", text }, { runTests: true, allErrors });
const codes = (text: string, allErrors = true) => run(text, allErrors).diagnostics.map((d) => d.code);

describe("allErrors", () => {
  it("reports a schema error, an unknown parameter and a failing test in one run; without it, only the first", () => {
    const text = [
      "sbc: 1",
      "network:",
      "  rules:",
      "    - allow: connect",
      "      ports: [443]",
      "      proto: tcp",
      "filesystem:",
      "  - allow: read-write",
      "    path: ${wrkspace}/src",
      "commands:",
      "  rules:",
      "    - prefix: git status",
      "      decision: allow",
      "tests:",
      "  - command: git status",
      "    expect: forbidden",
      "",
    ].join("\n");
    expect(codes(text)).toEqual(["SBC0201", "SBC0401", "SBC1001"]);
    expect(codes(text, false)).toEqual(["SBC0201"]);
    expect(run(text).sound).toBe(false);
  });

  it("keeps the rules next to a broken one: their values are still checked, and the semantic checks still run", () => {
    const text = "sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /usr\n    colour: blue\n  - allow: read-only\n    path: relative\n  - allow: read-only\n    path: /opt//x\n";
    // SBC0201 (rule 1), SBC0301 relative path (rule 2), SBC0306 normalized (rule 3, a warning).
    expect(codes(text)).toEqual(["SBC0201", "SBC0301", "SBC0306"]);
  });

  it("holds back the tests whose sections lost a part, runs the others", () => {
    const text = [
      "sbc: 1",
      "filesystem:",
      "  - allow: read-only",
      "    path: ${nope}/x",
      "commands:",
      "  rules:",
      "    - prefix: ls",
      "      decision: allow",
      "tests:",
      "  - read: /etc/passwd", // would fail (no rule allows it), but filesystem is incomplete
      "    expect: allow",
      "  - command: ls",
      "    expect: prompt", // fails: commands is whole
      "",
    ].join("\n");
    const r = run(text);
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual(["SBC0401 unknown parameter `${nope}`", "SBC1001 test 2: command `ls` is allow, expected prompt"]);
  });

  it("a misspelt top-level key (a section that may be missing) or an error in `tests` holds back every test", () => {
    expect(codes("sbc: 1\nextend: read-only\ntests:\n  - read: /usr/bin/ls\n    expect: allow\n")).toEqual(["SBC0201"]);
    expect(codes("sbc: 1\ntests:\n  - read: /usr\n    expect: allow\n  - read: /x\n    expect: maybe\n")).toEqual(["SBC0203"]);
  });

  it("a broken parameter stays declared, so its uses are not reported again", () => {
    expect(codes("sbc: 1\nparams:\n  cache: { default: /x, colour: 1 }\nfilesystem:\n  - allow: read-only\n    path: ${cache}/y\n")).toEqual(["SBC0201"]);
  });

  // Found by mutating every fixture: a misspelt `extends` made inherited rules disappear and tests fail.
  it("on mutated fixtures, no test fails that passes on the whole policy (half-built policies invent no failures)", () => {
    const root = join(import.meta.dirname, "..", "fixtures");
    const files = readdirSync(root)
      .filter((d) => d.startsWith("ok-"))
      .sort()
      .map((d) => join(root, d, "policy.yaml"))
      .filter((f) => {
        try {
          return readFileSync(f, "utf8").includes("\ntests:");
        } catch {
          return false;
        }
      })
      .slice(0, 6);
    expect(files.length).toBe(6);
    let unsound = 0;
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      const path = join(dirname(f), "mutated.yaml");
      const whole = compilePolicy({ kind: "text", path, text }, { runTests: true, allErrors: true });
      const failing = new Set(whole.diagnostics.filter((d) => d.code === "SBC1001").map((d) => d.message));
      const lines = text.split("\n");
      lines.forEach((line, i) => {
        const m = /^(\s*(?:- )?)([A-Za-z-]+):/.exec(line);
        if (!m) return;
        for (const variant of [`${m[1]}${m[2]}x: 1`, `${m[1]}${m[2]}: [[bad]]`, `${m[1]}${m[2]}: \${nope}/x`]) {
          const mutated = [...lines.slice(0, i), variant, ...lines.slice(i + 1)].join("\n");
          const r = compilePolicy({ kind: "text", path, text: mutated }, { runTests: true, allErrors: true });
          if (r.sound) continue;
          unsound++;
          const invented = r.diagnostics.filter((d) => d.code === "SBC1001" && !failing.has(d.message));
          expect(invented.map((d) => d.message), `${f}:${i + 1} → ${variant}`).toEqual([]);
        }
      });
    }
    expect(unsound).toBeGreaterThan(50);
  });
});
