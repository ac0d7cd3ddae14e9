// Check: a syscall rule whose argument conditions can never hold together (`arg0 == 1` and `arg0 == 2`,
// `arg1 < 0`, a masked compare with bits outside its mask, `arg0 > 0xffffffff` on an `int`, which the kernel
// reads as 32 bits) never matches. Warned, because a rule the author meant to fire silently falls through to
// the default action.

import { diag, type Diagnostic } from "../../../diagnostics/diagnostic.js";
import type { ArgCondition, IR } from "../../../ir/types.js";
import { argBits, narrowCondition, type ArgBits } from "../../../ir/arg-widths.js";

/** Whether some call satisfies every condition, with argument `arg` read as its low `bits(arg)` bits. */
function satisfiable(conds: readonly ArgCondition[], bits: (arg: number) => ArgBits): boolean {
  for (let arg = 0; arg < 6; arg++) {
    const w = bits(arg);
    // On a narrow argument, work on the values the kernel sees: below 2^w, the conditions reduced to w bits.
    const cs = conds
      .filter((c) => c.arg === arg)
      .map((c): ArgCondition => {
        const n = narrowCondition(c, w);
        return { arg, op: c.op, value: `0x${n.value.toString(16)}`, ...(n.mask !== undefined ? { mask: `0x${n.mask.toString(16)}` } : {}) };
      });
    let lo = 0n;
    let hi = (1n << BigInt(w)) - 1n;
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
          if (v >= hi) return false;
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
    // A value wider than its argument is SBC0830 already, which says why the rule cannot match.
    if (r.conditions.some((c) => r.syscalls.some((s) => narrowCondition(c, argBits("x86_64", s, c.arg)).highOnly))) return;
    // One syscall for which the conditions can hold is enough (a rule may name calls of different widths).
    if (r.syscalls.length === 0 || r.syscalls.some((s) => satisfiable(r.conditions, (arg) => argBits("x86_64", s, arg)))) return;
    out.push(
      diag("unsatisfiableRule", `the conditions of this syscall rule can never all hold, so it never matches`, {
        ...(r.span ? { span: r.span } : {}),
        help: "conditions in one rule are joined with AND; for OR write separate rules",
      }),
    );
  });
  return out;
}
