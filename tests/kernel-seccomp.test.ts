// Hand-assembled filters loaded into real processes: pins down what the kernel does with each return action,
// with x32 numbers, with 64-bit arguments and with programs it must refuse, so that the code generator's
// assumptions (and the BPF interpreter's model) rest on observed behaviour. Only harmless syscalls are probed.

import { constants as osConstants } from "node:os";
import { expect } from "vitest";
import { errnoValue, syscallNumber } from "../linux-abi/index.js";
import {
  AUDIT_ARCH_X86_64,
  BPF_A,
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_MAXINSNS,
  BPF_MEM,
  BPF_MOD,
  BPF_OR,
  BPF_RET,
  BPF_W,
  OFFSET_ARCH,
  OFFSET_NR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  X32_SYSCALL_BIT,
  argOffset,
  encode,
  insn,
  type Insn,
} from "../targets/seccomp/bpf.js";
import { describeKernel, itKernel, runProbe, type ProbeResult } from "./support/kernel.js";

function nr(name: string): number {
  const n = syscallNumber("x86_64", name);
  if (n === undefined) throw new Error(`no x86_64 syscall \`${name}\``);
  return n;
}
function errno(name: string): number {
  const n = errnoValue(name);
  if (n === undefined) throw new Error(`no errno \`${name}\``);
  return n;
}

const SIGSYS = osConstants.signals.SIGSYS;
const EINVAL = errno("EINVAL");
const GETPPID = nr("getppid");
const GETPID = nr("getpid");

