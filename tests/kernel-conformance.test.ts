// Peer conformance on the real kernel: every compiling fixture filter of fixtures/conformance/ with x86_64 or x32
// vectors (of arches it serves, or names as foreign) is loaded into real processes by native/seccomp-probe, and
// those vectors that are safe to issue are issued: multi-arch filters such as [i386, x86_64, x32, …] included. Each answer must be what the filter's return value means (as the BPF interpreter computes it),
// and, except on the vector lines a known-failure fixture names, what upstream expects.
//
// Which vectors are safe is decided by `safe` below, from the syscall and its arguments alone, so the choice
// is deterministic: numbers that are no x86_64 syscall (ENOSYS), and calls that, even when allowed, only fail
// on a bad fd, a bad pointer or a bad length, or change nothing outside the probe's short-lived child.

import { describe, expect, it } from "vitest";
import type { IR } from "../ir/types.js";
import { compilePolicy } from "../lib/index.js";
import { syscallNumber, X32_SYSCALL_BIT, type Arch } from "../linux-abi/index.js";
import { actionOf, prepareFilter } from "../targets/seccomp/interpreter.js";
import { AUDIT_ARCH_X86_64, BPF_K, BPF_RET, encode, insn, SECCOMP_RET_ALLOW } from "../targets/seccomp/bpf.js";
import { syscallName } from "../targets/seccomp/semantics.js";
import { compileLikeCli, loadSuites, type Vector } from "./support/conformance.js";
import { describeKernel, itKernel, runProbe, type ProbeCall, type ProbeResult } from "./support/kernel.js";

const PAGE = 4096n;
const anyArgs = () => true;
/** x86_64 calls the probe may issue, with the arguments under which they are harmless. */
const SAFE: Record<string, (a: readonly bigint[]) => boolean> = {
  // fd 0 is the probe's request pipe (a read would eat requests), 1 and 2 carry its answers.
  read: (a) => a[0]! >= 3n,
  write: (a) => a[0]! >= 3n,
  close: anyArgs, // the child's own fd table, gone when it exits
  exit: anyArgs, // the probe reports the child's exit status
  brk: anyArgs, // returns the child's break, which ASLR moves (see VOLATILE)
  fstat: anyArgs,
  fstatfs: anyArgs,
  lseek: anyArgs,
  pread64: (a) => a[0]! >= 3n,
  pwrite64: (a) => a[0]! >= 3n,
  dup: anyArgs,
  fcntl: (a) => a[1] === 1n, // F_GETFD
  chdir: (a) => a[0]! < PAGE, // a pointer into page 0: EFAULT
  stat: (a) => a[0]! < PAGE,
  lstat: (a) => a[0]! < PAGE,
  access: (a) => a[0]! < PAGE,
  socket: (a) => a[0] === 0n, // AF_UNSPEC: EAFNOSUPPORT
  connect: (a) => a[0] === 0n, // fd 0 is a pipe: ENOTSOCK
  accept4: (a) => a[0] === 0n,
  shutdown: (a) => a[0] === 0n,
  mmap: (a) => a[1] === 0n, // length 0: EINVAL
  mprotect: (a) => a[1] === 0n,
  munmap: (a) => a[1] === 0n,
  sched_yield: anyArgs,
};
/**
 * Calls that, with every argument 0 (a NULL pointer, the caller itself), only read something or fail with
 * EFAULT: the 0..350 sweeps of libseccomp's tests reach them with all arguments unset.
 */
const QUERIES_WITH_ZERO_ARGS = [
  "getpid", "getppid", "gettid", "getpgrp", "getsid", "getpgid", "time", "times", "getuid", "geteuid", "getgid",
  "getegid", "getpriority", "umask", "alarm", "gettimeofday", "getgroups", "uname", "sysinfo", "getrlimit",
  "getrusage", "getresuid", "getresgid", "capget", "clock_gettime", "sched_getparam", "sched_getscheduler", "getcpu",
];
for (const name of QUERIES_WITH_ZERO_ARGS) SAFE[name] ??= (a) => a.every((x) => x === 0n);
/** Calls whose success value differs between runs (an address, a pid, a time): compared by sign only. */
const VOLATILE_NAMES = ["brk", "getpid", "getppid", "gettid", "getpgrp", "getsid", "getpgid", "time", "times"];
const VOLATILE = new Set([
  ...VOLATILE_NAMES.map((n) => syscallNumber("x86_64", n)!),
  ...VOLATILE_NAMES.flatMap((n) => {
    const nr = syscallNumber("x32", n);
    return nr === undefined ? [] : [(nr | X32_SYSCALL_BIT) >>> 0];
  }),
]);

/**
 * Whether the probe may issue this event, and as which call: x86_64 events as they are; x32 events (named ones)
 * as the x32 number, table value | 0x40000000, which a 64-bit process issues with the same `syscall`
 * instruction and the filter sees under AUDIT_ARCH_X86_64. The x32 call is chosen safe by its x32 name, so it is
 * harmless whether or not the kernel runs x32 calls (without CONFIG_X86_X32_ABI an allowed one fails with
 * ENOSYS, as the baseline shows). i386 events cannot be issued here: see docs/conformance.md.
 */
