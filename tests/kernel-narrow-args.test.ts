// The kernel reads ioctl's `unsigned int cmd` as 32 bits: ioctl(fd, 0x10000541B) runs FIONREAD. A compiled
// filter that denies `arg1 == FIONREAD` must refuse that call too; the filter sbc emitted before it knew the
// widths (both words compared) let it through. Probed on fd 0 of the probe's child, a pipe: FIONREAD with a NULL
// pointer fails with EFAULT (the count cannot be stored), an unknown request with ENOTTY.

import { expect } from "vitest";
import type { ArgCondition, IR } from "../ir/types.js";
import { constantValue, errnoValue, syscallNumber } from "../linux-abi/index.js";
import { evaluateSyscall } from "../ir/evaluator/evaluate.js";
import { argOffset, AUDIT_ARCH_X86_64, BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, encode, insn, OFFSET_ARCH, OFFSET_NR, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS } from "../targets/seccomp/bpf.js";
import { compileSeccomp } from "../targets/seccomp/index.js";
import { describeKernel, itKernel, runProbe, type ProbeResult } from "./support/kernel.js";
import { makeIr } from "./support/ir.js";

const IOCTL = syscallNumber("x86_64", "ioctl")!;
const FIONREAD = constantValue("FIONREAD")!;
const TIOCSTI = constantValue("TIOCSTI")!;
const HIGH = 1n << 32n;
const EACCES = errnoValue("EACCES")!;
const EFAULT = errnoValue("EFAULT")!;
const ENOTTY = errnoValue("ENOTTY")!;

const eq = (arg: number, v: bigint): ArgCondition => ({ arg, op: "==", value: `0x${v.toString(16)}` });
const failed = (errno: number): ProbeResult => ({ kind: "returned", ret: -1n, errno });
const killed: ProbeResult = { kind: "signal", signal: 31 };

function filterFor(ir: IR): Uint8Array {
  const out = compileSeccomp(ir, ["x86_64"]);
  expect(out.filter, out.diagnostics.map((d) => d.message).join("; ")).toBeDefined();
  return encode(out.filter!.program);
}

/** What sbc emitted for `arg1 == FIONREAD` before: the high word tested against 0, then the low word. */
function sixtyFourBitFilter(action: number): Uint8Array {
  const ld = (k: number) => insn(BPF_LD | BPF_W | BPF_ABS, k);
  const jeq = (k: number, jt: number, jf: number) => insn(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
  const ret = (k: number) => insn(BPF_RET | BPF_K, k);
  return encode([
    ld(OFFSET_ARCH),
    jeq(AUDIT_ARCH_X86_64, 1, 0),
    ret(SECCOMP_RET_KILL_PROCESS),
    ld(OFFSET_NR),
    jeq(IOCTL, 0, 5),
    ld(argOffset(1, true)),
    jeq(0, 0, 3),
    ld(argOffset(1, false)),
    jeq(Number(FIONREAD), 0, 1),
    ret(action),
    ret(SECCOMP_RET_ALLOW),
  ]);
}

const call = (cmd: bigint) => ({ nr: IOCTL, args: [0n, cmd, 0n] });

describeKernel("arguments as the kernel reads them (x86_64)", () => {
  itKernel("the kernel runs FIONREAD for cmd 0x10000541B", () => {
    const all = encode([insn(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)]);
    expect(runProbe(all, [call(FIONREAD), call(HIGH | FIONREAD), call(0x54ffn)])).toEqual([failed(EFAULT), failed(EFAULT), failed(ENOTTY)]);
  });

  itKernel("a filter denying arg1 == FIONREAD (errno) refuses it with the high bits set; the 64-bit comparison did not", () => {
    const ir = makeIr({ syscallRules: [{ syscalls: ["ioctl"], action: { type: "errno", errno: EACCES }, conditions: [eq(1, FIONREAD)], layer: 0 }] });
    const calls = [call(FIONREAD), call(HIGH | FIONREAD), call(0xffff_ffff_0000_0000n | FIONREAD), call(0x54ffn)];
    expect(runProbe(filterFor(ir), calls)).toEqual([failed(EACCES), failed(EACCES), failed(EACCES), failed(ENOTTY)]);
    expect(calls.map((c) => evaluateSyscall(ir, "ioctl", c.args).action.type)).toEqual(["errno", "errno", "errno", "allow"]);
    expect(runProbe(sixtyFourBitFilter(SECCOMP_RET_ERRNO | EACCES), calls)).toEqual([failed(EACCES), failed(EFAULT), failed(EFAULT), failed(ENOTTY)]);
  });

  itKernel("the docs' TIOCSTI kill-process rule holds with the high bits set", () => {
    const ir = makeIr({ syscallRules: [{ syscalls: ["ioctl"], action: { type: "kill-process" }, conditions: [eq(1, TIOCSTI)], layer: 0 }] });
    expect(runProbe(filterFor(ir), [call(TIOCSTI), call(HIGH | TIOCSTI), call(0x54ffn)])).toEqual([killed, killed, failed(ENOTTY)]);
  });
});
