// The mount layer read off the IR: which paths a namespace makes read-only, writable, noexec; which carve-outs
// it enforces by itself (so Landlock grants their directory whole there); and the narrowings it announces.

import { describe, expect, it } from "vitest";
import { bindIr } from "../../ir/bind.js";
import { compilePolicy } from "../../compiler/passes/index.js";
import { testBindings } from "../../compiler/passes/run-tests.js";
import { makeIr } from "../../tests/support/ir.js";
import { rule } from "../../tests/support/landlock-model.js";
import { lowerLandlock } from "./lower.js";
import { buildPlan } from "./plan.js";

const attrs = (t: { mounts: readonly { path: string; writable: boolean; executable: boolean; file?: boolean }[] }) =>
  t.mounts.map((m) => `${m.path}${m.file ? " (file)" : ""} ${m.writable ? "rw" : "ro"} ${m.executable ? "exec" : "noexec"}`);

function preset(name: string) {
  const ir = compilePolicy({ kind: "preset", name }).ir!;
  return lowerLandlock(bindIr(ir, testBindings(ir)).ir!, { abi: 7 });
}

describe("the mount layer of the presets", () => {
  it("workspace-write: everything read-only but the writable roots, the protected names read-only inside the workspace", () => {
    const r = preset("workspace-write");
    expect(attrs(r.table!)).toEqual([
      "/ ro exec",
      "/tmp rw exec",
      "/dev/null (file) rw exec",
      "/dev/shm rw exec",
      "/home/user/project rw exec",
      "/home/user/project/.agents ro exec",
      "/home/user/project/.codex ro exec",
      "/home/user/project/.git ro exec",
    ]);
    // The carve-outs of the workspace are the mount layer's, so a namespace grants the workspace whole and the
    // compiler has nothing to announce.
    const ws = r.table!.fs.find((g) => g.path === "/home/user/project" && g.mode === "children")!;
    expect(ws.mountEnforced).toEqual([".agents", ".codex", ".git"]);
    expect(r.diagnostics.filter((d) => d.code === "SBC2201" || d.code === "SBC2202")).toEqual([]);
  });

  it("read-only: everything read-only, /dev/null writable as a file", () => {
    expect(attrs(preset("read-only").table!)).toEqual(["/ ro exec", "/dev/null (file) rw exec"]);
  });

  it("full-access needs no namespace at all", () => {
    expect(preset("full-access").table!.mounts).toEqual([]);
  });
});

