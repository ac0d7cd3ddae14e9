// dangerous-syscall (SBC3005): under a restrictive default, an allow of ptrace, bpf, mount, unshare with
// CLONE_NEWUSER, kexec, perf_event_open, io_uring …, reported at the allowing rule; nothing under `allow`.

import { describe, expect, it } from "vitest";
import { expectCompiled, findingsOf, lineOf, lint } from "./support.js";

const RULE = "dangerous-syscall";

describe("dangerous-syscall", () => {
  it("an allow-list that allows ptrace and io_uring (YAML)", () => {
    // With the network on: without it, the network section itself refuses io_uring, which would open sockets
    // past the filter (ir/evaluator/network-syscalls.ts), and the evaluator says so.
    const ds = lint(`sbc: 1
network: on
syscalls:
  default: kill-process
  rules:
    - syscalls: [read, write, exit_group]
      action: allow
    - syscalls: [ptrace, io_uring_setup, io_uring_enter]
      action: allow
`);
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [d.code, d.severity, lineOf(d), d.message])).toEqual([
      ["SBC3005", "error", 8, "dangerous calls are allowed under the default `kill-process`: `ptrace`, `io_uring_setup` and `io_uring_enter`"],
    ]);
  });

  it("groups by the allowing rule; an errno default is restrictive too (DSL)", () => {
    const ds = lint(
      `sbc 1
policy p {
  syscalls {
    default errno EPERM
    rule @mount allow
    rule [bpf, kexec_load] allow
  }
}
`,
      { path: "policy.sbc" },
    );
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [lineOf(d), d.message])).toEqual([
      [5, "dangerous calls are allowed under the default `errno(EPERM)`: `mount`, `umount2`, `fsopen`, `fsmount` and 3 more"],
      [6, "dangerous calls are allowed under the default `errno(EPERM)`: `bpf` and `kexec_load`"],
    ]);
  });

  it("io_uring is not reported where the network section already refuses it", () => {
    const ds = lint("sbc: 1\nsyscalls:\n  default: kill-process\n  rules:\n    - syscalls: [io_uring_setup]\n      action: allow\n");
    expect(findingsOf(ds, RULE)).toEqual([]);
  });

  it("a call that `newer` allows (newer than the policy's kernel) is reported at the syscalls section", () => {
    const ds = lint("sbc: 1\nnetwork: on\nsyscalls:\n  default: kill-process\n  newer: allow\n  kernel: \"5.0\"\n  rules:\n    - syscalls: [read]\n      action: allow\n");
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [lineOf(d), d.message])).toEqual([
      [4, "dangerous calls are allowed under the default `kill-process`: `fsopen`, `fsmount`, `move_mount`, `open_tree` and 3 more"],
    ]);
  });

  it("unshare is judged with CLONE_NEWUSER: a rule that excludes it passes", () => {
    const base = "sbc: 1\nsyscalls:\n  default: kill-process\n  rules:\n    - syscalls: unshare\n      action: allow\n";
    expect(findingsOf(lint(base), RULE).map((d) => d.message)).toEqual(["a dangerous call is allowed under the default `kill-process`: `unshare(CLONE_NEWUSER)`"]);
    expect(findingsOf(lint(base + '      args: ["arg0 & CLONE_NEWUSER == 0"]\n'), RULE)).toEqual([]);
  });

  it("passes an allow-list of ordinary calls, and any policy whose default is allow", () => {
    const ds = lint("sbc: 1\nsyscalls:\n  default: kill-process\n  rules:\n    - syscalls: [read, write, openat, close, mmap, exit_group]\n      action: allow\n");
    expectCompiled(ds);
    expect(findingsOf(ds, RULE)).toEqual([]);
    expect(findingsOf(lint("sbc: 1\nsyscalls:\n  default: allow\n  rules:\n    - syscalls: ptrace\n      action: allow\n"), RULE)).toEqual([]);
    expect(findingsOf(lint("sbc: 1\nextends: full-access\n"), RULE)).toEqual([]);
  });
});
