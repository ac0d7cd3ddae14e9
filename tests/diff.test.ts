// The diff engine (lib/diff): two policies compiled in process, asked the same questions, and the changes
// grouped by the rules that decide them. The README's policy is the acceptance case of issue 14.

import { describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/passes/index.js";
import type { IR } from "../ir/types.js";
import { diffPolicies, ruleText } from "../lib/diff/index.js";
import { Source } from "../diagnostics/source.js";
import { diffInputs } from "../lib/diff/from-inputs.js";
import { fsProbes } from "../lib/diff/probes.js";
import { diffToJson, renderDiffHuman, renderDiffMarkdown } from "../lib/diff/render.js";
import { readmePolicy, withSshReadWrite } from "./support/readme-policy.js";

function ir(text: string, path = "policy.yaml"): IR {
  const r = compilePolicy({ kind: "text", path, text });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => d.message)).toEqual([]);
  return r.ir!;
}

const BASE = "sbc: 1\nname: t\nextends: workspace-write\n";

describe("diffPolicies", () => {
  it("the README's policy against the same with ${home}/.ssh read-write: exactly that widening", () => {
    const old = readmePolicy();
    const neu = withSshReadWrite(old);
    const d = diffPolicies(ir(old, "old.yaml"), ir(neu, "new.yaml"));
    expect(d.counts).toEqual({ widened: 1, narrowed: 0, changed: 0 });
    expect(d.changes).toHaveLength(1);
    const c = d.changes[0]!;
    expect(c.direction).toBe("widened");
    expect(c.section).toBe("filesystem");
    expect(c.summary).toMatch(/^modify, ioctl at `\$\{home\}\/\.ssh` and beneath: deny → allow$/);
    // The new rule, by file and line; the old side had none.
    expect(c.new.kind).toBe("rule");
    expect(c.new.text).toBe("allow: read-write path: ${home}/.ssh");
    expect(c.new.span!.source.path).toBe("new.yaml");
    expect(c.new.span!.source.position(c.new.span!.start).line).toBe(neu.split("\n").indexOf("    path: ${home}/.ssh"));
    expect(c.old).toEqual({ kind: "default", text: "no rule (default deny)" });
    // Reading was allowed before (read-only reads everywhere) and still is: no change, so not listed.
    expect(c.probes.map((p) => p.query)).not.toContain("read ${home}/.ssh");
    expect(c.probes.map((p) => p.query)).toContain("write ${home}/.ssh/…");
  });

  it("a rule by domain's HTTP paths and methods: widening them is a widening (plain-HTTP requests are asked)", () => {
    const rules = (methods: string, paths: string) =>
      `sbc: 1\nname: t\nnetwork:\n  rules:\n    - allow: connect\n      domains: [pypi.test]\n      ports: [80]\n      http-methods: [${methods}]\n      http-paths: [${paths}]\n`;
    const old = rules("GET", '"/simple/**"');
    for (const neu of [rules("GET", '"/**"'), rules("GET, POST", '"/simple/**"')]) {
      const d = diffPolicies(ir(old, "old.yaml"), ir(neu, "new.yaml"));
      expect(d.counts).toEqual({ widened: 1, narrowed: 0, changed: 0 });
      expect(d.changes[0]!.section).toBe("network");
      expect(d.changes[0]!.probes.some((p) => /^(GET|POST) http:\/\/pypi\.test:80\//.test(p.query))).toBe(true);
      expect(diffPolicies(ir(neu, "new.yaml"), ir(old, "old.yaml")).counts).toEqual({ widened: 0, narrowed: 1, changed: 0 });
    }
    expect(diffPolicies(ir(old), ir(old)).changes).toEqual([]);
  });

  it("identical policies: no change", () => {
    const p = readmePolicy();
    const d = diffPolicies(ir(p), ir(p));
    expect(d.changes).toEqual([]);
    expect(d.counts).toEqual({ widened: 0, narrowed: 0, changed: 0 });
    expect(d.probes).toBeGreaterThan(500); // the questions were asked
    expect(renderDiffHuman(d, { old: "a", new: "b" })).toMatch(/^no change/);
  });

  it("the reverse edit is a narrowing only", () => {
    const p = readmePolicy();
    const d = diffPolicies(ir(withSshReadWrite(p)), ir(p));
    expect(d.counts).toEqual({ widened: 0, narrowed: 1, changed: 0 });
    expect(d.changes[0]!.old.text).toBe("allow: read-write path: ${home}/.ssh");
  });

  it("the same verdict decided by another rule is not a change", () => {
    // `/usr` is readable through read-only's `/` already: the new rule decides, the verdict is the same.
    const d = diffPolicies(ir(BASE), ir(BASE + "filesystem:\n  - allow: read-only\n    path: /usr\n"));
    expect(d.changes).toEqual([]);
  });

  it("a syscall widening names the old rule and the new default", () => {
    const old = BASE + "syscalls:\n  default: allow\n  rules:\n    - action: { errno: EPERM }\n      syscalls: [keyctl, add_key]\n";
    const d = diffPolicies(ir(old, "old.yaml"), ir(BASE + "syscalls:\n  default: allow\n", "new.yaml"));
    expect(d.changes).toHaveLength(1);
    const c = d.changes[0]!;
    expect([c.direction, c.section]).toEqual(["widened", "syscalls"]);
    expect(c.summary).toBe("`add_key` and `keyctl`: errno(EPERM) → allow");
    expect(c.old.text).toBe("action: { errno: EPERM } syscalls: [keyctl, add_key]");
    expect(c.new.text).toBe("no rule (default allow)");
  });

  it("a weaker seccomp action is a widening, a stricter one a narrowing, another errno a change", () => {
    const rule = (action: string) => BASE + `syscalls:\n  default: allow\n  rules:\n    - action: ${action}\n      syscalls: [keyctl]\n`;
    expect(diffPolicies(ir(rule("kill-process")), ir(rule("{ errno: EPERM }"))).counts).toEqual({ widened: 1, narrowed: 0, changed: 0 });
    expect(diffPolicies(ir(rule("log")), ir(rule("{ errno: EPERM }"))).counts).toEqual({ widened: 0, narrowed: 1, changed: 0 });
    const d = diffPolicies(ir(rule("{ errno: EPERM }")), ir(rule("{ errno: ENOSYS }")));
    expect(d.counts).toEqual({ widened: 0, narrowed: 0, changed: 1 });
    expect(d.changes[0]!.summary).toBe("`keyctl`: errno(EPERM) → errno(ENOSYS)");
  });

  it("argument values the conditions mention are probed", () => {
    const old = BASE + 'syscalls:\n  default: allow\n  rules:\n    - action: { errno: EPERM }\n      syscalls: [clone]\n      args: ["arg0 & CLONE_NEWUSER == CLONE_NEWUSER"]\n';
    const d = diffPolicies(ir(old), ir(BASE + "syscalls:\n  default: allow\n"));
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]!.probes.map((p) => p.query)).toEqual(["syscall clone(0x10000000)"]);
  });

  it("a network widening lists the endpoints the new rule opens", () => {
    const d = diffPolicies(ir(BASE), ir(BASE + "network:\n  rules:\n    - allow: connect\n      hosts: [10.0.0.0/8]\n      ports: [443]\n"));
    const net = d.changes.filter((c) => c.section === "network");
    expect(net).toHaveLength(1);
    expect(net[0]!.direction).toBe("widened");
    expect(net[0]!.probes.map((p) => p.query)).toEqual(["connect tcp 10.0.0.0:443"]);
    // Allowing a connection also lets the socket be made: the implied socket rule goes, a syscall widening.
    const sys = d.changes.filter((c) => c.section === "syscalls");
    expect(sys.map((c) => c.direction)).toEqual(["widened"]);
    expect(sys[0]!.old.kind).toBe("implied");
  });

  it("a deny glob removed widens a name the glob matched", () => {
    const denied = BASE + "filesystem:\n  - deny: read\n    glob: ${workspace}/**/*.pem\n";
    const d = diffPolicies(ir(denied), ir(BASE));
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]!.summary).toBe("read at `${workspace}/**/*.pem`: deny → allow");
    expect(d.changes[0]!.old.text).toBe("deny: read glob: ${workspace}/**/*.pem");
  });

  it("commands: forbidden → allow is a widening", () => {
    const cmds = (decision: string) => BASE + `commands:\n  rules:\n    - prefix: [git, push]\n      decision: ${decision}\n`;
    const d = diffPolicies(ir(cmds("forbidden")), ir(cmds("allow")));
    expect(d.changes.map((c) => [c.direction, c.section, c.summary])).toEqual([["widened", "commands", "`git push`: forbidden → allow"]]);
  });

  it("unix sockets: a path rule opened", () => {
    const d = diffPolicies(ir(BASE), ir(BASE + "network:\n  unix:\n    paths:\n      - allow: connect\n        path: /run/user\n"));
    const unix = d.changes.filter((c) => c.section === "unix");
    expect(unix).toHaveLength(1);
    expect(unix[0]!.summary).toBe("`connect /run/user` and `connect /run/user/…`: deny → allow");
  });

  it("parameters bound with --param are used on both sides", () => {
    const a = compilePolicy({ kind: "text", path: "a.yaml", text: readmePolicy() }, { params: { home: "/users/me" } }).ir!;
    const b = compilePolicy({ kind: "text", path: "b.yaml", text: withSshReadWrite(readmePolicy()) }, { params: { home: "/users/me" } }).ir!;
    const d = diffPolicies(a, b);
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]!.summary).toContain("`/users/me/.ssh`");
  });

  it("is deterministic: the same pair gives the same report, byte for byte", () => {
    const a = () => diffPolicies(ir(BASE, "a.yaml"), ir(withSshReadWrite(readmePolicy()), "b.yaml"));
    const names = { old: "a.yaml", new: "b.yaml" };
    expect(JSON.stringify(diffToJson(a(), names))).toBe(JSON.stringify(diffToJson(a(), names)));
    expect(renderDiffMarkdown(a(), names)).toBe(renderDiffMarkdown(a(), names));
    // Widenings come first, then narrowings.
    const dirs = a().changes.map((c) => c.direction);
    expect([...dirs].sort((x, y) => ["widened", "narrowed", "changed"].indexOf(x) - ["widened", "narrowed", "changed"].indexOf(y))).toEqual(dirs);
  });

  it("stays near-linear in the number of rules (a generous bound that only catches a blow-up)", () => {
    const n = 150;
    const lines = [BASE.trim(), "filesystem:"];
    for (let i = 0; i < n; i++) lines.push("  - allow: read-write", `    path: /srv/d${i}/sub${i % 7}`);
    lines.push("network:", "  rules:");
    for (let i = 0; i < n; i++) lines.push("    - allow: connect", `      hosts: [10.${i % 250}.${Math.floor(i / 250)}.0/24]`, `      ports: [${1000 + i}-${1100 + i}]`);
    const text = lines.join("\n") + "\n";
    const started = performance.now();
    const d = diffPolicies(ir(text), ir(text.replace("/srv/d0/sub0", "/srv/d0/subX")));
    expect(performance.now() - started).toBeLessThan(30_000);
    // Every host × port pair would be 150 × 300: each rule's own pairs are asked instead.
    expect(d.probes).toBeLessThan(20_000);
    expect(d.counts).toEqual({ widened: 1, narrowed: 1, changed: 0 });
  });

  it("names a DSL rule by its text, without its reason, like a YAML one", () => {
    const dsl = (rules: string) => `sbc 1\n\npolicy t {\n  extends workspace-write\n\n  filesystem {\n${rules}  }\n}\n`;
    const d = diffPolicies(ir(dsl(""), "a.sbc"), ir(dsl('    allow read-write path "${home}/.ssh" reason "deploy keys"\n'), "b.sbc"));
    expect(d.changes.map((c) => c.new.text)).toEqual(['allow read-write path "${home}/.ssh"']);
    const y = diffPolicies(ir(BASE), ir(BASE + "filesystem:\n  - allow: read-write\n    path: ${home}/.ssh\n    reason: deploy keys\n"));
    expect(y.changes.map((c) => c.new.text)).toEqual(["allow: read-write path: ${home}/.ssh"]);
  });

  it("diffInputs compiles both sides and reports their errors instead of a diff", () => {
    const ok = diffInputs({ kind: "preset", name: "read-only" }, { kind: "preset", name: "workspace-write" });
    expect(ok.diff!.counts.widened).toBeGreaterThan(0);
    expect(ok.files.some((f) => f.endsWith("presets/workspace-write.yaml"))).toBe(true);
    const bad = diffInputs({ kind: "preset", name: "read-only" }, { kind: "text", path: "bad.yaml", text: "sbc: 1\nfilesystem:\n  - allow: reed\n    path: /x\n" });
    expect(bad.diff).toBeUndefined();
    expect(bad.diagnostics.some((x) => x.severity === "error" && x.span?.source.path === "bad.yaml")).toBe(true);
  });

  it("asks a glob through one name it matches, classes and `?` included", () => {
    const globs = ["${workspace}/**/*.pem", "/etc/[!a-z]?.conf", "/srv/[xyz]*/key\\*"];
    const text = BASE + "filesystem:\n" + globs.map((g) => `  - deny: read\n    glob: '${g}'\n`).join("");
    const probes = fsProbes([ir(text)], { workspace: "/w", home: "/h", tmpdir: "/t" });
    const byShown = Object.fromEntries(probes.filter((p) => globs.includes(p.shown)).map((p) => [p.shown, p.path]));
    expect(byShown).toEqual({ "${workspace}/**/*.pem": "/w/x.pem", "/etc/[!a-z]?.conf": "/etc/0x.conf", "/srv/[xyz]*/key\\*": "/srv/xx/key*" });
  });

  it("ruleText leaves the reason out wherever it is written, and only the reason", () => {
    const text = (t: string) => ruleText({ source: new Source("x.yaml", t), start: 0, end: t.length });
    expect(text("reason: first\n    allow: read\n    path: /x")).toBe("allow: read path: /x");
    expect(text("allow: read\n    reason: >\n      folded\n      text\n    path: /x")).toBe("allow: read path: /x");
    expect(text('allow: read\n    path: /x\n    reason: "two\n      lines"')).toBe("allow: read path: /x");
    expect(text('{ allow: read, path: /x, reason: "a, b" }')).toBe("{ allow: read, path: /x }");
    expect(text('allow read path "/x" reason "why \\" not"')).toBe('allow read path "/x"');
    // A path that merely contains the word stays.
    expect(text("allow: read\n    path: /srv/reason")).toBe("allow: read path: /srv/reason");
  });
});
