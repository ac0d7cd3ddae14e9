// Stage `test`: evaluate the expectations written in the policy's `tests:` with the reference evaluator.
// Parameters that are still symbolic get stand-in values (documented in docs/language.md) so that tests can
// speak about `${workspace}` without knowing where it will be.

import { diag, type Diagnostic, type Label } from "../../diagnostics/diagnostic.js";
import { bindIr } from "../../ir/bind.js";
import type { IR, PolicyTest } from "../../ir/types.js";
import { parseIp } from "../../ir/values.js";
import { evaluateCommand, evaluateFs, evaluateName, evaluateNetwork, evaluateSyscall, evaluateUnix, formatAction, sameAction } from "../../ir/evaluator/evaluate.js";

export const TEST_PARAM_VALUES: Readonly<Record<string, string>> = {
  workspace: "/home/user/project",
  cwd: "/home/user/project",
  home: "/home/user",
  // Distinct from (but inside) /tmp, so a policy can treat /tmp and ${tmpdir} differently and test it.
  tmpdir: "/tmp/sbc-test-tmpdir",
};

export function testBindings(ir: IR): Record<string, string> {
  const b: Record<string, string> = {};
  for (const p of ir.params) if (p.value === null) b[p.name] = TEST_PARAM_VALUES[p.name] ?? `/unbound/${p.name}`;
  return b;
}

export function describeTest(t: PolicyTest): string {
  switch (t.kind) {
    case "fs":
      return `${t.access} \`${t.path}\``;
    case "net":
      return `${t.op} ${t.protocol} \`${t.host.includes(":") ? `[${t.host}]` : t.host}:${t.port}\``;
    case "unix":
      return t.op === "socketpair" ? "unix socketpair" : "abstract" in t ? `unix ${t.op} to the abstract name \`${t.abstract}\`` : `unix ${t.op} \`${t.path}\``;
    case "syscall":
      return `syscall \`${t.syscall}\`${t.args.length ? `(${t.args.join(", ")})` : ""}`;
    case "command":
      return `command \`${t.argv.join(" ")}\``;
  }
}

/** What the reference evaluator says of one test (on the bound IR): the expected and the actual answer, and why. */
export interface IrTestOutcome {
  readonly expected: string;
  readonly got: string;
  readonly decidedBy?: Label;
  /** Said after the answer when no rule's span can be shown (" (the default action)"). */
  readonly fallback: string;
}

