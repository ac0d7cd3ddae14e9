// The seccomp target on every supported arch: the ABI quirks that docs/targets/seccomp.md decides (x32's
// bit, the socketcall/ipc multiplexers, arm's private calls, big-endian s390x), each shown on the compiled
// filter through the interpreter and on the reference semantics, plus Docker's profile with no 32-bit bypass.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importOciSeccomp } from "../../compiler/importers/oci-seccomp.js";
import type { Action, IR } from "../../ir/types.js";
import { ARCHES, ARCH_INFO, syscallNumber, X32_SYSCALL_BIT, type Arch } from "../../linux-abi/index.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { DOCKER_DEFAULT_CAPS } from "../../tests/support/docker.js";
import { makeIr } from "../../tests/support/ir.js";
import { actionValue } from "./actions.js";
import { decode, encode, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS } from "./bpf.js";
import { disassemble } from "./disassemble.js";
import { compileSeccomp } from "./index.js";
import { runFilter } from "./interpreter.js";
import { subCall } from "./multiplexers.js";
import { AUDIT_ARCH, expectedAction } from "./semantics.js";

const EPERM: Action = { type: "errno", errno: 1 };
/** `network: on`: the network section then implies no socket rules of its own. */
const NET_ON = { unix: "allow" as const, netRules: [{ effect: "allow" as const, ops: ["bind" as const, "connect" as const], protocols: ["tcp" as const, "udp" as const], hosts: "any" as const, ports: [[0, 65535] as [number, number]], layer: 0 }] };
const ALLOW: Action = { type: "allow" };

function filterOf(ir: IR, arches: readonly Arch[]) {
  const out = compileSeccomp(ir, arches);
  expect(out.filter, out.diagnostics.map((d) => d.message).join("; ")).toBeDefined();
  return { ...out, filter: out.filter! };
}

/** What the filter answers, checked against the reference semantics on the way. */
function run(ir: IR, arches: readonly Arch[], arch: Arch | number, nr: number, args: bigint[] = []): number {
  const f = filterOf(ir, arches).filter;
  const archValue = typeof arch === "number" ? arch : AUDIT_ARCH[arch];
  const got = runFilter(f.program, { arch: archValue, nr, args, byteOrder: f.endianness }).ret >>> 0;
  expect(got, `nr ${nr.toString(16)}`).toBe(actionValue(expectedAction(ir, arches, { arch: archValue, nr, args })));
  return got;
}
const nrOf = (arch: Arch, name: string) => syscallNumber(arch, name)! + ARCH_INFO[arch].nrBase;

describe("the calls Linux added since 6.1 can be named", () => {
  it("fchmodat2, mseal, listns, cachestat, rseq_slice_yield and x86_64's uretprobe compile and are filtered by number", () => {
    const names = ["fchmodat2", "mseal", "listns", "cachestat", "rseq_slice_yield", "uretprobe"];
    const text = `sbc: 1\nname: new-calls\nsyscalls:\n  default: allow\n  rules:\n    - syscalls: [${names.join(", ")}]\n      action: { errno: ENOSYS }\n`;
    const c = compilePolicy({ kind: "text", path: "new-calls.yaml", text });
    expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    const ENOSYS: Action = { type: "errno", errno: 38 };
    for (const n of names) expect(run(c.ir!, ["x86_64"], "x86_64", nrOf("x86_64", n)), n).toBe(actionValue(ENOSYS));
    expect(run(c.ir!, ["aarch64"], "aarch64", nrOf("aarch64", "listns"))).toBe(actionValue(ENOSYS));
  });
});

