// Every lint rule, in the order they run (graphql-js's `specifiedRules`). One rule per file beside this one;
// each has a section in docs/lint.md and a test file in tests/lint/ with a passing and a failing case.

import type { LintRule } from "../rule.js";

export const specifiedRules: readonly LintRule[] = [];
