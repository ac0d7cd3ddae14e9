// The argument widths: well-known rows of the facts file, the width rules per ABI, and what a condition means.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { argWidthsModule, REPO_ROOT } from "../scripts/generators.js";
import type { ArgCondition } from "../ir/types.js";
import { argBits, argDeclaration, narrowCondition, narrowHolds, splitBefore } from "./arg-widths.js";
import { parseCParam } from "../linux-abi/c-types.js";
import { knownSyscallNames } from "../linux-abi/index.js";
import { compilePolicy } from "../compiler/passes/index.js";

const facts = readFileSync(join(REPO_ROOT, "linux-abi/syscall-signatures.tsv"), "utf8");
const row = (name: string, scope = "*") => facts.split("\n").find((l) => l.startsWith(`${name}\t${scope}\t`))?.split("\t")[2];

describe("the facts file", () => {
  it("holds the kernel's declarations for well-known calls", () => {
    expect(row("ioctl")).toBe("unsigned int fd, unsigned int cmd, unsigned long arg");
    expect(row("clone")).toBe("unsigned long, unsigned long, int __user *, int __user *, unsigned long");
    expect(row("openat")).toBe("int dfd, const char __user *filename, int flags, umode_t mode");
    expect(row("socket")).toBe("int, int, int");
    expect(row("setuid", "i386,arm")).toBe("old_uid_t uid");
  });

  it("gives these widths", () => {
    expect(argBits("x86_64", "ioctl", 1)).toBe(32);
    expect(argBits("x86_64", "ioctl", 2)).toBe(64);
    expect(argBits("x86_64", "clone", 0)).toBe(64);
    expect(argBits("x86_64", "openat", 0)).toBe(32);
    expect(argBits("x86_64", "openat", 3)).toBe(16); // umode_t: __SC_CAST converts to unsigned short
    expect(argBits("x86_64", "socket", 0)).toBe(32);
    expect(argBits("aarch64", "socket", 0)).toBe(32);
    expect(argBits("x86_64", "mmap", 4)).toBe(32); // declared unsigned long fd, handed to fget(unsigned int)
    expect(argBits("x86_64", "readv", 0)).toBe(32); // likewise, to fdget_pos(unsigned int)
    expect(argBits("x86_64", "mmap", 3)).toBe(64);
    expect(argDeclaration("x86_64", "ioctl", 1)).toBe("unsigned int cmd");
  });

  it("covers every syscall name the tables know", () => {
    const listed = new Set(facts.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]));
    expect(knownSyscallNames().filter((n) => !listed.has(n))).toEqual([]);
  });

  it("regenerates to the committed module (npm run gen)", () => {
    expect(readFileSync(join(REPO_ROOT, "linux-abi/arg-widths.generated.ts"), "utf8")).toBe(argWidthsModule(facts));
  });

  it("refuses a type the mapping does not know", () => {
    expect(parseCParam("frob_t x")).toMatch(/unknown C type `frob_t x`|unknown C type/);
    expect(() => argWidthsModule("frob\t*\tfrob_t x\tnowhere\n")).toThrow(/syscall-signatures.tsv:1: unknown C type/);
    expect(() => argWidthsModule("frob\t*\tint x\tnowhere\ty:16 why\n")).toThrow(/no parameter `y`/);
  });
});

describe("unknown calls and arguments", () => {
  it("compare all 64 bits on a 64-bit ABI", () => {
    expect(argBits("x86_64", "no_such_call", 0)).toBe(64);
    expect(argBits("x86_64", "ioctl", 5)).toBe(64); // past the signature: the kernel ignores it
    expect(argBits("x86_64", "afs_syscall", 0)).toBe(64); // sys_ni_syscall
  });
});

describe("32-bit ABIs", () => {
  it("read at most 32 bits of any argument", () => {
    expect(argBits("i386", "ioctl", 2)).toBe(32);
    expect(argBits("arm", "clone", 0)).toBe(32);
    expect(argBits("i386", "no_such_call", 3)).toBe(32);
    expect(argBits("i386", "setuid", 0)).toBe(16); // sys_setuid16
    expect(argBits("x86_64", "setuid", 0)).toBe(32);
  });

  it("know where a 64-bit parameter splits the registers", () => {
    expect(splitBefore("i386", "pread64", 2)).toBeUndefined();
    expect(splitBefore("i386", "pread64", 3)).toBe("loff_t pos");
    expect(splitBefore("arm", "fanotify_mark", 4)).toBe("u64 mask");
    expect(splitBefore("x86_64", "pread64", 3)).toBeUndefined();
    expect(argDeclaration("i386", "fanotify_mark", 3)).toBeUndefined();
  });
});

