// The OCI seccomp target and its executable model. The model, `ociOutcome` below, is what runc/crun plus
// libseccomp do with a profile, written from their sources rather than from the target's code:
//
//   Docker keeps an entry when every `includes` condition holds and no `excludes` condition does (moby/profiles
//   seccomp_linux.go). runc and crun skip entries whose action (errno included; SCMP_ACT_KILL is KILL_THREAD)
//   equals the default, and turn an entry with two comparisons of one argument into one rule per comparison.
//   libseccomp makes no comparison for a MASKED_EQ with mask 0 and compares `valueTwo & value` otherwise; for
//   a syscall, the first rule without comparisons decides every call; otherwise a call gets the action of
//   the rules it matches when they agree, the default when it matches none, and an undefined result (load
//   failure or decision-tree order) when matching rules disagree.
//
// SCMP_ACT_TRACE is `trace` with `errnoRet` (EPERM when absent) as its data, runc's `ActTrace.SetReturnCode`.
// runc's -ENOSYS stub (patchbpf/enosys_linux.go) is modelled too: unless the default is allow, log, trace or
// errno ENOSYS, a call numbered above every call the kept entries name on the container's arch gets ENOSYS.
//
// Properties: the target's output, under the model, agrees with `evaluateSyscallRules` (the syscall section alone) on random multi-layer IRs
// and never leaves a call undefined; Docker's default profile imported, compiled and exported agrees with the
// original profile under the model and with `evaluateSyscallRules` on the imported policy.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateSyscallRules, evaluateSyscallRulesAt } from "../../ir/evaluator/evaluate.js";
import { importOciSeccomp } from "../../compiler/importers/oci-seccomp.js";
import type { Action, ArgCondition, CmpOp, IR, SyscallRule } from "../../ir/types.js";
import { argBits } from "../../ir/arg-widths.js";
import { isKnownSyscall, syscallNumber, type Arch } from "../../linux-abi/index.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { makeIr } from "../../tests/support/ir.js";
import { emitOciSeccomp, MAX_TERMS } from "./emit.js";

const DATA = join(import.meta.dirname, "..", "..", "fixtures", "data", "oci");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";
const U64 = (1n << 64n) - 1n;

// ---- the model -------------------------------------------------------------------------------------------------

interface OciArg {
  readonly index: number;
  readonly value: bigint;
  readonly valueTwo?: bigint;
  readonly op: string;
}
interface OciConditions {
  readonly arches?: readonly string[];
  readonly caps?: readonly string[];
  readonly minKernel?: string;
}
interface OciRule {
  readonly names?: readonly string[];
  readonly name?: string;
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly OciArg[];
  readonly includes?: OciConditions;
  readonly excludes?: OciConditions;
}
interface OciProfile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly syscalls?: readonly OciRule[];
}

/** JSON.parse with `value`/`valueTwo` kept exact (they are u64). */
function parseProfile(text: string): OciProfile {
  const quoted = text.replace(/"(value|valueTwo)"(\s*):(\s*)(\d+)/g, '"$1"$2:$3"$4"');
  return JSON.parse(quoted, (k, v) => ((k === "value" || k === "valueTwo") && typeof v === "string" ? BigInt(v) : v)) as OciProfile;
}

interface Container {
  /** libseccomp's name of the architecture, as `includes.arches` spells it. */
  readonly arch: string;
  readonly caps: readonly string[];
  /** [major, minor]; undefined: newer than every minKernel. */
  readonly kernel?: readonly [number, number];
}
const UNPRIVILEGED_AMD64: Container = { arch: "amd64", caps: [] };

type Outcome = { readonly action: Action } | { readonly undefinedAmong: readonly Action[] };

function kernelAtLeast(c: Container, v: string): boolean {
  if (!c.kernel) return true;
  const [maj, min] = v.split(".").map(Number) as [number, number];
  return c.kernel[0] > maj || (c.kernel[0] === maj && c.kernel[1] >= min);
}

function applies(r: OciRule, c: Container): boolean {
  const ex = r.excludes;
  if (ex?.arches?.includes(c.arch) || ex?.caps?.some((x) => c.caps.includes(x)) || (ex?.minKernel && kernelAtLeast(c, ex.minKernel))) return false;
  const inc = r.includes;
  if (inc?.arches?.length && !inc.arches.includes(c.arch)) return false;
  if (inc?.caps?.some((x) => !c.caps.includes(x))) return false;
  return !(inc?.minKernel && !kernelAtLeast(c, inc.minKernel));
}

