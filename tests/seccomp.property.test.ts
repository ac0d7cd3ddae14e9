// The seccomp backend against the IR's meaning: random policies (rules with conditions, layers, every
// action, network settings) are compiled, verified like the kernel would, and run by the BPF interpreter on
// random syscall events; every answer must equal the reference (targets/seccomp/semantics.ts). Plus the
// properties that matter for speed: unconditional allows stay in the kernel's action cache, nothing else
// does by accident, and every number reaches its verdict through a short path.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Action, ArgCondition, CmpOp, FsRule, IR, NetRule, SyscallRule, UnixSockets } from "../ir/types.js";
import { evaluateSyscall } from "../ir/evaluator/evaluate.js";
import { ARCHES, ARCH_INFO, syscallNumber, type Arch } from "../linux-abi/index.js";
import { compareSyscallEntries, entriesName, formatNumberedEntry } from "../ir/evaluator/syscall-numbers.js";
import { cacheEligible } from "../targets/seccomp/action-cache.js";
import { actionValue } from "../targets/seccomp/actions.js";
import { AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from "../targets/seccomp/bpf.js";
import { compileSeccomp } from "../targets/seccomp/index.js";
import { generate } from "../targets/seccomp/codegen.js";
import { runFilter, type SeccompData } from "../targets/seccomp/interpreter.js";
import { lowerFilter } from "../targets/seccomp/lower.js";
import { networkSyscalls } from "../ir/evaluator/network-syscalls.js";
import { AUDIT_ARCH, expectedAction, syscallName } from "../targets/seccomp/semantics.js";
import { verifyFilter } from "../targets/seccomp/verifier.js";
import { makeIr, unixWord } from "./support/ir.js";

// socketcall/ipc and the calls they multiplex (semop, shmat, recv, send), arm's private set_tls and the
// i386-only socketcall sub-calls exist only on some arches: rules may name them anyway.
const NAMES = ["read", "write", "socket", "socketpair", "connect", "bind", "getppid", "clone", "personality", "ioctl", "io_uring_setup", "openat", "socketcall", "ipc", "semop", "shmat", "recv", "send", "set_tls"] as const;
// Small values are socketcall/ipc sub-call numbers (SYS_SOCKET 1 … SYS_SENDMMSG 20, SEMOP 1 … SHMCTL 24), 0x10015 an ipc call with a version.
const VALUES = [0n, 1n, 2n, 3n, 5n, 8n, 9n, 10n, 13n, 20n, 21n, 24n, 0x10015n, 0x10n, 0xffn, 0x80001n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, 0x1_0000_0005n, (1n << 63n), (1n << 64n) - 1n, 0x1ffn, 0xffff_ffff_ffff_ff9cn];
const OPS: readonly CmpOp[] = ["==", "!=", "<", "<=", ">", ">=", "&=="];
const hex = (v: bigint) => "0x" + v.toString(16);

const valueArb = fc.oneof(fc.constantFrom(...VALUES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
/**
 * Argument values whose low 16 or 32 bits are one of VALUES' and whose higher bits are anything: what a caller
 * sets to dodge a condition on an `int` or `umode_t` argument that is compared on more bits than the kernel reads.
 */
const dodgeArb = fc
  .tuple(fc.constantFrom(...VALUES), fc.constantFrom(16n, 32n), fc.bigInt({ min: 1n, max: (1n << 48n) - 1n }))
  .map(([v, w, high]) => (v & ((1n << w) - 1n)) | ((high << w) & ((1n << 64n) - 1n)));
const argArb = fc.oneof(valueArb, dodgeArb);
const condArb: fc.Arbitrary<ArgCondition> = fc
  .record({ arg: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom(...OPS), value: valueArb, mask: valueArb })
  .map(({ arg, op, value, mask }) => (op === "&==" ? { arg, op, mask: hex(mask), value: hex(value & mask) } : { arg, op, value: hex(value) }));
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>({ type: "allow" }, { type: "log" }, { type: "trap" }, { type: "kill-thread" }, { type: "kill-process" }, { type: "user-notif" }),
  fc.integer({ min: 0, max: 4095 }).map((errno): Action => ({ type: "errno", errno })),
  fc.integer({ min: 0, max: 0xffff }).map((data): Action => ({ type: "trace", data })),
);
/**
 * Calls named by number: numbers of the names above (the same call twice), gaps, numbers past every table,
 * -1 (a tracer's skip), and on aarch64 a number with bit 30 set (an ordinary number there).
 */
const NUMBERED = [
  ...(["x86_64", "aarch64"] as const).flatMap((a) => NAMES.map((n) => syscallNumber(a, n)).filter((n): n is number => n !== undefined).map((n) => formatNumberedEntry(a, n))),
  "x86_64:-1",
  "aarch64:-1",
  "x86_64:600",
  "aarch64:600",
  "x86_64:0x3fffffff",
  "aarch64:0x40000029",
  "aarch64:244",
];
const ruleArb: fc.Arbitrary<SyscallRule> = fc.record({
  syscalls: fc
    .uniqueArray(fc.oneof({ weight: 3, arbitrary: fc.constantFrom<string>(...NAMES) }, { weight: 1, arbitrary: fc.constantFrom(...NUMBERED) }), { minLength: 1, maxLength: 3 })
    .map((xs) => [...xs].sort(compareSyscallEntries)),
  action: actionArb,
  conditions: fc.array(condArb, { maxLength: 3 }),
  layer: fc.integer({ min: 0, max: 2 }),
});
/**
 * Unix sections that reach every branch of network-syscalls.ts: pairs and abstract names on and off, path
 * rules at `/` and below it, allowing and denying each operation.
 */
const unixArb: fc.Arbitrary<UnixSockets> = fc.oneof(
  fc.constantFrom("allow" as const, "deny" as const).map(unixWord),
  fc.record({
    pairs: fc.constantFrom("allow" as const, "deny" as const),
    abstract: fc.constantFrom("allow" as const, "deny" as const),
    paths: fc.array(
      fc.record({
        effect: fc.constantFrom("allow" as const, "deny" as const),
        ops: fc.subarray(["bind", "connect"] as const, { minLength: 1 }),
        path: fc.constantFrom("/", "/run", "/w/s"),
        layer: fc.integer({ min: 0, max: 1 }),
      }),
      { maxLength: 3 },
    ),
  }),
);
const netArb: fc.Arbitrary<{ unix: UnixSockets; rules: NetRule[] }> = fc.record({
  unix: unixArb,
  rules: fc.constantFrom<NetRule[]>(
    [],
    [{ effect: "allow", ops: ["connect"], protocols: ["tcp"], hosts: "any", ports: [[443, 443]], layer: 0 }],
    [{ effect: "allow", ops: ["bind"], protocols: ["udp"], hosts: "loopback", ports: [[53, 53]], layer: 0 }],
    [{ effect: "allow", ops: ["bind", "connect"], protocols: ["tcp", "udp"], hosts: "any", ports: [[0, 65535]], layer: 0 }],
  ),
});
/** Whether the filesystem lets a socket file be created somewhere: it decides whether binding narrows. */
const fsArb: fc.Arbitrary<FsRule[]> = fc.constantFrom<FsRule[]>([], [{ effect: "allow", access: ["create-special"], kind: "subtree", path: "/w", ifMissing: "skip", layer: 0 }]);
const irArb: fc.Arbitrary<IR> = fc
  .record({
    rules: fc.array(ruleArb, { maxLength: 8 }),
    dflt: actionArb,
    net: netArb,
    fs: fsArb,
    foreign: fc.option(actionArb, { nil: undefined }),
    newer: fc.option(actionArb, { nil: undefined, freq: 2 }),
    kernel: fc.option(fc.constantFrom("5.0", "5.3", "5.10", "6.1", "7.0"), { nil: undefined }),
  })
  .map(({ rules, dflt, net, fs, foreign, newer, kernel }) => {
    // Rules are in merge order: layers never decrease along the list.
    const sorted = [...rules].sort((a, b) => a.layer - b.layer);
    const ir = makeIr({ syscallRules: sorted, defaultAction: dflt, unix: net.unix, netRules: net.rules, filesystem: fs });
    return {
      ...ir,
      syscalls: {
        ...ir.syscalls,
        ...(foreign ? { foreignArchAction: foreign } : {}),
        ...(newer ? { newerAction: newer } : {}),
        ...(kernel !== undefined ? { kernel } : {}),
      },
    };
  });

function eventArb(arch: Arch) {
  const base = ARCH_INFO[arch].nrBase;
  const nrs = NAMES.map((n) => syscallNumber(arch, n)).filter((n): n is number => n !== undefined).map((n) => n + base);
  return fc.record({
    nr: fc.oneof(
      fc.constantFrom(...nrs),
      fc.integer({ min: 0, max: 700 }).map((n) => n + base),
      // x32's compat range and its neighbours, x86_64 numbers seen as x32, arm's private calls, -1, numbers past the tables
      fc.constantFrom(X32_SYSCALL_BIT | 41, X32_SYSCALL_BIT | 514, X32_SYSCALL_BIT | 16, 0xffffffff, 0xfffffffe, 0x3fffffff, 0x40000000, 0xf0005, 0xf07ff, 244, 600, 601),
    ),
    // arg0 is a multiplexer's sub-call number often enough to reach every sub-call
    args: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 25 }).map(BigInt), argArb), fc.array(argArb, { minLength: 5, maxLength: 5 })).map(([a0, rest]) => [a0, ...rest]),
    // One event in twenty from another arch: drawn by fast-check, so the run's seed decides it.
    foreign: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  });
}

