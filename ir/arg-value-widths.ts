// Check: a condition whose value only bits the kernel ignores could match (`ioctl` `arg1 == 0x10000541B`: the
// kernel reads `unsigned int cmd`, the low 32 bits). An error, not a warning: the condition cannot mean what it
// says, and the nearest meanings both change what the rule does — compared on 64 bits it is dodged by callers
// that set the high bits (a deny rule that does not deny), and compared on the bits the kernel reads it matches
// nothing (a deny rule that silently stops denying). Either way a deny widens, so the author must rewrite it.
// The widths are those of the 64-bit ABIs (all equal); targets check their own ABIs (seccomp on 32-bit ABIs).

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { ArgCondition, IR, SyscallRule } from "./types.js";
import { argBits, argDeclaration, narrowCondition } from "./arg-widths.js";

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** SBC0830 for every condition of `rule` whose value does not fit the argument on `arch`. */
export function tooWideConditions(rule: SyscallRule, arch: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<ArgCondition>();
  for (const c of rule.conditions) {
    if (seen.has(c)) continue;
    const narrow: { name: string; bits: number; decl?: string }[] = [];
    for (const name of rule.syscalls) {
      const bits = argBits(arch, name, c.arg);
      if (narrowCondition(c, bits).highOnly) narrow.push({ name, bits, ...(argDeclaration(arch, name, c.arg) ? { decl: argDeclaration(arch, name, c.arg)! } : {}) });
    }
    if (!narrow.length) continue;
    seen.add(c);
    const first = narrow[0]!;
    const what = first.decl ? `\`${first.decl}\`` : `argument ${c.arg}`;
    const more = narrow.length > 1 ? ` (and of ${narrow.slice(1).map((n) => `\`${n.name}\``).join(", ")})` : "";
    const value = c.op === "&==" ? `the masked value ${hex(BigInt(c.value))}` : `the value ${hex(BigInt(c.value))}`;
    out.push(
      diag("argValueTooWide", `${value} has bits above the ${first.bits} that the kernel reads of \`${first.name}\`'s ${what}${more}${arch === "x86_64" ? "" : ` on ${arch}`}`, {
        ...(c.span ? { span: c.span } : rule.span ? { span: rule.span } : {}),
        help:
          c.op === "&==" && (BigInt(c.mask!) & ((1n << BigInt(first.bits)) - 1n)) === 0n
            ? `the kernel never reads the bits this mask selects, so a call with them set is the same call as without; drop the condition`
            : `the kernel drops the higher bits, so a call with them set is the same call as without; compare the low ${first.bits} bits (\`${lowOnly(c, first.bits)}\`), or write a negative number as such`,
      }),
    );
  }
  return out;
}

function lowOnly(c: ArgCondition, bits: number): string {
  const low = (1n << BigInt(bits)) - 1n;
  if (c.op === "&==") return `arg${c.arg} & ${hex(BigInt(c.mask!) & low)} == ${hex(BigInt(c.value) & low)}`;
  return `arg${c.arg} ${c.op} ${hex(BigInt(c.value) & low)}`;
}

export function argValueWidths(ir: IR): Diagnostic[] {
  return ir.syscalls.rules.flatMap((r) => tooWideConditions(r, "x86_64"));
}
