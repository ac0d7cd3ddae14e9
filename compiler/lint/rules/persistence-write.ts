// persistence-write: places whose contents run later, outside the sandbox — the next shell, the next login,
// the next `git commit`, the next command found on PATH. A sandbox that can write one of them has escaped it
// the next time the user does something ordinary.

import type { FsRule } from "../../../ir/types.js";
import { appendDenyRules } from "../fs-fix.js";
import { allowingRule, ByRule, CHANGE_ACCESSES, nameList, ruleSpan } from "../probe.js";
import type { LintRule } from "../rule.js";

interface Point {
  /** What the finding names, and the subtree the fix denies. */
  readonly path: string;
  /** The files asked about: the point itself, or a file that would be created in it. */
  readonly probes: readonly string[];
}

const at = (path: string): Point => ({ path, probes: [path] });
const inside = (path: string, file: string): Point => ({ path, probes: [`${path}/${file}`] });

/** The persistence points. The list is documented in docs/lint.md#persistence-write. */
export const PERSISTENCE_POINTS: readonly Point[] = [
  // Shell start-up files.
  ...[".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin"].map((f) => at(`\${home}/${f}`)),
  at("${home}/.config/fish/config.fish"),
  inside("${home}/.config/fish/conf.d", "x.fish"),
  // Session autostart and user services.
  inside("${home}/.config/autostart", "x.desktop"),
  inside("${home}/.config/systemd/user", "x.service"),
  inside("${home}/Library/LaunchAgents", "x.plist"),
  // Crontabs.
  at("/etc/crontab"),
  inside("/etc/cron.d", "x"),
  inside("/var/spool/cron", "crontabs/user"),
  // The repository's hooks and configuration (`core.hooksPath`, `core.fsmonitor` run programs).
  inside("${workspace}/.git/hooks", "pre-commit"),
  at("${workspace}/.git/config"),
  at("${home}/.gitconfig"),
  // Directories on PATH, where a new `git` or `sudo` shadows the real one.
  inside("${home}/.local/bin", "git"),
  inside("${home}/bin", "git"),
  inside("${home}/.cargo/bin", "git"),
  inside("/usr/local/bin", "git"),
  inside("/opt/homebrew/bin", "git"),
  inside("/usr/bin", "git"),
];

const REASON = "runs code outside the sandbox later (sbc lint: persistence-write)";

export const persistenceWrite: LintRule = {
  id: "persistence-write",
  code: "lintPersistenceWrite",
  defaultSeverity: "error",
  description: "A place that runs code later is writable: shell rc files, autostart and systemd user units, LaunchAgents, crontabs, .git/hooks, directories on PATH.",
  fixable: true,
  run(ctx) {
    const ir = ctx.boundIr;
    if (!ir) return;
    const byRule = new ByRule<FsRule, Point>();
    for (const p of PERSISTENCE_POINTS) {
      const rule = allowingRule(ir, CHANGE_ACCESSES, p.probes);
      if (rule) byRule.add(rule, p);
    }
    for (const [rule, points] of byRule.groups) {
      const s = ruleSpan(rule);
      const names = points.map((p) => p.path);
      const fix = appendDenyRules(
        ctx.file,
        points.map((p) => ({ access: "modify", kind: "path", path: p.path, reason: REASON })),
        `deny changing ${names.length === 1 ? `\`${names[0]}\`` : `${names.length} persistence points`} in this policy`,
      );
      ctx.report({
        message: `${points.length === 1 ? "a place that runs code later is" : "places that run code later are"} writable: ${nameList(names)}`,
        ...(s ? { span: s, spanLabel: `this rule makes ${points.length === 1 ? "it" : "them"} writable` } : {}),
        help: (names.length > 3 ? `all of them: ${names.map((n) => `\`${n}\``).join(", ")}; ` : "") + "what the sandbox writes there runs outside it, at the next shell, login, commit or command; deny `modify` there, or suppress with a reason",
        ...(fix ? { fix } : {}),
      });
    }
  },
};