function runtimeAction(action: string, errnoRet: number | undefined): string {
  const a = action === "SCMP_ACT_KILL" ? "SCMP_ACT_KILL_THREAD" : action;
  return a === "SCMP_ACT_ERRNO" || a === "SCMP_ACT_TRACE" ? `${a}/${errnoRet ?? 1}` : a;
}

function toAction(action: string, errnoRet: number | undefined): Action {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return { type: "allow" };
    case "SCMP_ACT_LOG":
      return { type: "log" };
    case "SCMP_ACT_NOTIFY":
      return { type: "user-notif" };
    case "SCMP_ACT_TRAP":
      return { type: "trap" };
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return { type: "kill-thread" };
    case "SCMP_ACT_KILL_PROCESS":
      return { type: "kill-process" };
    case "SCMP_ACT_ERRNO":
      return { type: "errno", errno: errnoRet ?? 1 };
    case "SCMP_ACT_TRACE":
      return { type: "trace", data: errnoRet ?? 1 };
    default:
      throw new Error(`unknown action ${action}`);
  }
}

function compares(a: OciArg, args: readonly bigint[]): boolean {
  const x = args[a.index] ?? 0n;
  switch (a.op) {
    case "SCMP_CMP_EQ":
      return x === a.value;
    case "SCMP_CMP_NE":
      return x !== a.value;
    case "SCMP_CMP_LT":
      return x < a.value;
    case "SCMP_CMP_LE":
      return x <= a.value;
    case "SCMP_CMP_GT":
      return x > a.value;
    case "SCMP_CMP_GE":
      return x >= a.value;
    case "SCMP_CMP_MASKED_EQ":
      return (x & a.value) === ((a.valueTwo ?? 0n) & a.value);
    default:
      throw new Error(`unknown op ${a.op}`);
  }
}

const CONTAINER_ARCH: Readonly<Record<string, Arch>> = { amd64: "x86_64", arm64: "aarch64" };

