// Merging a policy with the files it extends, and its parameters, seen through compilePolicy's IR: extends
// order, the replace-or-append rules of each section, what is not inherited, diamonds, params and binding,
// and IR equality that ignores where things were written.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateFs } from "../ir/evaluator/evaluate.js";
import { bindIr } from "../ir/bind.js";
import { irEquals, irToJson } from "../ir/serialize.js";
import type { IR } from "../ir/types.js";
import { compilePolicy, type CompileOptions } from "../compiler/passes/index.js";
import { tempDir, writeFiles } from "./support/tmp.js";

/** Compile `entry` (the text of `policy.yaml`) in a temp dir holding `others`; fail on any error. */
function compileIn(entry: string, others: Record<string, string> = {}, options: CompileOptions = {}): IR {
  const dir = writeFiles(tempDir(), others);
  const r = compilePolicy({ kind: "text", path: join(dir, "policy.yaml"), text: entry }, options);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  expect(r.ir).toBeDefined();
  return r.ir!;
}

const fsPaths = (ir: IR) => ir.filesystem.map((r) => r.path);

describe("extends", () => {
  it("bases come first, in the order they are listed, then the extending file", () => {
    const ir = compileIn(
      `sbc: 1
extends: [./a.yaml, ./b.yaml]
filesystem:
  - allow: read
    path: /child
`,
      {
        "a.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /a\n",
        "b.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /b\n",
      },
    );
    expect(fsPaths(ir)).toEqual(["/a", "/b", "/child"]);
  });

  it("a base's own bases come before it (depth first), and relative paths are resolved from the file that names them", () => {
    const ir = compileIn(
      `sbc: 1
extends: ./sub/mid.yaml
filesystem:
  - allow: read
    path: /child
`,
      {
        "sub/mid.yaml": "sbc: 1\nextends: ../root.yaml\nfilesystem:\n  - allow: read\n    path: /mid\n",
        "root.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /root\n",
      },
    );
    expect(fsPaths(ir)).toEqual(["/root", "/mid", "/child"]);
  });

  it("a diamond includes the shared base once, before both of its users", () => {
    const ir = compileIn(
      `sbc: 1
extends: [./b.yaml, ./c.yaml]
filesystem:
  - allow: read
    path: /a
`,
      {
        "b.yaml": "sbc: 1\nextends: ./d.yaml\nfilesystem:\n  - allow: read\n    path: /b\n",
        "c.yaml": "sbc: 1\nextends: ./d.yaml\nfilesystem:\n  - allow: read\n    path: /c\n",
        "d.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /d\n",
      },
    );
    expect(fsPaths(ir)).toEqual(["/d", "/b", "/c", "/a"]);
  });

  it("a diamond with a broken shared base reports its error once", () => {
    const dir = writeFiles(tempDir(), {
      "b.yaml": "sbc: 1\nextends: ./d.yaml\n",
      "c.yaml": "sbc: 1\nextends: ./d.yaml\n",
      "d.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: relative\n",
    });
    const r = compilePolicy({ kind: "text", path: join(dir, "policy.yaml"), text: "sbc: 1\nextends: [./b.yaml, ./c.yaml]\n" });
    expect(r.diagnostics.filter((d) => d.code === "SBC0301")).toHaveLength(1);
  });

  it("preset bases are merged like files", () => {
    const ir = compileIn("sbc: 1\nextends: read-only\ncommands:\n  rules:\n    - prefix: [make]\n      decision: allow\n");
    // read-only extends safe-commands, whose rules come first; ours is last.
    expect(ir.commands.rules.length).toBeGreaterThan(1);
    expect(ir.commands.rules[ir.commands.rules.length - 1]!.prefix).toEqual([["make"]]);
    expect(ir.commands.rules[0]!.prefix[0]).toContain("cat");
  });
});