function check(ir: IR, arches: readonly Arch[], events: { arch: number; nr: number; args: bigint[] }[]): void {
  const out = compileSeccomp(ir, arches);
  expect(out.filter, out.diagnostics.map((d) => d.message).join("; ")).toBeDefined();
  const program = out.filter!.program;
  const byteOrder = out.filter!.endianness;
  expect(verifyFilter(program)).toEqual({ ok: true });
  for (const e of events) {
    const want = actionValue(expectedAction(ir, arches, e));
    const got = runFilter(program, { nr: e.nr, arch: e.arch, args: e.args, byteOrder }).ret >>> 0;
    if (got !== want) expect({ event: { ...e, args: e.args.map(hex) }, got: got.toString(16) }).toEqual({ event: { ...e, args: e.args.map(hex) }, got: want.toString(16) });
  }
}

describe("seccomp backend = reference semantics", () => {
  for (const arches of [["x86_64"], ["aarch64"], ["x86_64", "aarch64"]] as const) {
    it(`random policies, random events (${arches.join("+")})`, () => {
      fc.assert(
        fc.property(irArb, fc.array(fc.tuple(fc.constantFrom(...arches), eventArb(arches[0])), { minLength: 20, maxLength: 60 }), (ir, evs) => {
          check(
            ir,
            arches,
            evs.map(([a, e]) => ({ arch: e.foreign ? 0x40000003 : AUDIT_ARCH[a], nr: e.nr, args: e.args })),
          );
        }),
        { numRuns: Number(process.env.SBC_PROPERTY_RUNS ?? 400) },
      );
    });
  }

  // Any set of arches that one kernel could load: little-endian ones together, or s390x. Events come from
  // every arch (served or not), with AUDIT_ARCH_MIPS as one arch no filter serves.
  const LITTLE = ARCHES.filter((a) => ARCH_INFO[a].endianness === "little");
  const archSetArb = fc.oneof(fc.subarray([...LITTLE], { minLength: 1, maxLength: 4 }), fc.constant<Arch[]>(["s390x"]));
  it("random policies, random events, random arch sets of one byte order (x32, i386, arm, s390x …)", () => {
    fc.assert(
      fc.property(
        irArb,
        archSetArb,
        fc.array(
          fc.constantFrom(...ARCHES).chain((a) => eventArb(a).map((e) => ({ a, e }))),
          { minLength: 20, maxLength: 60 },
        ),
        (ir, arches, evs) => {
          check(
            ir,
            arches,
            evs.map(({ a, e }) => ({ arch: e.foreign ? 0x00000008 : AUDIT_ARCH[a], nr: e.nr, args: e.args })),
          );
        },
      ),
      { numRuns: Math.ceil(Number(process.env.SBC_PROPERTY_RUNS ?? 400) / 2) },
    );
  }, 120_000);

  it("facts about arguments never cross from one syscall's path into another's (a jump-threading regression)", () => {
    // read reaches clone's argument program only after arg3 > 0x100000001; clone reaches it with nothing known
    // about arg3. Threading once assumed read's facts on clone's path and dropped clone's allow.
    const ir = makeIr({
      unix: "allow",
      defaultAction: { type: "errno", errno: 0 },
      syscallRules: [
        { syscalls: ["clone", "read"], action: { type: "allow" }, conditions: [{ arg: 0, op: "!=", value: "0x0" }, { arg: 3, op: "<", value: "0x2" }], layer: 0 },
        { syscalls: ["read"], action: { type: "errno", errno: 0 }, conditions: [{ arg: 3, op: "<=", value: "0x100000001" }], layer: 0 },
      ],
    });
    const clone = syscallNumber("x86_64", "clone")!;
    check(ir, ["x86_64"], [
      { arch: AUDIT_ARCH_X86_64, nr: clone, args: [0x100000001n, 0n, 0n, 0n, 0n, 0n] },
      { arch: AUDIT_ARCH_X86_64, nr: clone, args: [1n, 0n, 0n, 1n, 0n, 0n] },
      { arch: AUDIT_ARCH_X86_64, nr: 0, args: [1n, 0n, 0n, 0x200000000n, 0n, 0n] },
    ]);
  });

  it("two OR'd rules on one syscall that test different arguments (the libseccomp 2.5.4/2.6.1 miscompile)", () => {
    // Default ERRNO(1); getppid allowed if a1 > 0 && a3 == 1, or if (a5 & 0xF00000000) == 0x100000000 && a1 <= 0x100000000.
    const ir = makeIr({
      defaultAction: { type: "errno", errno: 1 },
      unix: "allow",
      netRules: [{ effect: "allow", ops: ["bind", "connect"], protocols: ["tcp", "udp"], hosts: "any", ports: [[0, 65535]], layer: 0 }],
      syscallRules: [
        { syscalls: ["getppid"], action: { type: "allow" }, conditions: [{ arg: 1, op: ">", value: "0x0" }, { arg: 3, op: "==", value: "0x1" }], layer: 0 },
        { syscalls: ["getppid"], action: { type: "allow" }, conditions: [{ arg: 5, op: "&==", mask: "0xf00000000", value: "0x100000000" }, { arg: 1, op: "<=", value: "0x100000000" }], layer: 0 },
      ],
    });
    const nr = syscallNumber("x86_64", "getppid")!;
    // Matches neither rule; libseccomp's filter allows it.
    const bypass = { arch: AUDIT_ARCH_X86_64, nr, args: [0n, 0n, 0n, 1n, 0n, 0x700000000n] };
    expect(expectedAction(ir, ["x86_64"], bypass)).toEqual({ type: "errno", errno: 1 });
    const rnd = fc.sample(fc.array(fc.constantFrom(0n, 1n, 0x100000000n, 0x100000001n, 0x700000000n, 0xf00000000n, 0x1f00000000n), { minLength: 6, maxLength: 6 }), 400);
    check(ir, ["x86_64"], [bypass, ...rnd.map((args) => ({ arch: AUDIT_ARCH_X86_64, nr, args }))]);
  });
});

