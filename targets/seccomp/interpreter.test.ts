// The interpreter against hand-computed results for every ALU and jump op, against an independent BigInt
// model on random straight-line programs, and against the facts measured on real peer filters
// (shared/reference/seccomp-generators.md, copied to fixtures/data/peer-filters/).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_DIV,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MISC,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
  BPF_XOR,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
  X32_SYSCALL_BIT,
  decode,
  insn,
  type Insn,
} from "./bpf.js";
import { actionOf, combineStack, prepareFilter, runFilter, runStack, seccompDataBytes } from "./interpreter.js";
import { ACTION_STRICTNESS } from "../../ir/evaluator/evaluate.js";
import type { Action } from "../../ir/types.js";
import { actionValue } from "./actions.js";

// ---- a tiny assembler, so programs below read like their disassembly ----
const ld = (k: number) => insn(BPF_LD | BPF_W | BPF_ABS, k);
const ldi = (k: number) => insn(BPF_LD | BPF_IMM, k);
const ldxi = (k: number) => insn(BPF_LDX | BPF_IMM, k);
const alu = (op: number, k: number) => insn(BPF_ALU | op | BPF_K, k);
const alux = (op: number) => insn(BPF_ALU | op | BPF_X);
const jmp = (op: number, k: number, jt: number, jf: number) => insn(BPF_JMP | op | BPF_K, k, jt, jf);
const jmpx = (op: number, jt: number, jf: number) => insn(BPF_JMP | op | BPF_X, 0, jt, jf);
const ja = (k: number) => insn(BPF_JMP | BPF_JA, k);
const ret = (k: number) => insn(BPF_RET | BPF_K, k);
const retA = insn(BPF_RET | BPF_A);
const NO_DATA = { nr: 0, arch: AUDIT_ARCH_X86_64 };
const ERRNO = (e: number) => (SECCOMP_RET_ERRNO | e) >>> 0;

describe("ALU ops, by hand", () => {
  // [name, A, X or undefined for the K form, instruction, expected A]
  const cases: [string, number, number | undefined, Insn, number][] = [
    ["add #k wraps", 0xffffffff, undefined, alu(BPF_ADD, 2), 1],
    ["add x wraps to 0", 0x80000000, 0x80000000, alux(BPF_ADD), 0],
    ["sub #k borrows", 1, undefined, alu(BPF_SUB, 2), 0xffffffff],
    ["sub x", 5, 3, alux(BPF_SUB), 2],
    ["mul #k keeps the low 32 bits", 0x12345678, undefined, alu(BPF_MUL, 0x10), 0x23456780],
    ["mul #k overflowing to 0", 0x10000, undefined, alu(BPF_MUL, 0x10000), 0],
    ["mul x: (2^32-1)^2 mod 2^32 = 1", 0xffffffff, 0xffffffff, alux(BPF_MUL), 1],
    ["div #k is unsigned", 0xffffffff, undefined, alu(BPF_DIV, 2), 0x7fffffff],
    ["div x truncates", 7, 2, alux(BPF_DIV), 3],
    ["and #k", 0xf0f0f0f0, undefined, alu(BPF_AND, 0x0ff00ff0), 0x00f000f0],
    ["and x", 0xffffffff, 0x80000001, alux(BPF_AND), 0x80000001],
    ["or #k", 0x12340000, undefined, alu(BPF_OR, 0x5678), 0x12345678],
    ["or x", 0xf0000000, 0x0000000f, alux(BPF_OR), 0xf000000f],
    ["xor #k", 0xffffffff, undefined, alu(BPF_XOR, 0x0f0f0f0f), 0xf0f0f0f0],
    ["xor x with itself is 0", 0xdeadbeef, 0xdeadbeef, alux(BPF_XOR), 0],
    ["lsh #31", 1, undefined, alu(BPF_LSH, 31), 0x80000000],
    ["lsh #1 drops the top bit", 0x80000001, undefined, alu(BPF_LSH, 1), 2],
    ["lsh x", 3, 4, alux(BPF_LSH), 0x30],
    ["lsh x by 32 uses 32 & 31 = 0 (kernel masks X)", 0x1234, 32, alux(BPF_LSH), 0x1234],
    ["lsh x by 33 shifts by 1", 0x1234, 33, alux(BPF_LSH), 0x2468],
    ["rsh #31 is logical, not arithmetic", 0x80000000, undefined, alu(BPF_RSH, 31), 1],
    ["rsh x", 0xf0, 4, alux(BPF_RSH), 0xf],
    ["rsh x by 36 shifts by 4", 0xf0, 36, alux(BPF_RSH), 0xf],
    ["neg 1", 1, undefined, insn(BPF_ALU | BPF_NEG), 0xffffffff],
    ["neg 0", 0, undefined, insn(BPF_ALU | BPF_NEG), 0],
    ["neg 0x80000000 is itself", 0x80000000, undefined, insn(BPF_ALU | BPF_NEG), 0x80000000],
  ];
  for (const [name, a, x, op, want] of cases) {
    it(name, () => {
      const program = [ldi(a), ...(x === undefined ? [] : [ldxi(x)]), op, retA];
      expect(runFilter(program, NO_DATA)).toEqual({ ret: want, executed: program.length });
    });
  }

  it("div x by zero returns 0 from the whole filter (the kernel's cBPF rule), counting the div", () => {
    const program = [ldi(7), ldxi(0), alux(BPF_DIV), ret(SECCOMP_RET_ALLOW)];
    expect(runFilter(program, NO_DATA)).toEqual({ ret: 0, executed: 3 });
    expect(actionOf(0).action).toBe("kill-thread");
  });

  it("tax, txa, st, stx, ld M, ldx M move values between A, X and scratch memory", () => {
    const program = [
      ldi(11),
      insn(BPF_ST, 3), // M[3] = 11
      insn(BPF_MISC | BPF_TAX), // X = 11
      ldi(0),
      insn(BPF_LDX | BPF_MEM, 3), // X = 11 again
      alux(BPF_ADD), // A = 11
      insn(BPF_STX, 15), // M[15] = 11
      alu(BPF_ADD, 1), // A = 12
      insn(BPF_LD | BPF_MEM, 15), // A = 11
      alu(BPF_MUL, 2), // A = 22
      insn(BPF_MISC | BPF_TAX), // X = 22
      ldi(0),
      insn(BPF_MISC | BPF_TXA), // A = 22
      retA,
    ];
    expect(runFilter(program, NO_DATA)).toEqual({ ret: 22, executed: program.length });
  });
});