describe("sections: what replaces and what appends", () => {
  it("a network mode word replaces everything a base said about the network", () => {
    const base = { "base.yaml": "sbc: 1\nnetwork:\n  unix: allow\n  rules:\n    - allow: connect\n      ports: [443]\n" };
    const off = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork: off\n", base);
    // `off` closes named sockets; a socket pair reaches nothing outside the sandbox.
    expect(off.network.unix).toMatchObject({ pairs: "allow", abstract: "deny", paths: [] });
    expect(off.network.rules).toEqual([]);
    const loop = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork: loopback\n", base);
    expect(loop.network.unix).toMatchObject({ pairs: "allow", abstract: "allow", paths: [{ effect: "allow", ops: ["bind", "connect"], path: "/", layer: 1 }] });
    expect(loop.network.rules).toHaveLength(1);
    expect(loop.network.rules[0]!.hosts).toBe("loopback");
  });

  it("unix: a word replaces every unix setting and path rule; a mapping replaces what it names and appends paths", () => {
    const base = {
      "base.yaml": "sbc: 1\nnetwork:\n  unix:\n    pairs: allow\n    paths:\n      - allow: connect\n        path: /run/a.sock\n",
    };
    const unixPaths = (ir: IR) => ir.network.unix.paths.map((r) => [r.effect, r.ops.join(","), r.path, r.layer]);
    const word = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork:\n  unix: deny\n", base);
    expect(word.network.unix).toMatchObject({ pairs: "deny", abstract: "deny", paths: [] });
    const allow = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork:\n  unix: allow\n", base);
    expect(allow.network.unix).toMatchObject({ pairs: "allow", abstract: "allow" });
    expect(unixPaths(allow)).toEqual([["allow", "bind,connect", "/", 1]]);
    const more = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork:\n  unix:\n    abstract: allow\n    paths:\n      - deny: [connect, bind]\n        path: /run\n", base);
    expect(more.network.unix).toMatchObject({ pairs: "allow", abstract: "allow" });
    expect(unixPaths(more)).toEqual([
      ["allow", "connect", "/run/a.sock", 0],
      ["deny", "bind,connect", "/run", 1],
    ]);
    // A mode word starts over from its own unix settings.
    const mode = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork:\n  mode: off\n  unix:\n    paths:\n      - allow: bind\n        path: /w\n", base);
    expect(mode.network.unix).toMatchObject({ pairs: "allow", abstract: "deny" });
    expect(unixPaths(mode)).toEqual([["allow", "bind", "/w", 1]]);
  });

  it("linux.namespaces: the last file that sets it wins; auto when nobody does", () => {
    const base = { "base.yaml": "sbc: 1\nlinux:\n  namespaces: require\n" };
    expect(compileIn("sbc: 1\n").linux).toEqual({ namespaces: "auto" });
    expect(compileIn("sbc: 1\nextends: ./base.yaml\n", base).linux.namespaces).toBe("require");
    expect(compileIn("sbc: 1\nextends: ./base.yaml\nlinux: {}\n", base).linux.namespaces).toBe("require");
    expect(compileIn("sbc: 1\nextends: ./base.yaml\nlinux:\n  namespaces: never\n", base).linux.namespaces).toBe("never");
  });

  it("detailed network rules append to a base's, and the unix switch is kept unless restated", () => {
    const base = { "base.yaml": "sbc: 1\nnetwork: on\n" };
    const ir = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork:\n  rules:\n    - deny: connect\n      ports: [22]\n", base);
    expect(ir.network.unix).toMatchObject({ pairs: "allow", abstract: "allow", paths: [{ path: "/" }] });
    expect(ir.network.rules.map((r) => [r.effect, r.hosts, r.ports])).toEqual([
      ["allow", "any", [[0, 65535]]],
      ["deny", "any", [[22, 22]]],
    ]);
    const unixOff = compileIn("sbc: 1\nextends: ./base.yaml\nnetwork:\n  unix: deny\n", base);
    expect(unixOff.network.unix).toMatchObject({ pairs: "deny", abstract: "deny", paths: [] });
    expect(unixOff.network.rules).toHaveLength(1);
  });

  it("a file without a network section keeps its base's network", () => {
    const ir = compileIn("sbc: 1\nextends: ./base.yaml\n", { "base.yaml": "sbc: 1\nnetwork: loopback\n" });
    expect(ir.network.rules.map((r) => r.hosts)).toEqual(["loopback"]);
  });

  it("the syscall default is the last file's word; rules append in merge order", () => {
    const base = {
      "base.yaml": "sbc: 1\nsyscalls:\n  default: { errno: EPERM }\n  rules:\n    - syscalls: [ptrace]\n      action: kill-process\n",
    };
    const over = compileIn("sbc: 1\nextends: ./base.yaml\nsyscalls:\n  default: allow\n  rules:\n    - syscalls: [read]\n      action: log\n", base);
    expect(over.syscalls.defaultAction).toEqual({ type: "allow" });
    expect(over.syscalls.rules.map((r) => r.syscalls)).toEqual([["ptrace"], ["read"]]);
    const silent = compileIn("sbc: 1\nextends: ./base.yaml\nsyscalls:\n  rules:\n    - syscalls: [read]\n      action: log\n", base);
    expect(silent.syscalls.defaultAction).toEqual({ type: "errno", errno: 1 });
    const absent = compileIn("sbc: 1\nextends: ./base.yaml\n", base);
    expect(absent.syscalls.defaultAction).toEqual({ type: "errno", errno: 1 });
  });

  it("the commands default is the last file's word; rules append", () => {
    const base = { "base.yaml": "sbc: 1\ncommands:\n  default: forbidden\n  rules:\n    - prefix: [ls]\n      decision: allow\n" };
    const over = compileIn("sbc: 1\nextends: ./base.yaml\ncommands:\n  default: allow\n  rules:\n    - prefix: [rm]\n      decision: prompt\n", base);
    expect(over.commands.defaultDecision).toBe("allow");
    expect(over.commands.rules.map((r) => r.prefix)).toEqual([[["ls"]], [["rm"]]]);
    const silent = compileIn("sbc: 1\nextends: ./base.yaml\ncommands:\n  rules:\n    - prefix: [rm]\n      decision: prompt\n", base);
    expect(silent.commands.defaultDecision).toBe("forbidden");
  });

  it("the defaults when nobody says anything: syscalls allow, commands prompt, no socket at all", () => {
    const ir = compileIn("sbc: 1\n");
    expect(ir.syscalls.defaultAction).toEqual({ type: "allow" });
    expect(ir.commands.defaultDecision).toBe("prompt");
    expect(ir.network).toMatchObject({ unix: { pairs: "deny", abstract: "deny", paths: [] }, rules: [] });
  });

  it("tests are not inherited from bases", () => {
    const base = {
      "base.yaml": "sbc: 1\nfilesystem:\n  - allow: read\n    path: /data\ntests:\n  - read: /data/x\n    expect: deny\n",
    };
    const ir = compileIn("sbc: 1\nextends: ./base.yaml\ntests:\n  - read: /data/y\n    expect: allow\n", base);
    expect(ir.tests).toHaveLength(1);
    expect(ir.tests[0]).toMatchObject({ kind: "fs", path: "/data/y", expect: "allow" });
    // The base's failing test is not run for the extending file either.
    const dir = writeFiles(tempDir(), base);
    const r = compilePolicy({ kind: "text", path: join(dir, "policy.yaml"), text: "sbc: 1\nextends: ./base.yaml\n" }, { runTests: true });
    expect(r.diagnostics.filter((d) => d.code === "SBC1001")).toEqual([]);
    expect(r.ir!.tests).toEqual([]);
  });
});

