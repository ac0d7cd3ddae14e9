// test-cannot-fail: a test that repeats an earlier one (same query by meaning, same expectation).

import { describe, expect, it } from "vitest";
import { lintPolicyText } from "../../compiler/lint/index.js";
import { testCannotFail } from "../../compiler/lint/rules/test-cannot-fail.js";
import { applyFix, lintWith } from "./lint-test-support.js";

const rule = testCannotFail;

describe("test-cannot-fail", () => {
  it("reports a repeated test by meaning (localhost is 127.0.0.1, errno is EPERM, missing args are 0), with a fix", () => {
    const text = `sbc: 1
extends: workspace-write
tests:
  - connect: localhost:80
    expect: deny
  - name: the same, spelled differently
    connect: 127.0.0.1:80
    expect: deny
  - syscall: ptrace
    expect: errno
  - syscall: ptrace
    args: [0]
    expect: { errno: EPERM }
  - write: \${workspace}/a
    expect: allow
`;
    const f = lintWith(rule, text);
    expect(f.map((x) => [x.code, x.line, x.labelLines])).toEqual([
      ["SBC3053", 6, [4]],
      ["SBC3053", 11, [9]],
    ]);
    const once = applyFix(text, f[0]!.diagnostic);
    expect(once).not.toContain("spelled differently");
    expect(once).toContain("  - syscall: ptrace\n    args: [0]");
    expect(lintPolicyText(once).filter((d) => d.severity === "error")).toEqual([]);
    expect(lintWith(rule, once)).toHaveLength(1);
  });

  it("reports in the DSL and removes the whole line", () => {
    const text = `sbc 1
policy {
  extends read-only
  tests {
    expect deny write "/etc/passwd"
    expect allow read "/etc/passwd"
    expect deny write "/etc/passwd" name "again"
  }
}
`;
    const f = lintWith(rule, text, "policy.sbc");
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3053", 7]]);
    expect(applyFix(text, f[0]!.diagnostic)).not.toContain("again");
    expect(applyFix(text, f[0]!.diagnostic)).toContain(`    expect allow read "/etc/passwd"\n  }`);
  });

  it("is quiet for the same query with another access, protocol or expectation, and for default-deny tests", () => {
    const text = `sbc: 1
extends: read-only
tests:
  - read: /etc/passwd
    expect: allow
  - write: /etc/passwd
    expect: deny
  - connect: 1.1.1.1:53
    expect: deny
  - connect: 1.1.1.1:53
    protocol: udp
    expect: deny
  - name: nothing mentions /srv, but an allow added later would break this
    write: /srv/data
    expect: deny
`;
    expect(lintWith(rule, text)).toEqual([]);
  });
});
