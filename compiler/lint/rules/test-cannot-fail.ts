// Rule `test-cannot-fail`: a policy test that asks exactly what an earlier test of the file asks, expecting
// the same answer. It passes exactly when the earlier one does, so it can never be the test that catches a
// change: it only adds noise, and usually hides the test its author meant to write (a copied line whose
// path or expectation was not edited). The comparison is on the query's meaning — `localhost` is
// `127.0.0.1`, `errno` is `{errno: EPERM}`, missing syscall arguments are 0 — never on the test's name.
//
// Why only that: no query is decided the same way under every policy (each answer has a rule or a setting
// that can change it), and a test whose answer comes from a default (no rule mentions the path, expect
// deny) fails as soon as someone adds an allow, which is what it is for. See docs/lint.md.

import type { Span } from "../../../diagnostics/source.js";
import type { PolicyTest } from "../../../ir/types.js";
import { formatIp, parseIp } from "../../../ir/values.js";
import type { LintRule } from "../rule.js";

function argValue(a: string): string {
  try {
    return BigInt(a).toString(16);
  } catch {
    return a;
  }
}

function host(h: string): string {
  const ip = parseIp(h === "localhost" ? "127.0.0.1" : h);
  return ip ? formatIp(ip) : h;
}

/** What a test asks, and what it expects, as one comparable string. */
export function testKey(t: PolicyTest): string {
  switch (t.kind) {
    case "fs":
      return `fs\0${t.access}\0${t.path}\0${t.expect}`;
    case "net":
      return `net\0${t.op}\0${t.protocol}\0${host(t.host)}\0${t.port}\0${t.expect}`;
    case "unix":
      if (t.op === "socketpair") return `unix\0socketpair\0${t.expect}`;
      return "abstract" in t ? `unix\0${t.op}\0abstract\0${t.abstract}\0${t.expect}` : `unix\0${t.op}\0path\0${t.path}\0${t.expect}`;
    case "syscall": {
      const args = t.args.map(argValue);
      while (args.length && args[args.length - 1] === "0") args.pop();
      const e = t.expect;
      const expect = e.type === "errno" ? `errno:${e.errno}` : e.type === "trace" ? `trace:${e.data}` : e.type;
      return `syscall\0${t.syscall}\0${args.join(",")}\0${expect}`;
    }
    case "command":
      return `command\0${t.argv.join("\0")}\0\0${t.expect}`;
  }
}

export const testCannotFail: LintRule = {
  id: "test-cannot-fail",
  code: "testCannotFail",
  defaultSeverity: "warning",
  description: "A policy test repeats an earlier test (the same query and expectation), so it can never fail on its own.",
  fixable: true,
  run(context) {
    const seen = new Map<string, { index: number; span: Span | undefined }>();
    context.ir.tests.forEach((t, index) => {
      const key = testKey(t);
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { index, span: t.span });
        return;
      }
      const span = t.span;
      const which = first.index + 1;
      context.report({
        message: `test ${index + 1}${t.name ? ` (\`${t.name}\`)` : ""} asks what test ${which} asks and expects the same, so it can never fail on its own`,
        ...(span ? { span } : {}),
        labels: first.span ? [{ span: first.span, message: `test ${which} asks the same` }] : [],
        help: "remove it, or change its query or expectation to the case you meant to test",
        ...(span ? { fix: { description: "remove the repeated test", edits: [removal(span)] } } : {}),
      });
    });
  },
};

/** The test's span widened to its whole lines (YAML `- ` item marker included), so removing it leaves no gap. */
function removal(span: Span): { span: Span; text: string } {
  const text = span.source.text;
  let start = text.lastIndexOf("\n", span.start - 1) + 1;
  // Only whole lines: when something other than indentation and the list marker precedes the test on its
  // line (a flow list), remove the span alone.
  if (!/^[ \t]*(- )?[ \t]*$/.test(text.slice(start, span.start))) return { span, text: "" };
  // A YAML block item's span may already end with its line break.
  let end = span.end;
  if (text[end - 1] !== "\n") {
    while (end < text.length && text[end] !== "\n") end++;
    const rest = text.slice(span.end, end).trim();
    if (rest !== "" && !rest.startsWith("#")) return { span, text: "" };
    end = Math.min(text.length, end + 1);
  }
  return { span: { source: span.source, start, end }, text: "" };
}
