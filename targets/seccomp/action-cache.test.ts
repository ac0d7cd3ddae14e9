// The action-cache emulation against the kernel's rule (seccomp_is_const_allow), hand-built paths for each
// instruction it follows or gives up on, its soundness and exactness relative to the interpreter on random
// programs, and the cache fractions measured on the peer filters (shared/reference/seccomp-generators.md).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
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
  BPF_MISC,
  BPF_OR,
  BPF_RET,
  BPF_ST,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_LOG,
  X32_SYSCALL_BIT,
  decode,
  insn,
  type Insn,
} from "./bpf.js";
import { X86_64_UPROBE_SYSCALLS, cacheEligible, cacheStats, isConstAllow } from "./action-cache.js";
import { runFilter } from "./interpreter.js";

const ld = (k: number) => insn(BPF_LD | BPF_W | BPF_ABS, k);
const jmp = (op: number, k: number, jt: number, jf: number) => insn(BPF_JMP | op | BPF_K, k, jt, jf);
const ret = (k: number) => insn(BPF_RET | BPF_K, k);
const ALLOW = ret(SECCOMP_RET_ALLOW);
const EPERM = ret((SECCOMP_RET_ERRNO | 1) >>> 0);
const X86_64 = AUDIT_ARCH_X86_64;

/** `ld arch; jeq x86_64 or kill; ld nr; <body>`: the usual prologue, so bodies below test one thing each. */
const withPrologue = (body: Insn[]): Insn[] => [
  ld(4),
  jmp(BPF_JEQ, X86_64, 1, 0),
  ret(SECCOMP_RET_KILL_PROCESS),
  ld(0),
  ...body,
];

describe("what keeps a number cacheable", () => {
  it("an unconditional `ret ALLOW` caches every number of any arch", () => {
    for (const nr of [0, 1, 42, 469]) expect(cacheEligible([ALLOW], X86_64, nr)).toBe(true);
    expect(cacheEligible([ALLOW], AUDIT_ARCH_AARCH64, 0)).toBe(true);
  });

  it("the prologue's arch test is followed: the foreign arch lands on KILL and is not cached", () => {
    const program = withPrologue([ALLOW]);
    expect(cacheEligible(program, X86_64, 0)).toBe(true);
    expect(cacheEligible(program, AUDIT_ARCH_I386, 0)).toBe(false);
  });

  it("jeq/jge/jgt on nr are followed both ways", () => {
    // nr == 42 → EPERM; nr >= 400 → EPERM; nr > 300 → EPERM; else ALLOW.
    const program = withPrologue([
      jmp(BPF_JEQ, 42, 3, 0),
      jmp(BPF_JGE, 400, 2, 0),
      jmp(BPF_JGT, 300, 1, 0),
      ALLOW,
      EPERM,
    ]);
    expect([41, 42, 43, 300, 301, 399, 400].map((nr) => cacheEligible(program, X86_64, nr))).toEqual([
      true, false, true, true, false, false, false,
    ]);
  });

  it("a path through `and #k` and `jset #k` is cacheable", () => {
    // (nr & ~0xf) == 0x10 → allow; nr has bit 0x100 → EPERM; else allow.
    const program = withPrologue([
      jmp(BPF_JSET, 0x100, 4, 0),
      insn(BPF_ALU | BPF_AND | BPF_K, 0xfffffff0),
      jmp(BPF_JEQ, 0x10, 0, 1),
      ALLOW,
      ALLOW,
      EPERM,
    ]);
    expect(cacheEligible(program, X86_64, 0x13)).toBe(true);
    expect(cacheEligible(program, X86_64, 0x21)).toBe(true);
    expect(cacheEligible(program, X86_64, 0x101)).toBe(false);
  });

  it("`ja` is followed, so a disqualifying instruction it jumps over does not matter", () => {
    const program = [insn(BPF_JMP | BPF_JA, 1), ld(16), ALLOW];
    expect(cacheEligible(program, X86_64, 0)).toBe(true);
  });

  it("only the path taken matters: an arg check on another syscall leaves the rest cacheable", () => {
    // nr == 41 → check arg0; everything else ALLOW.
    const program = withPrologue([jmp(BPF_JEQ, 41, 1, 0), ALLOW, ld(16), jmp(BPF_JEQ, 1, 0, 1), ALLOW, EPERM]);
    expect(cacheEligible(program, X86_64, 40)).toBe(true);
    expect(cacheEligible(program, X86_64, 41)).toBe(false);
  });
});

