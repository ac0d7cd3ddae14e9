// Every lint rule, in the order they run (graphql-js's `specifiedRules`). One rule per file beside this one;
// each has a section in docs/lint.md and a test file in tests/lint/ with a passing and a failing case.

import type { LintRule } from "../rule.js";
import { networkWithSecrets } from "./network-with-secrets.js";
import { repoWithoutProtect } from "./repo-without-protect.js";
import { shadowedRule } from "./shadowed-rule.js";
import { testCannotFail } from "./test-cannot-fail.js";
import { unusedParam } from "./unused-param.js";

export const specifiedRules: readonly LintRule[] = [
  // second set (issue 13): exfiltration, repository metadata, hygiene
  networkWithSecrets,
  repoWithoutProtect,
  shadowedRule,
  testCannotFail,
  unusedParam,
];
