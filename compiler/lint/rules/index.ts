// Every lint rule, in the order they run (graphql-js's `specifiedRules`). One rule per file beside this one;
// each has a section in docs/lint.md and a test file in tests/lint/ with a passing and a failing case.

import type { LintRule } from "../rule.js";
import { agentSocketAccess } from "./agent-socket-access.js";
import { broadWrite } from "./broad-write.js";
import { dangerousSyscall } from "./dangerous-syscall.js";
import { persistenceWrite } from "./persistence-write.js";
import { secretAccess } from "./secret-access.js";

export const specifiedRules: readonly LintRule[] = [
  // Security: what the policy lets the sandbox reach (SBC3001–SBC3005).
  secretAccess,
  persistenceWrite,
  broadWrite,
  agentSocketAccess,
  dangerousSyscall,
];