describe("what makes a number uncacheable", () => {
  it("an allow path that loads an argument or the instruction pointer", () => {
    expect(cacheEligible([ld(16), ALLOW], X86_64, 0)).toBe(false);
    expect(cacheEligible([ld(20), ALLOW], X86_64, 0)).toBe(false);
    expect(cacheEligible([ld(8), ALLOW], X86_64, 0)).toBe(false);
  });

  it("RET LOG, ALLOW carrying data bits, and `ret a` even when A holds ALLOW", () => {
    expect(cacheEligible([ret(SECCOMP_RET_LOG)], X86_64, 0)).toBe(false);
    expect(cacheEligible([ret((SECCOMP_RET_ALLOW | 1) >>> 0)], X86_64, 0)).toBe(false);
    expect(cacheEligible([insn(BPF_LD | BPF_IMM, SECCOMP_RET_ALLOW), insn(BPF_RET | BPF_A)], X86_64, 0)).toBe(false);
  });

  it("any instruction outside the emulated set on the path", () => {
    const spoilers: [string, Insn][] = [
      ["ld #k", insn(BPF_LD | BPF_IMM, 0)],
      ["ldx #k", insn(BPF_LDX | BPF_IMM, 0)],
      ["ld #len (the user's program is emulated, before seccomp rewrites it)", insn(BPF_LD | BPF_W | BPF_LEN)],
      ["tax", insn(BPF_MISC | BPF_TAX)],
      ["txa", insn(BPF_MISC | BPF_TXA)],
      ["st M[0]", insn(BPF_ST, 0)],
      ["add #0", insn(BPF_ALU | BPF_ADD | BPF_K, 0)],
      ["or #0", insn(BPF_ALU | BPF_OR | BPF_K, 0)],
      ["and x", insn(BPF_ALU | BPF_AND | BPF_X)],
    ];
    for (const [name, spoiler] of spoilers) {
      expect(cacheEligible([ld(0), spoiler, ALLOW], X86_64, 0), name).toBe(false);
      expect(cacheEligible([ld(0), ALLOW, spoiler, ALLOW], X86_64, 0), `${name}, off the path`).toBe(true);
    }
    // A jump on X, even one whose both edges lead to ALLOW.
    expect(cacheEligible([ld(0), insn(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 0), ALLOW], X86_64, 0)).toBe(false);
    // `ld M[k]` never needs a case of its own: the verifier demands a `st` before it on the same path.
  });

  it("numbers outside every kernel bitmap: x32 numbers and negative ones, whatever the filter says", () => {
    expect(cacheEligible([ALLOW], X86_64, X32_SYSCALL_BIT | 42)).toBe(false);
    expect(cacheEligible([ALLOW], X86_64, -1)).toBe(false);
    // The emulation alone would say yes; the bitmap range is what rules them out.
    expect(isConstAllow([ALLOW], X86_64, X32_SYSCALL_BIT | 42)).toBe(true);
  });
});

describe("the uprobe exception (seccomp_uprobe_exception)", () => {
  const denyAll = [EPERM];
  it("is off by default", () => {
    for (const nr of X86_64_UPROBE_SYSCALLS) expect(cacheEligible(denyAll, X86_64, nr)).toBe(false);
  });

  it("forces x86_64 uretprobe and uprobe into the cache, and nothing else", () => {
    const on = { uprobeException: true };
    expect(cacheEligible(denyAll, X86_64, 335, on)).toBe(true);
    expect(cacheEligible(denyAll, X86_64, 336, on)).toBe(true);
    expect(cacheEligible(denyAll, X86_64, 334, on)).toBe(false);
    expect(cacheEligible(denyAll, AUDIT_ARCH_I386, 335, on)).toBe(false);
  });
});

describe("cacheStats", () => {
  it("lists the cacheable numbers in the order given and their fraction", () => {
    const program = withPrologue([jmp(BPF_JEQ, 42, 0, 1), EPERM, ALLOW]);
    expect(cacheStats(program, X86_64, [43, 42, 0, 1])).toEqual({ eligible: [43, 0, 1], fraction: 0.75 });
    expect(cacheStats(program, X86_64, [])).toEqual({ eligible: [], fraction: 0 });
  });

  it("refuses a program the kernel would refuse, like every entry point here", () => {
    expect(() => cacheStats([ld(0)], X86_64, [0])).toThrow(/would reject/);
    expect(() => cacheEligible([insn(BPF_JMP | BPF_JA, 5), ALLOW], X86_64, 0)).toThrow(/would reject/);
    expect(() => isConstAllow([], X86_64, 0)).toThrow(/would reject/);
  });
});

