// The disassembly format, line by line as documented in disassemble.ts, and the golden disassemblies of the
// peer filters in fixtures/data/peer-filters/. `SBC_UPDATE_GOLDENS=1` (npm run test:update) rewrites the
// goldens; read that diff like code. A file in that folder that no test reads fails the last test here.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AUDIT_ARCH_X86_64,
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
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
  BPF_MEM,
  BPF_MISC,
  BPF_MOD,
  BPF_MSH,
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
  decode,
  insn,
  type Insn,
} from "./bpf.js";
import { describeInsn, disassemble, retName, seccompDataField } from "./disassemble.js";

const ret = (k: number) => insn(BPF_RET | BPF_K, k);
/** The text after `<pc>: ` for one instruction at pc 10, so jump targets are visibly absolute. */
const at10 = (i: Insn) => describeInsn(i, 10);

describe("one instruction", () => {
  const cases: [Insn, string][] = [
    [insn(BPF_LD | BPF_W | BPF_ABS, 0), "ld [0]  ; nr"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 4), "ld [4]  ; arch"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 8), "ld [8]  ; ip.lo"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 12), "ld [12]  ; ip.hi"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 16), "ld [16]  ; arg0.lo"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 20), "ld [20]  ; arg0.hi"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 60), "ld [60]  ; arg5.hi"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 64), "ld [64]"],
    [insn(BPF_LD | BPF_W | BPF_ABS, 2), "ld [2]"],
    [insn(BPF_LD | BPF_H | BPF_ABS, 2), "ldh [2]"],
    [insn(BPF_LD | BPF_B | BPF_ABS, 3), "ldb [3]"],
    [insn(BPF_LD | BPF_W | BPF_IND, 4), "ld [x + 4]"],
    [insn(BPF_LD | BPF_H | BPF_IND, 4), "ldh [x + 4]"],
    [insn(BPF_LD | BPF_B | BPF_IND, 4), "ldb [x + 4]"],
    [insn(BPF_LD | BPF_W | BPF_LEN), "ld #len"],
    [insn(BPF_LD | BPF_IMM, 64), "ld #0x40"],
    [insn(BPF_LD | BPF_MEM, 3), "ld M[3]"],
    [insn(BPF_LDX | BPF_W | BPF_LEN), "ldx #len"],
    [insn(BPF_LDX | BPF_IMM, 0xffffffff), "ldx #0xffffffff"],
    [insn(BPF_LDX | BPF_MEM, 15), "ldx M[15]"],
    [insn(BPF_LDX | BPF_B | BPF_MSH, 14), "ldxb 4*([14]&0xf)"],
    [insn(BPF_ST, 0), "st M[0]"],
    [insn(BPF_STX, 1), "stx M[1]"],
    [insn(BPF_ALU | BPF_ADD | BPF_K, 1), "add #0x1"],
    [insn(BPF_ALU | BPF_SUB | BPF_X), "sub x"],
    [insn(BPF_ALU | BPF_MUL | BPF_K, 3), "mul #0x3"],
    [insn(BPF_ALU | BPF_DIV | BPF_X), "div x"],
    [insn(BPF_ALU | BPF_MOD | BPF_K, 7), "mod #0x7"],
    [insn(BPF_ALU | BPF_AND | BPF_K, 0x10000000), "and #0x10000000"],
    [insn(BPF_ALU | BPF_OR | BPF_X), "or x"],
    [insn(BPF_ALU | BPF_XOR | BPF_K, 0xff), "xor #0xff"],
    [insn(BPF_ALU | BPF_LSH | BPF_K, 4), "lsh #0x4"],
    [insn(BPF_ALU | BPF_RSH | BPF_X), "rsh x"],
    [insn(BPF_ALU | BPF_NEG), "neg"],
    [insn(BPF_MISC | BPF_TAX), "tax"],
    [insn(BPF_MISC | BPF_TXA), "txa"],
    [insn(BPF_JMP | BPF_JA, 29), "ja 40"],
    [insn(BPF_JMP | BPF_JEQ | BPF_K, 0x29, 2, 4), "jeq #0x29, 13, 15"],
    [insn(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1), "jgt x, 11, 12"],
    [insn(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 0), "jge #0x40000000, 11, 11"],
    [insn(BPF_JMP | BPF_JSET | BPF_K, 0x80000000, 255, 0), "jset #0x80000000, 266, 11"],
    [insn(BPF_RET | BPF_A), "ret a"],
    [ret(SECCOMP_RET_ALLOW), "ret ALLOW"],
    [ret(SECCOMP_RET_KILL_PROCESS), "ret KILL_PROCESS"],
    [ret(0x00010000), "ret #0x00010000  ; unknown action, the kernel kills the process"],
    [insn(BPF_RET | BPF_X), "unknown code=0x000e jt=0 jf=0 k=0x0"],
    [insn(0x1234, 5, 1, 2), "unknown code=0x1234 jt=1 jf=2 k=0x5"],
    [insn(BPF_JMP | BPF_JA | BPF_X, 1), "unknown code=0x000d jt=0 jf=0 k=0x1"],
  ];
  for (const [i, want] of cases) it(want, () => expect(at10(i)).toBe(want));
});