describe("every arch compiles", () => {
  const ir = makeIr({ defaultAction: EPERM, syscallRules: [{ syscalls: ["read", "write", "exit_group"], action: ALLOW, conditions: [], layer: 0 }] });
  it.each(ARCHES)("%s: its own calls by its own numbers, under its AUDIT_ARCH", (arch) => {
    expect(run(ir, [arch], arch, nrOf(arch, "read"))).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, [arch], arch, nrOf(arch, "getpid"))).toBe(actionValue(EPERM));
    // The same number under a foreign arch value is killed.
    const other = arch === "aarch64" ? "x86_64" : "aarch64";
    expect(run(ir, [arch], other, nrOf(arch, "read"))).toBe(SECCOMP_RET_KILL_PROCESS);
  });
});

describe("x32", () => {
  const ir = makeIr({ defaultAction: ALLOW, syscallRules: [{ syscalls: ["ptrace"], action: EPERM, conditions: [], layer: 0 }] });
  it("with x32 in the filter, numbers with bit 30 set are x32 calls: table value | 0x40000000", () => {
    expect(run(ir, ["x86_64", "x32"], "x32", X32_SYSCALL_BIT | 521)).toBe(actionValue(EPERM)); // x32 ptrace is 521
    expect(run(ir, ["x86_64", "x32"], "x32", X32_SYSCALL_BIT | 101)).toBe(SECCOMP_RET_ALLOW); // 101 is x86_64's ptrace, not x32's
    expect(run(ir, ["x86_64", "x32"], "x86_64", 101)).toBe(actionValue(EPERM));
  });
  it("without x32, its numbers get the foreign action; x32 alone makes x86_64 numbers foreign", () => {
    expect(run(ir, ["x86_64"], "x86_64", X32_SYSCALL_BIT | 39)).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(run(ir, ["x32"], "x86_64", 39)).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(run(ir, ["x32"], "x32", X32_SYSCALL_BIT | 39)).toBe(SECCOMP_RET_ALLOW);
  });
  it("-1 keeps the default action whichever of the two ABIs the filter serves", () => {
    for (const arches of [["x86_64"], ["x32"], ["x86_64", "x32"]] as Arch[][]) {
      expect(run(makeIr({ defaultAction: EPERM }), arches, "x86_64", 0xffffffff)).toBe(actionValue(EPERM));
    }
  });
  it("one arch test serves both, and the disassembly names x32 calls", () => {
    const text = disassemble(filterOf(ir, ["x86_64", "x32"]).filter.program, { comment: (pc) => filterOf(ir, ["x86_64", "x32"]).filter.comments.get(pc) });
    expect(text.match(/jeq #0xc000003e/g)?.length).toBe(1);
    expect(text).toMatch(/arch == x86_64\+x32/);
    expect(text).toMatch(/\(ptrace\)/);
  });
});

describe("socketcall and ipc (i386, ppc64le, s390x)", () => {
  it("reads the sub-call as the kernel does: socketcall's int, ipc's low 16 bits", () => {
    expect(subCall("socketcall", 1n)).toEqual({ nr: 1, name: "socket" });
    expect(subCall("socketcall", 20n)).toEqual({ nr: 20, name: "sendmmsg" });
    expect(subCall("socketcall", 0x1_0000_0001n)).toEqual({ nr: 1, name: "socket" });
    expect(subCall("socketcall", 0n)).toBeUndefined();
    expect(subCall("socketcall", 21n)).toBeUndefined();
    expect(subCall("ipc", 0x10015n)).toEqual({ nr: 21, name: "shmat" }); // version 1 in the high half
    expect(subCall("ipc", 23n)).toEqual({ nr: 23, name: "shmget" });
    expect(subCall("ipc", 5n)).toBeUndefined();
  });

  const denyConnect = makeIr({ defaultAction: ALLOW, ...NET_ON, syscallRules: [{ syscalls: ["connect"], action: EPERM, conditions: [], layer: 0 }] });
  it.each(["i386", "ppc64le", "s390x"] as Arch[])("%s: an argument-free verdict on the direct call holds through the multiplexer", (arch) => {
    const sc = nrOf(arch, "socketcall");
    expect(run(denyConnect, [arch], arch, sc, [3n])).toBe(actionValue(EPERM)); // SYS_CONNECT
    expect(run(denyConnect, [arch], arch, sc, [0x1_0000_0003n])).toBe(actionValue(EPERM)); // high bits ignored, as by the kernel
    expect(run(denyConnect, [arch], arch, sc, [1n])).toBe(SECCOMP_RET_ALLOW);
    expect(run(denyConnect, [arch], arch, nrOf(arch, "connect"))).toBe(actionValue(EPERM));
  });

  it("a verdict that tests arguments gives its strictest action through the multiplexer, with SBC2010 naming the rule and the arch", () => {
    const ir = makeIr({
      defaultAction: EPERM,
      ...NET_ON,
      syscallRules: [
        { syscalls: ["socket"], action: ALLOW, conditions: [{ arg: 0, op: "!=", value: "0x28" }], layer: 0 },
        { syscalls: ["socketcall", "ipc", "shmget"], action: ALLOW, conditions: [], layer: 0 },
        { syscalls: ["shmat"], action: { type: "kill-process" }, conditions: [{ arg: 2, op: "==", value: "0x1" }], layer: 0 },
      ],
    });
    const sc = nrOf("i386", "socketcall");
    expect(run(ir, ["i386"], "i386", sc, [1n, 0n])).toBe(actionValue(EPERM)); // the default: socket's strictest
    expect(run(ir, ["i386"], "i386", nrOf("i386", "socket"), [2n])).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, ["i386"], "i386", nrOf("i386", "socket"), [0x28n])).toBe(actionValue(EPERM));
    const ipc = nrOf("i386", "ipc");
    expect(run(ir, ["i386"], "i386", ipc, [23n])).toBe(SECCOMP_RET_ALLOW); // shmget: unconditional
    expect(run(ir, ["i386"], "i386", ipc, [0x10017n])).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, ["i386"], "i386", ipc, [21n])).toBe(SECCOMP_RET_KILL_PROCESS); // shmat: its strictest
    expect(run(ir, ["i386"], "i386", ipc, [99n])).toBe(SECCOMP_RET_ALLOW); // no sub-call: ipc's own rule
    const d = compileSeccomp(ir, ["x86_64", "i386"]).diagnostics.filter((x) => x.code === "SBC2010");
    expect(d.map((x) => x.message)).toEqual([
      "on `i386`, `socketcall(SYS_SOCKET)` gets errno(EPERM) whatever its arguments: the rule on `socket` tests arguments that `socketcall` passes behind a pointer",
      "on `i386`, `ipc(SHMAT)` gets kill-process whatever its arguments: the rule on `shmat` tests arguments that `ipc` passes behind a pointer",
    ]);
    expect(compileSeccomp(ir, ["x86_64", "aarch64"]).diagnostics.filter((x) => x.code === "SBC2010")).toEqual([]);
  });

  it("rules on the multiplexer itself combine with the sub-call's verdict: the stricter wins", () => {
    const ir = makeIr({
      defaultAction: ALLOW,
      unix: "allow",
      syscallRules: [{ syscalls: ["socketcall"], action: { type: "errno", errno: 13 }, conditions: [{ arg: 0, op: "==", value: "0x3" }], layer: 0 }],
    });
    const sc = nrOf("i386", "socketcall");
    expect(run(ir, ["i386"], "i386", sc, [3n])).toBe(actionValue({ type: "errno", errno: 13 }));
    expect(run(ir, ["i386"], "i386", sc, [2n])).toBe(SECCOMP_RET_ALLOW);
  });
});

