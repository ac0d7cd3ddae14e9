// The OCI seccomp importer: Docker's default profile against a golden policy, and small profiles for each
// construct the importer handles (operators, masks, errno values, includes/excludes, unknown names, TRACE,
// libseccomp's rule resolution). Semantic round trips against an OCI evaluator live with the target, in
// targets/oci-seccomp/emit.test.ts.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { evaluateSyscall, evaluateSyscallRulesAt } from "../../ir/evaluator/evaluate.js";
import type { Action, IR } from "../../ir/types.js";
import { compilePolicy } from "../passes/index.js";
import { importOciSeccomp, type OciImportOptions } from "./oci-seccomp.js";

const DATA = join(import.meta.dirname, "..", "..", "fixtures", "data", "oci");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";
const MOBY = join(DATA, "moby-seccomp-default.json");
const GOLDEN = join(DATA, "moby-seccomp-default.imported.yaml");

function golden(file: string, actual: string): void {
  if (UPDATE) {
    writeFileSync(file, actual);
    return;
  }
  expect(existsSync(file), `${file} is missing; run npm run test:update and review it`).toBe(true);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

function importText(profile: unknown, options: Partial<OciImportOptions> = {}) {
  return importOciSeccomp(typeof profile === "string" ? profile : JSON.stringify(profile, null, 2), { path: "profile.json", ...options });
}

/** Import and compile; fails the test when either reports an error. */
function compiled(profile: unknown, options: Partial<OciImportOptions> = {}): { ir: IR; yaml: string; diagnostics: Diagnostic[] } {
  const r = importText(profile, options);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  expect(r.yaml).toBeDefined();
  const c = compilePolicy({ kind: "text", path: "imported.yaml", text: r.yaml! });
  expect(c.diagnostics.filter((d) => d.severity === "error"), r.yaml).toEqual([]);
  return { ir: c.ir!, yaml: r.yaml!, diagnostics: r.diagnostics };
}

const act = (ir: IR, syscall: string, ...args: (number | bigint)[]): Action => evaluateSyscall(ir, syscall, args.map(BigInt)).action;
const ALLOW: Action = { type: "allow" };
const EPERM: Action = { type: "errno", errno: 1 };
const codes = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.severity}:${d.code}`);

describe("Docker's default profile", () => {
  const json = readFileSync(MOBY, "utf8");

  it("sits in fixtures/data/oci/ with its goldens and nothing else", () => {
    // docker-default/ holds the per-arch seccomp goldens (tests/arch-goldens.test.ts checks its contents).
    const files = ["README.md", "docker-default", "moby-seccomp-default.exported.json", "moby-seccomp-default.imported.yaml", "moby-seccomp-default.json"];
    expect(readdirSync(DATA).sort()).toEqual(files);
  });

  it("imports to the golden policy", () => {
    const r = importOciSeccomp(json, { path: "moby-seccomp-default.json" });
    expect(r.yaml).toBeDefined();
    golden(GOLDEN, r.yaml!);
  });

  it("imports byte for byte the same twice", () => {
    const a = importOciSeccomp(json, { path: "moby-seccomp-default.json" });
    const b = importOciSeccomp(json, { path: "moby-seccomp-default.json" });
    expect(b.yaml).toBe(a.yaml);
    expect(b.diagnostics).toEqual(a.diagnostics);
  });

  it("compiles without errors or warnings", () => {
    const r = importOciSeccomp(json, { path: "moby-seccomp-default.json" });
    const c = compilePolicy({ kind: "text", path: "moby-seccomp-default.imported.yaml", text: r.yaml! });
    expect(c.diagnostics).toEqual([]);
  });

  it("warns once about the entries left out, and knows every name (the Linux 7.1 tables)", () => {
    const r = importOciSeccomp(json, { path: "moby-seccomp-default.json" });
    expect(r.diagnostics.map((d) => d.code).sort()).toEqual(["SBC1102"]);
    expect(r.diagnostics.every((d) => d.severity === "warning")).toBe(true);
    const dropped = r.diagnostics.find((d) => d.code === "SBC1102")!;
    expect(dropped.message).toBe("19 of 33 entries do not apply to x86_64 with no capabilities and were left out (5 for other architectures, 14 for other capabilities)");
    // Unknown to the Linux 6.1 x86_64/aarch64 tables; i386/arm-only or newer calls, all known now.
    for (const n of ["chown32", "mseal", "cachestat", "socketcall", "_llseek", "fchmodat2", "map_shadow_stack"]) expect(r.yaml).toMatch(new RegExp(`\\b${n}\\b`));
  });

  it("keeps Docker's meaning for an unprivileged x86_64 container", () => {
    const { ir } = compiled(json);
    expect(act(ir, "read")).toEqual(ALLOW);
    expect(act(ir, "mount")).toEqual(EPERM);
    expect(act(ir, "ptrace")).toEqual(ALLOW); // includes.minKernel 4.8, assumed to hold
    expect(act(ir, "socket", 2)).toEqual(ALLOW);
    expect(act(ir, "socket", 38)).toEqual(EPERM); // AF_ALG
    expect(act(ir, "socket", 39)).toEqual(ALLOW);
    expect(act(ir, "socket", 40)).toEqual(EPERM); // AF_VSOCK
    expect(act(ir, "personality", 0xffffffff)).toEqual(ALLOW);
    expect(act(ir, "personality", 1)).toEqual(EPERM);
    expect(act(ir, "clone", 0x11)).toEqual(ALLOW);
    expect(act(ir, "clone", 0x10000000)).toEqual(EPERM); // CLONE_NEWUSER
    expect(act(ir, "clone3")).toEqual({ type: "errno", errno: 38 });
    expect(act(ir, "arch_prctl")).toEqual(ALLOW);
    expect(act(ir, "bpf")).toEqual(EPERM);
  });

  it("follows the capabilities, the architecture and the kernel it is imported for", () => {
    const admin = compiled(json, { caps: ["CAP_SYS_ADMIN"] }).ir;
    expect(act(admin, "clone", 0x10000000)).toEqual(ALLOW);
    expect(act(admin, "clone3")).toEqual(ALLOW);
    expect(act(admin, "mount")).toEqual(ALLOW);
    const arm = compiled(json, { arch: "aarch64" }).ir;
    expect(arm.syscalls.rules.some((r) => r.syscalls.includes("arch_prctl"))).toBe(false);
    const old = compiled(json, { minKernel: "4.4" }).ir;
    expect(act(old, "ptrace")).toEqual(EPERM);
    const r = importText(json, { minKernel: "4.4" });
    expect(r.diagnostics.find((d) => d.code === "SBC1102")!.message).toContain("1 for other kernels");
  });
});

describe("small profiles", () => {
  const base = { defaultAction: "SCMP_ACT_ERRNO" };

  it("writes each operator as an sbc condition", () => {
    const ops = ["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE"];
    const { yaml, ir } = compiled({
      ...base,
      syscalls: ops.map((op, index) => ({ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index, value: 10, op }] })),
    });
    for (const [i, sym] of ["==", "!=", "<", "<=", ">", ">="].entries()) expect(yaml).toContain(`args: ["arg${i} ${sym} 0xa"]`);
    expect(act(ir, "read", 10)).toEqual(ALLOW);
    expect(act(ir, "read", 11, 10, 10, 11, 10, 9)).toEqual(EPERM);
    expect(act(ir, "read", 11, 11, 9)).toEqual(ALLOW);
  });

  it("keeps u64 values exact", () => {
    const { yaml, ir } = compiled(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}`);
    expect(yaml).toContain(`args: ["arg0 == 0xffffffffffffffff"]`);
    expect(act(ir, "kill", -1n & ((1n << 64n) - 1n))).toEqual(EPERM);
    expect(act(ir, "kill", 18446744073709551614n)).toEqual(ALLOW);
  });

  it("writes masked compares as libseccomp applies them", () => {
    const r = compiled({
      ...base,
      syscalls: [
        { names: ["unshare"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0x10000000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] },
        { names: ["setns"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: 0xff, valueTwo: 0x1ff, op: "SCMP_CMP_MASKED_EQ" }] },
      ],
    });
    expect(r.yaml).toContain(`args: ["arg0 & 0x10000000 == 0x0"]`);
    expect(r.yaml).toContain(`args: ["arg1 & 0xff == 0xff"]`);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "in syscalls[1], `valueTwo` 0x1ff has bits outside the mask 0xff; libseccomp ignores them, and so does this import",
    ]);
    expect(act(r.ir, "unshare", 0x20000)).toEqual(ALLOW);
    expect(act(r.ir, "unshare", 0x10020000)).toEqual(EPERM);
    expect(act(r.ir, "setns", 0, 0x1ff)).toEqual(ALLOW);
  });

  it("treats a MASKED_EQ with mask 0 as no comparison, as libseccomp does", () => {
    const { ir, yaml } = compiled({
      ...base,
      syscalls: [
        { names: ["kill"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0, valueTwo: 5, op: "SCMP_CMP_MASKED_EQ" }] },
        { names: ["kill"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 0, value: 9, op: "SCMP_CMP_EQ" }] },
      ],
    });
    // The first rule has no comparison left, so it decides `kill` alone; the second is dropped.
    expect(act(ir, "kill", 9)).toEqual(ALLOW);
    expect(yaml).toContain("syscalls[1]: `kill` left out, syscalls[0] names it without conditions");
  });

  it("maps errnoRet and defaultErrnoRet to errno names, or numbers without a name", () => {
    const { yaml, ir } = compiled({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      syscalls: [
        { names: ["open"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
        { names: ["openat"], action: "SCMP_ACT_ERRNO", errnoRet: 4000 },
        { names: ["creat"], action: "SCMP_ACT_ERRNO" },
      ],
    });
    expect(yaml).toContain("  default: { errno: ENOSYS }");
    expect(yaml).toContain("action: { errno: EACCES }");
    expect(yaml).toContain("action: { errno: 4000 }");
    expect(act(ir, "creat")).toEqual(EPERM);
    expect(act(ir, "mount")).toEqual({ type: "errno", errno: 38 });
  });

  it("maps every action", () => {
    const actions: [string, Action][] = [
      ["SCMP_ACT_ALLOW", { type: "allow" }],
      ["SCMP_ACT_LOG", { type: "log" }],
      ["SCMP_ACT_NOTIFY", { type: "user-notif" }],
      ["SCMP_ACT_TRAP", { type: "trap" }],
      ["SCMP_ACT_KILL", { type: "kill-thread" }],
      ["SCMP_ACT_KILL_THREAD", { type: "kill-thread" }],
      ["SCMP_ACT_KILL_PROCESS", { type: "kill-process" }],
    ];
    const { ir } = compiled({ ...base, syscalls: actions.map(([action], i) => ({ names: [["read", "write", "close", "dup", "dup2", "dup3", "pipe"][i]], action })) });
    expect(["read", "write", "close", "dup", "dup2", "dup3", "pipe"].map((s) => act(ir, s))).toEqual(actions.map(([, a]) => a));
  });

  it("evaluates includes and excludes for the given caps, arch and kernel, with a comment on each kept entry", () => {
    const profile = {
      ...base,
      syscalls: [
        { names: ["mount"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
        { names: ["umount2"], action: "SCMP_ACT_ALLOW", excludes: { caps: ["CAP_SYS_ADMIN"] } },
        { names: ["iopl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64"] } },
        { names: ["ioperm"], action: "SCMP_ACT_ALLOW", excludes: { arches: ["arm64"] } },
        { names: ["pidfd_getfd"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "5.6" } },
        { names: ["kcmp"], action: "SCMP_ACT_ALLOW", excludes: { minKernel: "5.6" } },
      ],
    };
    const none = compiled(profile);
    expect(["mount", "umount2", "iopl", "ioperm", "pidfd_getfd", "kcmp"].map((s) => act(none.ir, s).type)).toEqual(["errno", "allow", "allow", "allow", "allow", "errno"]);
    expect(none.yaml).toContain("# syscalls[1]: conditional (excludes.caps CAP_SYS_ADMIN); applies to x86_64 with no capabilities");
    expect(none.yaml).toContain("# syscalls[0]: left out, needs CAP_SYS_ADMIN");
    const d = none.diagnostics.find((x) => x.code === "SBC1102")!;
    expect(d.message).toBe("2 of 6 entries do not apply to x86_64 with no capabilities and were left out (1 for other capabilities, 1 for other kernels)");
    expect(d.severity).toBe("warning");
    const other = compiled(profile, { caps: ["CAP_SYS_ADMIN"], arch: "aarch64", minKernel: "5.4" });
    expect(["mount", "umount2", "iopl", "ioperm", "pidfd_getfd", "kcmp"].map((s) => act(other.ir, s).type)).toEqual(["allow", "errno", "errno", "errno", "errno", "allow"]);
  });

  it("leaves unknown syscall names out with a warning naming them", () => {
    const r = compiled({ ...base, syscalls: [{ names: ["read", "frobnicate", "osf_syscall"], action: "SCMP_ACT_ALLOW" }] });
    const w = r.diagnostics.find((d) => d.code === "SBC1103")!;
    expect(w.severity).toBe("warning");
    expect(w.message).toBe("2 syscall names are unknown to sbc and left out: `frobnicate`, `osf_syscall`");
    expect(r.yaml).toContain("- syscalls: [read]");
    expect(r.yaml).toContain("# syscalls[0]: not imported, unknown to sbc on every supported architecture: frobnicate, osf_syscall");
  });

  it("imports SCMP_ACT_TRACE as trace, with errnoRet as its data (EPERM when absent), as runc passes it", () => {
    const r = compiled({
      defaultAction: "SCMP_ACT_TRACE",
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
        { names: ["ptrace"], action: "SCMP_ACT_TRACE", errnoRet: 5 },
      ],
    });
    expect(act(r.ir, "ptrace")).toEqual({ type: "trace", data: 5 });
    expect(act(r.ir, "mount")).toEqual({ type: "trace", data: 1 });
    expect(r.yaml).toContain("  default: { trace: 1 }");
    expect(r.yaml).toContain("action: { trace: 5 }");
    expect(r.diagnostics.filter((d) => d.message.includes("SCMP_ACT_TRACE"))).toEqual([]);
    // A trace default is one of the "allow" actions runc does not put its ENOSYS stub in front of.
    expect(r.ir.syscalls.newerAction).toBeUndefined();
  });

  describe("runc's ENOSYS stub, as `syscalls.newer`", () => {
    const at = (ir: IR, arch: "x86_64" | "aarch64", nr: number, ...args: bigint[]) => evaluateSyscallRulesAt(ir, arch, nr, args).action;
    const ENOSYS = { type: "errno", errno: 38 };
    const EPERM = { type: "errno", errno: 1 };

    it("gives ENOSYS to every number above the highest call the profile names on the arch, and the default below", () => {
      const { ir, yaml } = compiled({ ...base, syscalls: [{ names: ["read", "openat", "close"], action: "SCMP_ACT_ALLOW" }] });
      expect(yaml).toContain("  newer: { errno: ENOSYS }");
      expect(at(ir, "x86_64", 257)).toEqual(ALLOW); // openat, the highest named
      expect(at(ir, "x86_64", 59)).toEqual(EPERM); // execve: below it, not named
      expect(at(ir, "x86_64", 258)).toEqual(ENOSYS); // mkdirat
      expect(at(ir, "x86_64", 449)).toEqual(ENOSYS); // futex_waitv
      expect(at(ir, "x86_64", 1000)).toEqual(ENOSYS); // past the table
      // x32 numbers and -1 are not the stub's on x86_64 (it tests bit 30 first).
      expect(at(ir, "x86_64", 0xffffffff)).toEqual(EPERM);
    });

    it("counts the entries runc skips (the default action) but names, with a numbered rule where they name the highest call", () => {
      const { ir, yaml } = compiled({
        ...base,
        syscalls: [
          { names: ["read"], action: "SCMP_ACT_ALLOW" },
          { names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
        ],
      });
      expect(yaml).toContain("    - syscalls: [x86_64:258]");
      expect(at(ir, "x86_64", 258)).toEqual(EPERM);
      expect(at(ir, "x86_64", 257)).toEqual(EPERM);
      expect(at(ir, "x86_64", 259)).toEqual(ENOSYS);
    });

    it("answers -1 with ENOSYS where runc's stub does: on aarch64, and on x86_64 when the profile also filters x32", () => {
      const arm = compiled({ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }] }, { arch: "aarch64" });
      expect(at(arm.ir, "aarch64", 0xffffffff)).toEqual(ENOSYS);
      const x32 = compiled({
        ...base,
        archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] }],
        syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }],
      });
      expect(at(x32.ir, "x86_64", 0xffffffff)).toEqual(ENOSYS);
    });

    it("is not there when the default is allow, log, trace or errno ENOSYS, or when the profile names nothing", () => {
      const cases: [object, object[]][] = [
        [{ defaultAction: "SCMP_ACT_ALLOW" }, [{ names: ["read"], action: "SCMP_ACT_KILL_PROCESS" }]],
        [{ defaultAction: "SCMP_ACT_LOG" }, [{ names: ["read"], action: "SCMP_ACT_KILL_PROCESS" }]],
        [{ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38 }, [{ names: ["read"], action: "SCMP_ACT_KILL_PROCESS" }]],
        [base, []],
      ];
      for (const [d, syscalls] of cases) {
        const { ir } = compiled({ ...d, syscalls });
        expect(ir.syscalls.newerAction, JSON.stringify(d)).toBeUndefined();
      }
    });
  });

  it("skips entries with the default action, as runc and crun do", () => {
    const { ir, yaml } = compiled({
      ...base,
      syscalls: [
        { names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
        { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }] },
      ],
    });
    expect(act(ir, "socket", 1)).toEqual(ALLOW);
    expect(yaml).toContain("# syscalls[0]: left out, its action is the default action");
  });

  it("splits two comparisons of one argument into two rules, as runc and crun do, with a warning", () => {
    const r = compiled({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 1, op: "SCMP_CMP_NE" }, { index: 0, value: 2, op: "SCMP_CMP_NE" }] }],
    });
    expect(r.yaml).toContain(`args: ["arg0 != 0x1"]`);
    expect(r.yaml).toContain(`args: ["arg0 != 0x2"]`);
    // OR of the two: every domain matches one of them.
    expect(act(r.ir, "socket", 1)).toEqual(EPERM);
    expect(act(r.ir, "socket", 2)).toEqual(EPERM);
    expect(r.diagnostics.map((d) => d.message)).toContain(
      "syscalls[0] compares arg0 more than once; runc and crun make each comparison a rule of its own (OR), and so does this import",
    );
  });

  it("lets the first unconditional rule of a syscall decide it, as libseccomp does", () => {
    const { ir, yaml } = compiled({
      ...base,
      syscalls: [
        { names: ["socket", "bind"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 0, value: 40, op: "SCMP_CMP_EQ" }] },
        { names: ["socket"], action: "SCMP_ACT_ALLOW" },
        { names: ["socket"], action: "SCMP_ACT_TRAP" },
      ],
    });
    expect(act(ir, "socket", 40)).toEqual(ALLOW);
    expect(act(ir, "socket")).toEqual(ALLOW);
    expect(act(ir, "bind", 40)).toEqual({ type: "kill-process" });
    expect(yaml).toContain("# syscalls[0]: `socket` left out, syscalls[1] names it without conditions");
    expect(yaml).toContain("# syscalls[2]: no syscall left to import");
  });

  it("warns when rules of different actions overlap, and applies the stricter", () => {
    const r = compiled({
      ...base,
      syscalls: [
        { names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 3, op: "SCMP_CMP_LE" }] },
        { names: ["ioctl"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 1, value: 0x5412, op: "SCMP_CMP_EQ" }] },
        { names: ["ioctl"], action: "SCMP_ACT_LOG", args: [{ index: 0, value: 10, op: "SCMP_CMP_GT" }] },
      ],
    });
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "syscalls[0] and syscalls[1] can both match `ioctl` with different actions; sbc applies its own precedence, the stricter action (between two errno values, the later entry)",
      "syscalls[1] and syscalls[2] can both match `ioctl` with different actions; sbc applies its own precedence, the stricter action (between two errno values, the later entry)",
    ]);
    expect(act(r.ir, "ioctl", 1, 0x5412)).toEqual({ type: "kill-process" });
    expect(act(r.ir, "ioctl", 1, 0)).toEqual(ALLOW);
    expect(act(r.ir, "ioctl", 11, 0)).toEqual({ type: "log" });
  });

  it("carries comments over as reasons, escaped", () => {
    const { ir, yaml } = compiled({ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", comment: 'say "hi"\n\u0085#' }] });
    expect(yaml).toContain(String.raw`reason: "say \"hi\"\u000a\u0085#"`);
    expect(ir.syscalls.rules[0]!.reason).toBe('say "hi"\n\u0085#');
  });

  it("accepts the legacy `name` key and an empty profile", () => {
    expect(act(compiled({ ...base, syscalls: [{ name: "read", action: "SCMP_ACT_ALLOW" }] }).ir, "read")).toEqual(ALLOW);
    const empty = compiled({ defaultAction: "SCMP_ACT_ALLOW" });
    expect(empty.yaml).toContain("  rules: []");
    expect(act(empty.ir, "mount")).toEqual(ALLOW);
  });

  it("warns that filter flags are not imported", () => {
    const r = compiled({ ...base, flags: ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] });
    expect(r.diagnostics.map((d) => d.message)).toEqual(["the filter flags `SECCOMP_FILTER_FLAG_SPEC_ALLOW` are not imported"]);
  });
});