/** runc's stub: does the call get ENOSYS before the filter? */
function runcStub(p: OciProfile, syscall: string, c: Container): boolean {
  if (["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(p.defaultAction) || p.defaultErrnoRet === 38) return false;
  const arch = CONTAINER_ARCH[c.arch]!;
  const nr = syscallNumber(arch, syscall);
  if (nr === undefined) return false;
  let max = -1;
  for (const r of p.syscalls ?? []) if (applies(r, c)) for (const n of r.names ?? [r.name!]) max = Math.max(max, syscallNumber(arch, n) ?? -1);
  return max >= 0 && nr > max;
}

function ociOutcome(p: OciProfile, syscall: string, args: readonly bigint[], c: Container): Outcome {
  if (runcStub(p, syscall, c)) return { action: { type: "errno", errno: 38 } };
  const def = runtimeAction(p.defaultAction, p.defaultErrnoRet);
  const rules: { key: string; action: Action; args: OciArg[] }[] = [];
  for (const r of p.syscalls ?? []) {
    if (!applies(r, c) || !(r.names ?? [r.name]).includes(syscall)) continue;
    const key = runtimeAction(r.action, r.errnoRet);
    if (key === def) continue;
    const action = toAction(r.action, r.errnoRet);
    const all = r.args ?? [];
    const split = all.some((a, i) => all.findIndex((b) => b.index === a.index) !== i);
    const pieces = split ? all.map((a) => [a]) : [all];
    for (const piece of pieces) rules.push({ key, action, args: piece.filter((a) => !(a.op === "SCMP_CMP_MASKED_EQ" && a.value === 0n)) });
  }
  const first = rules.find((r) => r.args.length === 0);
  if (first) return { action: first.action };
  const matching = rules.filter((r) => r.args.every((a) => compares(a, args)));
  if (!matching.length) return { action: toAction(p.defaultAction, p.defaultErrnoRet) };
  const keys = new Set(matching.map((r) => r.key));
  return keys.size === 1 ? { action: matching[0]!.action } : { undefinedAmong: matching.map((r) => r.action) };
}

function exported(ir: IR, arches?: ("x86_64" | "aarch64")[]): OciProfile {
  const r = emitOciSeccomp(ir, arches ? { arches } : {});
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return parseProfile(r.json!);
}

// ---- generators ------------------------------------------------------------------------------------------------

const VALUES = [0n, 1n, 2n, 3n, 7n, 8n, 0x10n, 0xffn, 0x100n, 0xffffffffn, U64 - 1n, U64];
const MASKS = [1n, 2n, 3n, 0x10n, 0xf0n, 0xffn, 0xffff_ffff_0000_0000n, U64 ^ 1n, U64 ^ 0xffn];
const OPS: readonly CmpOp[] = ["==", "!=", "<", "<=", ">", ">=", "&=="];
const SYSCALLS = ["read", "openat", "clone", "socket", "mmap"];
const ACTIONS: readonly Action[] = [
  { type: "allow" },
  { type: "log" },
  { type: "trap" },
  { type: "user-notif" },
  { type: "kill-thread" },
  { type: "kill-process" },
  { type: "errno", errno: 1 },
  { type: "errno", errno: 13 },
];
const hex = (v: bigint) => "0x" + v.toString(16);

const conditionArb: fc.Arbitrary<ArgCondition> = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom(...OPS), fc.constantFrom(...VALUES), fc.constantFrom(...MASKS), fc.boolean())
  .map(([arg, op, v, m, inside]) => (op === "&==" ? { arg, op, mask: hex(m), value: hex(inside ? v & m : v) } : { arg, op, value: hex(v) }));

const ruleArb: fc.Arbitrary<SyscallRule> = fc
  .tuple(fc.subarray(SYSCALLS, { minLength: 1 }), fc.constantFrom(...ACTIONS), fc.array(conditionArb, { maxLength: 3 }), fc.integer({ min: 0, max: 2 }))
  .map(([syscalls, action, conditions, layer]) => ({ syscalls: [...syscalls].sort(), action, conditions, layer }));

const irArb: fc.Arbitrary<IR> = fc
  .tuple(fc.array(ruleArb, { maxLength: 6 }), fc.constantFrom(...ACTIONS.filter((a) => a.type !== "user-notif")))
  .map(([rules, defaultAction]) => makeIr({ syscallRules: [...rules].sort((a, b) => a.layer - b.layer), defaultAction }));

/** Argument values near every boundary the generated conditions draw. */
const argValueArb = fc.oneof(
  fc.constantFrom(...VALUES),
  fc.constantFrom(...VALUES).map((v) => (v + 1n) & U64),
  fc.constantFrom(...VALUES).map((v) => (v - 1n) & U64),
  fc.tuple(fc.constantFrom(...MASKS), fc.bigInt({ min: 0n, max: U64 })).map(([m, r]) => r & m),
  fc.bigInt({ min: 0n, max: U64 }),
);
const argsArb = fc.array(argValueArb, { minLength: 3, maxLength: 3 });

// ---- the target ------------------------------------------------------------------------------------------------

describe("the OCI seccomp target", () => {
  it("means what evaluateSyscall means, for random layered IRs", () => {
    let refused = 0;
    fc.assert(
      fc.property(irArb, fc.array(fc.tuple(fc.constantFrom(...SYSCALLS), argsArb), { minLength: 1, maxLength: 12 }), (ir, queries) => {
        const r = emitOciSeccomp(ir);
        if (!r.json) {
          // Exactness may cost too many entries; then the target must say so, and nothing else.
          const errors = r.diagnostics.filter((d) => d.severity === "error");
          expect(errors.length).toBeGreaterThan(0);
          for (const d of errors) expect(d.message).toMatch(new RegExp(`^the rules for \`\\w+\` need more than ${MAX_TERMS} seccomp rules to express exactly$`));
          refused++;
          return;
        }
        const profile = parseProfile(r.json);
        for (const [s, args] of queries) {
          expect(ociOutcome(profile, s, args, UNPRIVILEGED_AMD64)).toEqual({ action: evaluateSyscallRules(ir, s, args, { arch: "x86_64" }).action });
        }
      }),
      { numRuns: 400, seed: 20260601 },
    );
    // Most of these syscalls' arguments are `int`s, which libseccomp can only compare on 32 bits as bit
    // patterns (an `!=` is 32 MASKED_EQ entries): exactness costs more entries than on 64-bit arguments.
    expect(refused).toBeLessThan(400 / 8);
  });

  it("imports back to a policy with the same meaning", () => {
    fc.assert(
      fc.property(irArb, fc.array(fc.tuple(fc.constantFrom(...SYSCALLS), argsArb), { minLength: 1, maxLength: 8 }), (ir, queries) => {
        const r = emitOciSeccomp(ir);
        if (!r.json) return;
        // An import is for one container arch (`arch`, x86_64 by default): its numbered guard and `newer`
        // threshold are that arch's, so each import is asked on its own arch. (By name alone, the import's
        // `newer` would make every arch answer, and i386 reads a pointer argument on 32 bits, which the
        // profile, written for x86_64 and aarch64, never claimed.)
        for (const arch of ["x86_64", "aarch64"] as const) {
          const back = importOciSeccomp(r.json, { path: "exported.json", arch });
          expect(back.diagnostics).toEqual([]);
          const c = compilePolicy({ kind: "text", path: "back.yaml", text: back.yaml! });
          expect(c.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
          for (const [s, args] of queries) expect(evaluateSyscallRules(c.ir!, s, args, { arch }).action).toEqual(evaluateSyscallRules(ir, s, args, { arch }).action);
        }
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  it("writes every operator, masked compares as value = mask and valueTwo = value", () => {
    // mmap's and munmap's parameters are `unsigned long`s the kernel reads whole, as libseccomp compares them —
    // but for mmap's fd (arg4), which reaches fget(unsigned int): its masked compare has no bits above 32.
    const conditions: ArgCondition[] = [
      { arg: 0, op: "==", value: "0x1" },
      { arg: 1, op: "!=", value: "0x2" },
      { arg: 2, op: "<", value: "0x3" },
      { arg: 3, op: "<=", value: "0x4" },
      { arg: 4, op: "&==", mask: "0xff00", value: "0x1200" },
      { arg: 5, op: ">", value: "0x5" },
    ];
    const ir = makeIr({ defaultAction: { type: "errno", errno: 1 }, syscallRules: [{ syscalls: ["mmap"], action: { type: "allow" }, conditions, layer: 0 }, { syscalls: ["munmap"], action: { type: "allow" }, conditions: [{ arg: 0, op: ">=", value: "0x6" }], layer: 0 }] });
    const p = exported(ir);
    expect(p.syscalls![0]!.args).toEqual([
      { index: 0, value: 1n, op: "SCMP_CMP_EQ" },
      { index: 1, value: 2n, op: "SCMP_CMP_NE" },
      { index: 2, value: 3n, op: "SCMP_CMP_LT" },
      { index: 3, value: 5n, op: "SCMP_CMP_LT" },
      { index: 4, value: 0xff00n, valueTwo: 0x1200n, op: "SCMP_CMP_MASKED_EQ" },
      { index: 5, value: 5n, op: "SCMP_CMP_GT" },
    ]);
    expect(p.syscalls![1]!.args).toEqual([{ index: 0, value: 5n, op: "SCMP_CMP_GT" }]);
  });

  it("resolves a later, laxer rule over an earlier, stricter one exactly", () => {
    // Layer 0 refuses every unshare flag word but 1; layer 1 re-allows 2. The IR allows 2 by the later layer;
    // libseccomp given both rules would see two actions for 2. (unshare's `unsigned long` is read whole.)
    const ir = makeIr({
      syscallRules: [
        { syscalls: ["unshare"], action: { type: "errno", errno: 97 }, conditions: [{ arg: 0, op: "!=", value: "0x1" }], layer: 0, reason: "local sockets only" },
        { syscalls: ["unshare"], action: { type: "allow" }, conditions: [{ arg: 0, op: "==", value: "0x2" }], layer: 1 },
      ],
    });
    const r = emitOciSeccomp(ir);
    expect(r.diagnostics).toEqual([]);
    expect(JSON.parse(r.json!).syscalls).toEqual([
      { names: ["unshare"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }], comment: "sbc rule 1 (local sockets only)" },
      { names: ["unshare"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 0, value: 2, op: "SCMP_CMP_GT" }], comment: "sbc rule 1 (local sockets only)" },
    ]);
    for (const d of [0n, 1n, 2n, 3n, 10n]) expect(ociOutcome(parseProfile(r.json!), "unshare", [d], UNPRIVILEGED_AMD64)).toEqual({ action: evaluateSyscallRules(ir, "unshare", [d]).action });
  });

  it("never puts two comparisons of one argument in an entry", () => {
    const ir = makeIr({
      syscallRules: [
        {
          syscalls: ["unshare"],
          action: { type: "errno", errno: 97 },
          conditions: [
            { arg: 0, op: "!=", value: "0x1" },
            { arg: 0, op: "!=", value: "0x2" },
            { arg: 0, op: "!=", value: "0xa" },
          ],
          layer: 0,
        },
      ],
    });
    const p = exported(ir);
    for (const e of p.syscalls!) expect(new Set(e.args!.map((a) => a.index)).size).toBe(e.args!.length);
    expect(p.syscalls!.map((e) => e.args)).toEqual([
      [{ index: 0, value: 0n, op: "SCMP_CMP_EQ" }],
      [{ index: 0, value: 3n, op: "SCMP_CMP_EQ" }],
      [{ index: 0, value: U64 ^ 3n, valueTwo: 4n, op: "SCMP_CMP_MASKED_EQ" }],
      [{ index: 0, value: U64 ^ 1n, valueTwo: 8n, op: "SCMP_CMP_MASKED_EQ" }],
      [{ index: 0, value: 10n, op: "SCMP_CMP_GT" }],
    ]);
    for (let d = 0n; d < 14n; d++) expect(ociOutcome(p, "unshare", [d], UNPRIVILEGED_AMD64)).toEqual({ action: evaluateSyscallRules(ir, "unshare", [d]).action });
  });

  it("compares the bits the kernel reads: `==` on an `unsigned int` as MASKED_EQ on 0xffffffff", () => {
    const ir = makeIr({ syscallRules: [{ syscalls: ["ioctl"], action: { type: "errno", errno: 1 }, conditions: [{ arg: 1, op: "==", value: "0x541b" }], layer: 0 }] });
    const p = exported(ir);
    expect(p.syscalls!.map((e) => e.args)).toEqual([[{ index: 1, value: 0xffffffffn, valueTwo: 0x541bn, op: "SCMP_CMP_MASKED_EQ" }]]);
    for (const cmd of [0x541bn, 0x1_0000_541bn, U64 ^ 0xffff_abe4n, 0x541cn]) {
      expect(ociOutcome(p, "ioctl", [3n, cmd], UNPRIVILEGED_AMD64), `ioctl(3, ${cmd.toString(16)})`).toEqual({ action: evaluateSyscallRules(ir, "ioctl", [3n, cmd]).action });
    }
    expect(ociOutcome(p, "ioctl", [3n, 0x1_0000_541bn], UNPRIVILEGED_AMD64)).toEqual({ action: { type: "errno", errno: 1 } });
  });

  it("exports a narrow `!=`, a negative `int` and a range exactly, whatever the high bits", () => {
    const ir = makeIr({
      defaultAction: { type: "errno", errno: 1 },
      syscallRules: [
        { syscalls: ["socket"], action: { type: "allow" }, conditions: [{ arg: 0, op: "!=", value: "0x28" }], layer: 0 },
        { syscalls: ["openat"], action: { type: "allow" }, conditions: [{ arg: 0, op: "==", value: "0xffffffffffffff9c" }, { arg: 3, op: "<=", value: "0x1ff" }], layer: 0 },
      ],
    });
    const p = exported(ir);
    const high = [0n, 1n << 32n, 0xffff_ffff_0000_0000n, 1n << 63n];
    for (const h of high) {
      for (const d of [0n, 1n, 0x28n, 0x29n, 0xffffff9cn]) expect(ociOutcome(p, "socket", [h | d], UNPRIVILEGED_AMD64)).toEqual({ action: evaluateSyscallRules(ir, "socket", [h | d]).action });
      for (const mode of [0n, 0x1ffn, 0x200n, 0xffffn]) {
        const args = [h | 0xffffff9cn, 0n, 0n, h | mode];
        expect(ociOutcome(p, "openat", args, UNPRIVILEGED_AMD64)).toEqual({ action: evaluateSyscallRules(ir, "openat", args).action });
      }
    }
    expect(ociOutcome(p, "socket", [(1n << 32n) | 0x28n], UNPRIVILEGED_AMD64)).toEqual({ action: { type: "errno", errno: 1 } });
  });

  it("writes the default action, and guards it against runc's -ENOSYS stub", () => {
    const rules: SyscallRule[] = [{ syscalls: ["read"], action: { type: "allow" }, conditions: [], layer: 0 }];
    const kill = JSON.parse(emitOciSeccomp(makeIr({ defaultAction: { type: "kill-process" }, syscallRules: rules })).json!);
    expect(kill.defaultAction).toBe("SCMP_ACT_KILL_PROCESS");
    expect(kill.defaultErrnoRet).toBeUndefined();
    expect(kill.syscalls.at(-1)).toMatchObject({ names: ["rseq_slice_yield"], action: "SCMP_ACT_KILL_PROCESS" });
    const eperm = JSON.parse(emitOciSeccomp(makeIr({ defaultAction: { type: "errno", errno: 1 }, syscallRules: rules })).json!);
    expect(eperm).toMatchObject({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1 });
    expect(eperm.syscalls.at(-1)).toMatchObject({ names: ["rseq_slice_yield"], action: "SCMP_ACT_ERRNO", errnoRet: 1 });
    for (const defaultAction of [{ type: "allow" }, { type: "log" }, { type: "errno", errno: 38 }] as Action[]) {
      const p = JSON.parse(emitOciSeccomp(makeIr({ defaultAction, syscallRules: rules })).json!);
      expect(p.syscalls.map((e: OciRule) => e.names)).toEqual(defaultAction.type === "allow" ? [] : [["read"]]);
    }
  });

  it("lists the requested architectures", () => {
    expect(JSON.parse(emitOciSeccomp(makeIr(), { arches: ["aarch64"] }).json!).architectures).toEqual(["SCMP_ARCH_AARCH64"]);
    expect(JSON.parse(emitOciSeccomp(makeIr()).json!).architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"]);
  });

  it("refuses what runc refuses and warns that user-notif needs a listener", () => {
    const notifyDefault = emitOciSeccomp(makeIr({ defaultAction: { type: "user-notif" } }));
    expect(notifyDefault.json).toBeUndefined();
    expect(notifyDefault.diagnostics.map((d) => d.message)).toEqual(["runc refuses `user-notif` as the default syscall action"]);
    const notifyWrite = emitOciSeccomp(makeIr({ syscallRules: [{ syscalls: ["write"], action: { type: "user-notif" }, conditions: [], layer: 0 }] }));
    expect(notifyWrite.json).toBeUndefined();
    expect(notifyWrite.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual(["runc refuses `user-notif` for `write`"]);
    const notify = emitOciSeccomp(makeIr({ syscallRules: [{ syscalls: ["openat"], action: { type: "user-notif" }, conditions: [], layer: 0 }] }));
    expect(notify.json).toBeDefined();
    expect(notify.diagnostics.map((d) => `${d.severity} ${d.message}`)).toEqual(["warning `user-notif` needs a supervisor: the container's seccomp config must set `listenerPath`"]);
  });

  it("fails, naming the rules, when exactness needs too many entries", () => {
    // A range with ragged ends takes about 120 aligned blocks to write; three of them multiply. (mmap's
    // arguments are `unsigned long`s, compared whole.)
    const ragged: ArgCondition[] = [0, 1, 2].flatMap((arg) => [
      { arg, op: ">=", value: "0x3" },
      { arg, op: "<=", value: "0xfffffffffffffff0" },
    ]);
    const ir = makeIr({
      defaultAction: { type: "errno", errno: 1 },
      syscallRules: [
        { syscalls: ["mmap"], action: { type: "allow" }, conditions: [], layer: 0 },
        { syscalls: ["mmap"], action: { type: "kill-process" }, conditions: ragged, layer: 1 },
      ],
    });
    const r = emitOciSeccomp(ir);
    expect(r.json).toBeUndefined();
    expect(r.diagnostics.map((d) => d.message)).toEqual([`the rules for \`mmap\` need more than ${MAX_TERMS} seccomp rules to express exactly`]);
    expect(r.diagnostics[0]!.help).toBe("the rules are rule 2, rule 1; fewer overlapping conditions of different actions make the profile smaller");
  });

  it("writes the same bytes twice", () => {
    fc.assert(
      fc.property(irArb, (ir) => {
        expect(emitOciSeccomp(ir).json).toBe(emitOciSeccomp(ir).json);
      }),
      { numRuns: 50, seed: 3 },
    );
  });
});

// ---- Docker's default profile, round trip ------------------------------------------------------------------------

describe("1,000 rules (the target's time is linear in the rule count: bench/oci.ts times it)", () => {
  // 50 syscalls, 20 rules each on arg0 values, mixed actions and layers, plus one range per syscall.
  const names = ["read", "write", "openat", "close", "ioctl", "mmap", "munmap", "fcntl", "dup3", "pread64"].flatMap((n, i) =>
    [n, ["clone", "socket", "connect", "bind", "kill", "tgkill", "prctl", "madvise", "futex", "getrandom"][i]!, ["lseek", "fstat", "pipe2", "readv", "writev"][i % 5]!, ["mprotect", "brk", "poll", "select", "sched_yield"][i % 5]!, ["msync", "mincore", "shmget", "shmat", "shmctl"][i % 5]!],
  );
  const syscalls = [...new Set(names)];
  const rules: SyscallRule[] = Array.from({ length: 1000 }, (_, i) => {
    const name = syscalls[i % syscalls.length]!;
    const k = Math.floor(i / syscalls.length);
    const action: Action = i % 3 === 0 ? { type: "allow" } : i % 3 === 1 ? { type: "errno", errno: 13 } : { type: "kill-process" };
    // A range on an argument the kernel reads on 32 bits has no OCI form (libseccomp compares 64 bits; only
    // `==` can be written masked, SBC2101 otherwise), so the range goes on arg1 only where it is 64-bit.
    const conditions: ArgCondition[] =
      k === 19 && argBits("x86_64", name, 1) === 64 ? [{ arg: 1, op: ">=", value: "0x100" }] : [{ arg: 0, op: "==", value: String(k * 3) }];
    return { syscalls: [name], action, conditions, layer: k % 2 };
  }).sort((a, b) => a.layer - b.layer);
  const ir = makeIr({ syscallRules: rules, defaultAction: { type: "errno", errno: 1 } });

  it("exports an exact profile: the model agrees with the IR on every rule's values and their neighbours", () => {
    const r = emitOciSeccomp(ir);
    expect(r.diagnostics).toEqual([]);
    const profile = parseProfile(r.json!);
    // Every syscall has entries; each names one syscall's value or range, so there are about as many as rules.
    expect(new Set(profile.syscalls!.flatMap((e) => e.names ?? []))).toEqual(new Set([...syscalls, ...profile.syscalls!.at(-1)!.names!]));
    expect(profile.syscalls!.length).toBeGreaterThan(syscalls.length * 5);
    for (const s of syscalls) {
      for (let v = 0n; v <= 60n; v++) {
        for (const a1 of [0n, 0xffn, 0x100n, U64]) {
          const args = [v, a1, 0n];
          expect(ociOutcome(profile, s, args, UNPRIVILEGED_AMD64), `${s}(${v}, ${a1})`).toEqual({ action: evaluateSyscallRules(ir, s, args, { arch: "x86_64" }).action });
        }
      }
    }
  });

  it("imports back to a policy with the same meaning", () => {
    const back = importOciSeccomp(emitOciSeccomp(ir).json!, { path: "exported.json" });
    expect(back.diagnostics).toEqual([]);
    const c = compilePolicy({ kind: "text", path: "back.yaml", text: back.yaml! });
    expect(c.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    for (const s of syscalls) for (const v of [0n, 3n, 4n, 57n, 60n]) for (const a1 of [0n, 0x100n]) expect(evaluateSyscallRules(c.ir!, s, [v, a1, 0n]).action).toEqual(evaluateSyscallRules(ir, s, [v, a1, 0n]).action);
  });
});

describe("Docker's default profile, imported and exported", () => {
  const text = readFileSync(join(DATA, "moby-seccomp-default.json"), "utf8");
  const original = parseProfile(text);
  const imported = importOciSeccomp(text, { path: "moby-seccomp-default.json" });
  const c = compilePolicy({ kind: "text", path: "moby-seccomp-default.imported.yaml", text: imported.yaml! });
  const ir = c.ir!;

  // The import is for an x86_64 container, so the policy is asked about x86_64's numbers.
  const onX86 = (s: string, args: readonly bigint[] = []) => {
    const nr = syscallNumber("x86_64", s);
    if (nr === undefined) throw new Error(`${s} is no x86_64 call`);
    return evaluateSyscallRulesAt(ir, "x86_64", nr, args);
  };

  it("exports to the golden profile", () => {
    const r = emitOciSeccomp(ir);
    // runc's stub (newer) has no counterpart in crun, and -1 on x86_64 gets the default action in a profile.
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["SBC2102", "warning"],
      ["SBC2102", "warning"],
    ]);
    const file = join(DATA, "moby-seccomp-default.exported.json");
    if (UPDATE) writeFileSync(file, r.json!);
    else {
      expect(existsSync(file), `${file} is missing; run npm run test:update and review it`).toBe(true);
      expect(r.json).toBe(readFileSync(file, "utf8"));
    }
  });

  const names = [...new Set((original.syscalls ?? []).flatMap((r) => r.names ?? []))].sort();
  const known = names.filter(isKnownSyscall);
  const unknown = names.filter((n) => !isKnownSyscall(n));
  const ns = [0x20000n, 0x8000000n, 0x2000000n, 0x4000000n, 0x10000000n, 0x20000000n, 0x40000000n]; // CLONE_NEW*
  const plain = [0x100n, 0x200n, 0x400n, 0x800n, 0x10000n, 0x3d0f00n, 0x11n]; // CLONE_VM… and a fork's SIGCHLD
  const cloneFlagsArb = fc.tuple(fc.subarray(ns), fc.subarray(plain)).map(([a, b]) => [...a, ...b].reduce((x, y) => x | y, 0n));
  const profileValueArb = fc.oneof(
    fc.constantFrom(0n, 8n, 0x20000n, 0x20008n, 0xffffffffn, 1n, 0x20001n, 0x100000000n), // personality
    fc.integer({ min: 0, max: 50 }).map(BigInt), // socket domains, AF_ALG = 38, AF_VSOCK = 40
    cloneFlagsArb,
    fc.bigInt({ min: 0n, max: U64 }),
  );
  const dockerArgsArb = fc.array(profileValueArb, { minLength: 6, maxLength: 6 });
  // The container is x86_64: the names it has (the profile also names i386's and arm's calls, umount say,
  // which the nine-arch tables now know but x86_64 has not).
  const onX86Names = known.filter((n) => syscallNumber("x86_64", n) !== undefined);
  const syscallArb = fc.oneof(fc.constantFrom(...onX86Names), fc.constantFrom("socket", "clone", "personality", "clone3", "ptrace"));

  // libseccomp compares all 64 bits of each argument; the kernel, and sbc, only the bits of its declared type.
  // Docker's values all fit those types, so the profile and sbc agree on every call as the kernel reads it —
  // and sbc's reading also catches what the profile lets through with the high bits set (socket's `arg0 != 40`
  // allows 0x1_0000_0028, which the kernel runs as AF_VSOCK).
  const asKernelReads = (s: string, args: readonly bigint[]) => args.map((a, i) => a & ((1n << BigInt(argBits("x86_64", s, i))) - 1n));

  it("imports to a policy that agrees with the original profile", () => {
    fc.assert(
      fc.property(syscallArb, dockerArgsArb, (s, args) => {
        const want = ociOutcome(original, s, asKernelReads(s, args), UNPRIVILEGED_AMD64);
        expect(want).toEqual({ action: onX86(s, args).action });
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it("exports to a profile that agrees with the original one", () => {
    const back = exported(ir);
    fc.assert(
      fc.property(syscallArb, dockerArgsArb, (s, args) => {
        const want = ociOutcome(original, s, asKernelReads(s, args), UNPRIVILEGED_AMD64);
        expect(ociOutcome(back, s, args, UNPRIVILEGED_AMD64)).toEqual(want);
      }),
      { numRuns: 3000, seed: 43 },
    );
  });

  it("checks the values the profile's conditions test", () => {
    const back = exported(ir);
    const cases: [string, bigint[]][] = [
      ["socket", [37n]],
      ["socket", [38n]],
      ["socket", [39n]],
      ["socket", [40n]],
      ["socket", [41n]],
      ["personality", [0xffffffffn]],
      ["personality", [0x20008n]],
      ["personality", [0x20009n]],
      ["clone", [0x1200011n]],
      ["clone", [0x1200011n | 0x10000000n]],
      ["clone", [0x20000n]],
    ];
    for (const [s, args] of cases) {
      const want = ociOutcome(original, s, args, UNPRIVILEGED_AMD64);
      expect(onX86(s, args).action, `${s}(${args})`).toEqual((want as { action: Action }).action);
      expect(ociOutcome(back, s, args, UNPRIVILEGED_AMD64), `${s}(${args})`).toEqual(want);
    }
  });

  it("knows every name the profile uses (the Linux 7.1 tables), so none is narrowed to the default action", () => {
    expect(unknown).toEqual([]);
    expect(known).toContain("fchmodat2");
    expect(known).toContain("socketcall");
  });
});
