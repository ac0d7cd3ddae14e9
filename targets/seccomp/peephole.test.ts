// The peephole pass and the layout after it: each rewrite on a small program, the pass on random (verified)
// programs of every opcode the kernel accepts, answering exactly as before on random inputs, and libseccomp's
// long-jumps case, whose redundancy the pass exists to remove. The before/after comparison on random
// policies is in tests/seccomp.property.test.ts.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SyscallRule } from "../../ir/types.js";
import { syscallTable } from "../../linux-abi/index.js";
import { makeIr } from "../../tests/support/ir.js";
import { propertyOptions } from "../../tests/support/property.js";
import { actionValue } from "./actions.js";
import {
  AUDIT_ARCH_X86_64,
  BPF_A,
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_ADD,
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
  BPF_MEM,
  BPF_MISC,
  BPF_RET,
  BPF_ST,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
  SECCOMP_RET_ALLOW,
  insn,
  type Insn,
} from "./bpf.js";
import { generate, peepholeProgram } from "./codegen.js";
import { compileSeccomp } from "./index.js";
import { runFilter, type SeccompData } from "./interpreter.js";
import { lowerFilter } from "./lower.js";
import { expectedAction, syscallName } from "./semantics.js";
import { verifyFilter } from "./verifier.js";

const ld = (k: number) => insn(BPF_LD | BPF_W | BPF_ABS, k);
const and = (k: number) => insn(BPF_ALU | BPF_AND | BPF_K, k);
const jeq = (k: number, jt: number, jf: number) => insn(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
const ja = (k: number) => insn(BPF_JMP | BPF_JA, k);
const ret = (k: number) => insn(BPF_RET | BPF_K, k);
const ALLOW = ret(SECCOMP_RET_ALLOW);
const KILL = ret(0);

describe("the rewrites", () => {
  it("drops a test whose two targets are the same, and the load only it read", () => {
    expect(peepholeProgram([ld(0), jeq(2, 1, 1), ld(4), ALLOW, ALLOW])).toEqual([ALLOW]);
  });

  it("skips a `ja` and jumps straight to its target", () => {
    expect(peepholeProgram([ld(0), jeq(1, 0, 1), ja(1), KILL, ALLOW])).toEqual([ld(0), jeq(1, 0, 1), ALLOW, KILL]);
  });

  it("drops a load of the word A holds on every path into it, keeps one where a path holds another", () => {
    // Both paths into pc 3 leave nr in A, so the load goes, and then `jeq #1` leads to `jeq #2` either way.
    expect(peepholeProgram([ld(0), jeq(1, 0, 1), ld(0), jeq(2, 0, 1), ALLOW, KILL])).toEqual([ld(0), jeq(2, 0, 1), ALLOW, KILL]);
    // One path into the load leaves arch in A: the load stays.
    const mixed = [ld(0), jeq(1, 2, 0), ld(4), jeq(5, 2, 0), ld(0), jeq(2, 0, 1), ALLOW, KILL];
    expect(peepholeProgram(mixed).filter((i) => i.code === (BPF_LD | BPF_W | BPF_ABS)).length).toBe(3);
  });

  it("drops `ld; and` back to the state A already has, and a repeated `and`", () => {
    const p = [ld(16), and(0xf0), jeq(0x10, 0, 3), ld(16), and(0xf0), and(0xf0), jeq(0x20, 1, 0), ALLOW, KILL];
    // After `ld; and; jeq #0x10`, both sides reach `jeq #0x20` with the same A: the first test goes too.
    expect(peepholeProgram(p)).toEqual([ld(16), and(0xf0), jeq(0x20, 0, 1), KILL, ALLOW]);
  });

  it("shares identical tails: two copies of `ld; jeq; ret; ret` become one", () => {
    const tail = [ld(16), jeq(7, 0, 1), ALLOW, KILL];
    const p = [ld(0), jeq(1, 0, 4), ...tail, ld(0), jeq(2, 0, 4), ...tail, KILL];
    const out = peepholeProgram(p);
    expect(out).toEqual([ld(0), jeq(1, 1, 0), jeq(2, 0, 3), ld(16), jeq(7, 0, 1), ALLOW, KILL]);
    for (const nr of [1, 2, 3]) for (const a of [7n, 8n]) expect(runFilter(out, { nr, arch: 0, args: [a] }).ret).toBe(runFilter(p, { nr, arch: 0, args: [a] }).ret);
  });

  it("is a fixed point: running it on its own output changes nothing", () => {
    const p = [ld(0), jeq(1, 0, 4), ld(16), jeq(7, 0, 1), ALLOW, KILL, ld(0), jeq(2, 0, 4), ld(16), jeq(7, 0, 1), ALLOW, KILL, KILL];
    const once = peepholeProgram(p);
    expect(peepholeProgram(once)).toEqual(once);
  });
});

// ---- random programs of every opcode seccomp accepts ----

const WORDS = [0, 4, 8, 12, 16, 20, 24, 28, 60];
const KS = [0, 1, 2, 5, 0xf0, 0x7fffffff, 0x80000000, 0xffffffff, SECCOMP_RET_ALLOW, 0x50001];

/** A random program with forward jumps only, filtered to what the verifier accepts. */
const programArb: fc.Arbitrary<Insn[]> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        "ld", "ld", "ld", "and", "and", "jeq", "jeq", "jgt", "jge", "jset", "jeqx", "ja", "ret", "ret", "retA", "add", "len", "imm", "tax", "txa", "st", "ldm", "ldxm",
      ),
      fc.constantFrom(...WORDS),
      fc.constantFrom(...KS),
      fc.nat({ max: 6 }),
      fc.nat({ max: 6 }),
    ),
    { minLength: 1, maxLength: 40 },
  )
  .map((parts) => {
    const n = parts.length;
    const prog = parts.map(([op, w, k, a, b], pc): Insn => {
      const left = n - pc - 2; // the farthest offset that stays inside the program
      const off = (x: number) => Math.max(0, Math.min(x, left));
      switch (op) {
        case "ld":
          return ld(w);
        case "and":
          return and(k);
        case "jeq":
          return insn(BPF_JMP | BPF_JEQ | BPF_K, k, off(a), off(b));
        case "jgt":
          return insn(BPF_JMP | BPF_JGT | BPF_K, k, off(a), off(b));
        case "jge":
          return insn(BPF_JMP | BPF_JGE | BPF_K, k, off(a), off(b));
        case "jset":
          return insn(BPF_JMP | BPF_JSET | BPF_K, k, off(a), off(b));
        case "jeqx":
          return insn(BPF_JMP | BPF_JEQ | BPF_X, 0, off(a), off(b));
        case "ja":
          return ja(off(a));
        case "ret":
          return ret(k);
        case "retA":
          return insn(BPF_RET | BPF_A);
        case "add":
          return insn(BPF_ALU | BPF_ADD | BPF_K, k);
        case "len":
          return insn(BPF_LD | BPF_W | BPF_LEN);
        case "imm":
          return insn(BPF_LD | BPF_IMM, k);
        case "tax":
          return insn(BPF_MISC | BPF_TAX);
        case "txa":
          return insn(BPF_MISC | BPF_TXA);
        case "st":
          return insn(BPF_ST, a % 4);
        case "ldm":
          return insn(BPF_LD | BPF_MEM, a % 4);
        default:
          return insn(BPF_LDX | BPF_MEM, a % 4);
      }
    });
    // Any jump in the last slot would leave the program: end with a ret.
    if ((prog[n - 1]!.code & 0x07) !== BPF_RET) prog.push(ALLOW);
    return prog;
  })
  .filter((p) => verifyFilter(p).ok);

