// Every lint rule, in the order they run (graphql-js's `specifiedRules`). One rule per file beside this one;
// each has a section in docs/lint.md and a test file in tests/lint/ with a passing and a failing case.

import type { LintRule } from "../rule.js";
import { agentSocketAccess } from "./agent-socket-access.js";
import { broadWrite } from "./broad-write.js";
import { dangerousSyscall } from "./dangerous-syscall.js";
import { networkWithSecrets } from "./network-with-secrets.js";
import { persistenceWrite } from "./persistence-write.js";
import { repoWithoutProtect } from "./repo-without-protect.js";
import { secretAccess } from "./secret-access.js";
import { shadowedRule } from "./shadowed-rule.js";
import { testCannotFail } from "./test-cannot-fail.js";
import { unusedParam } from "./unused-param.js";

export const specifiedRules: readonly LintRule[] = [
  // Security: what the policy lets the sandbox reach (SBC3001–SBC3005).
  secretAccess,
  persistenceWrite,
  broadWrite,
  agentSocketAccess,
  dangerousSyscall,
  // Exfiltration and repository metadata (SBC3050–SBC3053), then hygiene
  networkWithSecrets,
  repoWithoutProtect,
  shadowedRule,
  testCannotFail,
  unusedParam,
];
