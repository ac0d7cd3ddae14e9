// Where a lint finding goes. A finding belongs in the checked file, where the author can change the policy
// or suppress the finding; a rule that decides it may sit in a file the policy extends (a preset), and is
// then shown as a label, while the finding itself points at the checked file's `extends:` entry.

import type { Label } from "../../diagnostics/diagnostic.js";
import type { Span } from "../../diagnostics/source.js";
import type { LintContext } from "./rule.js";

export function inCheckedFile(context: LintContext, span: Span | undefined): span is Span {
  return span !== undefined && span.source === context.file.source;
}

/**
 * The span to report at: the first of `candidates` in the checked file, else the checked file's first
 * `extends:` entry (where the base that holds them comes in), else nothing (the runner uses line 1).
 */
export function reportSite(context: LintContext, candidates: readonly (Span | undefined)[]): Span | undefined {
  for (const s of candidates) if (inCheckedFile(context, s)) return s;
  return context.file.extends[0]?.span;
}

/** Labels for spans, dropping missing ones and the one the finding is reported at. */
export function labelsFor(items: readonly { span: Span | undefined; message: string }[], except?: Span): Label[] {
  const out: Label[] = [];
  for (const i of items) {
    if (!i.span || (except && i.span.source === except.source && i.span.start === except.start && i.span.end === except.end)) continue;
    out.push({ span: i.span, message: i.message });
  }
  return out;
}
