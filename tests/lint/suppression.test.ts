// `sbc-disable-next-line` and `sbc-disable-file` comments, in YAML and in the DSL: a reason is required, unknown
// rules are errors, unused directives are warnings, `#` inside strings is not a comment, and compiler
// diagnostics cannot be suppressed.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lintPolicy } from "../../compiler/lint/index.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { tempDir, writeFiles } from "../support/tmp.js";
import { agentSocketAccess } from "../../compiler/lint/rules/agent-socket-access.js";
import { broadWrite } from "../../compiler/lint/rules/broad-write.js";
import { dangerousSyscall } from "../../compiler/lint/rules/dangerous-syscall.js";
import { persistenceWrite } from "../../compiler/lint/rules/persistence-write.js";
import { secretAccess } from "../../compiler/lint/rules/secret-access.js";
import { findingsOf, lineOf, lint as lintAll } from "./support.js";

/** The security rules only, so that what other rules say of these policies does not blur the expectations. */
const ruleSet = [secretAccess, persistenceWrite, broadWrite, agentSocketAccess, dangerousSyscall];
const lint = (text: string, options: Parameters<typeof lintAll>[1] = {}) => lintAll(text, { ruleSet, ...options });

const SSH = "sbc: 1\nfilesystem:\n  - allow: read-write\n    path: ${workspace}/src\n";
const summary = (ds: ReturnType<typeof lint>) => ds.map((d) => `${lineOf(d)} ${d.severity} ${d.name}: ${d.message}`);

describe("sbc-disable-next-line", () => {
  it("suppresses the named rule on the next line only, and needs nothing else (YAML)", () => {
    const ds = lint(`sbc: 1
filesystem:
  # sbc-disable-next-line secret-access -- the deploy key is read by the release job
  - allow: read-only
    path: \${home}/.ssh
  - allow: read-only
    path: \${home}/.aws
`);
    expect(summary(ds)).toEqual(["6 warning secret-access: a secret is readable: `${home}/.aws`"]);
  });

  it("skips blank and comment lines, takes a list of rules, and works in the DSL", () => {
    const ds = lint(
      `sbc 1
policy p {
  filesystem {
    # sbc-disable-next-line secret-access, broad-write -- CI machine, thrown away after the job

    # another comment
    allow read-write path "\${home}"
  }
}
`,
      { path: "policy.sbc" },
    );
    expect(summary(ds).filter((s) => !s.includes("persistence-write"))).toEqual([]);
    expect(findingsOf(ds, "persistence-write")).toHaveLength(1);
  });

  it("a trailing directive applies to the line after it", () => {
    const ds = lint(`sbc: 1
filesystem:  # sbc-disable-next-line secret-access -- read by the release job
  - allow: read-only
    path: \${home}/.ssh
`);
    expect(ds).toEqual([]);
  });

  it("without a reason it is an error and suppresses nothing", () => {
    for (const directive of ["# sbc-disable-next-line secret-access", "# sbc-disable-next-line secret-access --", "# sbc-disable-next-line secret-access --   "]) {
      const ds = lint(`sbc: 1\nfilesystem:\n  ${directive}\n  - allow: read-only\n    path: \${home}/.ssh\n`);
      expect(summary(ds)).toEqual([
        "3 error lint-invalid-directive: `sbc-disable-next-line` needs a reason after ` -- `; it suppresses nothing",
        "4 warning secret-access: a secret is readable: `${home}/.ssh`",
      ]);
      expect(ds[0]!.code).toBe("SBC3040");
    }
  });

  it("an unknown rule id is an error with a suggestion; the known ids of the directive still apply", () => {
    const ds = lint(`sbc: 1
filesystem:
  # sbc-disable-next-line secret-acess, secret-access -- read by the release job
  - allow: read-only
    path: \${home}/.ssh
`);
    expect(summary(ds)).toEqual(["3 error lint-unknown-rule: unknown lint rule `secret-acess`"]);
    expect(ds[0]!.help).toBe("did you mean `secret-access`?");
    expect(ds[0]!.code).toBe("SBC3041");
    expect(ds[0]!.span!.source.text.slice(ds[0]!.span!.start, ds[0]!.span!.end)).toBe("secret-acess");
  });

  it("a directive that suppressed nothing is a warning, configurable as `lint-unused-directive`", () => {
    const text = `${SSH.replace("filesystem:\n", "filesystem:\n  # sbc-disable-next-line broad-write -- not needed here\n")}`;
    const ds = lint(text);
    expect(summary(ds)).toEqual(["3 warning lint-unused-directive: `broad-write` reported nothing on the next line; the directive suppresses nothing"]);
    expect(ds[0]!.code).toBe("SBC3042");
    expect(lint(text, { rules: { "lint-unused-directive": "off" } })).toEqual([]);
    expect(lint(text, { rules: { "lint-unused-directive": "error" } }).map((d) => d.severity)).toEqual(["error"]);
    // A rule that is off cannot report anything: its directives are not unused, just dormant.
    expect(lint(text, { rules: { "broad-write": "off" } })).toEqual([]);
  });

  it("unknown directives (typos) are errors", () => {
    const ds = lint(`${SSH}# sbc-disable-nextline secret-access -- typo\n# sbc-disable secret-access -- not a form\n`);
    expect(summary(ds)).toEqual([
      "5 error lint-invalid-directive: unknown directive `sbc-disable-nextline`",
      "6 error lint-invalid-directive: unknown directive `sbc-disable`",
    ]);
  });

  it("a `#` inside a quoted string or a block scalar is not a comment", () => {
    const yaml = lint(`sbc: 1
description: |
  # sbc-disable-file secret-access -- inside a block scalar
name: "x"
filesystem:
  - allow: read-only
    path: "\${home}/.ssh"
    reason: "# sbc-disable-next-line secret-access -- in a string"
  - allow: read-only
    path: \${home}/.aws
`);
    expect(findingsOf(yaml, "secret-access").map(lineOf)).toEqual([6, 9]);
    expect(yaml.filter((d) => d.name.startsWith("lint-"))).toEqual([]);
    const dsl = lint(
      `sbc 1
policy p {
  description "# sbc-disable-file secret-access -- in a string"
  filesystem {
    allow read-only path "\${home}/.ssh" reason "# sbc-disable-next-line secret-access -- x"
  }
}
`,
      { path: "policy.sbc" },
    );
    expect(findingsOf(dsl, "secret-access").map(lineOf)).toEqual([5]);
  });
});

