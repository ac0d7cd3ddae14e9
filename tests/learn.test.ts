// `sbc learn` without a kernel: tracer records folded into uses (lib/learn.ts observe), uses collapsed to
// rules (grantRoot, enforceableAccess), and the learned policy — secrets never allowed, tests that pass, the
// same policy in the DSL, `--extend` adding only what the base refuses.

import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { compileObserver, enforceableAccess, grantRoot, learnPolicy, observe, policyName, shownCommand, type Observed } from "../lib/learn.js";
import type { TraceRecord } from "../lib/explain.js";
import { evaluateFs } from "../ir/evaluator/evaluate.js";
import { compileToRun } from "../lib/run-policy.js";
import { syscallNumber } from "../linux-abi/index.js";
import type { IR } from "../ir/types.js";

let dir = "";
let ws = "";
let home = "";
const b = () => ({ workspace: ws, home, tmpdir: "/tmp" });

const nr = (name: string) => syscallNumber("x86_64", name)!;
const rec = (name: string, path: string, args: (number | bigint)[] = [], extra: Partial<TraceRecord> = {}): TraceRecord => ({
  kind: "exit",
  pid: 1,
  nr: nr(name),
  errno: 0,
  args: [0, 0, 0, 0, 0, 0].map((z, i) => String(args[i] ?? z)),
  path,
  ...extra,
});
const AT_FDCWD = 4294967196n; // -100 as the u64 register
const O_WRONLY_CREAT_TRUNC = 0o1101;

function standaloneIr(): IR {
  const r = compileObserver({ kind: "standalone" }, { workspace: ws, home, tmpdir: "/tmp" });
  if (!("ir" in r)) throw new Error("observer");
  return r.ir;
}

