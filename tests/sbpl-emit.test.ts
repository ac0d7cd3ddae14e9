// The SBPL emitter (targets/sbpl/) on the cases peers got wrong: the skeleton and the base, macOS path
// spellings, precedence without rule order, protected names before they exist, move-based bypasses of a read
// deny, network forms, params mode, and the diagnostics for what Seatbelt cannot say. Verdicts are asked of the
// Seatbelt model (targets/sbpl/model.ts) under every precedence reading it offers.

import { describe, expect, it } from "vitest";
import { CODES } from "../diagnostics/codes.js";
import { bindIr } from "../ir/bind.js";
import type { IR } from "../ir/types.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { testBindings } from "../compiler/passes/run-tests.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_DEVICES, BASE_RULES } from "../targets/sbpl/base.js";
import { FILE_OPERATIONS } from "../targets/sbpl/operations.js";
import { compileSbpl, type SbplOutput } from "../targets/sbpl/index.js";
import { evaluateOp, PRECEDENCES } from "../targets/sbpl/model.js";
import { readSbpl, type SbplProfile } from "../targets/sbpl/reader.js";

function irOf(text: string, params: Record<string, string> = {}): IR {
  const r = compilePolicy({ kind: "text", path: "policy.yaml", text: `sbc: 1\nname: t\n${text}` }, { params });
  expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return r.ir!;
}

function inline(text: string, params: Record<string, string> = {}): SbplOutput {
  const ir = irOf(text, params);
  return compileSbpl(bindIr(ir, testBindings(ir)).ir!, { params: "inline" });
}

function read(out: SbplOutput): SbplProfile {
  const r = readSbpl(out.profile!);
  expect(r.diagnostics).toEqual([]);
  return r.profile!;
}

type Kind = "DIRECTORY" | "REGULAR-FILE" | "CHARACTER-DEVICE";

/** The verdict for one operation, the same under every precedence reading (else the test fails). */
function ask(p: SbplProfile, op: string, path: string, kind: Kind = "REGULAR-FILE", defines: ReadonlyMap<string, string> = new Map()): "allow" | "deny" {
  const answers = PRECEDENCES.map((precedence) => evaluateOp(p, op, { path, attrs: { "vnode-type": kind } }, defines, { precedence }).decision);
  expect(new Set(answers).size, `${op} ${path}: ${answers.join(", ")}`).toBe(1);
  return answers[0]!;
}

function codes(out: SbplOutput): string[] {
  return out.diagnostics.map((d) => d.code);
}