describe("narrowCondition", () => {
  const c = (op: ArgCondition["op"], value: bigint, mask?: bigint): ArgCondition => ({
    arg: 1,
    op,
    value: `0x${BigInt.asUintN(64, value).toString(16)}`,
    ...(mask !== undefined ? { mask: `0x${BigInt.asUintN(64, mask).toString(16)}` } : {}),
  });

  it("compares the low bits only", () => {
    const n = narrowCondition(c("==", 0x541bn), 32);
    expect(narrowHolds(n, 0x541bn)).toBe(true);
    expect(narrowHolds(n, 0x1_0000_541bn)).toBe(true);
    expect(narrowHolds(n, 0xffff_ffff_0000_541bn)).toBe(true);
    expect(narrowHolds(narrowCondition(c("==", 0x541bn), 64), 0x1_0000_541bn)).toBe(false);
  });

  it("keeps negative values (AT_FDCWD)", () => {
    const n = narrowCondition(c("==", -100n), 32);
    expect(n.highOnly).toBe(false);
    expect(n.value).toBe(0xffffff9cn);
    expect(narrowHolds(n, 0xffffff9cn)).toBe(true);
    expect(narrowHolds(n, BigInt.asUintN(64, -100n))).toBe(true);
    expect(narrowCondition(c("==", -1n), 16).value).toBe(0xffffn);
  });

  it("reduces masks and flags values only high bits could match", () => {
    const m = narrowCondition(c("&==", 0x800n, 0xffff_0000_0000_0e00n), 16);
    expect(m.mask).toBe(0xe00n);
    expect(m.highOnly).toBe(false);
    expect(narrowCondition(c("==", 0x1_0000_541bn), 32).highOnly).toBe(true);
    expect(narrowCondition(c("&==", 0x1_0000_0000n, 0x1_0000_0000n), 32).highOnly).toBe(true);
    expect(narrowCondition(c("<", 0x1_0000_0000n), 32).highOnly).toBe(true);
    expect(narrowCondition(c("&==", 0x1_0000_0000n, 0xffn), 32).highOnly).toBe(false); // never holds, at any width
    expect(narrowHolds(narrowCondition(c("&==", 0x1_0000_0000n, 0xffn), 32), 0n)).toBe(false);
  });

  it("orders unsigned on the low bits", () => {
    const n = narrowCondition(c(">", 5n), 32);
    expect(narrowHolds(n, 6n)).toBe(true);
    expect(narrowHolds(n, 0x1_0000_0000n)).toBe(false);
  });
});

describe("the policy checks read arguments at their width", () => {
  const check = (rule: string) => {
    const text = `sbc: 1\nname: t\nsyscalls:\n  rules:\n${rule}`;
    return compilePolicy({ kind: "text", path: "p.yaml", text }).diagnostics.map((d) => d.code);
  };

  it("SBC0808: `> 0xffffffff` can never hold on an int, and can on an unsigned long", () => {
    expect(check(`    - syscalls: [socket]\n      action: errno\n      args: ["arg0 > 0xffffffff"]\n`)).toEqual(["SBC0808"]);
    expect(check(`    - syscalls: [clone]\n      action: errno\n      args: ["arg0 > 0xffffffff"]\n`)).toEqual([]);
    // One call of the rule for which it can hold is enough.
    expect(check(`    - syscalls: [socket, clone]\n      action: errno\n      args: ["arg0 > 0xffffffff"]\n`)).toEqual([]);
  });

  it("SBC0830 at the condition; a negative int is fine", () => {
    expect(check(`    - syscalls: [openat]\n      action: errno\n      args: ["arg0 == -100", "arg2 == 0x100000000"]\n`)).toEqual(["SBC0830"]);
    expect(check(`    - syscalls: [openat]\n      action: errno\n      args: ["arg0 == -100", "arg2 & O_CREAT == O_CREAT"]\n`)).toEqual([]);
  });
});