describe("properties: the emulation against the interpreter", () => {
  // Programs mixing what the emulation follows with what stops it, jumps forward only.
  const K = fc.constantFrom(0, 1, 2, 3, 0x10, 0x29, 0xfffffff0, X86_64, AUDIT_ARCH_I386);
  const kinds = ["ldnr", "ldarch", "ldarg", "jeq", "jge", "jgt", "jset", "and", "ja", "allow", "deny", "log", "ldi", "add"] as const;
  const program = (kindsAllowed: readonly (typeof kinds)[number][]) =>
    fc
      .array(fc.tuple(fc.constantFrom(...kindsAllowed), K, fc.nat(), fc.nat()), { minLength: 1, maxLength: 30 })
      .map((spec) =>
        spec.map(([kind, k, t, f], pc): Insn => {
          const room = spec.length - pc - 1;
          if (room === 0) return kind === "deny" ? EPERM : kind === "log" ? ret(SECCOMP_RET_LOG) : ALLOW;
          switch (kind) {
            case "ldnr":
              return ld(0);
            case "ldarch":
              return ld(4);
            case "ldarg":
              return ld(16);
            case "and":
              return insn(BPF_ALU | BPF_AND | BPF_K, k);
            case "ja":
              return insn(BPF_JMP | BPF_JA, t % room);
            case "allow":
              return ALLOW;
            case "deny":
              return EPERM;
            case "log":
              return ret(SECCOMP_RET_LOG);
            case "ldi":
              return insn(BPF_LD | BPF_IMM, k);
            case "add":
              return insn(BPF_ALU | BPF_ADD | BPF_K, k);
            default: {
              const op = { jeq: BPF_JEQ, jge: BPF_JGE, jgt: BPF_JGT, jset: BPF_JSET }[kind];
              return jmp(op, k, t % Math.min(room, 256), f % Math.min(room, 256));
            }
          }
        }),
      );
  const nrArb = fc.constantFrom(0, 1, 2, 3, 0x10, 0x13, 0x29);
  const archArb = fc.constantFrom(X86_64, AUDIT_ARCH_I386);
  const argsArb = fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 6 });

  it("sound: a cacheable number is allowed (exactly SECCOMP_RET_ALLOW) whatever the arguments and ip", () => {
    let cached = 0;
    fc.assert(
      fc.property(program(kinds), archArb, nrArb, argsArb, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (p, arch, nr, args, ip) => {
        if (!cacheEligible(p, arch, nr)) return;
        cached++;
        expect(runFilter(p, { nr, arch, args, ip }).ret).toBe(SECCOMP_RET_ALLOW);
      }),
      { numRuns: 3000 },
    );
    expect(cached).toBeGreaterThan(100);
  });

  it("exact on programs that read only nr and arch with followed instructions: cacheable ⟺ the run allows", () => {
    const followed = ["ldnr", "ldarch", "jeq", "jge", "jgt", "jset", "and", "ja", "allow", "deny", "log"] as const;
    fc.assert(
      fc.property(program(followed), archArb, nrArb, (p, arch, nr) => {
        expect(cacheEligible(p, arch, nr)).toBe(runFilter(p, { nr, arch }).ret === SECCOMP_RET_ALLOW);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- peer filters: "cache-eligible" in the reference's table, over x86_64 numbers 0..469 ----

const PEERS = join(import.meta.dirname, "..", "..", "fixtures", "data", "peer-filters");
const peer = (path: string): Insn[] => decode(readFileSync(join(PEERS, path)));
const ALL_NUMBERS = Array.from({ length: 470 }, (_, n) => n);
const uncached = (programs: Insn[][]) =>
  ALL_NUMBERS.filter((nr) => !programs.every((p) => cacheEligible(p, X86_64, nr)));

describe("peer filters: exactly the syscalls with rules fall out of the cache", () => {
  it("Codex's network filter: the 21 denied calls (362 of the reference's 383 remain, 94.5%)", () => {
    const codex = peer("seccompiler-0.5.0/codex-net.seccompiler.bpf");
    // socket 41 … getsockopt 55 except 45–47; ptrace; accept4; recvmmsg; sendmmsg; process_vm_*; io_uring_*.
    expect(uncached([codex])).toEqual([41, 42, 43, 44, 48, 49, 50, 51, 52, 53, 54, 55, 101, 288, 299, 307, 310, 311, 425, 426, 427]);
  });

  it("the 9-call deny list: its 9 calls (374 of 383, 97.7%)", () => {
    const denylist = peer("seccompiler-0.5.0/denylist.seccompiler.bpf");
    expect(uncached([denylist])).toEqual([101, 165, 166, 167, 169, 175, 246, 298, 321]);
  });

  it("sandbox-runtime: 15 for namespaces, 4 for unix, their union of 19 for the stack (364 of 383, 95.0%)", () => {
    const namespaces = peer("sandbox-runtime-0.0.83/x86_64.namespaces.bpf");
    const unix = peer("sandbox-runtime-0.0.83/x86_64.unix.bpf");
    // clone, pivot_root, mount, umount2, unshare, setns, open_tree … fspick, clone3, mount_setattr, open_tree_attr
    const ns = [56, 155, 165, 166, 272, 308, 428, 429, 430, 431, 432, 433, 435, 442, 467];
    const un = [41, 425, 426, 427]; // socket, io_uring_*
    expect(uncached([namespaces])).toEqual(ns);
    expect(uncached([unix])).toEqual(un);
    expect(uncached([namespaces, unix])).toEqual([...ns, ...un].sort((a, b) => a - b));
  });
});