describe("jumps, by hand", () => {
  // Program: ld #A; ldx #X; <jump> true→pc 4, false→pc 3; ret #2 (false); ret #1 (true).
  const TRUE = 1;
  const FALSE = 2;
  const cases: [string, number, number, Insn, number][] = [
    ["jeq #k equal", 0x29, 0, jmp(BPF_JEQ, 0x29, 1, 0), TRUE],
    ["jeq #k different", 0x2a, 0, jmp(BPF_JEQ, 0x29, 1, 0), FALSE],
    ["jeq x equal", 0xc000003e, 0xc000003e, jmpx(BPF_JEQ, 1, 0), TRUE],
    ["jgt #k is unsigned: 0x80000000 > 1", 0x80000000, 0, jmp(BPF_JGT, 1, 1, 0), TRUE],
    ["jgt #k: equal is not greater", 5, 0, jmp(BPF_JGT, 5, 1, 0), FALSE],
    ["jgt #0xffffffff is never taken", 0xffffffff, 0, jmp(BPF_JGT, 0xffffffff, 1, 0), FALSE],
    ["jgt x", 7, 6, jmpx(BPF_JGT, 1, 0), TRUE],
    ["jge #k: equal counts", 0x40000000, 0, jmp(BPF_JGE, 0x40000000, 1, 0), TRUE],
    ["jge #k: below", 0x3fffffff, 0, jmp(BPF_JGE, 0x40000000, 1, 0), FALSE],
    ["jge x: 1 >= 0xffffffff is false unsigned", 1, 0xffffffff, jmpx(BPF_JGE, 1, 0), FALSE],
    ["jset #k: a shared bit", 0x10, 0, jmp(BPF_JSET, 0x30, 1, 0), TRUE],
    ["jset #k: no shared bit", 0x10, 0, jmp(BPF_JSET, 0x0f, 1, 0), FALSE],
    ["jset x: the top bit", 0x80000000, 0x80000000, jmpx(BPF_JSET, 1, 0), TRUE],
  ];
  for (const [name, a, x, op, want] of cases) {
    it(name, () => {
      const r = runFilter([ldi(a), ldxi(x), op, ret(FALSE), ret(TRUE)], NO_DATA);
      expect(r).toEqual({ ret: want, executed: 4 });
    });
  }

  it("jt and jf are offsets from the next instruction, and both can skip", () => {
    // 0: ld #5; 1: jeq #5 → 1+1+2 = 4, else 1+1+1 = 3; 2..: markers
    const program = [ldi(5), jmp(BPF_JEQ, 5, 2, 1), ret(10), ret(11), ret(12)];
    expect(runFilter(program, NO_DATA).ret).toBe(12);
    const miss = [ldi(6), jmp(BPF_JEQ, 5, 2, 1), ret(10), ret(11), ret(12)];
    expect(runFilter(miss, NO_DATA).ret).toBe(11);
  });

  it("ja k lands on pc + 1 + k and counts only what runs", () => {
    const program = [ja(2), ret(1), ret(2), ret(3)];
    expect(runFilter(program, NO_DATA)).toEqual({ ret: 3, executed: 2 });
    expect(runFilter([ja(0), ret(9)], NO_DATA)).toEqual({ ret: 9, executed: 2 });
  });
});

