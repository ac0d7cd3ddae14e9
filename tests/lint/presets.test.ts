// What the security rules say of the presets, as docs/lint.md ("What the presets get") states it: the presets
// make real trade-offs, and the rules report them truthfully, at the presets' own rules.

import { describe, expect, it } from "vitest";
import { agentSocketAccess } from "../../compiler/lint/rules/agent-socket-access.js";
import { broadWrite } from "../../compiler/lint/rules/broad-write.js";
import { dangerousSyscall } from "../../compiler/lint/rules/dangerous-syscall.js";
import { persistenceWrite } from "../../compiler/lint/rules/persistence-write.js";
import { secretAccess } from "../../compiler/lint/rules/secret-access.js";
import { decidedAt, lint, where } from "./support.js";

const ruleSet = [secretAccess, persistenceWrite, broadWrite, agentSocketAccess, dangerousSyscall];
const findings = (preset: string) => lint(`sbc: 1\nextends: ${preset}\n`, { ruleSet }).map((d) => `${d.name} ${d.severity} ${decidedAt(d)}`);

describe("the security rules on the presets", () => {
  it("read-only: readable secrets, a warning at its `/` grant", () => {
    expect(findings("read-only")).toEqual(["secret-access warning read-only.yaml:9"]);
  });
  it("workspace-write: the same, and `.env` files readable through its workspace grant", () => {
    expect(findings("workspace-write").sort()).toEqual(["secret-access warning read-only.yaml:9", "secret-access warning workspace-write.yaml:10"]);
  });
  it("full-access: no sandbox, and every security rule but dangerous-syscall says so", () => {
    expect(findings("full-access").sort()).toEqual([
      "agent-socket-access error full-access.yaml:11",
      "broad-write error full-access.yaml:8",
      "persistence-write error full-access.yaml:8",
      "secret-access error full-access.yaml:8",
      "secret-access warning full-access.yaml:8",
    ]);
  });
  it("findings decided in a preset are reported at the checked file's `extends:` entry (a file of the repository)", () => {
    for (const preset of ["read-only", "workspace-write", "full-access"]) {
      const ds = lint(`sbc: 1\nextends: ${preset}\n`, { ruleSet });
      expect(ds.length, preset).toBeGreaterThan(0);
      for (const d of ds) expect(where(d), `${preset}: ${d.message}`).toBe("policy.yaml:2");
    }
  });
  it("safe-commands: nothing", () => {
    expect(findings("safe-commands")).toEqual([]);
  });
});
