// Compiled policies on the real kernel: every compiling fixture and every preset is compiled to a seccomp
// filter for x86_64, loaded into real processes by native/seccomp-probe, and probed with harmless syscalls.
// For each call the reference semantics (targets/seccomp/semantics.ts) says what must happen: an errno
// action must come back as exactly that errno, a kill or trap as SIGSYS, and an allowed call must behave
// exactly as it does under a filter that allows everything.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Action, IR } from "../ir/types.js";
import { syscallNumber } from "../linux-abi/index.js";
import { compilePolicy, presetNames } from "../lib/index.js";
import { encode, insn, BPF_RET, BPF_K, SECCOMP_RET_ALLOW, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from "../targets/seccomp/bpf.js";
import { compileSeccomp } from "../targets/seccomp/index.js";
import { expectedAction } from "../targets/seccomp/semantics.js";
import { describeKernel, itKernel, runProbe, type ProbeCall, type ProbeResult } from "./support/kernel.js";
import { dockerFilter } from "./support/docker.js";
import type { Arch } from "../linux-abi/index.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures");
const nr = (name: string) => syscallNumber("x86_64", name)!;
const AF_UNIX = 1n;
const AF_INET = 2n;
const AF_INET6 = 10n;
const AF_NETLINK = 16n;
const SOCK_STREAM = 1n;
const SOCK_DGRAM = 2n;
const NULL = 0n;
const BAD = 0xffffffffn;

/** Calls that do nothing to the machine when they are allowed (bad pointers, bad fds, bad magic). */
const CALLS: readonly (ProbeCall & { label: string; volatile?: boolean })[] = [
  { label: "getppid", nr: nr("getppid"), volatile: true },
  { label: "getuid", nr: nr("getuid") },
  { label: "uname(NULL)", nr: nr("uname"), args: [NULL] },
  { label: "close(-1)", nr: nr("close"), args: [BAD] },
  { label: "dup(-1)", nr: nr("dup"), args: [BAD] },
  { label: "socket(AF_UNIX)", nr: nr("socket"), args: [AF_UNIX, SOCK_STREAM, 0n] },
  { label: "socket(AF_INET)", nr: nr("socket"), args: [AF_INET, SOCK_STREAM, 0n] },
  { label: "socket(AF_INET6)", nr: nr("socket"), args: [AF_INET6, SOCK_STREAM, 0n] },
  { label: "socket(AF_NETLINK)", nr: nr("socket"), args: [AF_NETLINK, 3n, 0n] },
  { label: "socket(hi word set)", nr: nr("socket"), args: [(1n << 32n) | AF_UNIX, SOCK_STREAM, 0n] },
  { label: "socketpair(NULL)", nr: nr("socketpair"), args: [AF_UNIX, SOCK_STREAM, 0n, NULL] },
  { label: "socketpair(SOCK_DGRAM, NULL)", nr: nr("socketpair"), args: [AF_UNIX, SOCK_DGRAM, 0n, NULL] },
  { label: "socketpair(AF_INET, NULL)", nr: nr("socketpair"), args: [AF_INET, SOCK_STREAM, 0n, NULL] },
  { label: "connect(-1)", nr: nr("connect"), args: [BAD, NULL, 0n] },
  { label: "bind(-1)", nr: nr("bind"), args: [BAD, NULL, 0n] },
  { label: "personality(query)", nr: nr("personality"), args: [BAD] },
  { label: "ptrace(bad request)", nr: nr("ptrace"), args: [BAD, 0n, 0n, 0n] },
  { label: "process_vm_readv(bad pid)", nr: nr("process_vm_readv"), args: [0n, NULL, 0n, NULL, 0n, 0n] },
  { label: "mount(NULL)", nr: nr("mount"), args: [NULL, NULL, NULL, 0n, NULL] },
  { label: "umount2(NULL)", nr: nr("umount2"), args: [NULL, 0n] },
  { label: "reboot(bad magic)", nr: nr("reboot"), args: [0n, 0n, 0n, NULL] },
  { label: "bpf(bad cmd)", nr: nr("bpf"), args: [BAD, NULL, 0n] },
  { label: "io_uring_setup(0, NULL)", nr: nr("io_uring_setup"), args: [0n, NULL] },
  { label: "perf_event_open(NULL)", nr: nr("perf_event_open"), args: [NULL, 0n, BAD, BAD, 0n] },
  { label: "kexec_load(bad)", nr: nr("kexec_load"), args: [0n, BAD, NULL, 0n] },
  { label: "swapon(NULL)", nr: nr("swapon"), args: [NULL, 0n] },
  { label: "init_module(NULL)", nr: nr("init_module"), args: [NULL, 0n, NULL] },
  { label: "clone(bad flags)", nr: nr("unshare"), args: [BAD] },
  { label: "x32 getppid", nr: X32_SYSCALL_BIT | nr("getppid"), volatile: true },
  { label: "unknown number 999", nr: 999 },
  { label: "syscall(-1)", nr: 0xffffffff },
  { label: "number 600 (past every table)", nr: 600 },
  { label: "execve(NULL)", nr: nr("execve"), args: [NULL, NULL, NULL] },
  { label: "execve(NULL, envp -1)", nr: nr("execve"), args: [NULL, NULL, BAD] },
  { label: "personality(PER_LINUX)", nr: nr("personality"), args: [0n] },
  { label: "personality(0x0008)", nr: nr("personality"), args: [8n] },
  { label: "socket(AF_VSOCK)", nr: nr("socket"), args: [40n, SOCK_STREAM, 0n] },
  { label: "socket(AF_ALG)", nr: nr("socket"), args: [38n, 5n, 0n] },
];