describe("loads from seccomp_data", () => {
  const data = {
    nr: -1,
    arch: AUDIT_ARCH_X86_64,
    ip: 0x0102030405060708n,
    args: [0n, 0x1122334455667788n, -1n],
  };
  const load = (k: number) => runFilter([ld(k), retA], data).ret;

  it("reads nr as the u32 of a C int and arch as is", () => {
    expect(load(0)).toBe(0xffffffff);
    expect(load(4)).toBe(AUDIT_ARCH_X86_64);
  });

  it("reads 64-bit values as little-endian words: low word first", () => {
    expect(load(8)).toBe(0x05060708);
    expect(load(12)).toBe(0x01020304);
    expect(load(24)).toBe(0x55667788); // args[1].lo
    expect(load(28)).toBe(0x11223344); // args[1].hi
  });

  it("takes negative arguments mod 2^64, as a register holds them, and missing ones as 0", () => {
    expect(load(32)).toBe(0xffffffff);
    expect(load(36)).toBe(0xffffffff);
    expect(load(56)).toBe(0); // args[5].lo, not given
    expect(load(60)).toBe(0);
  });

  it("ld #len and ldx #len are 64, sizeof(struct seccomp_data)", () => {
    expect(runFilter([insn(BPF_LD | BPF_W | BPF_LEN), retA], data).ret).toBe(64);
    expect(runFilter([insn(BPF_LDX | BPF_W | BPF_LEN), insn(BPF_MISC | BPF_TXA), retA], data).ret).toBe(64);
  });

  it("lays out struct seccomp_data byte for byte", () => {
    const bytes = seccompDataBytes({ nr: 42, arch: AUDIT_ARCH_X86_64, args: [0x0102n] });
    expect(Array.from(bytes.slice(0, 8))).toEqual([42, 0, 0, 0, 0x3e, 0x00, 0x00, 0xc0]);
    expect(Array.from(bytes.slice(16, 24))).toEqual([0x02, 0x01, 0, 0, 0, 0, 0, 0]);
    expect(bytes.length).toBe(64);
  });

  it("lays it out big-endian for a big-endian machine (s390x): an argument's high word first", () => {
    const bytes = seccompDataBytes({ nr: 42, arch: 0x80000016, args: [0x1_0000_0102n], byteOrder: "big" });
    expect(Array.from(bytes.slice(0, 8))).toEqual([0, 0, 0, 42, 0x80, 0x00, 0x00, 0x16]);
    expect(Array.from(bytes.slice(16, 24))).toEqual([0, 0, 0, 1, 0, 0, 0x01, 0x02]);
    // A word load reads native-endian: nr and arch read the same, the argument's halves swap offsets.
    const d = { nr: 42, arch: 0x80000016, args: [0x1_0000_0102n], byteOrder: "big" as const };
    expect(runFilter([insn(BPF_LD | BPF_W | BPF_ABS, 0), retA], d).ret).toBe(42);
    expect(runFilter([insn(BPF_LD | BPF_W | BPF_ABS, 16), retA], d).ret).toBe(1);
    expect(runFilter([insn(BPF_LD | BPF_W | BPF_ABS, 20), retA], d).ret).toBe(0x102);
  });

  it("refuses data no syscall can have", () => {
    expect(() => seccompDataBytes({ nr: 0, arch: 0, args: [0n, 0n, 0n, 0n, 0n, 0n, 0n] })).toThrow(/at most 6/);
    expect(() => seccompDataBytes({ nr: 1.5, arch: 0 })).toThrow(/32-bit/);
    expect(() => seccompDataBytes({ nr: 0, arch: -1 })).toThrow(/u32/);
  });
});

