// Conditions on arguments the kernel reads as less than 64 bits: the filter tests only the low word (with an
// AND below 32 bits), says so in the disassembly, and agrees with the evaluator when the high bits are set.

import { describe, expect, it } from "vitest";
import { evaluateSyscall } from "../../ir/evaluator/evaluate.js";
import type { ArgCondition, IR } from "../../ir/types.js";
import { makeIr } from "../../tests/support/ir.js";
import { AUDIT_ARCH_X86_64 } from "./bpf.js";
import { disassemble } from "./disassemble.js";
import { argumentDiagnostics, compileSeccomp } from "./index.js";
import { runFilter } from "./interpreter.js";

const FIONREAD = 0x541bn;
const cond = (arg: number, op: ArgCondition["op"], value: bigint, mask?: bigint): ArgCondition => ({
  arg,
  op,
  value: `0x${BigInt.asUintN(64, value).toString(16)}`,
  ...(mask !== undefined ? { mask: `0x${mask.toString(16)}` } : {}),
});

function compile(ir: IR) {
  const out = compileSeccomp(ir, ["x86_64"]);
  expect(out.filter).toBeDefined();
  const f = out.filter!;
  return { text: disassemble(f.program, { comment: (pc) => f.comments.get(pc) }), run: (nr: number, args: bigint[]) => runFilter(f.program, { arch: AUDIT_ARCH_X86_64, nr, args }).ret >>> 0 };
}

const ioctlDeny = makeIr({ syscallRules: [{ syscalls: ["ioctl"], action: { type: "errno", errno: 1 }, conditions: [cond(1, "==", FIONREAD)], layer: 0 }] });

describe("narrow arguments in the seccomp filter", () => {
  it("tests only the low word of ioctl's `unsigned int cmd`, and says so", () => {
    const { text, run } = compile(ioctlDeny);
    expect(text).toContain("; arg1 (unsigned int cmd) == 0x541b, low 32 bits");
    expect(text).not.toContain("arg1.hi");
    const EPERM = 0x00050001;
    expect(run(16, [3n, FIONREAD])).toBe(EPERM);
    expect(run(16, [3n, 0x1_0000_0000n | FIONREAD])).toBe(EPERM);
    expect(run(16, [3n, 0xffff_ffff_0000_0000n | FIONREAD])).toBe(EPERM);
    expect(run(16, [3n, 0x541cn])).toBe(0x7fff0000);
  });

  it("agrees with the evaluator, which reads cmd the kernel's way", () => {
    expect(evaluateSyscall(ioctlDeny, "ioctl", [3n, 0x1_0000_541bn]).action).toEqual({ type: "errno", errno: 1 });
    expect(evaluateSyscall(ioctlDeny, "ioctl", [3n, 0x1_0000_541cn]).action).toEqual({ type: "allow" });
  });

  it("masks a 16-bit argument with an AND, and keeps a negative int (AT_FDCWD)", () => {
    const ir = makeIr({
      syscallRules: [{ syscalls: ["openat"], action: { type: "kill-process" }, conditions: [cond(0, "==", -100n), cond(3, "==", 0o777n)], layer: 0 }],
    });
    const { text, run } = compile(ir);
    expect(text).toContain("; arg0 (int dfd) == 0xffffff9c, low 32 bits");
    expect(text).toMatch(/and #0xffff\n.*jeq #0x1ff.*arg3 \(umode_t mode\) == 0x1ff, low 16 bits/);
    expect(run(257, [0xffffff9cn, 0n, 0n, 0x1_0000_01ffn])).toBe(0x80000000);
    expect(run(257, [0xffff_ffff_ffff_ff9cn, 0n, 0n, 0o777n])).toBe(0x80000000);
    expect(run(257, [0xffffff9cn, 0n, 0n, 0o776n])).toBe(0x7fff0000);
  });

  it("keeps testing both words of a 64-bit argument (clone flags)", () => {
    const ir = makeIr({ syscallRules: [{ syscalls: ["clone"], action: { type: "kill-process" }, conditions: [cond(0, "&==", 0x10000000n, 0x10000000n)], layer: 0 }] });
    const { run } = compile(ir);
    expect(run(56, [0x1_0000_0000n])).toBe(0x7fff0000);
    expect(run(56, [0x1000_0000n])).toBe(0x80000000);
  });

  it("decides a value only high bits could match without testing anything", () => {
    const ir = makeIr({ syscallRules: [{ syscalls: ["ioctl"], action: { type: "kill-process" }, conditions: [cond(1, "==", 0x1_0000_541bn)], layer: 0 }] });
    const { text, run } = compile(ir);
    expect(text).not.toContain("arg1");
    expect(run(16, [3n, 0x1_0000_541bn])).toBe(0x7fff0000);
    expect(evaluateSyscall(ir, "ioctl", [3n, 0x1_0000_541bn]).action).toEqual({ type: "allow" });
  });
});

describe("32-bit ABIs (by arch name: the tables name i386 and arm)", () => {
  const rule = (syscalls: string[], conditions: ArgCondition[]): IR => makeIr({ syscallRules: [{ syscalls, action: { type: "kill-process" }, conditions, layer: 0 }] });

  it("refuse a condition at or after a 64-bit parameter, which takes two registers there (SBC2015)", () => {
    const ir = rule(["pread64"], [cond(0, "==", 3n), cond(3, "==", 0n)]);
    const ds = argumentDiagnostics(ir, ["i386"]);
    expect(ds.map((d) => [d.code, d.severity, d.message])).toEqual([["SBC2015", "error", "on i386, `pread64` passes `loff_t pos` in two registers, so arg3 is not the argument it is on 64-bit ABIs"]]);
    expect(argumentDiagnostics(ir, ["x86_64", "aarch64"])).toEqual([]);
    expect(argumentDiagnostics(rule(["fanotify_mark"], [cond(4, "==", 0n)]), ["arm"]).map((d) => d.code)).toEqual(["SBC2015"]);
  });

  it("find values too wide for a 32-bit register that fit a 64-bit one (SBC0830)", () => {
    const ir = rule(["mmap"], [cond(1, "==", 1n << 32n)]);
    expect(argumentDiagnostics(ir, ["x86_64"])).toEqual([]);
    const ds = argumentDiagnostics(ir, ["i386"]);
    expect(ds.map((d) => [d.code, d.message])).toEqual([["SBC0830", "the value 0x100000000 has bits above the 32 that the kernel reads of `mmap`'s `unsigned long len` on i386"]]);
  });
});