describe("arm's private calls", () => {
  it("are named as in the kernel's table (0xf0000 + n) and filtered like any call", () => {
    const ir = makeIr({ defaultAction: EPERM, syscallRules: [{ syscalls: ["set_tls", "cacheflush"], action: ALLOW, conditions: [], layer: 0 }] });
    expect(run(ir, ["arm"], "arm", 0xf0005)).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, ["arm"], "arm", 0xf0002)).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, ["arm"], "arm", 0xf0001)).toBe(actionValue(EPERM)); // breakpoint
    expect(run(ir, ["arm"], "arm", 0xf07ff)).toBe(actionValue(EPERM));
  });
});

describe("s390x: big-endian", () => {
  const ir = makeIr({ defaultAction: ALLOW, syscallRules: [{ syscalls: ["ioctl"], action: EPERM, conditions: [{ arg: 2, op: "==", value: "0x100000002" }], layer: 0 }] });
  it("compares an argument's high word at the lower offset", () => {
    // ioctl's third argument is an unsigned long, read on 64 bits (arg-widths.ts)
    const nr = nrOf("s390x", "ioctl");
    expect(run(ir, ["s390x"], "s390x", nr, [0n, 0n, 0x1_0000_0002n])).toBe(actionValue(EPERM));
    expect(run(ir, ["s390x"], "s390x", nr, [0n, 0n, 0x2_0000_0001n])).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, ["s390x"], "s390x", nr, [0n, 0n, 2n])).toBe(SECCOMP_RET_ALLOW);
    const f = filterOf(ir, ["s390x"]).filter;
    const text = disassemble(f.program, { endianness: "big" });
    expect(text).toMatch(/ld \[32\] {2}; arg2\.hi/);
    expect(text).toMatch(/ld \[36\] {2}; arg2\.lo/);
  });
  it("writes the filter's bytes big-endian", () => {
    const f = filterOf(ir, ["s390x"]).filter;
    expect(f.endianness).toBe("big");
    const bytes = encode(f.program, "big");
    expect([bytes[0], bytes[1]]).toEqual([0x00, 0x20]); // ld [4]: code 0x0020, high byte first
    expect(decode(bytes, "big")).toEqual(f.program.map((i) => ({ ...i, k: i.k >>> 0 })));
  });
  it("refuses to mix byte orders in one filter (SBC2011)", () => {
    const out = compileSeccomp(ir, ["x86_64", "s390x"]);
    expect(out.filter).toBeUndefined();
    expect(out.diagnostics.map((d) => d.code)).toEqual(["SBC2011"]);
    expect(out.diagnostics[0]!.severity).toBe("error");
  });
});