describe("params", () => {
  const base = {
    "base.yaml": `sbc: 1
params:
  data: /base/data
filesystem:
  - allow: read
    path: \${data}/x
`,
  };

  it("a base's default is used when nobody overrides it", () => {
    expect(fsPaths(compileIn("sbc: 1\nextends: ./base.yaml\n", base))).toEqual(["/base/data/x"]);
  });

  it("an extending file's default overrides the base's, also in the base's rules", () => {
    const ir = compileIn("sbc: 1\nextends: ./base.yaml\nparams:\n  data: /child/data\nfilesystem:\n  - allow: write\n    path: ${data}/y\n", base);
    expect(fsPaths(ir)).toEqual(["/child/data/x", "/child/data/y"]);
  });

  it("a --param binding beats every default, and is recorded in the IR", () => {
    const ir = compileIn("sbc: 1\nextends: ./base.yaml\nparams:\n  data: /child/data\n", base, { params: { data: "/bound" } });
    expect(fsPaths(ir)).toEqual(["/bound/x"]);
    expect(ir.params).toContainEqual(expect.objectContaining({ name: "data", value: "/bound" }));
  });

  it("a binding is normalized like a path", () => {
    const ir = compileIn("sbc: 1\nextends: ./base.yaml\n", base, { params: { data: "/bound//dir/" } });
    expect(fsPaths(ir)).toEqual(["/bound/dir/x"]);
  });

  it("a default may start with another parameter; the chain resolves to the bound head", () => {
    const ir = compileIn("sbc: 1\nparams:\n  cache: ${home}/.cache\nfilesystem:\n  - allow: read\n    path: ${cache}/npm\n", {}, { params: { home: "/home/me" } });
    expect(fsPaths(ir)).toEqual(["/home/me/.cache/npm"]);
  });

  it("built-ins stay symbolic in the IR when unbound, and bindIr substitutes them", () => {
    const ir = compileIn("sbc: 1\nfilesystem:\n  - allow: read-write\n    path: ${workspace}/src\n  - allow: read\n    path: /usr\n");
    expect(fsPaths(ir)).toEqual(["${workspace}/src", "/usr"]);
    expect(ir.params).toEqual([expect.objectContaining({ name: "workspace", builtin: true, value: null })]);
    const bound = bindIr(ir, { workspace: "/home/me/project" });
    expect(bound.diagnostics).toEqual([]);
    expect(fsPaths(bound.ir!)).toEqual(["/home/me/project/src", "/usr"]);
    expect(bound.ir!.params).toEqual([expect.objectContaining({ name: "workspace", value: "/home/me/project" })]);
    expect(evaluateFs(bound.ir!, "write", "/home/me/project/src/a.ts").decision).toBe("allow");
    expect(evaluateFs(bound.ir!, "write", "${workspace}/src/a.ts").decision).toBe("allow");
    // The input IR is not modified.
    expect(fsPaths(ir)).toEqual(["${workspace}/src", "/usr"]);
  });

  it("a built-in bound at compile time is substituted directly", () => {
    const ir = compileIn("sbc: 1\nfilesystem:\n  - allow: read\n    path: ${workspace}/src\n", {}, { params: { workspace: "/w" } });
    expect(fsPaths(ir)).toEqual(["/w/src"]);
  });

  it("a parameter without a default stays symbolic like a built-in", () => {
    const ir = compileIn("sbc: 1\nparams:\n  out:\n    description: where builds go\nfilesystem:\n  - allow: write\n    path: ${out}\n");
    expect(fsPaths(ir)).toEqual(["${out}"]);
    expect(ir.params).toEqual([expect.objectContaining({ name: "out", builtin: false, value: null })]);
    expect(fsPaths(bindIr(ir, { out: "/build" }).ir!)).toEqual(["/build"]);
  });

  describe("parameter values are literal paths, also inside glob rules", () => {
    const policy = "sbc: 1\nfilesystem:\n  - allow: read\n    path: ${workspace}\n  - deny: read\n    glob: ${workspace}/**/*.pem\n";
    const odd = ["/home/me/[proj]", "/home/me/a*b", "/srv/what?"];

    it("bound with bindIr", () => {
      const ir = compileIn(policy);
      for (const ws of odd) {
        const bound = bindIr(ir, { workspace: ws }).ir!;
        expect(evaluateFs(bound, "read", `${ws}/key.pem`).decision, ws).toBe("deny");
        expect(evaluateFs(bound, "read", `${ws}/src/key.pem`).decision, ws).toBe("deny");
        expect(evaluateFs(bound, "read", `${ws}/src/main.ts`).decision, ws).toBe("allow");
      }
      // A wildcard in the value must not widen the pattern to other directories.
      const star = bindIr(ir, { workspace: "/home/me/a*b" }).ir!;
      expect(evaluateFs(star, "read", "/home/me/aXYb/key.pem").rule).toBeNull();
    });

    it("bound with --param at compile time, and through a default", () => {
      for (const ws of odd) {
        const ir = compileIn(policy, {}, { params: { workspace: ws } });
        expect(evaluateFs(ir, "read", `${ws}/key.pem`).decision, ws).toBe("deny");
      }
      const viaDefault = compileIn("sbc: 1\nparams:\n  data: /srv/[x]\nfilesystem:\n  - allow: read\n    path: /srv\n  - deny: read\n    glob: ${data}/*.pem\n");
      expect(evaluateFs(viaDefault, "read", "/srv/[x]/a.pem").decision).toBe("deny");
      expect(evaluateFs(viaDefault, "read", "/srv/x/a.pem").decision).toBe("allow");
    });
  });

  it("bindIr reports every unbound parameter with SBC0403 and returns no IR", () => {
    const ir = compileIn("sbc: 1\nfilesystem:\n  - allow: read\n    path: ${workspace}\n  - allow: read\n    path: ${home}/.config\n");
    const none = bindIr(ir, {});
    expect(none.ir).toBeUndefined();
    expect(none.diagnostics.map((d) => d.code)).toEqual(["SBC0403", "SBC0403"]);
    expect(none.diagnostics.map((d) => d.message).join("\n")).toMatch(/home[\s\S]*workspace|workspace[\s\S]*home/);
    const half = bindIr(ir, { workspace: "/w" });
    expect(half.ir).toBeUndefined();
    expect(half.diagnostics).toHaveLength(1);
    expect(half.diagnostics[0]!.code).toBe("SBC0403");
    expect(half.diagnostics[0]!.message).toContain("home");
  });

  it("bindIr rejects a relative value", () => {
    const ir = compileIn("sbc: 1\nfilesystem:\n  - allow: read\n    path: ${workspace}\n");
    const r = bindIr(ir, { workspace: "relative/dir" });
    expect(r.ir).toBeUndefined();
    expect(r.diagnostics.length).toBeGreaterThan(0);
  });
});