describe("the network section's sockets: evaluateSyscall = the compiled filter", () => {
  // Every domain Linux knows (AF_UNSPEC … AF_MCTP and one past), every type with and without the flags that
  // share its argument, and the protocols the implied rules name.
  const DOMAINS = Array.from({ length: 47 }, (_, i) => BigInt(i));
  const TYPES = [1n, 2n, 3n, 4n, 5n, 6n, 10n].flatMap((t) => [t, t | 0x80800n]);
  const PROTOCOLS = [0n, 6n, 17n, 262n];
  type Net = { unix: UnixSockets; rules: NetRule[] };
  const sockets = (net: Net, fs: FsRule[], rule: SyscallRule | undefined) => {
    const ir = makeIr({ unix: net.unix, netRules: net.rules, filesystem: fs, syscallRules: rule ? [rule] : [] });
    const program = compileSeccomp(ir, ["x86_64"]).filter!.program;
    for (const name of ["socket", "socketpair"] as const) {
      const nr = syscallNumber("x86_64", name)!;
      for (const d of DOMAINS) {
        for (const t of TYPES) {
          for (const p of PROTOCOLS) {
            const args = [d, t, p, 0n, 0n, 0n];
            // The filter is x86_64's: ask x86_64 (a name alone asks every arch once rules are numbered).
            const want = actionValue(evaluateSyscall(ir, name, args, { arch: "x86_64" }).action);
            const got = runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args }).ret >>> 0;
            if (got !== want) expect({ name, args: args.map(hex), got: got.toString(16) }).toEqual({ name, args: args.map(hex), got: want.toString(16) });
          }
        }
      }
    }
  };
  it("socket and socketpair, for every domain, type and protocol", () => {
    fc.assert(
      fc.property(netArb, fsArb, fc.option(ruleArb, { nil: undefined }), sockets),
      { numRuns: Math.ceil(Number(process.env.SBC_PROPERTY_RUNS ?? 400) / 20) },
    );
  }, 120_000);
  it("regression (seed 1839911288): a rule numbered on aarch64 (`aarch64:198`, its socket) leaves x86_64's socket alone", () => {
    sockets(
      { unix: { pairs: "allow", abstract: "allow", paths: [] }, rules: [{ effect: "allow", ops: ["bind", "connect"], protocols: ["tcp", "udp"], hosts: "any", ports: [[0, 65535]], layer: 0 }] },
      [],
      { syscalls: ["aarch64:198"], action: { type: "errno", errno: 0 }, conditions: [], layer: 0 },
    );
  });
});

