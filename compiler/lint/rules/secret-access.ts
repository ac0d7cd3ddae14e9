// secret-access: credentials the sandbox can read or change. Reading a key is how it leaves the machine (with
// the network, or through a file a person later commits); changing one (`~/.ssh/authorized_keys`,
// `~/.aws/config`'s `credential_process`, `~/.docker/config.json`'s credential helper) lets the sandbox log in
// as the user or run code outside it. Writable secrets are errors, readable ones warnings (see docs/lint.md);
// a rule that makes a secret both is reported once, as writable.

import type { FsRule } from "../../../ir/types.js";
import { appendDenyRules, type DenyRule } from "../fs-fix.js";
import { allowingRule, ByRule, CHANGE_ACCESSES, nameList, ruleSpan } from "../probe.js";
import type { LintRule } from "../rule.js";
import { SECRETS, type Secret } from "../secrets.js";

const REASON = "credentials stay out of the sandbox (sbc lint: secret-access)";

export const secretAccess: LintRule = {
  id: "secret-access",
  code: "lintSecretAccess",
  defaultSeverity: "error",
  description: "Credentials (~/.ssh, ~/.aws, ~/.config/gcloud, ~/.netrc, ~/.docker/config.json, .env files …) are writable (an error) or readable (a warning).",
  fixable: true,
  run(ctx) {
    const ir = ctx.boundIr;
    if (!ir) return;
    const readable = new ByRule<FsRule, Secret>();
    const changeable = new ByRule<FsRule, Secret>();
    /** Secrets also readable, whose writable finding's fix denies reading too. */
    const alsoReadable = new Set<Secret>();
    for (const s of SECRETS) {
      const w = s.change.length ? allowingRule(ir, CHANGE_ACCESSES, s.change) : undefined;
      if (w) changeable.add(w, s);
      const r = allowingRule(ir, ["read"], s.read);
      if (r) alsoReadable.add(s);
      // A rule that makes a secret writable and readable is one finding, the error, not two.
      if (r && r !== w) readable.add(r, s);
    }
    const report = (rule: FsRule, secrets: Secret[], what: "writable" | "readable") => {
      const s = ruleSpan(rule);
      const names = secrets.map((x) => x.path);
      const access = (x: Secret) => (what === "readable" ? "read" : alsoReadable.has(x) ? "read-write" : "modify");
      const deny: DenyRule[] = secrets.map((x) => ({ access: access(x), kind: x.kind, path: x.path, reason: REASON }));
      const fix = appendDenyRules(ctx.file, deny, `deny ${what === "writable" ? "changing" : "reading"} ${names.length === 1 ? `\`${names[0]}\`` : `${names.length} secrets`} in this policy`);
      ctx.report({
        message: `${secrets.length === 1 ? "a secret is" : "secrets are"} ${what}: ${nameList(names)}`,
        ...(s ? { span: s, spanLabel: `this rule makes ${secrets.length === 1 ? "it" : "them"} ${what}` } : {}),
        help:
          (names.length > 3 ? `all of them: ${names.map((n) => `\`${n}\``).join(", ")}; ` : "") +
          (what === "writable"
            ? "a sandbox that can change credentials can log in as the user or run code outside the sandbox; deny `modify` there, or suppress with a reason"
            : "a sandbox that can read credentials can leak them; deny `read` there, or suppress with a reason"),
        ...(fix ? { fix } : {}),
        ...(what === "readable" ? { severity: "warning" as const } : {}),
      });
    };
    for (const [rule, secrets] of changeable.groups) report(rule, secrets, "writable");
    for (const [rule, secrets] of readable.groups) report(rule, secrets, "readable");
  },
};