describe("return values", () => {
  const cases: [number, string][] = [
    [SECCOMP_RET_ALLOW, "ALLOW"],
    [(SECCOMP_RET_ALLOW | 5) >>> 0, "ALLOW(5)"],
    [SECCOMP_RET_LOG, "LOG"],
    [SECCOMP_RET_KILL_PROCESS, "KILL_PROCESS"],
    [SECCOMP_RET_KILL_THREAD, "KILL_THREAD"],
    [SECCOMP_RET_USER_NOTIF, "USER_NOTIF"],
    [(SECCOMP_RET_ERRNO | 1) >>> 0, "ERRNO(1)"],
    [SECCOMP_RET_ERRNO, "ERRNO(0)"], // data 0 is meaningful for ERRNO: the call "succeeds" with 0
    [(SECCOMP_RET_ERRNO | 38) >>> 0, "ERRNO(38)"],
    [SECCOMP_RET_TRAP, "TRAP(0)"],
    [(SECCOMP_RET_TRACE | 65535) >>> 0, "TRACE(65535)"],
  ];
  for (const [k, want] of cases) it(want, () => expect(retName(k)).toBe(want));
  it("has no name for an action the kernel does not know", () => expect(retName(0x7ffe0000)).toBeUndefined());
});

describe("seccomp_data field names", () => {
  it("names the 16 words, little-endian halves of the 64-bit ones", () => {
    const names = Array.from({ length: 16 }, (_, w) => seccompDataField(w * 4));
    expect(names).toEqual([
      "nr", "arch", "ip.lo", "ip.hi",
      "arg0.lo", "arg0.hi", "arg1.lo", "arg1.hi", "arg2.lo", "arg2.hi",
      "arg3.lo", "arg3.hi", "arg4.lo", "arg4.hi", "arg5.lo", "arg5.hi",
    ]);
    expect([1, 62, 64, -4].map((k) => seccompDataField(k))).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("names the halves the other way round on a big-endian machine (s390x)", () => {
    const names = Array.from({ length: 6 }, (_, w) => seccompDataField(w * 4, "big"));
    expect(names).toEqual(["nr", "arch", "ip.hi", "ip.lo", "arg0.hi", "arg0.lo"]);
  });
});

describe("whole programs", () => {
  const program = [
    insn(BPF_LD | BPF_W | BPF_ABS, 4),
    insn(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    ret(SECCOMP_RET_KILL_PROCESS),
    insn(BPF_LD | BPF_W | BPF_ABS, 0),
    insn(BPF_JMP | BPF_JEQ | BPF_K, 42, 0, 1),
    ret((SECCOMP_RET_ERRNO | 1) >>> 0),
    ret(SECCOMP_RET_ALLOW),
  ];

  it("prints one line per instruction, pc right-aligned in 4 columns, each line ending in a newline", () => {
    expect(disassemble(program)).toBe(
      [
        "   0: ld [4]  ; arch",
        "   1: jeq #0xc000003e, 3, 2",
        "   2: ret KILL_PROCESS",
        "   3: ld [0]  ; nr",
        "   4: jeq #0x2a, 5, 6",
        "   5: ret ERRNO(1)",
        "   6: ret ALLOW",
        "",
      ].join("\n"),
    );
    expect(disassemble([])).toBe("");
  });

  it("appends the caller's comment after the built-in note, on one line", () => {
    const comments = new Map([
      [3, "dispatch"],
      [4, "connect"],
      [5, "the\npolicy's\r\n  deny"],
    ]);
    const text = disassemble(program, { comment: (pc) => comments.get(pc) });
    expect(text.split("\n").slice(3, 7)).toEqual([
      "   3: ld [0]  ; nr; dispatch",
      "   4: jeq #0x2a, 5, 6  ; connect",
      "   5: ret ERRNO(1)  ; the policy's deny",
      "   6: ret ALLOW",
    ]);
  });

  it("lines up 4-digit pcs too", () => {
    const long = Array.from({ length: 1001 }, () => ret(SECCOMP_RET_ALLOW));
    const lines = disassemble(long).split("\n");
    expect(lines[9]).toBe("   9: ret ALLOW");
    expect(lines[1000]).toBe("1000: ret ALLOW");
  });

  it("is a pure function of the program: one line per instruction, each `<pc>: ` then describeInsn", () => {
    const anyInsn = fc
      .tuple(fc.integer({ min: 0, max: 0xffff }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 0xffffffff }))
      .map(([code, jt, jf, k]) => insn(code, k, jt, jf));
    fc.assert(
      fc.property(fc.array(anyInsn, { maxLength: 30 }), (p) => {
        const lines = disassemble(p).split("\n");
        expect(lines.pop()).toBe("");
        expect(lines).toEqual(p.map((i, pc) => `${String(pc).padStart(4)}: ${describeInsn(i, pc)}`));
        expect(disassemble(p)).toBe(disassemble(p.map((i) => ({ ...i }))));
      }),
    );
  });
});

// ---- goldens ----

const PEERS = join(import.meta.dirname, "..", "..", "fixtures", "data", "peer-filters");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";
const filters = readdirSync(PEERS, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".bpf"))
  .sort();

describe("golden disassemblies of the peer filters", () => {
  for (const f of filters) {
    const golden = f.replace(/\.bpf$/, ".disasm.txt");
    it(golden, () => {
      const text = disassemble(decode(readFileSync(join(PEERS, f))));
      const file = join(PEERS, golden);
      if (UPDATE) writeFileSync(file, text);
      expect(existsSync(file), `${golden} is missing; run npm run test:update and review it`).toBe(true);
      expect(text).toBe(readFileSync(file, "utf8"));
    });
  }

  it("the Codex filter's golden shows seccompiler's shape: no x32 check after the arch test", () => {
    const text = readFileSync(join(PEERS, "seccompiler-0.5.0/codex-net.seccompiler.disasm.txt"), "utf8");
    expect(text.split("\n").slice(0, 5)).toEqual([
      "   0: ld [4]  ; arch",
      "   1: jeq #0xc000003e, 3, 2",
      "   2: ret KILL_PROCESS",
      "   3: ld [0]  ; nr",
      "   4: jeq #0x29, 5, 6",
    ]);
    expect(text.split("\n")).toHaveLength(115);
  });

  it("holds nothing that no test reads", () => {
    const all = readdirSync(PEERS, { recursive: true, encoding: "utf8" })
      .filter((f) => statSync(join(PEERS, f)).isFile())
      .sort();
    const expected = new Set(["README.md", ...filters, ...filters.map((f) => f.replace(/\.bpf$/, ".disasm.txt"))]);
    // Each peer folder keeps the provenance note it came with.
    for (const f of filters) expected.add(join(f.split("/")[0]!, "SOURCE.md"));
    expect(all.filter((f) => !expected.has(f)), "unexpected files in fixtures/data/peer-filters").toEqual([]);
    expect([...expected].filter((f) => !all.includes(f)), "missing files in fixtures/data/peer-filters").toEqual([]);
  });
});