describe("refusing programs the kernel refuses", () => {
  it("throws instead of running off the end or jumping outside the program", () => {
    expect(() => runFilter([ld(0)], NO_DATA)).toThrow(/would reject.*last instruction must be a ret/);
    expect(() => runFilter([ja(0xffffffff), ret(0)], NO_DATA)).toThrow(/would reject.*ja target/);
    expect(() => runFilter([], NO_DATA)).toThrow(/would reject/);
  });

  it("prepareFilter copies the program, so later edits do not change what runs", () => {
    const program: Insn[] = [ret(SECCOMP_RET_ALLOW)];
    const run = prepareFilter(program);
    program[0] = ret(0);
    expect(run(NO_DATA).ret).toBe(SECCOMP_RET_ALLOW);
  });
});

describe("actionOf: how __seccomp_filter reads a return value", () => {
  const cases: [number, ReturnType<typeof actionOf>][] = [
    [SECCOMP_RET_KILL_PROCESS, { action: "kill-process", data: 0 }],
    [SECCOMP_RET_KILL_THREAD, { action: "kill-thread", data: 0 }],
    [(SECCOMP_RET_TRAP | 7) >>> 0, { action: "trap", data: 7 }],
    [ERRNO(1), { action: "errno", data: 1 }],
    [ERRNO(5000), { action: "errno", data: 5000 }], // raw; the kernel caps it at 4095 when returning
    [SECCOMP_RET_USER_NOTIF, { action: "user-notif", data: 0 }],
    [(SECCOMP_RET_TRACE | 3) >>> 0, { action: "trace", data: 3 }],
    [SECCOMP_RET_LOG, { action: "log", data: 0 }],
    [(SECCOMP_RET_ALLOW | 9) >>> 0, { action: "allow", data: 9 }],
    // Unknown actions fall into the default arm beside the kills and kill the process.
    [0x00010000, { action: "kill-process", data: 0 }],
    [0x7ffe0001, { action: "kill-process", data: 1 }],
    [0x80010000, { action: "kill-process", data: 0 }],
  ];
  for (const [ret, want] of cases) {
    it(`0x${ret.toString(16).padStart(8, "0")} is ${want.action}(${want.data})`, () => expect(actionOf(ret)).toEqual(want));
  }
});

describe("combineStack: seccomp_run_filters over stacked filters", () => {
  it("the lowest action wins, compared as signed: KILL_PROCESS (0x80000000) beats everything", () => {
    expect(combineStack([SECCOMP_RET_ALLOW, ERRNO(1)])).toBe(ERRNO(1));
    expect(combineStack([SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD])).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(combineStack([SECCOMP_RET_TRAP, SECCOMP_RET_KILL_THREAD])).toBe(SECCOMP_RET_KILL_THREAD);
    expect(combineStack([SECCOMP_RET_LOG, (SECCOMP_RET_TRACE | 3) >>> 0])).toBe((SECCOMP_RET_TRACE | 3) >>> 0);
    expect(combineStack([SECCOMP_RET_USER_NOTIF, ERRNO(2)])).toBe(ERRNO(2));
  });

  it("orders the IR's actions as ACTION_STRICTNESS does (the evaluator's precedence is the kernel's)", () => {
    // Every action type, and `trace` in particular: kill-process > kill-thread > trap > errno > user-notif >
    // trace > log > allow. The stricter of two is the one the kernel keeps from a stack of two filters.
    const all: Action[] = [
      { type: "allow" },
      { type: "log" },
      { type: "trace", data: 7 },
      { type: "user-notif" },
      { type: "errno", errno: 1 },
      { type: "trap" },
      { type: "kill-thread" },
      { type: "kill-process" },
    ];
    expect(new Set(all.map((a) => a.type)).size).toBe(Object.keys(ACTION_STRICTNESS).length);
    for (const a of all)
      for (const b of all) {
        if (a.type === b.type) continue;
        const kernel = combineStack([actionValue(a), actionValue(b)]);
        const stricter = ACTION_STRICTNESS[a.type] > ACTION_STRICTNESS[b.type] ? a : b;
        expect(kernel, `${a.type} vs ${b.type}`).toBe(actionValue(stricter));
      }
  });

  it("on a tie the most recently installed filter's value wins (it runs first)", () => {
    expect(combineStack([ERRNO(1), ERRNO(13)])).toBe(ERRNO(13));
    expect(combineStack([ERRNO(13), ERRNO(1)])).toBe(ERRNO(1));
  });

  it("all-allow gives the bare SECCOMP_RET_ALLOW, dropping data; no filter at all allows", () => {
    expect(combineStack([(SECCOMP_RET_ALLOW | 5) >>> 0, (SECCOMP_RET_ALLOW | 7) >>> 0])).toBe(SECCOMP_RET_ALLOW);
    expect(combineStack([])).toBe(SECCOMP_RET_ALLOW);
  });

  it("unknown actions sort by their value like any other", () => {
    expect(combineStack([SECCOMP_RET_TRAP, 0x00010000])).toBe(0x00010000);
    expect(combineStack([0x7ffe0000, SECCOMP_RET_LOG])).toBe(SECCOMP_RET_LOG);
  });
});