const eventArb: fc.Arbitrary<SeccompData> = fc.record({
  nr: fc.constantFrom(0, 1, 2, 5, 0xf0, 0x7fffffff, 0xffffffff),
  arch: fc.constantFrom(0, 1, 5, AUDIT_ARCH_X86_64),
  ip: fc.constantFrom(0n, 5n, 0xffffffff00000001n),
  args: fc.array(fc.constantFrom(0n, 1n, 2n, 5n, 0xf0n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 64n) - 1n), { minLength: 6, maxLength: 6 }),
});

describe("on random programs of every opcode seccomp accepts", () => {
  it("the output verifies, answers like the input on every event, and is no longer", () => {
    fc.assert(
      fc.property(programArb, fc.array(eventArb, { minLength: 30, maxLength: 30 }), (p, events) => {
        const out = peepholeProgram(p);
        expect(verifyFilter(out)).toEqual({ ok: true });
        expect(out.length).toBeLessThanOrEqual(p.length);
        for (const e of events) expect(runFilter(out, e).ret, JSON.stringify({ p, e: { ...e, ip: String(e.ip), args: e.args!.map(String) } })).toBe(runFilter(p, e).ret);
      }),
      propertyOptions(300),
    );
  });
});

// ---- libseccomp's 05-sim-long_jumps ----