beforeAll(() => {
  // Not under /tmp: that is a temp dir, which the learner grants as a whole.
  dir = realpathSync(mkdtempSync("/var/tmp/sbc-learn-unit-"));
  ws = join(dir, "ws");
  home = join(dir, "home");
  mkdirSync(join(ws, "src"), { recursive: true });
  mkdirSync(join(home, ".ssh"), { recursive: true });
  mkdirSync(join(home, ".cache", "pip", "http"), { recursive: true });
  writeFileSync(join(ws, "src", "a.js"), "");
  writeFileSync(join(home, ".gitconfig"), "");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("grantRoot: where a use is allowed from", () => {
  it("the workspace and the temp dirs as wholes, the deepest first", () => {
    expect(grantRoot(join(ws, "src", "a.js"), "read", b())).toEqual({ path: ws, exact: false });
    expect(grantRoot("/tmp/x/y", "create-file", b())).toEqual({ path: "/tmp", exact: false });
    expect(grantRoot("/dev/shm/sem.x", "create-file", b())).toEqual({ path: "/dev/shm", exact: false });
  });
  it("the system's trees whole for reading; devices one by one", () => {
    expect(grantRoot("/usr/lib/x86_64-linux-gnu/libc.so.6", "read", b())).toEqual({ path: "/usr", exact: false });
    expect(grantRoot("/etc/hosts", "read", b())).toEqual({ path: "/etc", exact: false });
    expect(grantRoot("/opt/tool/bin/x", "execute", b())).toEqual({ path: "/opt/tool", exact: false });
    expect(grantRoot("/dev/null", "write", b())).toEqual({ path: "/dev/null", exact: true });
    expect(grantRoot("/dev/pts/3", "write", b())).toEqual({ path: "/dev/pts", exact: false });
    expect(grantRoot("/", "list", b())).toBeUndefined();
  });
  it("in the home directory: one tool's directory, or the file itself", () => {
    expect(grantRoot(join(home, ".npm", "_cacache", "index"), "write", b())).toEqual({ path: join(home, ".npm"), exact: false });
    expect(grantRoot(join(home, ".cache", "pip", "http", "x"), "create-file", b())).toEqual({ path: join(home, ".cache", "pip"), exact: false });
    expect(grantRoot(join(home, ".gitconfig"), "read", b())).toEqual({ path: join(home, ".gitconfig"), exact: true });
  });
  it("a change outside the known places: the directory changed, or the file written", () => {
    expect(grantRoot("/var/lib/app/state.db", "create-file", b())).toEqual({ path: "/var/lib/app", exact: false });
    expect(grantRoot("/var/lib/app/state.db", "write", b())).toEqual({ path: "/var/lib/app/state.db", exact: true });
  });
});

describe("enforceableAccess", () => {
  it("a changed subtree gets every change (the targets grant them only together); a file write with truncate", () => {
    expect(enforceableAccess(["read", "create-file"], false)).toEqual(["read", "write", "truncate", "create-file", "create-dir", "create-symlink", "create-special", "delete-file", "delete-dir", "rename"]);
    expect(enforceableAccess(["read", "list"], false)).toEqual(["read", "list"]);
    expect(enforceableAccess(["write"], true)).toEqual(["write", "truncate"]);
    expect(enforceableAccess(["read"], true)).toEqual(["read"]);
  });
});

describe("observe", () => {
  it("folds successes by canonical path; failures are counted, not granted; a socket the network section refuses is left to its connect", () => {
    const ir = standaloneIr();
    const o = observe(
      [
        rec("openat", join(ws, "src", "a.js"), [AT_FDCWD, 0, 0]),
        rec("openat", join(ws, "out.txt"), [AT_FDCWD, 0, O_WRONLY_CREAT_TRUNC]),
        rec("openat", join(ws, "missing"), [AT_FDCWD, 0, 0], { errno: 2 }),
        rec("execve", "/usr/bin/env"),
        rec("mkdir", join(ws, "build")),
        { ...rec("connect", "", [3, 0, 16], { errno: 111, family: 2, addr: "127.0.0.1", port: 9, socktype: 1 }), path: undefined },
        { ...rec("connect", "", [3, 0, 16], { family: 2, addr: "10.0.0.1", port: 53, socktype: 2 }), path: undefined },
        { kind: "seccomp", pid: 1, nr: nr("ptrace"), errno: 1, args: ["0", "0", "0", "0", "0", "0"] },
        { kind: "seccomp", pid: 1, nr: nr("ioctl"), errno: 1, args: ["0", String(0x5412), "0", "0", "0", "0"] },
      ],
      ir,
      "x86_64",
    );
    expect(o.files).toContainEqual({ path: join(ws, "src", "a.js"), access: ["read"], count: 1 });
    expect(o.files).toContainEqual({ path: join(ws, "out.txt"), access: ["write", "truncate", "create-file"], count: 3 });
    expect(o.files).toContainEqual({ path: join(ws, "build"), access: ["create-dir"], count: 1 });
    expect(o.files.map((f) => f.path)).not.toContain(join(ws, "missing"));
    expect(o.failed).toBe(1);
    expect(o.network).toEqual([
      { op: "connect", protocol: "tcp", host: "127.0.0.1", port: 9, count: 1 },
      { op: "connect", protocol: "udp", host: "10.0.0.1", port: 53, count: 1 },
    ]);
    // TIOCSTI is refused for that argument only: never allowed by name (learnPolicy lists it).
    expect(o.syscalls).toEqual([{ name: "ptrace", count: 1 }, { name: "ioctl", count: 1, conditional: true }]);
  });
});

describe("learnPolicy", () => {
  const observed = (): Observed => ({
    files: [
      { path: join(ws, "src", "a.js"), access: ["read"], count: 1 },
      { path: join(ws, "out.txt"), access: ["write", "create-file"], count: 1 },
      { path: "/usr/bin/node", access: ["read", "execute"], count: 1 },
      { path: join(home, ".ssh", "id_ed25519"), access: ["read"], count: 1 },
      { path: join(home, ".cache", "pip", "http", "x"), access: ["read"], count: 1 },
      { path: join(ws, ".env"), access: ["read"], count: 1 },
    ],
    network: [
      { op: "connect", protocol: "tcp", host: "140.82.112.3", port: 443, count: 2 },
      { op: "connect", protocol: "udp", host: "10.0.0.1", port: 53, count: 1 },
    ],
    unixSockets: [],
    syscalls: [{ name: "ptrace", count: 1 }, { name: "ioctl", count: 1, conditional: true }],
    failed: 0,
  });
  const opts = (extra: Partial<Parameters<typeof learnPolicy>[1]> = {}) => ({ arch: "x86_64" as const, bindings: b(), command: ["node", "x.js"], path: join(dir, "learned.yaml"), format: "yaml" as const, ...extra });
  const boundIr = (text: string, path = join(dir, "learned.yaml")) => {
    const r = compileToRun({ kind: "text", text, syntax: "yaml", path }, { workspace: ws, cwd: ws, home, tmpdir: "/tmp" });
    expect(r.errors).toEqual([]);
    return r.ir!;
  };

  it("allows what was seen, through the parameters, and never a secret: those are listed", async () => {
    const l = await learnPolicy(observed(), opts());
    const doc = parseYaml(l.yaml) as { filesystem: Record<string, unknown>[]; network: { rules: unknown[] }; syscalls: { rules: { syscalls: string[] }[] }; tests: Record<string, unknown>[]; linux: unknown };
    expect(doc.filesystem).toContainEqual({ allow: ["read", "modify"], path: "${workspace}", protect: [".git", ".codex", ".agents"] });
    expect(doc.filesystem).toContainEqual({ allow: ["read", "execute"], path: "/usr" });
    expect(doc.filesystem).toContainEqual({ allow: ["read"], path: "${home}/.cache/pip" });
    expect(doc.network.rules).toEqual([{ allow: "connect", hosts: ["140.82.112.3"], ports: [443], reason: "seen while learning" }]);
    expect(doc.linux).toEqual({ "accept-widening": ["hosts"] });
    expect(doc.syscalls.rules[0]!.syscalls).not.toContain("@debug");
    expect(doc.syscalls.rules[0]!.syscalls).not.toContain("ptrace");
    expect(doc.syscalls.rules[0]!.syscalls).toContain("process_vm_readv");
    expect(l.secrets).toEqual([
      { path: "${home}/.ssh/id_ed25519", access: ["read"], what: "ssh keys" },
      { path: "${workspace}/.env", access: ["read"], what: "the project's environment secrets" },
    ]);
    expect(l.review).toEqual([expect.objectContaining({ path: "udp 10.0.0.1:53" }), expect.objectContaining({ path: "syscall ioctl" })]);
    expect(doc.syscalls.rules.slice(1)).toEqual([
      expect.objectContaining({ syscalls: ["ioctl"], args: ["arg1 == TIOCSTI"] }),
      expect.objectContaining({ syscalls: ["ioctl"], args: ["arg1 == TIOCLINUX"] }),
    ]);
    expect(l.findings.some((f) => f.startsWith("dangerous: `ptrace`"))).toBe(true);
    const ir = boundIr(l.yaml);
    expect(evaluateFs(ir, "read", join(home, ".ssh", "id_ed25519")).decision).toBe("deny");
    expect(evaluateFs(ir, "read", join(ws, ".env")).decision).toBe("deny");
    expect(evaluateFs(ir, "write", join(ws, "src", "a.js")).decision).toBe("allow");
    expect(evaluateFs(ir, "write", join(home, ".bashrc")).decision).toBe("deny");
    // The header lists them for a person.
    expect(l.yaml).toMatch(/^# Secrets the command used, NOT allowed/m);
    expect(l.yaml).toContain("#   read ${home}/.ssh/id_ed25519 (ssh keys)");
  });

  it("a subtree that would reach a secret gets a deny for it", async () => {
    const o: Observed = { ...observed(), files: [{ path: join(home, ".ssh", "known_hosts"), access: ["read"], count: 1 }, { path: join(home, ".ssh", "sub", "x"), access: ["read"], count: 1 }] };
    const l = await learnPolicy(o, opts());
    // Both are secrets (under ~/.ssh): nothing is granted there at all.
    expect(l.secrets.map((s) => s.path)).toEqual(["${home}/.ssh/known_hosts", "${home}/.ssh/sub/x"]);
    expect(evaluateFs(boundIr(l.yaml), "read", join(home, ".ssh", "id_rsa")).decision).toBe("deny");
  });

  it("places that run code later are never made writable: listed when written, denied when a subtree reaches them", async () => {
    const o: Observed = {
      files: [
        { path: join(ws, ".git", "objects", "ab", "cd"), access: ["create-file", "write"], count: 1 },
        { path: join(ws, ".git", "hooks", "pre-commit"), access: ["create-file", "write"], count: 1 },
        { path: join(home, ".bashrc"), access: ["read", "write"], count: 1 },
      ],
      network: [],
      unixSockets: [],
      syscalls: [],
      failed: 0,
    };
    const l = await learnPolicy(o, opts());
    expect(l.review).toEqual([
      { path: "${workspace}/.git/hooks/pre-commit", access: ["create-file", "write"], why: "it runs code outside the sandbox later (persistence-write)" },
      { path: "${home}/.bashrc", access: ["write"], why: "it runs code outside the sandbox later (persistence-write)" },
    ]);
    const ir = boundIr(l.yaml);
    expect(evaluateFs(ir, "create-file", join(ws, ".git", "objects", "ef", "01")).decision).toBe("allow");
    expect(evaluateFs(ir, "create-file", join(ws, ".git", "hooks", "pre-push")).decision).toBe("deny");
    expect(evaluateFs(ir, "write", join(ws, ".git", "config")).decision).toBe("deny");
    expect(evaluateFs(ir, "write", join(home, ".bashrc")).decision).toBe("deny");
    expect(evaluateFs(ir, "read", join(home, ".bashrc")).decision).toBe("allow");
    expect(l.findings.filter((f) => f.startsWith("not allowed"))).toEqual([]);
  });

  it("/dev/shm is a temp dir; a file created directly in the home directory is written, not created, and said", async () => {
    const o: Observed = {
      files: [
        { path: "/dev/shm/sem.lock", access: ["create-file", "write"], count: 1 },
        { path: join(home, ".bash_history"), access: ["create-file", "write"], count: 1 },
      ],
      network: [],
      unixSockets: [],
      syscalls: [],
      failed: 0,
    };
    const l = await learnPolicy(o, opts());
    const doc = parseYaml(l.yaml) as { filesystem: Record<string, unknown>[]; tests: Record<string, unknown>[] };
    expect(doc.filesystem).toContainEqual({ allow: ["modify"], path: "/dev/shm" });
    expect(doc.filesystem).toContainEqual({ allow: ["write", "truncate"], exact: "${home}/.bash_history" });
    expect(doc.tests).toContainEqual({ write: "${home}/.bash_history", expect: "allow" });
    expect(l.findings).toContain(`not allowed by the learned policy: create-file \`${join(home, ".bash_history")}\``);
  });

  it("the DSL output is the same policy", async () => {
    const l = await learnPolicy(observed(), opts({ format: "dsl", path: join(dir, "learned.sbc") }));
    expect(l.policy).not.toBe(l.yaml);
    const dsl = compileToRun({ kind: "text", text: l.policy, syntax: "sbc", path: join(dir, "learned.sbc") }, { workspace: ws, cwd: ws, home, tmpdir: "/tmp" });
    expect(dsl.errors).toEqual([]);
    expect(evaluateFs(dsl.ir!, "read", join(home, ".ssh", "id_ed25519")).decision).toBe("deny");
    expect(evaluateFs(dsl.ir!, "create-file", join(ws, "new.txt")).decision).toBe("allow");
  });

  it("--extend: only what the base refused, and a base's explicit deny is a person's to undo", async () => {
    const r = compileObserver({ kind: "preset", name: "workspace-write" }, { workspace: ws, cwd: ws, home, tmpdir: "/tmp" });
    if (!("ir" in r)) throw new Error("preset");
    const o: Observed = {
      files: [
        { path: join(ws, "out.txt"), access: ["write", "create-file"], count: 1 },
        { path: join(ws, ".codex", "config.toml"), access: ["write"], count: 1 },
        { path: join(home, "notes", "n.txt"), access: ["write", "create-file"], count: 1 },
        { path: "/usr/bin/node", access: ["read", "execute"], count: 1 },
      ],
      network: [],
      unixSockets: [],
      syscalls: [],
      failed: 0,
    };
    const l = await learnPolicy(o, opts({ extend: { name: "workspace-write", ir: r.ir } }));
    const doc = parseYaml(l.yaml) as Record<string, unknown>;
    expect(doc.extends).toBe("workspace-write");
    expect(doc.filesystem).toEqual([{ allow: ["modify"], path: "${home}/notes" }]);
    expect(doc.syscalls).toBeUndefined();
    expect(doc.network).toBeUndefined();
    expect(l.review).toEqual([{ path: "${workspace}/.codex/config.toml", access: ["write"], why: "the base protects `.codex`" }]);
  });

  it("the policy is named after its file, within the schema's pattern", () => {
    expect(policyName("/x/agent.yaml")).toBe("agent");
    expect(policyName("/x/My Policy (v2).sbc")).toBe("My-Policy-v2-");
    expect(policyName("/x/.hidden.yaml")).toBe("hidden");
    expect(policyName("/x/---.yaml")).toBe("learned");
  });

  it("a command on one line in the header and the description", () => {
    expect(shownCommand(["python3", "-c", "import x\nprint(`y`)"], 100)).toBe("python3 -c import x print( y )");
    expect(shownCommand(["x".repeat(200)], 20)).toBe("x".repeat(17) + "...");
  });
});