// ---- an independent model: abstract ops on BigInt, never on the instruction encoding ----

type Op =
  | { t: "ldi"; k: number }
  | { t: "ldxi"; k: number }
  | { t: "alu"; op: number; k: number }
  | { t: "alux"; op: number }
  | { t: "neg" }
  | { t: "tax" }
  | { t: "txa" }
  | { t: "st"; i: number }
  | { t: "stx"; i: number }
  | { t: "ldm"; i: number }
  | { t: "ldxm"; i: number };

const U32 = (1n << 32n) - 1n;

function model(ops: readonly Op[]): bigint {
  let a = 0n;
  let x = 0n;
  const m = new Map<number, bigint>();
  const apply = (op: number, b: bigint): bigint | "div0" => {
    switch (op) {
      case BPF_ADD:
        return (a + b) & U32;
      case BPF_SUB:
        return (a - b) & U32;
      case BPF_MUL:
        return (a * b) & U32;
      case BPF_DIV:
        return b === 0n ? "div0" : a / b;
      case BPF_AND:
        return a & b;
      case BPF_OR:
        return a | b;
      case BPF_XOR:
        return a ^ b;
      case BPF_LSH:
        return (a << (b % 32n)) & U32;
      case BPF_RSH:
        return a >> (b % 32n);
    }
    throw new Error(`model: op ${op}`);
  };
  for (const o of ops) {
    switch (o.t) {
      case "ldi":
        a = BigInt(o.k);
        break;
      case "ldxi":
        x = BigInt(o.k);
        break;
      case "alu":
      case "alux": {
        const r = apply(o.op, o.t === "alu" ? BigInt(o.k) : x);
        if (r === "div0") return 0n;
        a = r;
        break;
      }
      case "neg":
        a = -a & U32;
        break;
      case "tax":
        x = a;
        break;
      case "txa":
        a = x;
        break;
      case "st":
        m.set(o.i, a);
        break;
      case "stx":
        m.set(o.i, x);
        break;
      case "ldm":
        a = m.get(o.i)!;
        break;
      case "ldxm":
        x = m.get(o.i)!;
        break;
    }
  }
  return a;
}

function assemble(ops: readonly Op[]): Insn[] {
  const code: Insn[] = [];
  for (const o of ops) {
    switch (o.t) {
      case "ldi":
        code.push(ldi(o.k));
        break;
      case "ldxi":
        code.push(ldxi(o.k));
        break;
      case "alu":
        code.push(alu(o.op, o.k));
        break;
      case "alux":
        code.push(alux(o.op));
        break;
      case "neg":
        code.push(insn(BPF_ALU | BPF_NEG));
        break;
      case "tax":
        code.push(insn(BPF_MISC | BPF_TAX));
        break;
      case "txa":
        code.push(insn(BPF_MISC | BPF_TXA));
        break;
      case "st":
        code.push(insn(BPF_ST, o.i));
        break;
      case "stx":
        code.push(insn(BPF_STX, o.i));
        break;
      case "ldm":
        code.push(insn(BPF_LD | BPF_MEM, o.i));
        break;
      case "ldxm":
        code.push(insn(BPF_LDX | BPF_MEM, o.i));
        break;
    }
  }
  return [...code, retA];
}