/** A pid differs between probe runs: compare what kind of answer it was, and that it was a success. */
function stable(r: ProbeResult, volatile: boolean | undefined): unknown {
  return volatile && r.kind === "returned" ? { kind: r.kind, ok: r.ret >= 0n } : r;
}

function expectMatches(label: string, action: Action, got: ProbeResult, baseline: ProbeResult, volatile?: boolean): void {
  switch (action.type) {
    case "errno":
      expect(got, label).toEqual({ kind: "returned", ret: -1n, errno: action.errno });
      break;
    case "kill-process":
    case "kill-thread":
    case "trap":
      expect(got, label).toEqual({ kind: "signal", signal: 31 });
      break;
    case "allow":
    case "log":
      expect(stable(got, volatile), label).toEqual(stable(baseline, volatile));
      break;
    case "user-notif":
      // No supervisor listens in the probe: the kernel fails the call with ENOSYS.
      expect(got, label).toEqual({ kind: "returned", ret: -1n, errno: 38 });
      break;
    case "trace":
      // No tracer is attached to the probe: seccomp(2) says the call fails with ENOSYS.
      expect(got, label).toEqual({ kind: "returned", ret: -1n, errno: 38 });
      break;
  }
}

function policies(): { name: string; ir: IR; arches?: Arch[] }[] {
  const out: { name: string; ir: IR; arches?: Arch[] }[] = [];
  for (const p of presetNames()) out.push({ name: `preset ${p}`, ir: compilePolicy({ kind: "preset", name: p }).ir! });
  // Docker's default profile, as sbc imports it (fixtures/data/oci): the real-world input.
  const docker = compilePolicy({ kind: "file", path: "moby-seccomp-default.imported.yaml" }, { cwd: join(FIXTURES, "data", "oci") });
  out.push({ name: "Docker's default profile (imported)", ir: docker.ir! });
  // The per-arch golden's x86_64 input (Docker's default capabilities), alone and as one filter with x32 and i386.
  const withCaps = dockerFilter("x86_64").ir;
  out.push({ name: "Docker's default profile with Docker's default capabilities", ir: withCaps });
  out.push({ name: "Docker's default profile with Docker's default capabilities, for x86_64+x32+i386", ir: withCaps, arches: ["x86_64", "x32", "i386"] });
  for (const c of readdirSync(FIXTURES).filter((d) => d.startsWith("ok-")).sort()) {
    const r = compilePolicy({ kind: "file", path: "policy.yaml" }, { cwd: join(FIXTURES, c) });
    if (r.ir) out.push({ name: c, ir: r.ir });
  }
  return out;
}

describeKernel("compiled policies on the kernel (x86_64)", () => {
  const allowAll = encode([insn(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)]);
  let baseline: ProbeResult[] | undefined;
  const base = () => (baseline ??= runProbe(allowAll, CALLS));

  itKernel("the baseline calls are harmless and deterministic", () => {
    const again = runProbe(allowAll, CALLS);
    CALLS.forEach((c, i) => expect(stable(again[i]!, c.volatile), c.label).toEqual(stable(base()[i]!, c.volatile)));
    // Nothing dangerous was allowed to happen: every privileged call failed on its bad arguments.
    for (const [i, c] of CALLS.entries()) {
      if (!/mount|reboot|kexec|swapon|init_module/.test(c.label)) continue;
      const r = base()[i]!;
      expect(r.kind === "returned" && r.ret === -1n, c.label).toBe(true);
    }
  });

  for (const { name, ir, arches = ["x86_64"] as Arch[] } of policies()) {
    itKernel(name, () => {
      const out = compileSeccomp(ir, arches);
      expect(out.filter, out.diagnostics.map((d) => d.message).join("; ")).toBeDefined();
      const results = runProbe(encode(out.filter!.program), CALLS);
      CALLS.forEach((call, i) => {
        const want = expectedAction(ir, arches, { arch: AUDIT_ARCH_X86_64, nr: call.nr, args: call.args ?? [] });
        expectMatches(`${name}: ${call.label} should be ${JSON.stringify(want)}`, want, results[i]!, base()[i]!, call.volatile);
      });
    });
  }
});
