// unused-param (SBC0405): a declared parameter no path uses. It is a lint rule now, not a compiler warning.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lintPolicyText } from "../../compiler/lint/index.js";
import { unusedParam } from "../../compiler/lint/rules/unused-param.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { lintWith } from "./lint-test-support.js";

const rule = unusedParam;
const FIXTURE = join(import.meta.dirname, "..", "..", "fixtures", "ok-warn-unused-param");

describe("unused-param", () => {
  it("reports the fixture's unused parameter at its name, in YAML and in the DSL", () => {
    for (const name of ["policy.yaml", "policy.sbc"]) {
      const text = readFileSync(join(FIXTURE, name), "utf8");
      const f = lintWith(rule, text, name);
      expect(f.map((x) => [x.code, x.line, x.message])).toEqual([["SBC0405", name.endsWith(".sbc") ? 10 : 8, "parameter `logs` is never used"]]);
    }
  });

  it("is no longer a compiler warning", () => {
    const text = readFileSync(join(FIXTURE, "policy.yaml"), "utf8");
    expect(compilePolicy({ kind: "text", path: "policy.yaml", text }).diagnostics).toEqual([]);
  });

  it("counts a use through another parameter's default, a unix socket path and a test", () => {
    const text = `sbc: 1
params:
  base: /srv
  data: \${base}/data
  sock: /run/app
  probe: /opt/probe
filesystem:
  - allow: read
    path: \${data}
network:
  unix:
    paths:
      - allow: connect
        path: \${sock}
tests:
  - read: \${probe}/x
    expect: deny
`;
    expect(lintWith(rule, text)).toEqual([]);
  });

  it("reports a parameter only another unused parameter refers to, and not one bound on the command line", () => {
    const text = `sbc: 1
params:
  base: /srv
  data: \${base}/data
  out:
    description: where results go
`;
    expect(lintWith(rule, text).map((x) => [x.line, x.message])).toEqual([
      [3, "parameter `base` is never used"],
      [4, "parameter `data` is never used"],
      [5, "parameter `out` is never used"],
    ]);
    expect(lintWith(rule, text, "policy.yaml", { out: "/results" }).map((x) => x.line)).toEqual([3, 4]);
  });

  it("can be turned off like any lint rule", () => {
    const text = readFileSync(join(FIXTURE, "policy.yaml"), "utf8");
    expect(lintPolicyText(text, { ruleSet: [rule], rules: { "unused-param": "off" } })).toEqual([]);
  });
});