/** Reads of a cell nobody wrote yet become writes, so every generated program passes the verifier. */
function onlyInitializedReads(ops: readonly Op[]): Op[] {
  const written = new Set<number>();
  return ops.map((o): Op => {
    if (o.t === "st" || o.t === "stx") written.add(o.i);
    if ((o.t === "ldm" || o.t === "ldxm") && !written.has(o.i)) {
      written.add(o.i);
      return { t: "st", i: o.i };
    }
    return o;
  });
}

const u32 = fc.oneof(fc.constantFrom(0, 1, 2, 31, 32, 33, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff }));
const ALU_OPS = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  u32.map((k): Op => ({ t: "ldi", k })),
  u32.map((k): Op => ({ t: "ldxi", k })),
  fc.tuple(fc.constantFrom(...ALU_OPS), u32).map(([op, k]): Op => {
    // The constants the verifier forbids (div #0, shifts by 32 or more) are made legal, not dropped.
    if (op === BPF_DIV && k === 0) return { t: "alu", op, k: 1 };
    if ((op === BPF_LSH || op === BPF_RSH) && k >= 32) return { t: "alu", op, k: k % 32 };
    return { t: "alu", op, k };
  }),
  fc.constantFrom(...ALU_OPS).map((op): Op => ({ t: "alux", op })),
  fc.constant<Op>({ t: "neg" }),
  fc.constant<Op>({ t: "tax" }),
  fc.constant<Op>({ t: "txa" }),
  fc.nat({ max: 15 }).map((i): Op => ({ t: "st", i })),
  fc.nat({ max: 15 }).map((i): Op => ({ t: "stx", i })),
  fc.nat({ max: 15 }).map((i): Op => ({ t: "ldm", i })),
  fc.nat({ max: 15 }).map((i): Op => ({ t: "ldxm", i })),
);