describe("sbc-disable-file", () => {
  it("suppresses a rule everywhere in the check, findings in extended presets included", () => {
    const ds = lint("# sbc-disable-file secret-access -- the agent's machine holds no credentials\nsbc: 1\nextends: workspace-write\n");
    expect(ds).toEqual([]);
  });

  it("is reported unused when the rule found nothing", () => {
    const ds = lint(`# sbc-disable-file dangerous-syscall -- no reason really\n${SSH}`);
    expect(summary(ds)).toEqual(["1 warning lint-unused-directive: `dangerous-syscall` reported nothing in this check; the directive suppresses nothing"]);
  });

  it("a directive in an extended file applies within that file, and its problems are that file's to report", () => {
    const dir = writeFiles(tempDir(), {
      "base.yaml": "sbc: 1\nfilesystem:\n  # sbc-disable-next-line secret-access -- the team's deploy key\n  - allow: read-only\n    path: ${home}/.ssh\n  # sbc-disable-next-line broad-write -- unused, but not the child's problem\n  - allow: read-only\n    path: ${home}/.aws\n",
    });
    const r = compilePolicy({ kind: "text", path: join(dir, "child.yaml"), text: "sbc: 1\nextends: ./base.yaml\n" });
    const ds = lintPolicy(r.ir!, r.files!, { ruleSet });
    expect(ds.map((d) => `${d.span!.source.path.split("/").pop()}:${lineOf(d)} ${d.name}`)).toEqual(["base.yaml:7 secret-access"]);
  });
});

describe("what cannot be suppressed", () => {
  it("compiler diagnostics stay, whatever the comments say: their names are not lint rules", () => {
    const ds = lint("# sbc-disable-file path-normalized -- x\nsbc: 1\nfilesystem:\n  - allow: read-only\n    # sbc-disable-next-line path-normalized -- x\n    path: ${workspace}//src/\n");
    expect(summary(ds)).toEqual([
      "6 warning path-normalized: path `${workspace}//src/` was normalized to `${workspace}/src`",
      "1 error lint-unknown-rule: unknown lint rule `path-normalized`",
      "5 error lint-unknown-rule: unknown lint rule `path-normalized`",
    ]);
  });
});