describe("the kernel's action cache", () => {
  it("every number whose verdict is an unconditional ALLOW is cacheable, and no other number is", () => {
    fc.assert(
      fc.property(irArb, (ir) => {
        const out = compileSeccomp(ir, ["x86_64"]);
        const program = out.filter!.program;
        for (let nr = 0; nr <= 620; nr++) {
          const name = syscallName("x86_64", nr);
          const rules = ir.syscalls.rules.filter((r) => entriesName(r.syscalls, "x86_64", nr, name));
          // Constant-allow when the verdict does not depend on arguments and is ALLOW.
          const probe = (args: bigint[]) => actionValue(expectedAction(ir, ["x86_64"], { arch: AUDIT_ARCH_X86_64, nr, args }));
          const samples = [[0n, 0n, 0n, 0n, 0n, 0n], ...fc.sample(fc.array(valueArb, { minLength: 6, maxLength: 6 }), 30)];
          const allAllow = samples.every((a) => probe(a) === 0x7fff0000);
          const eligible = cacheEligible(program, AUDIT_ARCH_X86_64, nr);
          if (eligible) expect(allAllow, `nr ${nr} (${name}) is cached but not always allowed`).toBe(true);
          // A verdict that tests no argument must be cacheable when it allows.
          const implied = networkSyscalls(ir).rules.filter((r) => r.syscall === name);
          const unconditional = rules.every((r) => r.conditions.length === 0) && implied.every((r) => r.conditions.length === 0);
          if (allAllow && unconditional) expect(eligible, `nr ${nr} (${name}) is always allowed but not cacheable`).toBe(true);
        }
      }),
      { numRuns: Number(process.env.SBC_PROPERTY_RUNS ?? 40) },
    );
  });
});

