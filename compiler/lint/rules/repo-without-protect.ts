// Rule `repo-without-protect`: a write grant on the workspace (or the directory the program starts in, or
// an ancestor of either) that leaves the repository's `.git/config` or `.git/hooks` writable. An agent's
// workspace is a git repository, and both run code the next time a person runs git — outside the sandbox.
// The question is asked of the evaluator with the test stand-ins, never of the disk, so the finding does
// not depend on the machine. Where the grant is exactly `${workspace}` or `${cwd}`, the fix adds `.git` to
// its `protect:` list.

import type { Fix } from "../../../diagnostics/diagnostic.js";
import type { Span } from "../../../diagnostics/source.js";
import { evaluateFs } from "../../../ir/evaluator/evaluate.js";
import type { FsRule } from "../../../ir/types.js";
import type { Access } from "../../../ir/access.js";
import type { FsRuleNode } from "../../../language/ast.js";
import { isWithin } from "../../../ir/paths.js";
import { inCheckedFile, reportSite } from "../report-site.js";
import type { LintContext, LintRule } from "../rule.js";
import { standInPath } from "../stand-ins.js";

/** What must stay unchangeable inside `.git`, and the access that would change it. */
const PROBES: readonly { readonly access: Access; readonly rest: string; readonly what: string }[] = [
  { access: "write", rest: ".git/config", what: "`.git/config`" },
  { access: "create-file", rest: ".git/hooks/pre-commit", what: "`.git/hooks`" },
  { access: "write", rest: ".git/hooks/pre-commit", what: "`.git/hooks`" },
];

const ROOTS = ["workspace", "cwd"] as const;

export const repoWithoutProtect: LintRule = {
  id: "repo-without-protect",
  code: "repoWithoutProtect",
  defaultSeverity: "warning",
  description: "A write grant covers the workspace, a git repository, without `protect: [.git]`: its hooks and config would run code outside the sandbox.",
  fixable: true,
  run(context) {
    const ir = context.boundIr;
    if (!ir) return;
    const found = new Map<number, { rule: FsRule; root: string; what: Set<string> }>();
    for (const root of ROOTS) {
      const base = standInPath(ir, "${" + root + "}");
      for (const probe of PROBES) {
        const v = evaluateFs(ir, probe.access, `${base === "/" ? "" : base}/${probe.rest}`);
        // Only a grant at or above the repository's root: an allow written inside `.git` is a decision the
        // author made about `.git` itself (persistence-write judges hooks whatever grants them).
        if (v.decision !== "allow" || !v.rule || v.ruleIndex === null || v.rule.kind !== "subtree" || !isWithin(base, v.rule.path)) continue;
        const f = found.get(v.ruleIndex) ?? { rule: v.rule, root, what: new Set<string>() };
        f.what.add(probe.what);
        found.set(v.ruleIndex, f);
      }
    }
    for (const [index, f] of found) {
      const symbolic = context.ir.filesystem[index]!;
      const fix = protectFix(context, symbolic);
      const at = reportSite(context, [f.rule.span]);
      const what = [...f.what].join(" and ");
      const own = at === f.rule.span;
      context.report({
        message: `\`\${${f.root}}\` is a repository, and ${own ? "this rule" : `\`${symbolic.path}\` from an extended file`} leaves its ${what} writable`,
        ...(at ? { span: at } : {}),
        ...(own ? { spanLabel: `grants ${f.rule.access.includes("write") ? "write" : "create"} access over \`\${${f.root}}\`` } : {}),
        labels: !own && f.rule.span ? [{ span: f.rule.span, message: "this grant covers the repository" }] : [],
        help: fix
          ? "git runs hooks and obeys config (`core.hooksPath`, `core.fsmonitor`) outside the sandbox; add `protect: [.git]`"
          : `git runs hooks and obeys config outside the sandbox; add a rule \`deny: modify\` on \`\${${f.root}}/.git\``,
        ...(fix ? { fix } : {}),
      });
    }
  },
};

/** `protect: [.git]` added to the rule, when it is the checked file's `allow … path: ${workspace}|${cwd}`. */
function protectFix(context: LintContext, rule: FsRule): Fix | undefined {
  if (rule.effect !== "allow" || rule.kind !== "subtree" || !(rule.path === "${workspace}" || rule.path === "${cwd}")) return undefined;
  if (!inCheckedFile(context, rule.span)) return undefined;
  const node = context.file.filesystem.find((n) => n.span.start === rule.span!.start && n.span.end === rule.span!.end);
  if (!node || node.path.template.components.length || !(node.path.template.param === "workspace" || node.path.template.param === "cwd")) return undefined;
  const edit = protectEdit(node, context.file.source.path.endsWith(".sbc"));
  return edit ? { description: "add `.git` to this rule's `protect:` list", edits: [edit] } : undefined;
}

function protectEdit(node: FsRuleNode, dsl: boolean): { span: Span; text: string } | undefined {
  const text = node.span.source.text;
  const at = (offset: number): Span => ({ source: node.span.source, start: offset, end: offset });
  const last = node.protect[node.protect.length - 1];
  if (last) {
    // An existing list: extend it when it is written inline (`[.codex]`, `[".codex"]`).
    let i = last.span.end;
    while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] !== "]") return undefined;
    return { span: at(last.span.end), text: dsl ? `, ".git"` : ", .git" };
  }
  if (dsl) return { span: at(node.path.span.end), text: ` protect [".git"]` };
  // YAML flow mapping `{allow: …, path: …}`: before its closing brace.
  if (text[node.span.start] === "{") {
    let end = node.span.end - 1;
    while (end > node.span.start && text[end] !== "}") end--;
    return text[end] === "}" ? { span: at(end), text: ", protect: [.git]" } : undefined;
  }
  // YAML block mapping: a new key after the `path:` line, at the column of the rule's first key.
  const lineStart = text.lastIndexOf("\n", node.span.start - 1) + 1;
  const column = node.span.start - lineStart;
  let eol = node.path.span.end;
  while (eol < text.length && text[eol] !== "\n" && text[eol] !== "\r") eol++;
  const newline = text[eol] === "\r" ? "\r\n" : "\n";
  return { span: at(eol), text: `${newline}${" ".repeat(column)}protect: [.git]` };
}