describe("properties", () => {
  it("straight-line ALU programs ending in `ret a` agree with a BigInt model", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }).map(onlyInitializedReads), (ops) => {
        expect(BigInt(runFilter(assemble(ops), NO_DATA).ret)).toBe(model(ops));
      }),
      { numRuns: 2000 },
    );
  });

  // Random forward-jumping programs: each instruction picks its targets among the remaining ones.
  const branchy = fc
    .array(
      fc.tuple(
        fc.constantFrom("ld", "jeq", "jgt", "jge", "jset", "ja", "ret", "add", "tax", "jeqx"),
        fc.constantFrom(0, 4, 16, 20, 24),
        fc.nat({ max: 0xffffffff }),
        fc.nat(),
        fc.nat(),
      ),
      { minLength: 1, maxLength: 60 },
    )
    .map((spec) =>
      spec.map(([kind, off, k, t, f], pc): Insn => {
        const room = spec.length - pc - 1; // instructions after this one, the final `ret` included
        if (pc === spec.length - 1 || kind === "ret") return ret(k);
        const jt = t % Math.min(room, 256);
        const jf = f % Math.min(room, 256);
        switch (kind) {
          case "ld":
            return ld(off);
          case "ja":
            return ja(t % room);
          case "add":
            return alu(BPF_ADD, k);
          case "tax":
            return insn(BPF_MISC | BPF_TAX);
          case "jeqx":
            return jmpx(BPF_JEQ, jt, jf);
          default: {
            const op = { jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET }[kind as "jeq"];
            return jmp(op, k % 3 === 0 ? k % 64 : k, jt, jf);
          }
        }
      }),
    );
  const dataArb = fc.record({
    nr: fc.integer({ min: -1, max: 64 }),
    arch: fc.constantFrom(AUDIT_ARCH_X86_64, AUDIT_ARCH_I386),
    args: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 6 }),
  });

  it("jumps only go forward, so a run never executes more instructions than the program has", () => {
    fc.assert(
      fc.property(branchy, dataArb, (program, data) => {
        const { executed } = runFilter(program, data);
        expect(executed).toBeGreaterThanOrEqual(1);
        expect(executed).toBeLessThanOrEqual(program.length);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- real filters: the facts in shared/reference/seccomp-generators.md ----

const PEERS = join(import.meta.dirname, "..", "..", "fixtures", "data", "peer-filters");
const peer = (path: string): Insn[] => decode(readFileSync(join(PEERS, path)));
const codex = peer("seccompiler-0.5.0/codex-net.seccompiler.bpf");
const denylist = peer("seccompiler-0.5.0/denylist.seccompiler.bpf");
const namespaces = peer("sandbox-runtime-0.0.83/x86_64.namespaces.bpf");
const unix = peer("sandbox-runtime-0.0.83/x86_64.unix.bpf");

const X86_64 = AUDIT_ARCH_X86_64;
/** x86_64 numbers of the calls Codex's network filter denies (SOURCE.md), socket and socketpair conditionally. */
const CODEX_DENIED: Record<string, number> = {
  socket: 41, connect: 42, accept: 43, sendto: 44, shutdown: 48, bind: 49, listen: 50, getsockname: 51,
  getpeername: 52, socketpair: 53, setsockopt: 54, getsockopt: 55, ptrace: 101, accept4: 288, recvmmsg: 299,
  sendmmsg: 307, process_vm_readv: 310, process_vm_writev: 311, io_uring_setup: 425, io_uring_enter: 426,
  io_uring_register: 427,
};
const DENYLIST: Record<string, number> = {
  ptrace: 101, mount: 165, umount2: 166, swapon: 167, reboot: 169, init_module: 175, kexec_load: 246,
  perf_event_open: 298, bpf: 321,
};
const AF_UNIX = 1n;
const AF_INET = 2n;
const ALL_NUMBERS = Array.from({ length: 470 }, (_, n) => n); // the reference's range, 0..469

describe("seccompiler 0.5.0, Codex's network filter", () => {
  it("is 114 instructions", () => expect(codex.length).toBe(114));

  it("returns ERRNO(1) for connect after 8 instructions and ALLOW for read", () => {
    expect(runFilter(codex, { nr: 42, arch: X86_64 })).toEqual({ ret: ERRNO(1), executed: 8 });
    expect(actionOf(runFilter(codex, { nr: 0, arch: X86_64 }).ret)).toEqual({ action: "allow", data: 0 });
  });

  it("kills the process for a foreign arch", () => {
    expect(runFilter(codex, { nr: 42, arch: AUDIT_ARCH_I386 })).toEqual({ ret: SECCOMP_RET_KILL_PROCESS, executed: 3 });
  });

  it("denies every listed call, socket and socketpair only for families other than AF_UNIX", () => {
    for (const [name, nr] of Object.entries(CODEX_DENIED)) {
      expect(runFilter(codex, { nr, arch: X86_64, args: [AF_INET] }).ret, name).toBe(ERRNO(1));
    }
    expect(runFilter(codex, { nr: 41, arch: X86_64, args: [AF_UNIX, -1n] })).toEqual({ ret: SECCOMP_RET_ALLOW, executed: 8 });
    expect(runFilter(codex, { nr: 53, arch: X86_64, args: [AF_UNIX] }).ret).toBe(SECCOMP_RET_ALLOW);
  });

  it("runs 46 instructions for every other syscall number, the worst case", () => {
    const denied = new Set(Object.values(CODEX_DENIED));
    for (const nr of ALL_NUMBERS.filter((n) => !denied.has(n))) {
      expect(runFilter(codex, { nr, arch: X86_64 }), `nr ${nr}`).toEqual({ ret: SECCOMP_RET_ALLOW, executed: 46 });
    }
    expect(Math.max(...ALL_NUMBERS.map((nr) => runFilter(codex, { nr, arch: X86_64 }).executed))).toBe(46);
  });

  it("allows the x32 form of all 21 denied calls (no x32 check: the bypass the reference describes)", () => {
    expect(runFilter(codex, { nr: X32_SYSCALL_BIT | 42, arch: X86_64 }).ret).toBe(SECCOMP_RET_ALLOW);
    for (const [name, nr] of Object.entries(CODEX_DENIED)) {
      expect(runFilter(codex, { nr: X32_SYSCALL_BIT | nr, arch: X86_64, args: [AF_INET] }).ret, name).toBe(SECCOMP_RET_ALLOW);
    }
  });
});

describe("seccompiler 0.5.0, 9-call deny list", () => {
  it("is 50 instructions; bpf is denied after 22, which is also the longest path", () => {
    expect(denylist.length).toBe(50);
    expect(runFilter(denylist, { nr: DENYLIST.bpf!, arch: X86_64, args: [-1n] })).toEqual({ ret: ERRNO(1), executed: 22 });
    expect(Math.max(...ALL_NUMBERS.map((nr) => runFilter(denylist, { nr, arch: X86_64 }).executed))).toBe(22);
  });

  it("is bypassed through x32 for all 9 calls", () => {
    for (const [name, nr] of Object.entries(DENYLIST)) {
      expect(runFilter(denylist, { nr, arch: X86_64 }).ret, name).toBe(ERRNO(1));
      expect(runFilter(denylist, { nr: X32_SYSCALL_BIT | nr, arch: X86_64 }).ret, name).toBe(SECCOMP_RET_ALLOW);
    }
  });
});

describe("sandbox-runtime 0.0.83, as its worker stacks them", () => {
  const CLONE_NEWUSER = 0x10000000n;
  const CLONE_THREAD = 0x10000n;

  it("has the reference's sizes and worst paths (42 / 32, 18 / 15)", () => {
    expect(namespaces.length).toBe(42);
    expect(unix.length).toBe(18);
    expect(Math.max(...ALL_NUMBERS.map((nr) => runFilter(namespaces, { nr, arch: X86_64 }).executed))).toBe(32);
    expect(Math.max(...ALL_NUMBERS.map((nr) => runFilter(unix, { nr, arch: X86_64 }).executed))).toBe(15);
  });

  it("namespaces: mount is EPERM after 7, clone3 ENOSYS, clone with CLONE_NEWUSER EPERM, CLONE_THREAD allowed after 28", () => {
    expect(runFilter(namespaces, { nr: 165, arch: X86_64 })).toEqual({ ret: ERRNO(1), executed: 7 });
    expect(runFilter(namespaces, { nr: 435, arch: X86_64 }).ret).toBe(ERRNO(38));
    expect(runFilter(namespaces, { nr: 56, arch: X86_64, args: [CLONE_NEWUSER] }).ret).toBe(ERRNO(1));
    expect(runFilter(namespaces, { nr: 56, arch: X86_64, args: [CLONE_THREAD] })).toEqual({ ret: SECCOMP_RET_ALLOW, executed: 28 });
  });

  it("unix: socket(AF_UNIX) is EPERM and socket(AF_INET) allowed, both after 15", () => {
    expect(runFilter(unix, { nr: 41, arch: X86_64, args: [AF_UNIX, -1n] })).toEqual({ ret: ERRNO(1), executed: 15 });
    expect(runFilter(unix, { nr: 41, arch: X86_64, args: [AF_INET, -1n] })).toEqual({ ret: SECCOMP_RET_ALLOW, executed: 15 });
  });

  it("libseccomp's prologue rejects x32 numbers (KILL_THREAD, its bad-arch action) but lets nr -1 through", () => {
    expect(runFilter(namespaces, { nr: X32_SYSCALL_BIT | 165, arch: X86_64 }).ret).toBe(SECCOMP_RET_KILL_THREAD);
    expect(runFilter(unix, { nr: X32_SYSCALL_BIT | 41, arch: X86_64, args: [AF_UNIX] }).ret).toBe(SECCOMP_RET_KILL_THREAD);
    expect(runFilter(namespaces, { nr: -1, arch: X86_64 }).ret).toBe(SECCOMP_RET_ALLOW);
  });

  it("stacked, socket runs both filters (35 instructions) and the denial wins; the worst path is 41", () => {
    const stack = [namespaces, unix];
    expect(runStack(stack, { nr: 41, arch: X86_64, args: [AF_UNIX, -1n] })).toEqual({ ret: ERRNO(1), executed: 35 });
    expect(runStack(stack, { nr: 41, arch: X86_64, args: [AF_INET, -1n] })).toEqual({ ret: SECCOMP_RET_ALLOW, executed: 35 });
    expect(Math.max(...ALL_NUMBERS.map((nr) => runStack(stack, { nr, arch: X86_64 }).executed))).toBe(41);
  });
});
