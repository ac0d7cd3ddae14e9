// Big filters: jumps farther than 255 instructions (trampolines) must keep the semantics and pass the
// kernel's checks, and a policy that cannot fit in 4096 instructions is an error, never a truncated filter.

import { describe, expect, it } from "vitest";
import type { ArgCondition, SyscallRule } from "../../ir/types.js";
import { syscallTable } from "../../linux-abi/index.js";
import { makeIr } from "../../tests/support/ir.js";
import { actionValue } from "./actions.js";
import { AUDIT_ARCH_X86_64, BPF_JA, BPF_JMP, BPF_MAXINSNS } from "./bpf.js";
import { compileSeccomp } from "./index.js";
import { runFilter } from "./interpreter.js";
import { expectedAction } from "./semantics.js";
import { verifyFilter } from "./verifier.js";

const names = Object.keys(syscallTable("x86_64")).sort();
const cond = (arg: number, v: number): ArgCondition => ({ arg, op: "==", value: "0x" + v.toString(16) });

function bigIr(rulesPerSyscall: number, conds: number, count: number) {
  const rules: SyscallRule[] = [];
  names.slice(0, count).forEach((name, i) => {
    for (let r = 0; r < rulesPerSyscall; r++) {
      rules.push({
        syscalls: [name],
        action: { type: "errno", errno: 1 + ((i + r) % 4000) },
        conditions: Array.from({ length: conds }, (_, c) => cond(c, i * 7 + r * 3 + c)),
        layer: 0,
      });
    }
  });
  return makeIr({ syscallRules: rules, defaultAction: { type: "allow" }, unix: "allow", netRules: [{ effect: "allow", ops: ["bind", "connect"], protocols: ["tcp", "udp"], hosts: "any", ports: [[0, 65535]], layer: 0 }] });
}

describe("filters larger than the 8-bit jump range", () => {
  const ir = bigIr(2, 2, 150);
  const out = compileSeccomp(ir, ["x86_64"]);

  it("compiles, uses trampolines, and passes the kernel's checks", () => {
    expect(out.filter).toBeDefined();
    const p = out.filter!.program;
    expect(p.length).toBeGreaterThan(600);
    expect(p.length).toBeLessThanOrEqual(BPF_MAXINSNS);
    expect(p.some((i) => i.code === (BPF_JMP | BPF_JA)) || p.filter((i) => (i.code & 7) === 6).length > 4).toBe(true);
    expect(verifyFilter(p)).toEqual({ ok: true });
  });

  it("answers like the reference for every rule's matching and non-matching arguments", () => {
    const p = out.filter!.program;
    names.slice(0, 160).forEach((name, i) => {
      const nr = syscallTable("x86_64")[name]!;
      for (const args of [
        [BigInt(i * 7), BigInt(i * 7 + 1)],
        [BigInt(i * 7 + 3), BigInt(i * 7 + 4)],
        [BigInt(i * 7), BigInt(i * 7 + 2)],
        [0n, 0n],
        [1n << 32n, BigInt(i * 7 + 1)],
      ]) {
        const want = actionValue(expectedAction(ir, ["x86_64"], { arch: AUDIT_ARCH_X86_64, nr, args }));
        expect(runFilter(p, { nr, arch: AUDIT_ARCH_X86_64, args }).ret >>> 0, `${name} ${args}`).toBe(want);
      }
    });
  });
});

describe("the 4096-instruction limit", () => {
  it("is an error (SBC2001) with no filter, not a truncated program", () => {
    const out = compileSeccomp(bigIr(3, 4, names.length), ["x86_64"]);
    expect(out.filter).toBeUndefined();
    expect(out.diagnostics.map((d) => d.code)).toContain("SBC2001");
  });
});

describe("thousands of rules on one syscall (every graph pass is iterative)", () => {
  const oneSyscall = (n: number, rule: (i: number) => Pick<SyscallRule, "action" | "conditions">) =>
    makeIr({
      syscallRules: Array.from({ length: n }, (_, i) => ({ syscalls: ["ioctl"], layer: 0, ...rule(i) })),
      defaultAction: { type: "errno", errno: 1 },
      unix: "allow",
      netRules: [{ effect: "allow", ops: ["bind", "connect"], protocols: ["tcp", "udp"], hosts: "any", ports: [[0, 65535]], layer: 0 }],
    });
  const ioctl = syscallTable("x86_64")["ioctl"]!;

  it("5,000 rules whose union is one test compile to a small filter that answers like the reference", () => {
    // `arg0 > 0`, `arg0 > 1`, …: together just `arg0 > 0`, once jump threading has seen the first fail.
    const ir = oneSyscall(5000, (i) => ({ action: { type: "allow" }, conditions: [{ arg: 0, op: ">", value: String(i) }] }));
    const out = compileSeccomp(ir, ["x86_64"]);
    expect(out.diagnostics.map((d) => d.code)).toEqual([]);
    const p = out.filter!.program;
    expect(p.length).toBeLessThanOrEqual(16);
    expect(verifyFilter(p)).toEqual({ ok: true });
    for (const a0 of [0n, 1n, 4999n, 5000n, 1n << 32n, (1n << 64n) - 1n]) {
      const args = [a0];
      const want = actionValue(expectedAction(ir, ["x86_64"], { arch: AUDIT_ARCH_X86_64, nr: ioctl, args }));
      expect(runFilter(p, { nr: ioctl, arch: AUDIT_ARCH_X86_64, args }).ret >>> 0, `arg0 ${a0}`).toBe(want);
    }
  });

  it("5,000 rules that need more than 4,096 instructions give SBC2001, not a crash", () => {
    const ir = oneSyscall(5000, (i) => ({ action: { type: "errno", errno: 2 + (i % 3000) }, conditions: [{ arg: 1, op: "==", value: String(i * 7) }] }));
    const out = compileSeccomp(ir, ["x86_64"]);
    expect(out.filter).toBeUndefined();
    expect(out.diagnostics.map((d) => d.code)).toEqual(["SBC2001"]);
  });

  it("5,000 allow rules of one argument value each give SBC2001, not a crash", () => {
    const ir = oneSyscall(5000, (i) => ({ action: { type: "allow" }, conditions: [{ arg: 0, op: "==", value: String(i) }] }));
    const out = compileSeccomp(ir, ["x86_64"]);
    expect(out.filter).toBeUndefined();
    expect(out.diagnostics.map((d) => d.code)).toEqual(["SBC2001"]);
  });
});
