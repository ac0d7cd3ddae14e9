// Suppression comments: `# sbc-disable-next-line RULE[, RULE] -- reason` and `# sbc-disable-file RULE -- reason`,
// in YAML and in the DSL (both have `#` line comments). Comments are found by each syntax's own lexer, so a
// `#` inside a quoted string or a block scalar is never taken for one. A directive without a reason is an
// error and suppresses nothing: a suppression is a decision someone has to be able to read later.

import { closest, diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import { span, type Source, type Span } from "../../diagnostics/source.js";
import type { PolicyFile } from "../../language/ast.js";
import { yamlRawComments } from "../../language/yaml-comments.js";
import { isDslPath } from "../../grammar/index.js";
import { scan } from "../../grammar/lexer.js";
import type { RuleSeverity } from "./rule.js";

export const DIRECTIVE_NEXT_LINE = "sbc-disable-next-line";
export const DIRECTIVE_FILE = "sbc-disable-file";
/** The runner's own configurable finding: a directive that suppressed nothing. */
export const UNUSED_DIRECTIVE_ID = "lint-unused-directive";

interface RawComment {
  /** Offset of the `#`. */
  readonly offset: number;
  /** The text after `#`. */
  readonly text: string;
  readonly ownLine: boolean;
}

interface DirectiveRule {
  readonly id: string;
  readonly span: Span;
  used: boolean;
}

interface Directive {
  readonly kind: "next-line" | "file";
  readonly source: Source;
  readonly span: Span;
  /** For `next-line`: the 1-based line whose findings it suppresses. */
  readonly line: number;
  readonly rules: DirectiveRule[];
}

/** A lint finding, with the id of the rule that made it (a diagnostic's code name need not be the rule id). */
export interface Finding {
  readonly ruleId: string;
  readonly diagnostic: Diagnostic;
}

export interface SuppressionOptions {
  /** Every rule id a directive may name. */
  readonly knownIds: readonly string[];
  /** The rules that ran: a directive naming another one cannot have been used, and is not reported unused. */
  readonly activeIds: ReadonlySet<string>;
  /** Severity of unused-directive findings (`off`: not reported). */
  readonly unused: RuleSeverity;
}

function comments(source: Source): RawComment[] {
  if (isDslPath(source.path)) {
    const text = source.text;
    return scan(text).comments.map((c) => {
      const lineStart = text.lastIndexOf("\n", c.startOffset - 1) + 1;
      return { offset: c.startOffset, text: c.image.slice(1), ownLine: text.slice(lineStart, c.startOffset).trim() === "" };
    });
  }
  return yamlRawComments(source.text);
}

/** Parse the directives of one file; problems are reported only when `report` is given (the checked file). */
function readDirectives(source: Source, knownIds: readonly string[], problems: Diagnostic[] | undefined): Directive[] {
  // Most files have none; do not lex them.
  if (!source.text.includes("sbc-disable")) return [];
  const all = comments(source);
  const ownLines = new Set(all.filter((c) => c.ownLine).map((c) => source.position(c.offset).line));
  const out: Directive[] = [];
  for (const c of all) {
    const lead = c.text.length - c.text.trimStart().length;
    const body = c.text.slice(lead);
    const head = /^sbc-disable[A-Za-z0-9_-]*/.exec(body);
    if (!head) continue;
    const start = c.offset + 1 + lead;
    const commentSpan = span(source, c.offset, c.offset + 1 + c.text.trimEnd().length);
    const word = head[0];
    if (word !== DIRECTIVE_NEXT_LINE && word !== DIRECTIVE_FILE) {
      problems?.push(
        diag("lintInvalidDirective", `unknown directive \`${word}\``, {
          span: span(source, start, start + word.length),
          help: `write \`# ${DIRECTIVE_NEXT_LINE} RULE -- reason\` or \`# ${DIRECTIVE_FILE} RULE -- reason\``,
        }),
      );
      continue;
    }
    const rest = body.slice(word.length);
    if (rest !== "" && !/^\s/.test(rest)) {
      problems?.push(diag("lintInvalidDirective", `unknown directive \`${word}${rest.split(/\s/)[0]}\``, { span: commentSpan, help: `write \`# ${DIRECTIVE_NEXT_LINE} RULE -- reason\`` }));
      continue;
    }
    const sep = /\s--(\s|$)/.exec(rest);
    const idsText = sep ? rest.slice(0, sep.index) : rest;
    const reason = sep ? rest.slice(sep.index + sep[0].length).trim() : "";
    const idsOffset = start + word.length;
    const rules: DirectiveRule[] = [];
    for (const m of idsText.matchAll(/[^\s,]+/g)) {
      const at = idsOffset + m.index!;
      rules.push({ id: m[0], span: span(source, at, at + m[0].length), used: false });
    }
    if (!rules.length) {
      problems?.push(diag("lintInvalidDirective", `\`${word}\` names no rule`, { span: commentSpan, help: `write \`# ${word} RULE -- reason\`; the rule ids are listed in docs/lint.md` }));
      continue;
    }
    if (!reason) {
      problems?.push(
        diag("lintInvalidDirective", `\`${word}\` needs a reason after \` -- \`; it suppresses nothing`, {
          span: commentSpan,
          help: `write \`# ${word} ${rules.map((r) => r.id).join(", ")} -- why this is acceptable here\``,
        }),
      );
      continue;
    }
    const known = rules.filter((r) => {
      if (knownIds.includes(r.id)) return true;
      const guess = closest(r.id, knownIds);
      problems?.push(diag("lintUnknownRule", `unknown lint rule \`${r.id}\``, { span: r.span, ...(guess ? { help: `did you mean \`${guess}\`?` } : { help: "the rule ids are listed in docs/lint.md" }) }));
      return false;
    });
    let line = 0;
    if (word === DIRECTIVE_NEXT_LINE) {
      // The next line that holds more than a comment; blank lines and comment lines in between are skipped.
      line = source.position(c.offset).line + 1;
      while (line <= source.lineCount && (source.lineText(line).trim() === "" || ownLines.has(line))) line++;
    }
    out.push({ kind: word === DIRECTIVE_NEXT_LINE ? "next-line" : "file", source, span: commentSpan, line, rules: known });
  }
  return out;
}

/**
 * Drop the findings the files' directives suppress; return the rest, and the diagnostics about directives
 * of the checked file (malformed, unknown rules, unused). A directive in the checked file applies to its own
 * lines (`next-line`) or to every finding of the check (`file`, findings in extended files included, since the
 * checked file is what the user can edit); one in an extended file applies only within that file.
 */
export function applySuppressions(files: readonly PolicyFile[], findings: readonly Finding[], options: SuppressionOptions): { kept: Finding[]; diagnostics: Diagnostic[] } {
  const checked = files[files.length - 1]!;
  const problems: Diagnostic[] = [];
  const directives: Directive[] = [];
  for (const f of files) directives.push(...readDirectives(f.source, options.knownIds, f === checked ? problems : undefined));
  if (!directives.length) return { kept: [...findings], diagnostics: problems };
  const kept = findings.filter((finding) => {
    const s = finding.diagnostic.span;
    let suppressed = false;
    for (const d of directives) {
      const rule = d.rules.find((r) => r.id === finding.ruleId);
      if (!rule) continue;
      const applies =
        d.kind === "file" ? d.source === checked.source || s?.source === d.source : s !== undefined && s.source === d.source && d.source.position(s.start).line === d.line;
      if (!applies) continue;
      rule.used = true;
      suppressed = true;
    }
    return !suppressed;
  });
  if (options.unused !== "off") {
    for (const d of directives) {
      if (d.source !== checked.source) continue;
      for (const r of d.rules) {
        if (r.used || !options.activeIds.has(r.id)) continue;
        problems.push(
          diag("lintUnusedDirective", `\`${r.id}\` reported nothing ${d.kind === "file" ? "in this check" : "on the next line"}; the directive suppresses nothing`, {
            span: r.span,
            help:
              d.kind === "next-line"
                ? "remove it (or this rule id from it); a finding located in an extended file or a preset is suppressed with `# sbc-disable-file`"
                : "remove it (or this rule id from it)",
            severity: options.unused,
          }),
        );
      }
    }
  }
  return { kept, diagnostics: problems };
}
