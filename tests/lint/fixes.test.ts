// The fix the filesystem rules share (compiler/lint/fs-fix.ts): appending deny rules to the checked file in
// the layouts people write — YAML at any indentation, flow items, CRLF, no final newline, no section yet;
// the DSL on one line, with trailing comments, without a section — always compiles to a policy whose last
// rules are the new denies; layouts it cannot extend with certainty get no fix.

import { describe, expect, it } from "vitest";
import { appendDenyRules } from "../../compiler/lint/fs-fix.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { applyFix } from "./support.js";

const DENY = [{ access: "read", kind: "path", path: "${home}/.ssh", reason: "keys # stay \"home\"" }] as const;

function fixed(path: string, text: string): string | undefined {
  const r = compilePolicy({ kind: "text", path, text });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const fix = appendDenyRules(r.files![r.files!.length - 1]!, DENY, "deny reading `${home}/.ssh`");
  return fix && applyFix(text, fix);
}

function expectDenyAppended(path: string, text: string): string {
  const out = fixed(path, text);
  expect(out, "a fix").toBeDefined();
  const r = compilePolicy({ kind: "text", path, text: out! });
  expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  const last = r.ir!.filesystem[r.ir!.filesystem.length - 1]!;
  expect([last.effect, last.access, last.path, last.reason]).toEqual(["deny", ["read"], "${home}/.ssh", 'keys # stay "home"']);
  const before = compilePolicy({ kind: "text", path, text }).ir!;
  expect(r.ir!.filesystem.length).toBe(before.filesystem.length + 1);
  return out!;
}

describe("appending deny rules", () => {
  it.each([
    ["block list, indented", "sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /\ntests:\n  - read: /etc/passwd\n    expect: allow\n"],
    ["block list at column 0", "sbc: 1\nfilesystem:\n- allow: read-only\n  path: /\n"],
    ["flow item in a block list", "sbc: 1\nfilesystem:\n  - {allow: read-only, path: /}\n"],
    ["no final newline", "sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /"],
    ["CRLF", "sbc: 1\r\nfilesystem:\r\n  - allow: read-only\r\n    path: /\r\n"],
    ["trailing comment lines", "sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /   # all of it\n    # more\n# end\n"],
    ["no filesystem section", "sbc: 1\nextends: read-only\ntests:\n  - read: /etc/passwd\n    expect: allow\n"],
    ["no filesystem section, no final newline", "sbc: 1\nextends: read-only"],
  ])("YAML: %s", (_name, text) => {
    const out = expectDenyAppended("policy.yaml", text);
    if (text.includes("\r\n")) expect(out.replace(/\r\n/g, "")).not.toContain("\n");
  });

  it.each([
    ["one rule per line", 'sbc 1\npolicy p {\n  filesystem {\n    allow read-only path "/"\n  }\n}\n'],
    ["a trailing comment stays with its rule", 'sbc 1\npolicy p {\n  filesystem {\n    allow read-only path "/" # everything\n  }\n}\n'],
    ["all on one line", 'sbc 1 policy p { filesystem { allow read-only path "/" } }'],
    ["no filesystem section", "sbc 1\npolicy p {\n  extends read-only\n}\n"],
    ["no filesystem section, closing brace after a statement", "sbc 1\npolicy p { extends read-only }"],
  ])("DSL: %s", (name, text) => {
    const out = expectDenyAppended("policy.sbc", text);
    if (name.startsWith("a trailing comment")) expect(out).toContain('allow read-only path "/" # everything\n    deny read path');
  });

  it.each([
    ["flow-style list", "policy.yaml", "sbc: 1\nfilesystem: [{allow: read-only, path: /}]\n"],
    ["flow-style document", "policy.yaml", "{sbc: 1, extends: read-only}\n"],
    ["an empty YAML section", "policy.yaml", "sbc: 1\nextends: read-only\nfilesystem: []\n"],
    ["a document end marker", "policy.yaml", "sbc: 1\nextends: read-only\n...\n"],
    ["an empty DSL section", "policy.sbc", "sbc 1\npolicy p {\n  extends read-only\n  filesystem {\n  }\n}\n"],
  ])("no fix: %s", (_name, path, text) => {
    expect(fixed(path, text)).toBeUndefined();
  });
});