describe("Docker's default profile on x86_64, x32 and i386 together", () => {
  const json = readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "data", "oci", "moby-seccomp-default.json"), "utf8");
  const imported = importOciSeccomp(json, { path: "moby-seccomp-default.json", caps: [...DOCKER_DEFAULT_CAPS] });
  const ir = compilePolicy({ kind: "text", path: "docker.yaml", text: imported.yaml! }).ir!;
  const arches: Arch[] = ["x86_64", "x32", "i386"];
  it("has no 32-bit or x32 way around the socket(AF_ALG / AF_VSOCK) denial", () => {
    for (const domain of [38n, 40n]) {
      expect(run(ir, arches, "x86_64", nrOf("x86_64", "socket"), [domain])).toBe(actionValue(EPERM));
      expect(run(ir, arches, "x32", nrOf("x32", "socket"), [domain])).toBe(actionValue(EPERM));
      expect(run(ir, arches, "i386", nrOf("i386", "socket"), [domain])).toBe(actionValue(EPERM));
      expect(run(ir, arches, "i386", nrOf("i386", "socketcall"), [1n, 0n])).toBe(actionValue(EPERM));
    }
    expect(run(ir, arches, "i386", nrOf("i386", "socket"), [2n])).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, arches, "x32", nrOf("x32", "socket"), [2n])).toBe(SECCOMP_RET_ALLOW);
    expect(run(ir, arches, "i386", nrOf("i386", "socketcall"), [3n])).toBe(SECCOMP_RET_ALLOW); // connect
    expect(compileSeccomp(ir, arches).diagnostics.map((d) => d.code)).toEqual(["SBC2010"]);
  });
});