describe("the mount layer of hand-made policies", () => {
  it("full access but a protected directory: only that directory is read-only", () => {
    const r = lowerLandlock(makeIr({ filesystem: [rule("allow", ["read-write"], "/"), rule("deny", ["modify"], "/home/u/.ssh")] }), { abi: 7 });
    expect(attrs(r.table!)).toEqual(["/ rw exec", "/home/u/.ssh ro exec"]);
  });

  it("a path the policy does not let run is noexec, and that carve-out is the mount layer's", () => {
    const r = lowerLandlock(makeIr({ filesystem: [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["execute"], "/w/downloads")] }), { abi: 7 });
    expect(attrs(r.table!)).toEqual(["/ ro exec", "/w rw exec", "/w/downloads rw noexec"]);
    // Execution is allowed from `/` down, so the execute right is granted entry by entry from `/`.
    const exec = r.table!.fs.find((g) => g.mode === "children")!;
    expect(exec.path).toBe("/");
    expect(exec.except).toEqual(["w/downloads"]);
    expect(exec.mountEnforced).toEqual(["w/downloads"]);
  });

  it("a carve-out of some changes only stays Landlock's (the mount cannot tell deleting from writing)", () => {
    const r = lowerLandlock(makeIr({ filesystem: [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["delete"], "/w/keep")] }), { abi: 7 });
    expect(attrs(r.table!)).toEqual(["/ ro exec", "/w rw exec"]);
    const g = r.table!.fs.find((x) => x.mode === "children")!;
    expect(g.except).toEqual(["keep"]);
    expect(g.mountEnforced).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toContain("SBC2201");
  });

  it("changes allowed without `write` are narrowed to read-only, and said so", () => {
    const r = lowerLandlock(makeIr({ filesystem: [rule("allow", ["read-only"], "/"), rule("allow", ["create-dir", "delete-dir"], "/srv/x")] }), { abi: 7 });
    expect(attrs(r.table!)).toEqual(["/ ro exec"]);
    const d = r.diagnostics.filter((x) => x.code === "SBC2202");
    expect(d).toHaveLength(1);
    expect(d[0]!.message).toContain("`/srv/x` stays read-only");
    expect(d[0]!.message).toContain("`create-dir`, `delete-dir`");
  });

  it("a write-denied name the policy lets be created is held if missing, and said so", () => {
    const r = lowerLandlock(makeIr({ filesystem: [rule("allow", ["read-write"], "/w"), rule("deny", ["write"], "/w/package-lock.json", "exact")] }), { abi: 7 });
    expect(attrs(r.table!)).toContain("/w/package-lock.json ro exec");
    const said = r.diagnostics.filter((x) => x.code === "SBC2202").map((x) => x.message);
    expect(said.some((m) => m.includes("cannot be created during the run"))).toBe(true);
    // ... and what the read-only mount refuses beneath it, which the workspace's rule allows.
    expect(said.some((m) => m.includes("`/w/package-lock.json` stays read-only") && m.includes("`truncate`"))).toBe(true);
  });

  it("an exact allow of `write` on a file in a read-only tree is a file node", () => {
    const r = lowerLandlock(makeIr({ filesystem: [rule("allow", ["read-only"], "/"), rule("allow", ["read", "write"], "/home/u/.bash_history", "exact")] }), { abi: 7 });
    expect(attrs(r.table!)).toEqual(["/ ro exec", "/home/u/.bash_history (file) rw exec"]);
  });

  it("with `namespaces: never` the carve-outs cost again and are announced, and the mount layer says nothing", () => {
    const ir = makeIr({ filesystem: [rule("allow", ["read-only"], "/"), rule("allow", ["read-write"], "/w"), rule("deny", ["modify"], "/w/.git"), rule("allow", ["create-dir"], "/srv/x")] });
    const never = lowerLandlock(ir, { abi: 7, namespaces: "never" });
    expect(never.diagnostics.map((d) => d.code)).toEqual(["SBC2201"]);
    const auto = lowerLandlock(ir, { abi: 7 });
    expect(auto.diagnostics.map((d) => d.code)).toEqual(["SBC2202"]);
  });
});

describe("the plan", () => {
  it("carries the mount layer, the mount-enforced carve-outs and what Landlock alone loses", () => {
    const r = preset("workspace-write");
    const text = buildPlan(r.table, undefined, { namespaces: "require" }).text;
    expect(text).toMatch(/^sbc-loader-plan 2\n/);
    expect(text).toContain("\nnamespaces require\n");
    expect(text).toContain("\nmount / ro exec\n");
    expect(text).toContain("\nmount-file /dev/null rw exec\n");
    expect(text).toContain("\nmount /home/user/project/.git ro exec\n");
    expect(text).toMatch(/\nfs-children 0x[0-9a-f]+ skip \/home\/user\/project !\.agents !\.codex !\.git\n/);
    const note = decodeURIComponent(/\nfallback-note (\S+)\n/.exec(text)![1]!);
    expect(note).toBe(
      "nothing new can be created directly in /home/user/project (its entries are granted one by one to keep .agents, .codex, .git read-only); chmod, chown, utimes and xattrs are not confined",
    );
    // Mount lines come parents first, before the Landlock rules.
    const mountLines = text.split("\n").filter((l) => l.startsWith("mount"));
    expect(mountLines[0]).toBe("mount / ro exec");
    expect(text.indexOf("\nmount ")).toBeLessThan(text.indexOf("\nfs "));
  });

  it("a policy that restricts nothing has no mount line and no note", () => {
    const text = buildPlan(preset("full-access").table, undefined).text;
    expect(text).not.toMatch(/\nmount|fallback-note/);
  });
});