describe("irEquals", () => {
  const spaced = `# A policy, written one way.
sbc: 1
name: same
filesystem:
  - allow: read-only
    path: /usr
  - deny: [write, truncate]
    glob: \${workspace}/**/*.pem
network:
  rules:
    - allow: connect
      ports: [443, "8000-8999"]
syscalls:
  default: allow
  rules:
    - syscalls: [ptrace]
      action: { errno: EPERM }
commands:
  rules:
    - prefix: [git, [status, log]]
      decision: allow
`;
  const compact = `sbc: 1
name: "same"     # the same policy, written another way
filesystem: [{allow: [read, list, execute], path: "/usr"}, {deny: [truncate, write], glob: "\${workspace}/**/*.pem"}]
network: {rules: [{allow: [connect], ports: ["8000-8999", 443]}]}


syscalls: {default: allow, rules: [{syscalls: ptrace, action: {errno: 1}}]}
commands: {rules: [{prefix: [git, [log, status]], decision: allow}]}
`;

  it("ignores spans, whitespace, comments, quoting and list order where the IR normalizes it", () => {
    const a = compileIn(spaced);
    const b = compileIn(compact);
    expect(irToJson(b)).toBe(irToJson(a));
    expect(irEquals(a, b)).toBe(true);
    // The spans differ, so the comparison really did ignore them.
    expect(irToJson(a, { spans: true })).not.toBe(irToJson(b, { spans: true }));
  });

  it("still sees a difference in meaning", () => {
    const a = compileIn(spaced);
    const c = compileIn(spaced.replace("ports: [443,", "ports: [444,"));
    expect(irEquals(a, c)).toBe(false);
  });
});
