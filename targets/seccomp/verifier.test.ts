// The verifier against each shape the kernel refuses, with the kernel function that refuses it, plus the
// edges it must accept (so a too-strict verifier fails too), random-instruction properties, and the peer
// filters, which real kernels loaded.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
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
  BPF_MAXINSNS,
  BPF_MEM,
  BPF_MISC,
  BPF_MOD,
  BPF_MSH,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_TAX,
  BPF_W,
  BPF_X,
  SECCOMP_RET_ALLOW,
  decode,
  insn,
  type Insn,
} from "./bpf.js";
import { runFilter } from "./interpreter.js";
import { isClassicOpcode, isSeccompOpcode, verifyFilter, type VerifyCheck } from "./verifier.js";

const ld = (k: number) => insn(BPF_LD | BPF_W | BPF_ABS, k);
const ret = (k: number) => insn(BPF_RET | BPF_K, k);
const retA = insn(BPF_RET | BPF_A);
const ALLOW = ret(SECCOMP_RET_ALLOW);
const st = (i: number) => insn(BPF_ST, i);
const ldm = (i: number) => insn(BPF_LD | BPF_MEM, i);
const jeq = (k: number, jt: number, jf: number) => insn(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
const ja = (k: number) => insn(BPF_JMP | BPF_JA, k);

/** The [pc, check] pairs of a rejected program; [] when accepted. */
function rejections(program: readonly Insn[]): [number, VerifyCheck][] {
  const r = verifyFilter(program);
  return r.ok ? [] : r.errors.map((e) => [e.pc, e.check]);
}

describe("encoding: fields struct sock_filter cannot hold", () => {
  it("refuses them before anything else, since the kernel would see truncated values", () => {
    const raw = (code: number, jt: number, jf: number, k: number): Insn => ({ code, jt, jf, k });
    expect(rejections([raw(BPF_JMP | BPF_JA, 0, 0, -1), ALLOW])).toEqual([[0, "encoding"]]);
    expect(rejections([raw(BPF_JMP | BPF_JEQ, 256, 0, 0), ALLOW])).toEqual([[0, "encoding"]]);
    expect(rejections([raw(BPF_JMP | BPF_JEQ, 0, 1.5, 0), ALLOW])).toEqual([[0, "encoding"]]);
    expect(rejections([raw(0x10000, 0, 0, 0), raw(BPF_RET, 0, 0, 2 ** 32)])).toEqual([
      [0, "encoding"],
      [1, "encoding"],
    ]);
  });

  it("so the interpreter refuses a backward `ja` instead of looping", () => {
    expect(() => runFilter([{ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: -1 }, ALLOW], { nr: 0, arch: 0 })).toThrow(/u32/);
  });
});

describe("length (seccomp_prepare_filter)", () => {
  it("refuses an empty program and one longer than BPF_MAXINSNS", () => {
    expect(rejections([])).toEqual([[-1, "length"]]);
    expect(rejections([...Array<Insn>(BPF_MAXINSNS).fill(ld(0)), ALLOW])).toEqual([[-1, "length"]]);
  });

  it("accepts one instruction and exactly BPF_MAXINSNS", () => {
    expect(rejections([ALLOW])).toEqual([]);
    expect(rejections([...Array<Insn>(BPF_MAXINSNS - 1).fill(ld(0)), ALLOW])).toEqual([]);
  });
});

describe("bpf_check_classic", () => {
  it("refuses opcodes classic BPF does not have (chk_code_allowed), e.g. `ret x` and 16-bit codes", () => {
    expect(rejections([insn(BPF_RET | BPF_X), ALLOW])).toEqual([[0, "opcode"]]);
    expect(rejections([insn(0x0100), ALLOW])).toEqual([[0, "opcode"]]);
    expect(rejections([insn(BPF_JMP | BPF_JA | BPF_X), ALLOW])).toEqual([[0, "opcode"]]);
  });

  it("refuses division and modulo by a constant zero", () => {
    expect(rejections([insn(BPF_ALU | BPF_DIV | BPF_K, 0), retA])).toEqual([[0, "div-by-zero"]]);
    // mod #0 fails bpf_check_classic first; seccomp_check_filter would refuse `mod` anyway.
    expect(rejections([insn(BPF_ALU | BPF_MOD | BPF_K, 0), retA])).toEqual([
      [0, "div-by-zero"],
      [0, "seccomp-opcode"],
    ]);
    expect(rejections([insn(BPF_ALU | BPF_DIV | BPF_K, 1), retA])).toEqual([]);
    expect(rejections([insn(BPF_ALU | BPF_DIV | BPF_X), retA])).toEqual([]); // X = 0 is a runtime matter
  });

  it("refuses constant shifts of 32 or more, accepts 31", () => {
    expect(rejections([insn(BPF_ALU | BPF_LSH | BPF_K, 32), retA])).toEqual([[0, "shift-range"]]);
    expect(rejections([insn(BPF_ALU | BPF_RSH | BPF_K, 0xffffffff), retA])).toEqual([[0, "shift-range"]]);
    expect(rejections([insn(BPF_ALU | BPF_LSH | BPF_K, 31), insn(BPF_ALU | BPF_RSH | BPF_K, 31), retA])).toEqual([]);
  });

  it("refuses scratch memory indices of 16 or more for ld, ldx, st and stx", () => {
    for (const code of [BPF_ST, BPF_STX, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM]) {
      expect(rejections([insn(code, 16), retA]), `code 0x${code.toString(16)}`).toEqual([[0, "mem-index"]]);
    }
    expect(rejections([st(15), ldm(15), retA])).toEqual([]);
  });

  it("refuses jump targets at or past the end, for ja and for either branch", () => {
    expect(rejections([ja(1), ALLOW])).toEqual([[0, "jump-range"]]);
    expect(rejections([ja(0xffffffff), ALLOW])).toEqual([[0, "jump-range"]]);
    expect(rejections([jeq(0, 1, 0), ALLOW])).toEqual([[0, "jump-range"]]);
    expect(rejections([jeq(0, 0, 1), ALLOW])).toEqual([[0, "jump-range"]]);
    expect(rejections([jeq(0, 2, 2), ALLOW])).toEqual([
      [0, "jump-range"],
      [0, "jump-range"],
    ]);
    // The farthest legal targets: the last instruction.
    expect(rejections([ja(1), ALLOW, ALLOW])).toEqual([]);
    expect(rejections([jeq(0, 1, 1), ALLOW, ALLOW])).toEqual([]);
  });

  it("refuses a program whose last instruction is not a ret, even if no path reaches it", () => {
    expect(rejections([ALLOW, ld(0)])).toEqual([[1, "last-not-ret"]]);
    expect(rejections([ld(0), retA])).toEqual([]);
  });
});

describe("check_load_and_stores: scratch memory written before read on every path", () => {
  it("refuses a read with no write before it", () => {
    expect(rejections([ldm(0), retA])).toEqual([[0, "mem-uninit"]]);
    expect(rejections([st(1), insn(BPF_LDX | BPF_MEM, 0), retA])).toEqual([[1, "mem-uninit"]]);
  });

  it("refuses a read that one branch reaches without the write", () => {
    // 0: jeq #1 → 1 or 2; 1: st M[0]; 2: ld M[0]: the false edge skips the store.
    expect(rejections([jeq(1, 0, 1), st(0), ldm(0), retA])).toEqual([[2, "mem-uninit"]]);
    // The same through a `ja`.
    expect(rejections([jeq(1, 1, 0), st(0), ja(1), st(1), ldm(0), retA])).toEqual([[4, "mem-uninit"]]);
  });

  it("accepts a read when every path wrote the cell", () => {
    expect(rejections([jeq(1, 0, 2), st(0), ja(1), st(0), ldm(0), retA])).toEqual([]);
    expect(rejections([st(0), jeq(1, 0, 1), ld(0), ldm(0), retA])).toEqual([]);
    expect(rejections([insn(BPF_STX, 7), insn(BPF_LDX | BPF_MEM, 7), retA])).toEqual([]);
  });

  it("is as lenient as the kernel in unreachable code", () => {
    // After `ret`, the kernel's pass keeps the mask of the instruction before it: M[0] counts as written.
    expect(rejections([st(0), retA, ldm(0), retA])).toEqual([]);
    expect(rejections([st(0), retA, ldm(1), retA])).toEqual([[2, "mem-uninit"]]);
    // After `ja`, everything counts as written until a jump target narrows it.
    expect(rejections([ja(1), ldm(5), retA])).toEqual([]);
  });
});

describe("seccomp_check_filter", () => {
  it("refuses byte and half-word loads, indirect loads, the MSH load and mod", () => {
    const refused = [
      BPF_LD | BPF_H | BPF_ABS,
      BPF_LD | BPF_B | BPF_ABS,
      BPF_LD | BPF_W | BPF_IND,
      BPF_LD | BPF_H | BPF_IND,
      BPF_LD | BPF_B | BPF_IND,
      BPF_LDX | BPF_B | BPF_MSH,
      BPF_ALU | BPF_MOD | BPF_K,
      BPF_ALU | BPF_MOD | BPF_X,
    ];
    for (const code of refused) {
      expect(isClassicOpcode(code)).toBe(true);
      expect(rejections([insn(code, 4), retA]), `code 0x${code.toString(16)}`).toEqual([[0, "seccomp-opcode"]]);
    }
  });

  it("refuses word loads outside the 64-byte seccomp_data or not 4-byte aligned", () => {
    expect(rejections([ld(64), retA])).toEqual([[0, "seccomp-load"]]);
    expect(rejections([ld(0xfffff000), retA])).toEqual([[0, "seccomp-load"]]); // a socket-filter ancillary load
    expect(rejections([ld(2), retA])).toEqual([[0, "seccomp-load"]]);
    expect(rejections([ld(61), retA])).toEqual([[0, "seccomp-load"]]);
  });

  it("accepts every aligned word of seccomp_data and the length loads", () => {
    for (let k = 0; k < 64; k += 4) expect(rejections([ld(k), retA]), `ld [${k}]`).toEqual([]);
    expect(rejections([insn(BPF_LD | BPF_W | BPF_LEN), insn(BPF_LDX | BPF_W | BPF_LEN), retA])).toEqual([]);
  });

  it("accepts everything else seccomp lists: ALU but mod, jumps on K and X, tax/txa, imm and memory", () => {
    const program = [
      insn(BPF_LD | BPF_IMM, 1),
      insn(BPF_LDX | BPF_IMM, 2),
      insn(BPF_ALU | BPF_ADD | BPF_X),
      insn(BPF_MISC | BPF_TAX),
      st(0),
      insn(BPF_STX, 1),
      ldm(0),
      insn(BPF_LDX | BPF_MEM, 1),
      insn(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 0),
      insn(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 0),
      insn(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 0),
      retA,
    ];
    expect(rejections(program)).toEqual([]);
  });

  it("knows exactly which classic opcodes seccomp keeps", () => {
    const classic = Array.from({ length: 0x100 }, (_, c) => c).filter(isClassicOpcode);
    const seccomp = classic.filter(isSeccompOpcode);
    // chk_code_allowed's table: 21 ALU (10 ops × K/X, neg), 9 LD, 4 LDX, st, stx, tax, txa, 2 ret, 9 jumps.
    expect(classic).toHaveLength(49);
    // seccomp_check_filter's cases: the same minus mod (2), ldh/ldb abs (2), 3 ind loads and the MSH load.
    expect(seccomp).toHaveLength(41);
    expect(Array.from({ length: 0x100 }, (_, c) => c).filter((c) => isSeccompOpcode(c) && !isClassicOpcode(c))).toEqual([]);
  });
});

describe("reporting", () => {
  it("reports every problem, sorted by pc, in the house style (lowercase, one line, no final period)", () => {
    const r = verifyFilter([ld(2), insn(BPF_ALU | BPF_DIV | BPF_K, 0), insn(0xff), jeq(0, 9, 0), ld(0)]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.pc, e.check])).toEqual([
      [0, "seccomp-load"],
      [1, "div-by-zero"],
      [2, "opcode"],
      [3, "jump-range"],
      [4, "last-not-ret"],
    ]);
    for (const e of r.errors) expect(e.message).toMatch(/^[a-z`][^\n]*[^.]$/);
  });
});

describe("properties", () => {
  // Instructions drawn mostly from the classic vocabulary with small operands, so that some programs pass.
  const insnArb = fc
    .tuple(
      fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: 0xff }).filter(isClassicOpcode) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
      ),
      fc.nat({ max: 6 }),
      fc.nat({ max: 6 }),
      fc.oneof(fc.nat({ max: 70 }), fc.nat({ max: 0xffffffff })),
    )
    .map(([code, jt, jf, k]) => insn(code, k, jt, jf));
  const programArb = fc.tuple(fc.array(insnArb, { maxLength: 20 }), fc.boolean()).map(([p, endWithRet]) => (endWithRet ? [...p, retA] : p));

  it("never throws, and every program it accepts runs to a ret within its length", () => {
    let accepted = 0;
    fc.assert(
      fc.property(programArb, (program) => {
        const r = verifyFilter(program);
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          return;
        }
        accepted++;
        const run = runFilter(program, { nr: 1, arch: 2, args: [3n] });
        expect(run.executed).toBeLessThanOrEqual(program.length);
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(50); // the property must actually exercise accepted programs
  });
});

describe("peer filters (fixtures/data/peer-filters), which real kernels loaded", () => {
  const dir = join(import.meta.dirname, "..", "..", "fixtures", "data", "peer-filters");
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".bpf"));

  it("are all here", () => expect(files.sort()).toHaveLength(4));

  for (const f of files) {
    it(`${f} passes`, () => expect(verifyFilter(decode(readFileSync(join(dir, f))))).toEqual({ ok: true }));
  }
});