function safe(v: Vector): ProbeCall | undefined {
  if (v.arch === "x32") {
    if (typeof v.syscall === "number") return undefined;
    const nr = syscallNumber("x32", v.syscall);
    if (nr === undefined || !SAFE[v.syscall]?.(v.args)) return undefined;
    return { nr: (nr | X32_SYSCALL_BIT) >>> 0, args: v.args };
  }
  if (v.arch !== "x86_64") return undefined;
  const nr = typeof v.syscall === "number" ? v.syscall : syscallNumber("x86_64", v.syscall);
  if (nr === undefined) return undefined;
  const name = syscallName("x86_64", nr);
  if (name === undefined) {
    // No syscall: the kernel answers ENOSYS. Below 512 a number may be a call newer than sbc's table.
    return (nr >= 512 && nr < 0x4000_0000) || nr === 0xffff_ffff ? { nr, args: v.args } : undefined;
  }
  return SAFE[name]?.(v.args) ? { nr, args: v.args } : undefined;
}

/** What the probe must see for a filter return value, given what the call does unfiltered. */
function expected(ret: number, baseline: ProbeResult): unknown {
  const { action, data } = actionOf(ret);
  switch (action) {
    case "errno":
      // ERRNO(0) makes the call return 0 without running it.
      return data === 0 ? { kind: "returned", ret: 0n, errno: expect.any(Number) } : { kind: "returned", ret: -1n, errno: data };
    case "kill-process":
    case "kill-thread":
    case "trap":
      return { kind: "signal", signal: 31 };
    case "user-notif":
    case "trace":
      // No supervisor listens and no tracer is attached: the kernel fails the call with ENOSYS.
      return { kind: "returned", ret: -1n, errno: 38 };
    case "allow":
    case "log":
      return baseline;
  }
}

/** A volatile call's answer: what kind of answer it was and its sign. */
function stable(r: unknown, nr: number): unknown {
  const p = r as ProbeResult;
  return VOLATILE.has(nr) && p.kind === "returned" ? { kind: p.kind, ok: p.ret >= 0n } : r;
}

interface KernelCase {
  readonly name: string;
  readonly ir: IR;
  readonly arches: readonly Arch[];
  readonly vectors: readonly { v: Vector; call: ProbeCall }[];
  readonly knownFailing: ReadonlySet<number>;
}

function kernelCases(): KernelCase[] {
  const out: KernelCase[] = [];
  for (const suite of loadSuites()) {
    for (const f of suite.fixtures) {
      if (f.status.kind === "pending" || f.status.kind === "refused") continue;
      const r = compilePolicy({ kind: "file", path: "policy.yaml" }, { cwd: f.dir });
      if (!r.ir) continue; // tests/conformance.test.ts reports it
      for (const spec of f.filters) {
        // Any filter runs on this x86_64 kernel; the vectors it can be shown are those of the x86_64 and x32
        // arches it serves or names as foreign (a [x86_64, i386] filter must kill an x32 call).
        if (spec.pending) continue;
        const vectors = f.vectors.flatMap((v) => {
          if (!spec.arches.includes(v.arch) && !spec.foreign.includes(v.arch)) return [];
          const call = safe(v);
          return call ? [{ v, call }] : [];
        });
        if (!vectors.length) continue;
        out.push({
          name: `${suite.name}/${f.name} [${spec.arches}]`,
          ir: r.ir,
          arches: spec.arches as Arch[],
          vectors,
          knownFailing: new Set(f.status.kind === "known-failure" ? f.status.lines : []),
        });
      }
    }
  }
  return out;
}

const cases = kernelCases();
const allowAll = encode([insn(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)]);

describe("conformance vectors for the kernel", () => {
  it("some fixtures have safe x86_64 vectors, and some safe x32 ones", () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(cases.some((c) => c.vectors.some(({ v }) => v.arch === "x32"))).toBe(true);
  });
});

describeKernel("conformance fixtures on the kernel (x86_64 and x32 events)", () => {
  let issued = 0;
  let issuedX32 = 0;
  for (const c of cases) {
    itKernel(c.name, async () => {
      const out = await compileLikeCli(c.ir, c.arches);
      expect(out.bytes, out.diagnostics.map((d) => d.message).join("; ")).toBeDefined();
      const calls = c.vectors.map((x) => x.call);
      const baseline = runProbe(allowAll, calls);
      const got = runProbe(out.bytes!, calls);
      const run = prepareFilter(out.program!);
      c.vectors.forEach(({ v, call }, i) => {
        const label = `vectors.tsv:${v.line} ${v.syscall}(${(call.args ?? []).map((a) => "0x" + a.toString(16)).join(",")})`;
        const filterRet = run({ arch: AUDIT_ARCH_X86_64, nr: call.nr, args: call.args ?? [] }).ret >>> 0;
        // The kernel does what the program says...
        expect(stable(got[i], call.nr), `${label}: the kernel, against the interpreter`).toEqual(stable(expected(filterRet, baseline[i]!), call.nr));
        // ...and that is what upstream expects, but where a known failure says otherwise.
        if (!c.knownFailing.has(v.line)) expect(stable(got[i], call.nr), `${label}: the kernel, against upstream's ${v.expect}`).toEqual(stable(expected(v.ret, baseline[i]!), call.nr));
      });
      issued += calls.length;
      issuedX32 += c.vectors.filter(({ v }) => v.arch === "x32").length;
    });
  }
  itKernel("summary", () => {
    console.log(`conformance on the kernel: ${cases.length} filters, ${issued} vectors issued (${issued - issuedX32} x86_64, ${issuedX32} x32)`);
    expect(issued).toBeGreaterThan(0);
  });
});