describe("profiles that cannot be imported", () => {
  const errors = (profile: unknown) => {
    const r = importText(profile);
    expect(r.yaml).toBeUndefined();
    return r.diagnostics.map((d) => `${d.code} ${d.message}`);
  };

  it("reports malformed JSON with its place", () => {
    const r = importText('{"defaultAction": "SCMP_ACT_ALLOW",\n "syscalls": [}');
    expect(codes(r.diagnostics)).toEqual(["error:SBC1101"]);
    expect(r.diagnostics[0]!.message).toBe("the profile is not valid JSON: expected a value, found `}`");
    expect(r.diagnostics[0]!.span!.source.position(r.diagnostics[0]!.span!.start)).toEqual({ line: 2, column: 15 });
  });

  it("reports shapes the runtime spec forbids", () => {
    expect(errors({ syscalls: [] })).toEqual(["SBC0204 the profile has no `defaultAction`"]);
    expect(errors({ defaultAction: "SCMP_ACT_ALOW" })).toEqual(["SBC0203 `SCMP_ACT_ALOW` is not a seccomp action"]);
    expect(errors({ defaultAction: "SCMP_ACT_ALLOW", sycalls: [] })).toEqual(["SBC0201 unknown key `sycalls` in the profile"]);
    expect(errors({ defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: 1 })).toEqual([
      "SBC0207 `defaultErrnoRet` is set but `SCMP_ACT_ALLOW` returns no errno",
    ]);
    expect(errors({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }] })).toEqual([
      "SBC0207 syscalls[0] sets `errnoRet` on `SCMP_ACT_ALLOW`, which returns no errno",
    ]);
    expect(errors({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: [], action: "SCMP_ACT_ALLOW" }] })).toEqual(["SBC0204 syscalls[0].names is empty"]);
    expect(errors({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] }] })).toEqual([
      "SBC0807 syscalls[0].args[0].index `6` is larger than 5",
    ]);
    expect(errors({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }] }] })).toEqual([
      "SBC0202 syscalls[0].args[0].value must be an unsigned integer",
    ]);
    expect(errors({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_IN" }] }] })).toEqual([
      "SBC0203 `SCMP_CMP_IN` is not a seccomp comparison",
    ]);
    expect(errors({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 5000 })).toEqual(["SBC0806 `defaultErrnoRet` `5000` is larger than 4095"]);
    expect(errors({ defaultAction: "SCMP_ACT_ERRNO", architectures: [], archMap: [] })).toEqual(["SBC0207 the profile has both `architectures` and `archMap`"]);
    expect(errors(`{"defaultAction": "SCMP_ACT_ERRNO", "defaultAction": "SCMP_ACT_ALLOW"}`)).toEqual(["SBC0104 `defaultAction` appears twice in the profile"]);
    expect(errors(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "five"}}]}`)).toEqual([
      "SBC0205 syscalls[0].includes.minKernel `five` is not a kernel version such as `5.4`",
    ]);
  });
});

describe("conditions on arguments the kernel reads as fewer than 64 bits", () => {
  const profile = (args: unknown[]) => ({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["ioctl"], action: "SCMP_ACT_ERRNO", args }] });

  it("import with the kernel's meaning, without a warning, when the value fits", () => {
    const { ir, diagnostics } = compiled(profile([{ index: 1, value: 0x541b, op: "SCMP_CMP_EQ" }]));
    expect(diagnostics).toEqual([]);
    // libseccomp would let 0x1_0000_541B through; the kernel runs it as FIONREAD, and sbc refuses it too.
    expect(act(ir, "ioctl", 3, 0x1_0000_541bn)).toEqual(EPERM);
    expect(act(ir, "ioctl", 3, 0x541c)).toEqual(ALLOW);
  });

  it("keep a value only ignored bits could match as written, warn, and leave it to SBC0830", () => {
    const r = importText(JSON.stringify(profile([{ index: 1, value: 0x1_0000_541b, op: "SCMP_CMP_EQ" }]), null, 2));
    expect(codes(r.diagnostics)).toEqual(["warning:SBC1104"]);
    expect(r.diagnostics[0]!.message).toBe("in syscalls[0], 0x10000541b does not fit arg1 of `ioctl` (`unsigned int cmd`), of which the kernel reads 32 bits; kept as written, and sbc refuses it (SBC0830)");
    const c = compilePolicy({ kind: "text", path: "imported.yaml", text: r.yaml! });
    expect(codes(c.diagnostics)).toEqual(["error:SBC0830"]);
  });
});