describe("the peephole pass (targets/seccomp/peephole.ts) changes no answer", () => {
  it("random policies: the filter with and without it agree on random events and on every number 0..500 and its x32 form", () => {
    fc.assert(
      fc.property(
        irArb,
        fc.constantFrom<readonly Arch[]>(["x86_64"], ["aarch64"], ["x86_64", "aarch64"]),
        fc.array(eventArb("x86_64"), { minLength: 20, maxLength: 40 }),
        fc.array(valueArb, { minLength: 6, maxLength: 6 }),
        (ir, arches, evs, args) => {
          const root = lowerFilter(ir, arches, syscallName).root;
          const before = generate(root, { peephole: false });
          const after = generate(root);
          expect(verifyFilter(after.program)).toEqual({ ok: true });
          expect(after.size).toBeLessThanOrEqual(before.size);
          const events: SeccompData[] = evs.map((e) => ({ arch: e.foreign ? 0x40000003 : AUDIT_ARCH[arches[0]!], nr: e.nr, args: e.args }));
          for (const arch of arches) {
            for (let nr = 0; nr <= 500; nr++) {
              events.push({ arch: AUDIT_ARCH[arch], nr, args: [0n, 0n, 0n, 0n, 0n, 0n] }, { arch: AUDIT_ARCH[arch], nr, args });
              events.push({ arch: AUDIT_ARCH[arch], nr: (nr | X32_SYSCALL_BIT) >>> 0, args });
            }
          }
          for (const e of events) {
            const want = runFilter(before.program, e).ret >>> 0;
            const got = runFilter(after.program, e).ret >>> 0;
            if (got !== want) expect({ event: { ...e, args: e.args!.map(hex) }, got: got.toString(16) }).toEqual({ event: { ...e, args: e.args!.map(hex) }, got: want.toString(16) });
          }
        },
      ),
      { numRuns: Math.ceil(Number(process.env.SBC_PROPERTY_RUNS ?? 400) / 8) },
    );
  }, 120_000);
});