describe("SBPL skeleton and base", () => {
  const out = inline("filesystem:\n  - allow: read-only\n    path: /usr\n");

  it("starts with (version 1) and (deny default), and holds no other deny", () => {
    const forms = out.profile!.split("\n").filter((l) => l.startsWith("("));
    expect(forms.slice(0, 2)).toEqual(["(version 1)", "(deny default)"]);
    expect(out.profile!.match(/\(deny /g)).toEqual(["(deny "]);
  });

  it("gives every base allowance its reason as a comment on the line before", () => {
    const lines = out.profile!.split("\n");
    for (const b of BASE_RULES) {
      const at = lines.indexOf(b.text.split("\n")[0]!);
      expect(at, b.text).toBeGreaterThan(0);
      expect(lines[at - 1]).toBe(`; ${b.reason}`);
    }
    expect(out.profile).not.toContain("no-sandbox");
    expect(out.profile).toMatch(/\(allow signal \(target same-sandbox\)\)/);
  });

  it("is what docs/targets/sbpl.md lists: every base reason, device and operation", () => {
    const doc = readFileSync(join(import.meta.dirname, "..", "docs", "targets", "sbpl.md"), "utf8");
    for (const b of BASE_RULES) expect(doc, b.reason).toContain(b.reason);
    for (const d of BASE_DEVICES) expect(doc, d.path).toContain(d.path);
    for (const ops of Object.values(FILE_OPERATIONS)) for (const op of ops) expect(doc, op).toContain(`\`${op}\``);
  });

  it("is deterministic", () => {
    expect(inline("filesystem:\n  - allow: read-only\n    path: /usr\n")).toEqual(out);
  });

  it("never writes a filter with no path for a file write (S13)", () => {
    expect(out.profile).not.toMatch(/\(allow file-write[^\n]*\)$/m);
    const p = read(out);
    expect(ask(p, "file-write-data", "/usr/bin/x")).toBe("deny");
    expect(ask(p, "file-read-data", "/usr/bin/x")).toBe("allow");
    expect(ask(p, "process-exec", "/usr/bin/x")).toBe("allow");
    expect(ask(p, "file-read-data", "/etc/passwd".replace("/etc", "/private/etc"))).toBe("deny");
  });
});

describe("SBPL paths", () => {
  it("writes /tmp, /var and /etc as the kernel sees them (S1, S2)", () => {
    const out = inline("filesystem:\n  - allow: read-write\n    path: /tmp/work\n  - allow: read-write\n    path: ${tmpdir}\n  - allow: read\n    exact: /etc/hosts\n", {
      tmpdir: "/var/folders/ab/T/",
    });
    expect(out.profile).toContain('(subpath "/private/tmp/work")');
    expect(out.profile).toContain('(subpath "/private/var/folders/ab/T")');
    expect(out.profile).toContain('(literal "/private/etc/hosts")');
    expect(out.profile).not.toMatch(/"\/(tmp|var|etc)\//);
    expect(out.profile).not.toMatch(/"[^"]*\/\/[^"]*"|"[^"]+\/"/);
    const p = read(out);
    expect(ask(p, "file-write-data", "/private/tmp/work/a")).toBe("allow");
  });
});

describe("SBPL precedence without rule order", () => {
  const policy = "filesystem:\n  - allow: read-only\n    path: /Users/u\n  - deny: read\n    path: /Users/u/.ssh\n  - allow: read\n    exact: /Users/u/.ssh/known_hosts\n";

  it("a deeper deny carves the allow, and a deeper allow carves the deny (S7)", () => {
    const out = inline(policy);
    expect(out.profile).toContain('(require-not (subpath "/Users/u/.ssh"))');
    const p = read(out);
    expect(ask(p, "file-read-data", "/Users/u/notes.txt")).toBe("allow");
    expect(ask(p, "file-read-data", "/Users/u/.ssh/id_rsa")).toBe("deny");
    expect(ask(p, "file-read-data", "/Users/u/.ssh/known_hosts")).toBe("allow");
    // `list` was not denied: the directory can still be listed.
    expect(ask(p, "file-read-data", "/Users/u/.ssh", "DIRECTORY")).toBe("allow");
  });

  it("means the same with its rules in reverse order", () => {
    const p = read(inline(policy));
    const [version, deflt, ...rest] = p.rules;
    const reversed: SbplProfile = { ...p, rules: [version!, deflt!, ...[...rest].reverse()].map((r, index) => ({ ...r, index })) };
    for (const [path, kind] of [
      ["/Users/u/notes.txt", "REGULAR-FILE"],
      ["/Users/u/.ssh/id_rsa", "REGULAR-FILE"],
      ["/Users/u/.ssh/known_hosts", "REGULAR-FILE"],
      ["/Users/u/.ssh", "DIRECTORY"],
    ] as const) {
      expect(ask(reversed, "file-read-data", path, kind)).toBe(ask(p, "file-read-data", path, kind));
    }
  });

  it("denies creating a protected directory the first time (literal and subpath)", () => {
    const out = inline("filesystem:\n  - allow: read-write\n    path: ${workspace}\n    protect: [.codex]\n");
    expect(out.profile).toContain('(require-not (literal "/home/user/project/.codex"))');
    expect(out.profile).toContain('(require-not (subpath "/home/user/project/.codex"))');
    const p = read(out);
    expect(ask(p, "file-write-create", "/home/user/project/.codex", "DIRECTORY")).toBe("deny");
    expect(ask(p, "file-write-create", "/home/user/project/.codex/config", "REGULAR-FILE")).toBe("deny");
    expect(ask(p, "file-write-create", "/home/user/project/src", "DIRECTORY")).toBe("allow");
  });
});

describe("SBPL move guards around read denies (S8)", () => {
  const out = inline("filesystem:\n  - allow: read-write\n    path: /Users\n  - deny: read\n    path: /Users/u/.ssh\n");
  const p = read(out);

  it("keeps the denied path and its ancestors from being moved or replaced", () => {
    for (const op of ["file-write-unlink", "file-write-create", "file-link"]) {
      expect(ask(p, op, "/Users/u/.ssh/id_rsa"), op).toBe("deny");
      expect(ask(p, op, "/Users/u/.ssh", "DIRECTORY"), op).toBe("deny");
      expect(ask(p, op, "/Users/u", "DIRECTORY"), op).toBe("deny");
      expect(ask(p, op, "/Users/u/other.txt"), op).toBe("allow");
      expect(ask(p, op, "/Users/v", "DIRECTORY"), op).toBe("allow");
    }
    // Writing a file's contents in place is not a move: the deny only covers reading.
    expect(ask(p, "file-write-data", "/Users/u/.ssh/id_rsa")).toBe("allow");
    expect(ask(p, "file-read-data", "/Users/u/.ssh/id_rsa")).toBe("deny");
  });

  it("leaves what a deeper allow reopens free to move (a scratch dir inside a denied /tmp)", () => {
    const out = inline("filesystem:\n  - allow: read-write\n    path: /\n  - deny: read-write\n    path: /tmp\n  - allow: read-write\n    path: ${tmpdir}\n");
    const p = read(out);
    expect(ask(p, "file-write-create", "/private/tmp/sbc-test-tmpdir/build", "DIRECTORY")).toBe("allow");
    expect(ask(p, "file-write-unlink", "/private/tmp/sbc-test-tmpdir/a.o")).toBe("allow");
    expect(ask(p, "file-write-unlink", "/private/tmp/other")).toBe("deny");
    expect(ask(p, "file-write-unlink", "/private/tmp", "DIRECTORY")).toBe("deny");
    expect(ask(p, "file-write-unlink", "/private", "DIRECTORY")).toBe("deny");
  });

  it("in params mode says that the directories above a parameter cannot be kept in place", () => {
    const ir = irOf("filesystem:\n  - allow: read-write\n    path: /\n  - deny: read\n    path: ${home}/.ssh\n");
    const out = compileSbpl(ir, { params: "param" });
    expect(codes(out)).toEqual([CODES.sbplNarrowed.code]);
    expect(out.diagnostics[0]!.message).toContain("directories above `${home}`");
    expect(out.profile).toContain('(require-not (literal (param "home")))');
  });

  it("guards the fixed directories of a glob, and says what a `**` glob leaves open", () => {
    const g = inline("filesystem:\n  - allow: read-write\n    path: /w\n  - deny: read\n    glob: /w/*/key.pem\n  - deny: read\n    glob: /w/**/*.env\n");
    const q = read(g);
    expect(ask(q, "file-write-unlink", "/w/a/key.pem")).toBe("deny");
    expect(ask(q, "file-write-unlink", "/w/a", "DIRECTORY")).toBe("deny");
    expect(ask(q, "file-write-unlink", "/w/a/other")).toBe("allow");
    expect(ask(q, "file-write-unlink", "/w/x/.env")).toBe("deny");
    expect(ask(q, "file-write-unlink", "/w/x/.ENV")).toBe("deny");
    expect(codes(g)).toEqual([CODES.sbplNarrowed.code]);
    expect(g.diagnostics[0]!.message).toContain("can still be moved");
  });
});

describe("SBPL access classes that share an operation", () => {
  it("grants file-write-data on regular files only with truncate, and says so", () => {
    const out = inline("filesystem:\n  - allow: [read, list, write]\n    path: /data\n");
    expect(codes(out)).toEqual([CODES.sbplNarrowed.code]);
    expect(out.diagnostics[0]!.message).toContain("`write` and `truncate` are one operation (`file-write-data`)");
    const p = read(out);
    expect(ask(p, "file-write-data", "/data/f")).toBe("deny");
    expect(ask(p, "file-write-data", "/data/fifo", "CHARACTER-DEVICE")).toBe("allow");
    expect(ask(p, "file-write-times", "/data/f")).toBe("allow");
  });

  it("tells reading a file from listing a directory with vnode-type", () => {
    const p = read(inline("filesystem:\n  - allow: [read]\n    path: /data\n"));
    expect(ask(p, "file-read-data", "/data/f")).toBe("allow");
    expect(ask(p, "file-read-data", "/data/d", "DIRECTORY")).toBe("deny");
  });

  it("the read-only preset's /dev/null needs no warning: the base grants it", () => {
    const r = compilePolicy({ kind: "preset", name: "read-only" });
    const out = compileSbpl(bindIr(r.ir!, testBindings(r.ir!)).ir!, { params: "inline" });
    expect(out.diagnostics).toEqual([]);
    const p = read(out);
    expect(ask(p, "file-write-data", "/dev/null", "CHARACTER-DEVICE")).toBe("allow");
  });
});

describe("SBPL network", () => {
  it("no network: no network operation at all (S10)", () => {
    const out = inline("network: off\n");
    expect(out.profile).not.toMatch(/network-(outbound|inbound|bind)|system-socket/);
  });

  it("everything: every IP address and port, unix sockets, and name resolution", () => {
    const out = inline("network: on\n");
    expect(out.profile).toContain('(allow network-outbound\n  (remote ip "*:*"))');
    expect(out.profile).toContain("(allow network-outbound (remote unix-socket))");
    // Unix sockets are all allowed, so the resolver's socket needs no rule of its own.
    expect(out.profile).not.toContain("mDNSResponder");
    expect(out.profile).toContain('(global-name "com.apple.trustd.agent")');
  });

  it("remote hosts with unix sockets denied: the resolver socket stays closed, as the policy says, with a warning", () => {
    const out = inline("network:\n  rules:\n    - allow: connect\n      ports: [443]\n");
    expect(out.profile).not.toContain("mDNSResponder");
    expect(out.profile).not.toContain("unix-socket");
    expect(codes(out)).toEqual([CODES.sbplResolverClosed.code]);
    const open = inline("network:\n  unix: allow\n  rules:\n    - allow: connect\n      ports: [443]\n");
    expect(open.profile).toContain("(allow network-outbound (remote unix-socket))");
    expect(codes(open)).toEqual([]);
  });

  it("unix path rules: each allow with the denies that outrank it carved out, for connect and bind apart", () => {
    const out = inline(
      "network:\n  unix:\n    paths:\n      - allow: [bind, connect]\n        path: /tmp/app\n      - deny: connect\n        path: /tmp/app/admin\n      - allow: connect\n        path: /tmp/app/admin/public.sock\n",
    );
    expect(out.profile).toContain("(allow system-socket (socket-domain AF_UNIX))");
    expect(out.profile).toContain('(require-not (remote unix-socket (subpath "/private/tmp/app/admin")))');
    const p = read(out);
    const unix = (op: "network-outbound" | "network-bind", path: string) => {
      const side = op === "network-outbound" ? "remote" : "local";
      const verdicts = PRECEDENCES.map((precedence) => evaluateOp(p, op, { [side]: { kind: "unix", path } }, new Map(), { precedence }).decision);
      expect(new Set(verdicts).size, `${op} ${path}`).toBe(1);
      return verdicts[0];
    };
    expect(unix("network-outbound", "/private/tmp/app/s.sock")).toBe("allow");
    expect(unix("network-outbound", "/private/tmp/app/admin/s.sock")).toBe("deny");
    expect(unix("network-outbound", "/private/tmp/app/admin/public.sock")).toBe("allow");
    expect(unix("network-outbound", "/private/var/run/docker.sock")).toBe("deny");
    // The deny is about connecting: binding beneath it stays allowed (and needs the file rule too).
    expect(unix("network-bind", "/private/tmp/app/admin/s.sock")).toBe("allow");
    expect(unix("network-bind", "/private/tmp/other.sock")).toBe("deny");
  });

  it("socket pairs need no rule, and no named socket means no AF_UNIX socket at all", () => {
    const off = inline("network: off\n");
    expect(off.profile).not.toContain("system-socket");
    expect(codes(off)).toEqual([]);
    // A policy that denies pairs cannot be enforced: Seatbelt checks nothing when a pair is created.
    const denied = inline("network:\n  unix: deny\n");
    expect(codes(denied)).toEqual([CODES.sbplNarrowed.code]);
    expect(denied.diagnostics[0]!.message).toContain("socket pairs stay open on macOS");
  });

  it("the resolver socket is reachable where the policy's unix rules allow connecting to it", () => {
    const rules = "  rules:\n    - allow: connect\n      ports: [443]\n";
    const open = inline(`network:\n  unix:\n    pairs: allow\n    paths:\n      - allow: connect\n        path: /var/run/mDNSResponder\n${rules}`);
    expect(codes(open)).toEqual([]);
    const narrow = inline(`network:\n  unix:\n    pairs: allow\n    paths:\n      - allow: connect\n        path: /var/run/docker.sock\n${rules}`);
    expect(codes(narrow)).toEqual([CODES.sbplResolverClosed.code]);
  });

  it("the full-access preset is (allow default)", () => {
    const r = compilePolicy({ kind: "preset", name: "full-access" });
    const out = compileSbpl(r.ir!, { params: "inline" });
    expect(out.profile!.split("\n").filter((l) => l.startsWith("("))).toEqual(["(version 1)", "(allow default)"]);
  });

  it("loopback ports are `localhost:PORT` on the remote end (S9)", () => {
    const out = inline("network:\n  rules:\n    - allow: connect\n      hosts: loopback\n      ports: [3128]\n");
    expect(out.profile).toContain('(remote tcp "localhost:3128")');
    expect(out.profile).not.toMatch(/\(local ip|127\.0\.0\.1/);
    expect(out.profile).not.toContain("mDNSResponder");
    // `localhost` misses the IPv4-mapped loopback the IR includes: announced on the rule.
    expect(codes(out)).toEqual([CODES.sbplNarrowed.code]);
    expect(out.diagnostics[0]!.message).toMatch(/::ffff:127\.0\.0\.1/);
  });

  it("a deny is carved out of the allow, not placed after it (S12)", () => {
    const out = inline("network:\n  rules:\n    - allow: connect\n      ports: [22, 443]\n    - deny: connect\n      hosts: loopback\n      ports: [22]\n");
    expect(out.profile).toContain('(require-not (remote tcp "*:22"))');
    expect(codes(out)).toEqual([CODES.sbplNarrowed.code, CODES.sbplResolverClosed.code]);
  });

  it("an allow for addresses Seatbelt cannot name is dropped, with a warning", () => {
    const out = inline("network:\n  rules:\n    - allow: connect\n      hosts: [10.0.0.0/8]\n      ports: [443]\n");
    expect(out.profile).not.toMatch(/network-outbound/);
    expect(codes(out)).toEqual([CODES.sbplNarrowed.code]);
  });

  it("UDP and TCP stay apart", () => {
    const out = inline("network:\n  rules:\n    - allow: connect\n      protocol: udp\n      ports: [53]\n");
    expect(out.profile).toContain('(remote udp "*:53")');
  });
});

describe("SBPL params mode", () => {
  it("passes every path as a define and leaves unbound parameters to the caller", () => {
    const r = compilePolicy({ kind: "preset", name: "workspace-write" });
    const out = compileSbpl(r.ir!, { params: "param" });
    expect(out.defines).toEqual([
      ["path.0", "/"],
      ["path.1", "/dev/null"],
      ["path.2", "/dev/shm"],
      ["path.3", "/private/tmp"],
      ["tmpdir", "${tmpdir}"],
      ["workspace", "${workspace}"],
    ]);
    expect(out.profile).toContain('(subpath (param "workspace"))');
    expect(out.profile).toContain('(require-not (subpath (string-append (param "workspace") "/.git")))');
    expect(out.profile).toContain(";   -D workspace=${workspace}");
    const p = read(out);
    const defines = new Map<string, string>([...out.defines.filter(([k]) => k.startsWith("path.")), ["workspace", "/Users/me/proj"], ["tmpdir", "/private/var/folders/x/T"]]);
    expect(ask(p, "file-write-data", "/Users/me/proj/src/a.ts", "REGULAR-FILE", defines)).toBe("allow");
    expect(ask(p, "file-write-data", "/Users/me/proj/.git/config", "REGULAR-FILE", defines)).toBe("deny");
    expect(ask(p, "file-write-create", "/private/var/folders/x/T/build", "DIRECTORY", defines)).toBe("allow");
    expect(ask(p, "file-write-data", "/Users/me/.bashrc", "REGULAR-FILE", defines)).toBe("deny");
  });

  it("inline mode needs every parameter's value", () => {
    const r = compilePolicy({ kind: "preset", name: "workspace-write" });
    const out = compileSbpl(r.ir!, { params: "inline" });
    expect(out.profile).toBeUndefined();
    expect(new Set(codes(out))).toEqual(new Set([CODES.sbplNeedsValue.code]));
    expect(out.diagnostics[0]!.help).toContain("--sbpl-params");
  });

  it("a glob under an unbound parameter needs its value even in params mode", () => {
    const ir = irOf("filesystem:\n  - allow: read-write\n    path: ${workspace}\n  - deny: read\n    glob: ${workspace}/**/*.pem\n");
    const out = compileSbpl(ir, { params: "param" });
    expect(out.profile).toBeUndefined();
    expect(codes(out)).toEqual([CODES.sbplNeedsValue.code]);
  });

  it("warns when the order of rules at different parameters is unknown", () => {
    const ir = irOf("params:\n  data:\n    description: d\nfilesystem:\n  - allow: read-write\n    path: ${data}\n  - deny: write\n    path: ${workspace}/secret\n");
    const out = compileSbpl(ir, { params: "param" });
    expect(codes(out)).toContain(CODES.sbplParamOrder.code);
  });
});

describe("SBPL diagnostics for the rest of the policy", () => {
  it("says once that syscall rules are not enforced, unless they are the presets'", () => {
    const out = inline("syscalls:\n  default: allow\n  rules:\n    - syscalls: [ptrace]\n      action: kill-process\n    - syscalls: [mount]\n      action: kill-process\n");
    expect(codes(out)).toEqual([CODES.sbplSyscallsIgnored.code]);
    const ws = compilePolicy({ kind: "preset", name: "workspace-write" });
    expect(codes(compileSbpl(bindIr(ws.ir!, testBindings(ws.ir!)).ir!, { params: "inline" }))).toEqual([]);
  });

  it("refuses a path longer than a Seatbelt string literal holds, inline", () => {
    const long = "/" + "d".repeat(120) + ("/" + "e".repeat(200)).repeat(4);
    const out = inline(`filesystem:\n  - allow: read\n    path: ${long}\n`);
    expect(codes(out)).toEqual([CODES.sbplStringTooLong.code]);
    const ir = irOf(`filesystem:\n  - allow: read\n    path: ${long}\n`);
    expect(compileSbpl(ir, { params: "param" }).profile).toBeDefined();
  });
});
