// lib/explain.ts without a kernel: the tracer's records (as native/loader/trace.c writes them) mapped to the
// layer, the operation and the deciding rule of the reference evaluator, deduplicated, with suggestions that
// compile and dangerous ones flagged by the lint rules.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/passes/index.js";
import { TraceCollector, explainRecords, parseTrace, renderDenials, type TraceRecord } from "../lib/explain.js";
import { lintPolicyText } from "../compiler/lint/index.js";

const params = { workspace: "/w", cwd: "/w", home: "/h", tmpdir: "/tmp" };
const ir = compilePolicy({ kind: "preset", name: "workspace-write" }, { params }).ir!;
const args = (...a: number[]) => [0, 1, 2, 3, 4, 5].map((i) => String(a[i] ?? 0));
const O_WRONLY = 1, O_CREAT = 0o100, AT_FDCWD = 0xffffff9c;

const rec = (r: Partial<TraceRecord> & Pick<TraceRecord, "kind" | "nr" | "errno">): TraceRecord => ({ pid: 1, args: args(), ...r });

describe("explainRecords", () => {
  it("names the @debug rule for a seccomp ptrace, with its place, and flags the suggestion", () => {
    const [d] = explainRecords(ir, [rec({ kind: "seccomp", nr: 101, errno: 1 })], { arch: "x86_64", lint: false });
    expect(d).toMatchObject({ layer: "seccomp", syscall: "ptrace", operation: "call", errno: "EPERM", count: 1 });
    expect(d!.decidedBy).toContain("@debug");
    expect(d!.location).toMatch(/^presets\/read-only\.yaml:\d+:\d+$/);
    expect(d!.dangerous?.[0]).toContain("dangerous-syscall");
  });

  it("names the network section for socket(AF_INET)", () => {
    const [d] = explainRecords(ir, [rec({ kind: "seccomp", nr: 41, errno: 1, args: args(2, 1) })], { arch: "x86_64", lint: false });
    expect(d!.decidedBy).toMatch(/^the network section/);
    expect(d!.location).toMatch(/^presets\/read-only\.yaml:\d+:\d+$/);
  });

  it("names the protect rule for a write to .git/config, by layer from the errno", () => {
    const r = (errno: number) => rec({ kind: "exit", nr: 257, errno, args: args(AT_FDCWD, 0, O_WRONLY), path: "/w/.git/config" });
    const [mount, landlock] = explainRecords(ir, [r(30), r(13), r(13)], { arch: "x86_64", lint: false });
    expect(mount).toMatchObject({ layer: "mount", operation: "write", decidedBy: "protect: .git", count: 1 });
    expect(landlock).toMatchObject({ layer: "landlock", operation: "write", errno: "EACCES", count: 2 });
    expect(landlock!.location).toMatch(/^presets\/workspace-write\.yaml:\d+:\d+$/);
  });

  it("says a default deny and the grant that covers the path; the snippet uses the parameter and lint flags it", () => {
    const [d] = explainRecords(ir, [rec({ kind: "exit", nr: 257, errno: 13, args: args(AT_FDCWD, 0, O_WRONLY | O_CREAT), path: "/h/new-file" })], { arch: "x86_64", preset: "workspace-write" });
    expect(d).toMatchObject({ layer: "landlock", operation: "create-file" });
    expect(d!.decidedBy).toMatch(/^no rule grants `create-file` here \(default deny\); `allow: read-only` covers it/);
    expect(d!.suggestion).toBe("filesystem:\n  - allow: [create-file]\n    path: ${home}");
    expect(d!.dangerous?.some((x) => x.startsWith("SBC3003"))).toBe(true);
  });

  it("leaves out a failure the policy allows (file modes, not the sandbox)", () => {
    expect(explainRecords(ir, [rec({ kind: "exit", nr: 257, errno: 13, args: args(AT_FDCWD, 0, O_WRONLY), path: "/w/src/main.c" })], { arch: "x86_64", lint: false })).toEqual([]);
  });

  it("explains a TCP connect Landlock refused, with a snippet that compiles", () => {
    const [d] = explainRecords(ir, [rec({ kind: "exit", nr: 42, errno: 13, family: 2, addr: "10.0.0.1", port: 5432 })], { arch: "x86_64", lint: false });
    expect(d).toMatchObject({ layer: "landlock", operation: "connect", address: "10.0.0.1:5432" });
    const diags = lintPolicyText(`sbc: 1\nname: s\nextends: workspace-write\n${d!.suggestion}\n`);
    expect(diags.filter((x) => x.severity === "error" && !x.code.startsWith("SBC30"))).toEqual([]);
  });

  it("parses the tracer's lines, skipping a torn one, and renders them", () => {
    const text = `{"kind":"seccomp","pid":7,"nr":101,"errno":1,"args":["0","0","0","0","0","0"]}\n{"kind":"exit","pid":7,"nr":2`;
    const records = parseTrace(text);
    expect(records).toHaveLength(1);
    const out = renderDenials(explainRecords(ir, records, { arch: "x86_64", lint: false }));
    expect(out).toMatch(/^sbc explain: the sandbox refused 1 distinct access\n- seccomp: ptrace\(\) → EPERM\n/);
    expect(renderDenials([])).toBe("sbc explain: the sandbox refused nothing\n");
  });

  it("a refusal the policy allows: EROFS is the mount layer enforcing a deny rule more widely; EACCES against the file's mode is not listed", () => {
    const mine = compilePolicy({ kind: "text", path: "mine.yaml", text: "sbc: 1\nname: mine\nextends: workspace-write\nfilesystem:\n  - deny: write\n    path: ${workspace}/locked\n" }, { params }).ir!;
    const r = (errno: number, path: string) => rec({ kind: "exit", nr: 257, errno, args: args(AT_FDCWD, 0, O_WRONLY | O_CREAT), path });
    const [d] = explainRecords(mine, [r(30, "/w/locked/new")], { arch: "x86_64", lint: false });
    expect(d).toMatchObject({ layer: "mount", operation: "create-file", location: "mine.yaml:5:5" });
    expect(d!.decidedBy).toMatch(/^the policy allows `create-file` here; the mount layer enforces `deny: write` more widely/);
    expect(d!.suggestion).toBeUndefined();
    // A directory that does not exist fails access(2): the refusal is the system's, not the sandbox's.
    expect(explainRecords(mine, [r(13, "/w/no-such-dir/new")], { arch: "x86_64", lint: false })).toEqual([]);
  });

  it("lints a suggestion against a policy file beside it (extends: takes no absolute path)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sbc-explain-"));
    try {
      const file = join(dir, "agent.yaml");
      writeFileSync(file, "sbc: 1\nname: agent\nextends: workspace-write\n");
      const [d] = explainRecords(ir, [rec({ kind: "exit", nr: 257, errno: 13, args: args(AT_FDCWD, 0, O_WRONLY | O_CREAT), path: "/h/x" })], { arch: "x86_64", policyFile: file });
      expect(d!.dangerous?.some((x) => x.startsWith("SBC3003"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("TraceCollector folds repeats across pids and chunk boundaries, and keeps a UTF-8 name split between chunks", () => {
    const c = new TraceCollector();
    const line = (pid: number) => `{"kind":"seccomp","pid":${pid},"nr":101,"errno":1,"args":["0","0","0","0","0","0"]}\n`;
    const utf = Buffer.from(`{"kind":"exit","pid":3,"nr":257,"errno":13,"args":["0","0","1","0","0","0"],"path":"/w/.git/caf\u00e9"}\n`);
    const all = Buffer.concat([Buffer.from(line(1) + line(2) + line(1)), utf]);
    const cut = all.length - 2; // inside the line's tail, after the é
    const at = all.indexOf(Buffer.from("\u00e9")) + 1; // between the two bytes of é
    c.add(all.subarray(0, at));
    c.add(all.subarray(at, cut));
    c.add(all.subarray(cut));
    const records = c.records();
    expect(records.map((r) => [r.nr, r.repeat])).toEqual([[101, 3], [257, 1]]);
    expect(records[1]!.path).toBe("/w/.git/caf\u00e9");
    const denials = explainRecords(ir, records, { arch: "x86_64", lint: false });
    expect(denials[0]).toMatchObject({ syscall: "ptrace", count: 3 });
  });
});