/**
 * tests/05-sim-long_jumps.c of seccomp/libseccomp (facts: its rules, written again here): default kill; syscall
 * 1 allowed; one syscall allowed when `arg0 == i && arg1 != 0 && arg2 < SSIZE_MAX` for each i in 0..99; each
 * syscall numbered 100..199 allowed when `arg0 != 0`; syscall 4 allowed. Upstream names the syscall of the
 * hundred chains by number (1000 in current sources, `chdir` in its .tests file); sbc rules name syscalls, so
 * the chains are on `chdir` (80 on x86_64). libseccomp 2.5.4 compiles it to 1,219 instructions on x86_64.
 */
function longJumps() {
  const table = syscallTable("x86_64");
  const byNr = new Map(Object.entries(table).map(([name, nr]) => [nr, name]));
  const rules: SyscallRule[] = [{ syscalls: [byNr.get(1)!], action: { type: "allow" }, conditions: [], layer: 0 }];
  for (let i = 0; i < 100; i++) {
    rules.push({
      syscalls: ["chdir"],
      action: { type: "allow" },
      conditions: [
        { arg: 0, op: "==", value: String(i) },
        { arg: 1, op: "!=", value: "0" },
        { arg: 2, op: "<", value: "0x7fffffffffffffff" },
      ],
      layer: 0,
    });
  }
  for (let nr = 100; nr < 200; nr++) rules.push({ syscalls: [byNr.get(nr)!], action: { type: "allow" }, conditions: [{ arg: 0, op: "!=", value: "0" }], layer: 0 });
  rules.push({ syscalls: [byNr.get(4)!], action: { type: "allow" }, conditions: [], layer: 0 });
  return makeIr({
    syscallRules: rules,
    defaultAction: { type: "kill-thread" },
    unix: "allow",
    netRules: [{ effect: "allow", ops: ["bind", "connect"], protocols: ["tcp", "udp"], hosts: "any", ports: [[0, 65535]], layer: 0 }],
  });
}

describe("libseccomp's 05-sim-long_jumps", () => {
  const ir = longJumps();
  const program = compileSeccomp(ir, ["x86_64"]).filter!.program;

  // 129 instructions when every argument was compared on 64 bits. Of the syscalls 100..199 with `arg0 != 0`,
  // about half take an int or unsigned int first (read on 32 bits: one low-word test) and half a long or a
  // pointer (two words), so their verdicts are two programs, alternating along the numbers: the dispatch
  // needs more ranges (measured 155). libseccomp compares 64 bits everywhere, which is wrong for the int ones.
  it("compiles to at most 160 instructions (over 1,000 without the peephole pass, 1,471 before it existed; libseccomp 2.5.4: 1,219)", () => {
    expect(program.length).toBeLessThanOrEqual(160);
    const before = generate(lowerFilter(ir, ["x86_64"], syscallName).root, { peephole: false });
    expect(before.size).toBeGreaterThan(1000);
    expect(verifyFilter(program)).toEqual({ ok: true });
  });

  it("answers like the reference on every number, inside and just outside the chains", () => {
    const at = (nr: number, args: bigint[]) => runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args }).ret >>> 0;
    const chdir = syscallTable("x86_64")["chdir"]!;
    // The chdir rows of upstream's .tests file (x86_64 values).
    for (const a0 of [0n, 5n, 95n, 99n]) expect(at(chdir, [a0, 0x856b008n, 0x7ffffffffffffffen])).toBe(SECCOMP_RET_ALLOW);
    expect(at(chdir, [100n, 0x856b008n, 0x7ffffffffffffffen])).toBe(0);
    expect(at(9999, [])).toBe(0);
    const vectors = [
      [0n, 0n, 0n],
      [1n, 1n, 0n],
      [99n, 1n, 0x7fffffffffffffffn],
      [50n, 1n << 32n, 0x7ffffffffffffffen],
      [1n << 32n, 1n, 1n],
      [0n, 1n, 1n],
    ];
    for (let nr = 0; nr < 470; nr++) {
      for (const args of vectors) {
        const want = actionValue(expectedAction(ir, ["x86_64"], { arch: AUDIT_ARCH_X86_64, nr, args }));
        expect(at(nr, args), `nr ${nr} args ${args}`).toBe(want);
      }
    }
  });
});
