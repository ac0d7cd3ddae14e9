// The second set of lint rules stays linear on large policies: 20,000 rules in each section (built in the
// IR, so the front end's own cost is not measured here) are linted in well under the bound, which only a
// quadratic rule would break (20,000² pairwise comparisons take minutes).

import { describe, expect, it } from "vitest";
import type { IR } from "../../ir/types.js";
import { lintPolicy } from "../../compiler/lint/index.js";
import { networkWithSecrets } from "../../compiler/lint/rules/network-with-secrets.js";
import { repoWithoutProtect } from "../../compiler/lint/rules/repo-without-protect.js";
import { shadowedRule } from "../../compiler/lint/rules/shadowed-rule.js";
import { testCannotFail } from "../../compiler/lint/rules/test-cannot-fail.js";
import { unusedParam } from "../../compiler/lint/rules/unused-param.js";
import { compilePolicy } from "../../compiler/passes/index.js";

const N = 20_000;

const seed = `sbc: 1
filesystem:
  - allow: read
    path: /srv/a
network:
  rules:
    - allow: connect
      hosts: [10.0.0.0/16]
      ports: 443
    - deny: connect
      protocol: any
syscalls:
  rules:
    - syscalls: read
      action: allow
      args: ["arg0 == 1"]
commands:
  rules:
    - prefix: [tool, [a, b]]
      decision: allow
tests:
  - read: /srv/a/x
    expect: allow
`;

describe("second-set lint rules at scale", () => {
  it(`lint ${N.toLocaleString("en")} rules per section without a quadratic blow-up`, () => {
    const r = compilePolicy({ kind: "text", path: "policy.yaml", text: seed });
    const ir = r.ir!;
    const fs = ir.filesystem[0]!;
    const big: IR = {
      ...ir,
      filesystem: Array.from({ length: N }, (_, i) => ({ ...fs, path: `/srv/d${i}`, kind: i % 3 ? ("subtree" as const) : ("glob" as const), ...(i % 3 ? {} : { path: `/srv/d${i}/**/*.key` }) })),
      network: { ...ir.network, rules: Array.from({ length: N }, (_, i) => ({ ...ir.network.rules[i % 2]!, hosts: [`10.${i % 256}.${i >> 8}.0/24`] })) },
      syscalls: { ...ir.syscalls, rules: Array.from({ length: N }, (_, i) => ({ ...ir.syscalls.rules[0]!, conditions: [{ ...ir.syscalls.rules[0]!.conditions[0]!, value: `0x${i.toString(16)}` }] })) },
      commands: { ...ir.commands, rules: Array.from({ length: N }, (_, i) => ({ ...ir.commands.rules[0]!, prefix: [[`tool${i}`], ["a", "b"]] })) },
      tests: Array.from({ length: N }, (_, i) => ({ ...ir.tests[0]!, path: `/srv/d${i}/x` })) as IR["tests"],
    };
    const t0 = Date.now();
    const out = lintPolicy(big, r.files!, { ruleSet: [networkWithSecrets, repoWithoutProtect, shadowedRule, testCannotFail, unusedParam] });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(out.every((d) => d.severity === "warning")).toBe(true);
  });
});
