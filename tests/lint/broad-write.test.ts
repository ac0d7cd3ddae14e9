// broad-write (SBC3003): `/`, the home directory or a directory above it writable, judged by meaning (a grant
// of `/`, of `${home}` or a glob over it), one finding per granting rule with the broadest directory it opens.

import { describe, expect, it } from "vitest";
import { decidedAt, expectCompiled, findingsOf, lineOf, lint, where } from "./support.js";

const RULE = "broad-write";

describe("broad-write", () => {
  it("a write grant on `/` (YAML)", () => {
    const ds = lint("sbc: 1\nfilesystem:\n  - allow: read-write\n    path: /\n");
    expect(findingsOf(ds, RULE).map((d) => [d.code, d.severity, lineOf(d), d.message])).toEqual([["SBC3003", "error", 3, "the whole filesystem is writable: `/`"]]);
  });

  it("a write grant on the home directory, and on `/home` above it (DSL)", () => {
    const ds = lint(
      `sbc 1
policy p {
  filesystem {
    allow read-write path "\${home}"
    allow [write, create-file] path "/home"
  }
}
`,
      { path: "policy.sbc" },
    );
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [lineOf(d), d.message])).toEqual([
      [4, "the home directory is writable: `${home}`"],
      [5, "a directory above the home directory is writable: `/home`"],
    ]);
  });

  it("a glob over the home directory counts too", () => {
    const f = findingsOf(lint("sbc: 1\nfilesystem:\n  - allow: create-file\n    glob: ${home}/*\n"), RULE);
    expect(f.map((d) => d.message)).toEqual(["the home directory is writable: `${home}`"]);
  });

  it("passes grants beneath the home directory, and read-only grants of `/`", () => {
    const ds = lint("sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /\n  - allow: read-write\n    path: ${home}/.cache\n  - allow: read-write\n    path: ${workspace}\n");
    expectCompiled(ds);
    expect(findingsOf(ds, RULE)).toEqual([]);
    expect(findingsOf(lint("sbc: 1\nextends: workspace-write\n"), RULE)).toEqual([]);
  });

  it("full-access is reported at the preset's rule", () => {
    expect(findingsOf(lint("sbc: 1\nextends: full-access\n"), RULE).map((d) => `${where(d)} ${decidedAt(d)}`)).toEqual(["policy.yaml:2 full-access.yaml:8"]);
  });
});
