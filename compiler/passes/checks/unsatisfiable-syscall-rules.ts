// Check: a syscall rule whose argument conditions can never hold together (`arg0 == 1` and `arg0 == 2`,
// `arg1 < 0`, a masked compare with bits outside its mask) never matches. Warned, because a rule the author
// meant to fire silently falls through to the default action.

import { diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { ArgCondition, IR } from "../../ir/types.js";

const MAX = (1n << 64n) - 1n;

function satisfiable(conds: readonly ArgCondition[]): boolean {
  for (let arg = 0; arg < 6; arg++) {
    const cs = conds.filter((c) => c.arg === arg);
    let lo = 0n;
    let hi = MAX;
    const not = new Set<bigint>();
    for (const c of cs) {
      const v = BigInt(c.value);
      switch (c.op) {
        case "==":
          lo = lo > v ? lo : v;
          hi = hi < v ? hi : v;
          break;
        case "!=":
          not.add(v);
          break;
        case "<":
          if (v === 0n) return false;
          hi = hi < v - 1n ? hi : v - 1n;
          break;
        case "<=":
          hi = hi < v ? hi : v;
          break;
        case ">":
          if (v === MAX) return false;
          lo = lo > v + 1n ? lo : v + 1n;
          break;
        case ">=":
          lo = lo > v ? lo : v;
          break;
        case "&==":
          if ((v & ~BigInt(c.mask!)) !== 0n) return false;
          break;
      }
    }
    if (lo > hi) return false;
    // Masked compares must agree with each other and with an exact value on the bits they share.
    const masked = cs.filter((c) => c.op === "&==").map((c) => ({ m: BigInt(c.mask!), v: BigInt(c.value) }));
    for (let i = 0; i < masked.length; i++) {
      for (let j = i + 1; j < masked.length; j++) {
        const a = masked[i]!;
        const b = masked[j]!;
        if (((a.v ^ b.v) & a.m & b.m) !== 0n) return false;
      }
      if (lo === hi && (lo & masked[i]!.m) !== masked[i]!.v) return false;
    }
    if (hi - lo < 64n) {
      let any = false;
      for (let x = lo; x <= hi && !any; x++) {
        if (not.has(x)) continue;
        any = cs.filter((c) => c.op === "&==").every((c) => (x & BigInt(c.mask!)) === BigInt(c.value));
      }
      if (!any) return false;
    }
  }
  return true;
}

export function unsatisfiableSyscallRules(ir: IR): Diagnostic[] {
  const out: Diagnostic[] = [];
  ir.syscalls.rules.forEach((r) => {
    if (satisfiable(r.conditions)) return;
    out.push(
      diag("unsatisfiableRule", `the conditions of this syscall rule can never all hold, so it never matches`, {
        ...(r.span ? { span: r.span } : {}),
        help: "conditions in one rule are joined with AND; for OR write separate rules",
      }),
    );
  });
  return out;
}