export function irTestOutcome(b: IR, t: PolicyTest): IrTestOutcome {
  let expected: string;
  let got: string;
  let decidedBy: Label | undefined;
  let fallback = "";
  switch (t.kind) {
    case "fs": {
      const v = evaluateFs(b, t.access, t.path);
      expected = t.expect;
      got = v.decision;
      if (v.rule?.span) decidedBy = { span: v.rule.span, message: `decided by this rule (${v.rule.effect})` };
      else fallback = " (no rule allows it)";
      break;
    }
    case "net": {
      // A host name (a test of rules by domain) is asked before resolution, as the egress proxy asks it.
      const v = parseIp(t.host) || t.host === "localhost" ? evaluateNetwork(b, { op: t.op, protocol: t.protocol, host: t.host, port: t.port }) : evaluateName(b, { protocol: t.protocol, name: t.host, port: t.port });
      expected = t.expect;
      got = v.decision;
      if (v.rule?.span) decidedBy = { span: v.rule.span, message: `decided by this rule (${v.rule.effect})` };
      else fallback = " (no rule allows it)";
      break;
    }
    case "unix": {
      const v = evaluateUnix(b, t);
      expected = t.expect;
      got = v.decision;
      const by = v.by;
      if (by.kind !== "path-rule" && by.kind !== "filesystem") {
        if (b.network.unix.span) decidedBy = { span: b.network.unix.span, message: `decided by the unix setting \`${by.kind}: ${got}\`` };
        else fallback = " (no network section allows it)";
      } else if (by.kind === "path-rule") {
        if (by.rule?.span) decidedBy = { span: by.rule.span, message: `decided by this unix path rule (${by.rule.effect})` };
        else fallback = " (no unix path rule allows it)";
      } else if (by.kind === "filesystem" && by.rule?.span) {
        decidedBy = { span: by.rule.span, message: `decided by this filesystem rule (${by.rule.effect}): binding creates the socket file, which needs \`create-special\`` };
      } else fallback = " (binding creates the socket file, and no filesystem rule allows `create-special` there)";
      break;
    }
    case "syscall": {
      const v = evaluateSyscall(
        b,
        t.syscall,
        t.args.map((a) => BigInt(a)),
      );
      expected = formatAction(t.expect);
      got = formatAction(v.action);
      if (sameAction(v.action, t.expect)) got = expected;
      // A name is asked on every arch that has the call: the test holds only if they all agree with it.
      if (v.byArch) {
        got = v.byArch.map((a) => `${formatAction(a.verdict.action)} on ${a.arch}`).join(", ");
        const off = v.byArch.find((a) => !sameAction(a.verdict.action, t.expect)) ?? v.byArch[0]!;
        const r = off.verdict.rule;
        if (r?.span) decidedBy = { span: r.span, message: `decided by this rule on ${off.arch} (${formatAction(r.action)})` };
        fallback = ` (the arches differ; ask \`${off.arch}:${off.nr}\` for one of them)`;
        break;
      }
      if (v.rule?.span) decidedBy = { span: v.rule.span, message: `decided by this rule (${formatAction(v.rule.action)})` };
      else if (v.newer) fallback = ` (a call newer than the policy: \`syscalls.newer\`)`;
      else if (v.implied) {
        if (b.network.span) decidedBy = { span: b.network.span, message: `decided by the network section: ${v.implied.reason}` };
        else fallback = ` (${v.implied.reason})`;
      } else fallback = " (the default action)";
      break;
    }
    case "command": {
      const v = evaluateCommand(b, t.argv);
      expected = t.expect;
      got = v.decision;
      if (v.rule?.span) decidedBy = { span: v.rule.span, message: `decided by this rule (${v.rule.decision})` };
      else fallback = " (the default decision)";
      break;
    }
  }
  return { expected, got, ...(decidedBy ? { decidedBy } : {}), fallback };
}

// `check` binds each IR to the stand-ins and asks its tests three times (here, in lint, for target fidelity):
// the bound IR and the answers are kept per IR object (IRs are never changed once built).
const boundForTests = new WeakMap<IR, ReturnType<typeof bindIr>>();
const outcomes = new WeakMap<IR, Map<PolicyTest, IrTestOutcome>>();

/** `ir` bound to the tests' stand-ins (testBindings), as bindIr returns it; computed once per IR. */
export function bindForTests(ir: IR): { readonly ir?: IR; readonly diagnostics: readonly Diagnostic[] } {
  let b = boundForTests.get(ir);
  if (!b) boundForTests.set(ir, (b = bindIr(ir, testBindings(ir))));
  return b;
}

/** irTestOutcome of a test of `b` (an IR from bindForTests), computed once per test. */
export function testOutcome(b: IR, t: PolicyTest): IrTestOutcome {
  let m = outcomes.get(b);
  if (!m) outcomes.set(b, (m = new Map()));
  let o = m.get(t);
  if (!o) m.set(t, (o = irTestOutcome(b, t)));
  return o;
}

/** Evaluate the policy's tests; `include` picks the ones to run (all by default). */
export function runPolicyTests(ir: IR, include?: (t: PolicyTest) => boolean): Diagnostic[] {
  if (!ir.tests.length) return [];
  const bound = bindForTests(ir);
  if (!bound.ir) return [...bound.diagnostics];
  const b = bound.ir;
  const out: Diagnostic[] = [];
  b.tests.forEach((t, i) => {
    if (include && !include(ir.tests[i]!)) return;
    const { expected, got, decidedBy, fallback } = testOutcome(b, t);
    if (expected === got) return;
    const orig = ir.tests[i]!;
    const label = t.name ? `test \`${t.name}\`` : `test ${i + 1}`;
    out.push(
      diag("testFailed", `${label}: ${describeTest(orig)} is ${got}${fallback}, expected ${expected}`, {
        ...(t.span ? { span: t.span } : {}),
        labels: decidedBy ? [decidedBy] : [],
      }),
    );
  });
  return out;
}