const ld = (offset: number): Insn => insn(BPF_LD | BPF_W | BPF_ABS, offset);
const jeq = (k: number, jt: number, jf: number): Insn => insn(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
const ret = (k: number): Insn => insn(BPF_RET | BPF_K, k);
const ERRNO = (n: number): number => SECCOMP_RET_ERRNO | n;

/** `ld arch; jeq x86_64 ? next : kill; ld nr` — every filter below starts here, with the number in A. */
const prologue: Insn[] = [ld(OFFSET_ARCH), jeq(AUDIT_ARCH_X86_64, 1, 0), ret(SECCOMP_RET_KILL_PROCESS), ld(OFFSET_NR)];

/** `action` for syscall number `n`, ALLOW for everything else. */
function onlyFor(n: number, action: number): Uint8Array {
  return encode([...prologue, jeq(n, 0, 1), ret(action), ret(SECCOMP_RET_ALLOW)]);
}

const returned = (ret: bigint, errno = 0): ProbeResult => ({ kind: "returned", ret, errno });
const failed = (errno: number): ProbeResult => returned(-1n, errno);
const killed: ProbeResult = { kind: "signal", signal: SIGSYS };
const refused: ProbeResult = { kind: "load-error", errno: EINVAL };

/** A successful getppid/getpid/getuid-style answer: a non-negative value and no errno. */
function expectSuccess(r: ProbeResult | undefined): bigint {
  expect(r?.kind).toBe("returned");
  const { ret, errno } = r as Extract<ProbeResult, { kind: "returned" }>;
  expect(errno).toBe(0);
  expect(ret >= 0n).toBe(true);
  return ret;
}

describeKernel("seccomp filters on the real kernel", () => {
  itKernel("ALLOW runs the syscall: real results and real errors", () => {
    const [ppid, pid, uid, uname, close, dup, socket, personality] = runProbe(encode([ret(SECCOMP_RET_ALLOW)]), [
      { nr: GETPPID },
      { nr: GETPID },
      { nr: nr("getuid") },
      { nr: nr("uname"), args: [0n] },
      { nr: nr("close"), args: [0xffff_ffff_ffff_ffffn] },
      { nr: nr("dup"), args: [0xffff_ffff_ffff_ffffn] },
      { nr: nr("socket"), args: [0xffffn, 0n, 0n] },
      { nr: nr("personality"), args: [0xffff_ffffn] },
    ]);
    expect(expectSuccess(ppid)).toBeGreaterThan(1n);
    // Each call runs in its own child of the probe, so its pid differs from the probe's (its ppid).
    expect(expectSuccess(pid)).not.toBe(expectSuccess(ppid));
    expect(uid).toEqual(returned(BigInt(process.getuid!())));
    expect(uname).toEqual(failed(errno("EFAULT")));
    expect(close).toEqual(failed(errno("EBADF")));
    expect(dup).toEqual(failed(errno("EBADF")));
    expect(socket).toEqual(failed(errno("EAFNOSUPPORT")));
    expectSuccess(personality); // 0xffffffff only queries the persona
  });

  itKernel("ERRNO(n) fails the call with exactly n, capped at 4095; ERRNO(0) fakes success", () => {
    for (const n of [1, 13, 1234, 4095]) {
      const [denied, other] = runProbe(onlyFor(GETPPID, ERRNO(n)), [{ nr: GETPPID }, { nr: GETPID }]);
      expect(denied, `ERRNO(${n})`).toEqual(failed(n));
      expectSuccess(other);
    }
    // The 16-bit data field goes beyond MAX_ERRNO; the kernel clamps it rather than refusing the filter.
    expect(runProbe(onlyFor(GETPPID, ERRNO(4096)), [{ nr: GETPPID }])).toEqual([failed(4095)]);
    expect(runProbe(onlyFor(GETPPID, ERRNO(0xffff)), [{ nr: GETPPID }])).toEqual([failed(4095)]);
    // ERRNO(0) skips the syscall and returns 0: a denied call that looks like a success.
    expect(runProbe(onlyFor(GETPPID, ERRNO(0)), [{ nr: GETPPID }])).toEqual([returned(0n)]);
  });

  itKernel("KILL_PROCESS, KILL_THREAD (single thread) and TRAP end the caller with SIGSYS", () => {
    for (const action of [SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_TRAP | 7]) {
      const [hit, other] = runProbe(onlyFor(GETPPID, action), [{ nr: GETPPID }, { nr: GETPID }]);
      expect(hit, `action 0x${action.toString(16)}`).toEqual(killed);
      expectSuccess(other);
    }
  });

  itKernel("an action value the kernel does not know kills the process", () => {
    // 0x00010000 lies between KILL_THREAD and TRAP and names no action; seccomp treats it as KILL_PROCESS.
    expect(runProbe(onlyFor(GETPPID, 0x0001_0000), [{ nr: GETPPID }])).toEqual([killed]);
  });

  itKernel("TRACE with no tracer attached fails the call with ENOSYS, whatever its data (seccomp(2))", () => {
    for (const data of [0, 5, 0xffff]) {
      const [hit, other] = runProbe(onlyFor(GETPPID, (SECCOMP_RET_TRACE | data) >>> 0), [{ nr: GETPPID }, { nr: GETPID }]);
      expect(hit, `TRACE(${data})`).toEqual(failed(errno("ENOSYS")));
      expectSuccess(other);
    }
  });

  itKernel("-1 (a tracer's skip) reaches the filter as 0xffffffff, so a rule can answer it", () => {
    expect(runProbe(onlyFor(0xffffffff, ERRNO(13)), [{ nr: 0xffffffff }])).toEqual([failed(13)]);
    // Allowed, the kernel itself answers -1 with ENOSYS: there is no call numbered -1.
    expect(runProbe(encode([ret(SECCOMP_RET_ALLOW)]), [{ nr: 0xffffffff }])).toEqual([failed(errno("ENOSYS"))]);
  });

  itKernel("LOG runs the syscall like ALLOW", () => {
    const [ppid, uname] = runProbe(encode([ret(SECCOMP_RET_LOG)]), [{ nr: GETPPID }, { nr: nr("uname"), args: [0n] }]);
    expect(expectSuccess(ppid)).toBeGreaterThan(1n);
    expect(uname).toEqual(failed(errno("EFAULT")));
  });

  itKernel("x32 numbers reach the filter with the x32 bit, under AUDIT_ARCH_X86_64", () => {
    const x32getppid = X32_SYSCALL_BIT | GETPPID;
    // A filter matching only the native number does not see the x32 form: it falls through to ALLOW. That is
    // the bypass a compiler must close with an explicit `nr >= 0x40000000` check.
    const [native, x32] = runProbe(onlyFor(GETPPID, ERRNO(1)), [{ nr: GETPPID }, { nr: x32getppid }]);
    expect(native).toEqual(failed(1));
    // On a kernel without CONFIG_X86_X32_ABI (this VM, and Debian's default) an allowed x32 call is ENOSYS; a
    // kernel with x32 enabled would run getppid.
    expect(x32?.kind).toBe("returned");
    const x32Ret = x32 as Extract<ProbeResult, { kind: "returned" }>;
    if (x32Ret.errno !== 0) expect(x32Ret).toEqual(failed(errno("ENOSYS")));
    else expect(x32Ret.ret).toBeGreaterThan(1n);
    console.info(`x32 getppid (0x${x32getppid.toString(16)}) allowed by the filter: ret=${x32Ret.ret} errno=${x32Ret.errno}`);

    // A filter that names the x32 number gets exactly that number (the arch check passed: arch is x86_64).
    const [x32Denied, nativeAllowed] = runProbe(onlyFor(x32getppid, ERRNO(77)), [{ nr: x32getppid }, { nr: GETPPID }]);
    expect(x32Denied).toEqual(failed(77));
    expectSuccess(nativeAllowed);
    expect(runProbe(onlyFor(x32getppid, SECCOMP_RET_KILL_PROCESS), [{ nr: x32getppid }])).toEqual([killed]);
    // The libseccomp-style guard: any number with the x32 bit set is refused.
    const guard = encode([
      ...prologue,
      insn(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
      ret(ERRNO(99)),
      ret(SECCOMP_RET_ALLOW),
    ]);
    const [g1, g2, g3] = runProbe(guard, [{ nr: x32getppid }, { nr: X32_SYSCALL_BIT | GETPID }, { nr: GETPPID }]);
    expect([g1, g2]).toEqual([failed(99), failed(99)]);
    expectSuccess(g3);
  });

  itKernel("a 64-bit argument is seen as two exact little-endian words", () => {
    // getppid(a0): ERRNO(42) if a0 == 0x1_0000_0005, ERRNO(11) if only the low word matches, ERRNO(10) if not.
    const filter = encode([
      ...prologue,
      jeq(GETPPID, 0, 6),
      ld(argOffset(0, false)),
      jeq(5, 0, 5),
      ld(argOffset(0, true)),
      jeq(1, 0, 1),
      ret(ERRNO(42)),
      ret(ERRNO(11)),
      ret(SECCOMP_RET_ALLOW),
      ret(ERRNO(10)),
    ]);
    const results = runProbe(filter, [
      { nr: GETPPID, args: [0x1_0000_0005n] },
      { nr: GETPPID, args: [0x5n] },
      { nr: GETPPID, args: [0xffff_ffff_0000_0005n] },
      { nr: GETPPID, args: [0x1_0000_0006n] },
      { nr: GETPPID, args: [0x2_0000_0005n] },
      { nr: GETPID, args: [0x1_0000_0005n] },
    ]);
    expect(results.slice(0, 5)).toEqual([failed(42), failed(11), failed(11), failed(10), failed(11)]);
    expectSuccess(results[5]);
  });

  itKernel("each of the 12 argument words is at argOffset(i, hi)", () => {
    // Echo filter: RET A with A = ERRNO | (word & 0xfff), so errno reports the low 12 bits of the loaded word.
    // args[i] = 0xc0de_01aX_5eed_00bX with X = i + 1: every word distinct in its low 12 bits.
    const args = Array.from({ length: 6 }, (_, i) => ((0xc0de_01a1n + BigInt(i)) << 32n) | (0x5eed_00b1n + BigInt(i)));
    for (let i = 0; i < 6; i++) {
      for (const hi of [false, true]) {
        const echo = encode([
          ...prologue,
          jeq(GETPPID, 0, 4),
          ld(argOffset(i, hi)),
          insn(BPF_ALU | BPF_AND | BPF_K, 0xfff),
          insn(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
          insn(BPF_RET | BPF_A),
          ret(SECCOMP_RET_ALLOW),
        ]);
        const expected = hi ? 0x1a0 + i + 1 : 0x0b0 + i + 1;
        expect(runProbe(echo, [{ nr: GETPPID, args }]), `args[${i}].${hi ? "hi" : "lo"}`).toEqual([failed(expected)]);
      }
    }
  });

  itKernel("the probe still answers when the filter denies write and exit too", () => {
    // ERRNO for everything: the child's exit_group fails as well, and the probe must still report the answer.
    expect(runProbe(encode([ret(ERRNO(1))]), [{ nr: GETPPID }, { nr: GETPID }])).toEqual([failed(1), failed(1)]);
    // Only getppid allowed: the child is killed at exit_group after the answer was written.
    const onlyGetppid = encode([ld(OFFSET_NR), jeq(GETPPID, 0, 1), ret(SECCOMP_RET_ALLOW), ret(SECCOMP_RET_KILL_PROCESS)]);
    const [ppid, pid] = runProbe(onlyGetppid, [{ nr: GETPPID }, { nr: GETPID }]);
    expect(expectSuccess(ppid)).toBeGreaterThan(1n);
    expect(pid).toEqual(killed);
    expect(runProbe(encode([ret(SECCOMP_RET_TRAP)]), [{ nr: GETPPID }])).toEqual([killed]);
  });

  itKernel("programs the seccomp checker must refuse get EINVAL", () => {
    const allow = ret(SECCOMP_RET_ALLOW);
    const invalid: Record<string, Insn[]> = {
      "an empty program": [],
      "a conditional jump past the end": [ld(OFFSET_NR), jeq(GETPPID, 5, 0), allow],
      "an unconditional jump past the end": [insn(BPF_JMP | BPF_JA, 2), allow],
      "a byte load": [insn(BPF_LD | BPF_B | BPF_ABS, OFFSET_NR), allow],
      "a misaligned word load": [ld(1), allow],
      "a load beyond seccomp_data": [ld(64), allow],
      "a last instruction that is not RET": [allow, ld(OFFSET_NR)],
      "BPF_MOD": [ld(OFFSET_NR), insn(BPF_ALU | BPF_MOD | BPF_K, 2), allow],
      "a division by constant zero": [ld(OFFSET_NR), insn(BPF_ALU | BPF_DIV | BPF_K, 0), allow],
      "a scratch read before any write": [insn(BPF_LD | BPF_MEM, 0), allow],
    };
    for (const [what, program] of Object.entries(invalid)) {
      expect(runProbe(encode(program), [{ nr: GETPPID }]), what).toEqual([refused]);
    }
  });

  itKernel("BPF_MAXINSNS instructions load, one more does not", () => {
    // n − 4 padding loads, then `ld nr; jeq getppid ? ERRNO(7) : ALLOW`: the full program really runs.
    const program = (n: number): Uint8Array =>
      encode([
        ...Array.from({ length: n - 4 }, () => ld(OFFSET_ARCH)),
        ld(OFFSET_NR),
        jeq(GETPPID, 0, 1),
        ret(ERRNO(7)),
        ret(SECCOMP_RET_ALLOW),
      ]);
    const [denied, other] = runProbe(program(BPF_MAXINSNS), [{ nr: GETPPID }, { nr: GETPID }]);
    expect(denied).toEqual(failed(7));
    expectSuccess(other);
    expect(runProbe(program(BPF_MAXINSNS + 1), [{ nr: GETPPID }])).toEqual([refused]);
  });
});
