// Target fidelity in `sbc check` (lib/target-fidelity.ts): a policy's tests run on each target's
// executable model — the BPF interpreter on the seccomp filter, the Landlock launch model, the Seatbelt model —
// and a test that holds on the IR but not on a target is SBC1010, naming the target, with the target's own
// diagnostics reported as `compile -t` reports them. Real divergences only: each case below is one the
// targets document (Landlock sees ports, not hosts; the socketcall multiplexer; Seatbelt's write/truncate).

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { checkTargetFidelity, parseTargetList, type FidelityOptions } from "../lib/target-fidelity.js";
import { ensureBuilt, REPO, sbc } from "./support/cli.js";
import { tempDir, writeFiles } from "./support/tmp.js";

async function fidelity(text: string, options: FidelityOptions, path = "/virtual/policy.yaml"): Promise<{ compiled: Diagnostic[]; fidelity: Diagnostic[] }> {
  const r = compilePolicy({ kind: "text", path, text }, { runTests: true });
  expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return { compiled: r.diagnostics, fidelity: await checkTargetFidelity(r.ir!, options) };
}

const failures = (ds: readonly Diagnostic[]) => ds.filter((d) => d.code === "SBC1010");
const lineOf = (d: Diagnostic) => (d.span ? d.span.source.text.slice(0, d.span.start).split("\n").length : undefined);

const HOSTS = (extra = "") => `sbc: 1
name: hosts-loopback
network:
  rules:
    - allow: connect
      hosts: loopback
      ports: 8080
${extra}tests:
  - connect: 127.0.0.1:8080
    expect: allow
  - connect: 10.0.0.1:8080
    expect: deny
`;

describe("landlock: the launch model and its port rules", () => {
  it("a loopback-only allow passes on the IR; Landlock keeps its port closed (SBC2201), so the allow test fails there", async () => {
    const { compiled, fidelity: out } = await fidelity(HOSTS(), { targets: ["landlock"] });
    // The IR passes both tests: run-tests reports nothing.
    expect(compiled.filter((d) => d.code === "SBC1001")).toEqual([]);
    const f = failures(out);
    expect(f.map((d) => d.message)).toEqual(["test 1: connect tcp `127.0.0.1:8080` is denied on landlock (ABI 10, in a mount namespace), though the policy says allow"]);
    expect(f[0]!.severity).toBe("error");
    expect(lineOf(f[0]!)).toBe(9);
    // The label is on the rule the IR used; the help names the target diagnostic that explains it.
    expect(f[0]!.labels.map((l) => [l.span.source.text.slice(l.span.start, l.span.end), l.message])).toEqual([["allow: connect\n      hosts: loopback\n      ports: 8080\n", "the policy allows it here"]]);
    expect(f[0]!.help).toMatch(/^the target said so, SBC2201: Landlock sees TCP ports, not hosts: the connect rule for `loopback`/);
    // The target's diagnostics are reported too, as `compile -t landlock` reports them.
    expect(out.filter((d) => d.code === "SBC2201").length).toBeGreaterThan(0);
  });

  it("accepting the hosts widening opens the port for every host: now the deny test fails on Landlock", async () => {
    const { fidelity: out } = await fidelity(HOSTS("linux:\n  accept-widening: [hosts]\n"), { targets: ["landlock"] });
    expect(failures(out).map((d) => d.message)).toEqual(["test 2: connect tcp `10.0.0.1:8080` is allowed on landlock (ABI 10, in a mount namespace), though the policy says deny"]);
  });

  it("asks the ABI given, and says so", async () => {
    const { fidelity: out } = await fidelity(HOSTS(), { targets: ["landlock"], abi: 7 });
    expect(failures(out).map((d) => d.message)).toEqual(["test 1: connect tcp `127.0.0.1:8080` is denied on landlock (ABI 7, in a mount namespace), though the policy says allow"]);
  });

  it("fs tests: a deny glob Landlock widens to its directory fails an allow test beside it; the namespace mode is named", async () => {
    const text = `sbc: 1
name: globs
linux: { namespaces: never }
filesystem:
  - allow: read-write
    path: /work
  - deny: write
    glob: /work/**/*.lock
tests:
  - write: /work/a.lock
    expect: deny
  - write: /work/src/main.c
    expect: allow
  - read: /work/src/main.c
    expect: allow
`;
    const { fidelity: out } = await fidelity(text, { targets: ["landlock"] });
    const f = failures(out);
    expect(f.map((d) => d.message)).toEqual(["test 2: write `/work/src/main.c` is denied on landlock (ABI 10, without a mount namespace), though the policy says allow"]);
    expect(f[0]!.help).toMatch(/SBC2201: Landlock cannot match globs; the deny glob `\/work\/\*\*\/\*\.lock` is enforced as a deny of all of `\/work`/);
  });

  it("creating a rule's own directory: Landlock's rights reach only beneath it, and the help says so (not 'please report it')", async () => {
    const text = `sbc: 1
name: root-entry
filesystem:
  - allow: [list, modify]
    path: /work/cache
tests:
  - create-dir: /work/cache
    expect: allow
  - create-dir: /work/cache/sub
    expect: allow
`;
    const { fidelity: out } = await fidelity(text, { targets: ["landlock"] });
    const f = failures(out);
    expect(f.map((d) => d.message)).toEqual(["test 1: create-dir `/work/cache` is denied on landlock (ABI 10, in a mount namespace), though the policy says allow"]);
    expect(f[0]!.help).toBe(
      "Landlock gives a rule's rights to the entries beneath `/work/cache`, not to `/work/cache` itself: `create-dir` of `/work/cache` takes the right on `/work`; create it before the run, or allow `create-dir` on the parent if the command must make it",
    );
  });
});

describe("rules by domain: the Linux models check what `sbc exec` runs, behind the egress proxy", () => {
  const DOMAINS = `sbc: 1
name: registry
network:
  rules:
    - allow: connect
      domains: [registry.npmjs.org]
      ports: [443]
    - allow: connect
      hosts: [10.0.0.0/8]
      ports: [5432]
tests:
  - connect: 10.1.2.3:5432
    expect: allow
  - connect: 8.8.8.8:5432
    expect: deny
  - connect: 140.82.112.3:443
    expect: deny
  - bind: 127.0.0.1:8080
    expect: deny
`;
  it("no SBC1410 on Linux; the direct allow says once what it reaches in the namespace (SBC1420); the proxy's TCP decisions are not Landlock's", async () => {
    const { fidelity: out } = await fidelity(DOMAINS, { targets: ["landlock", "seccomp"] });
    expect(out.map((d) => d.code)).toEqual(["SBC1420"]);
    expect(out[0]!.message).toContain("reaches only the sandbox's own loopback");
  });

  it("Seatbelt as `sbc debug seatbelt` runs it behind the Node relay: the names reach only the proxy's port (SBC1423), no SBC1410", async () => {
    const { fidelity: out } = await fidelity(DOMAINS, { targets: ["sbpl"] });
    expect(out.map((d) => d.code)).toContain("SBC1423");
    expect(out.map((d) => d.code)).not.toContain("SBC1410");
    expect(failures(out)).toEqual([]);
  });

  it("without the proxy's view, the deny test of an address outside the rule's hosts would fail on Landlock (the control)", async () => {
    const noDomains = DOMAINS.replace(/    - allow: connect\n      domains: \[registry.npmjs.org\]\n      ports: \[443\]\n/, "");
    const { fidelity: out } = await fidelity(noDomains, { targets: ["landlock"] });
    expect(failures(out).length).toBeGreaterThan(0);
  });
});

describe("seccomp: the BPF interpreter on the compiled filter", () => {
  const SOCKETCALL = `sbc: 1
name: no-connect
network: on
syscalls:
  default: allow
  rules:
    - syscalls: [connect]
      action: { errno: EPERM }
tests:
  - syscall: socketcall
    args: [3]
    expect: allow
  - syscall: connect
    expect: { errno: EPERM }
`;
  it("i386's socketcall(SYS_CONNECT): the IR answers the multiplexer by its own rules, the filter by connect's", async () => {
    const { compiled, fidelity: out } = await fidelity(SOCKETCALL, { targets: ["seccomp"], arches: ["i386"] });
    expect(compiled.filter((d) => d.code === "SBC1001")).toEqual([]);
    const f = failures(out);
    expect(f.map((d) => d.message)).toEqual(["test 1: syscall `socketcall`(0x3) is errno EPERM on seccomp (i386), though the policy says allow"]);
    expect(f[0]!.help).toMatch(/^through `socketcall` the filter gives each sub-call the answer of the call it stands for/);
  });

  it("on x86_64, which has no socketcall, the filter and the IR agree", async () => {
    const { fidelity: out } = await fidelity(SOCKETCALL, { targets: ["seccomp"], arches: ["x86_64"] });
    expect(failures(out)).toEqual([]);
  });

  it("an allowed connection needs the filter to let its socket be made", async () => {
    // `network: off` makes the filter refuse AF_INET sockets; a syscall rule cannot be used to re-open them
    // without SBC2002, so the IR's test of an allowed connect fails only where a model is asked.
    const text = `sbc: 1
name: net
network: on
syscalls:
  default: allow
  rules:
    - syscalls: [socket]
      action: { errno: EACCES }
      args: ["arg0 == 2"]
tests:
  - connect: 10.0.0.1:443
    expect: allow
`;
    const { fidelity: out } = await fidelity(text, { targets: ["seccomp"] });
    expect(failures(out).map((d) => d.message)).toEqual(["test 1: connect tcp `10.0.0.1:443` is refused (`socket(AF_INET, SOCK_STREAM, 0)` gets errno EACCES) on seccomp (x86_64), though the policy says allow"]);
  });
});

describe("sbpl: the Seatbelt model on the emitted profile", () => {
  it("write without truncate on a regular file: Seatbelt has one operation for both, so the profile grants neither (SBC2301)", async () => {
    const text = `sbc: 1
name: docker-socket
filesystem:
  - allow: [read, write]
    exact: /var/run/docker.sock
tests:
  - write: /var/run/docker.sock
    expect: allow
  - read: /var/run/docker.sock
    expect: allow
`;
    const { fidelity: out } = await fidelity(text, { targets: ["sbpl"] });
    const f = failures(out);
    expect(f.map((d) => d.message)).toEqual(["test 1: write `/var/run/docker.sock` is denied on sbpl (macOS Seatbelt), though the policy says allow"]);
    expect(f[0]!.help).toMatch(/SBC2301: Seatbelt cannot grant exactly/);
  });

  it("a CIDR allow: Seatbelt addresses only localhost or every host, so the profile drops it", async () => {
    const text = `sbc: 1
name: cidr
network:
  rules:
    - allow: connect
      hosts: [10.0.0.0/8]
      ports: 443
tests:
  - connect: 10.1.2.3:443
    expect: allow
`;
    const { fidelity: out } = await fidelity(text, { targets: ["sbpl"] });
    expect(failures(out).map((d) => d.message)).toEqual(["test 1: connect tcp `10.1.2.3:443` is denied on sbpl (macOS Seatbelt), though the policy says allow"]);
  });
});

describe("what is and is not reported", () => {
  it("a test that fails on the IR is run-tests' (SBC1001), not reported again per target", async () => {
    const text = HOSTS().replace("connect: 10.0.0.1:8080\n    expect: deny", "connect: 10.0.0.1:8080\n    expect: allow");
    const r = compilePolicy({ kind: "text", path: "/virtual/policy.yaml", text }, { runTests: true });
    expect(r.diagnostics.filter((d) => d.code === "SBC1001").map((d) => d.message)).toEqual(["test 2: connect tcp `10.0.0.1:8080` is deny (no rule allows it), expected allow"]);
    // Landlock's port rule would let test 2 through, but it failed on the IR already: only test 1 is the target's.
    expect(failures(await checkTargetFidelity(r.ir!, { targets: ["seccomp", "landlock", "sbpl"] })).map((d) => d.message.slice(0, 7))).toEqual(["test 1:"]);
  });

  it("command tests are IR-only", async () => {
    const text = `sbc: 1
name: cmds
commands:
  default: deny
  rules:
    - allow: [git, status]
tests:
  - command: git status
    expect: allow
`;
    const r = compilePolicy({ kind: "text", path: "/virtual/p.yaml", text }, { runTests: true });
    if (r.diagnostics.some((d) => d.severity === "error")) return; // the command syntax is the language's, not this test's
    expect(failures(await checkTargetFidelity(r.ir!, { targets: ["seccomp", "landlock", "sbpl"] }))).toEqual([]);
  });

  it("SBPL's need for a parameter's value (SBC2303) is not a fidelity finding: `sbc exec` has the values", async () => {
    const text = `sbc: 1
name: glob-under-param
filesystem:
  - allow: read-write
    path: \${workspace}
  - deny: read
    glob: \${workspace}/**/.env
tests:
  - read: \${workspace}/a/.env
    expect: deny
  - read: \${workspace}/a/b.txt
    expect: allow
`;
    const { fidelity: out } = await fidelity(text, { targets: ["sbpl"] });
    expect(out.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });

  it("no targets: nothing", async () => {
    const { fidelity: out } = await fidelity(HOSTS(), { targets: [] });
    expect(out).toEqual([]);
  });

  it("--target lists: comma-separated, repeated, all, none", () => {
    expect(parseTargetList([])).toEqual({ targets: ["seccomp", "landlock", "sbpl"] });
    expect(parseTargetList(["sbpl,landlock"])).toEqual({ targets: ["landlock", "sbpl"] });
    expect(parseTargetList(["sbpl", "seccomp"])).toEqual({ targets: ["seccomp", "sbpl"] });
    expect(parseTargetList(["all"])).toEqual({ targets: ["seccomp", "landlock", "sbpl"] });
    expect(parseTargetList(["none"])).toEqual({ targets: [] });
    expect(parseTargetList(["linux"])).toMatchObject({ error: "unknown target `linux` for check" });
    expect(parseTargetList([","])).toMatchObject({ error: "--target needs at least one target" });
  });
});

/**
 * The fixtures whose tests do not all hold on every target, by target and test. Each is a divergence the
 * target announces (the help line names its diagnostic; the test below checks that one does):
 * - Landlock sees ports, not hosts (SBC2201): an allow for some hosts keeps its ports closed, and a deny
 *   for some hosts closes its ports for every host — every loopback and CIDR rule.
 * - Landlock cannot match globs (SBC2201): a deny glob is enforced as a deny of its literal directory, an
 *   allow glob is dropped (dotenv, gradle, glob-wildcards, agent-writes-git, brackets).
 * - Seatbelt addresses only `localhost` or every host (SBC2301), and `localhost` is not `::ffff:127.0.0.1`.
 * - Seatbelt's `file-write-data` is write and truncate at once (SBC2301: docker.sock, db-migration's log).
 * - In param mode the order of rules anchored at different parameters is unknown and the deny wins
 *   (SBC2305: `/tmp` against `${tmpdir}`, agent-writes-git's `.git` lock).
 */
const KNOWN: Readonly<Record<string, readonly string[]>> = {
  "ok-agent-dotenv-glob": ["landlock: test 5", "landlock: test 6", "landlock: test 7"],
  "ok-agent-writes-git": ["landlock: test 3", "landlock: test 7", "sbpl: test 7"],
  "ok-ci-job": ["landlock: test 4", "sbpl: test 4"],
  "ok-db-migration": ["landlock: test 4", "landlock: test 5", "sbpl: test 3"],
  "ok-docs-site-build": ["landlock: test 4", "landlock: test 6"],
  "ok-extends-preset-and-base": ["landlock: test 7"],
  "ok-extends-two-local-files": ["landlock: test 4", "sbpl: test 4"],
  "ok-glob-param-with-brackets": ["landlock: test 2"],
  "ok-glob-wildcards": ["landlock: test 2", "landlock: test 4", "landlock: test 5", "landlock: test 8"],
  "ok-gradle-build": ["landlock: test 3", "landlock: test 4", "landlock: test 5"],
  "ok-network-deny-holds-across-files": ["landlock: test `the base's allow still holds`", "sbpl: test `the base's allow still holds`"],
  "ok-network-deny-overrides-allow": ["landlock: test 1", "landlock: test 4", "landlock: test 6", "sbpl: test 1", "sbpl: test 4", "sbpl: test 6"],
  "ok-network-detailed-rules": [
    "landlock: test 1",
    "landlock: test 2",
    "landlock: test 4",
    "landlock: test 5",
    "landlock: test 7",
    "landlock: test 8",
    "sbpl: test 1",
    "sbpl: test 2",
    "sbpl: test 4",
    "sbpl: test 5",
    "sbpl: test 7",
  ],
  "ok-network-loopback": ["landlock: test 1", "landlock: test 2", "landlock: test 3", "landlock: test 4", "landlock: test 5", "sbpl: test 4"],
  "ok-network-mode-restart": ["landlock: test 1", "sbpl: test 1"],
  "ok-network-unix-only": ["sbpl: test 2"],
  "ok-notebook-data": ["landlock: test 6"],
  "ok-tmpdir-distinct-from-tmp": ["sbpl: test 2"],
};

describe("the memo: a result reused for another policy with the same sections", () => {
  // Same rules in two files: the second is shifted by a comment line, has another name and description, and
  // its own test. The backends' results are reused; their diagnostics must point into the second file.
  const policy = (name: string, lead = "") => `${lead}sbc: 1
name: ${name}
description: memo ${name}
params:
  cache: {}
filesystem:
  - allow: read-write
    path: \${workspace}
  - deny: write
    exact: \${workspace}/package-lock.json
  - allow: read
    path: \${cache}
network:
  rules:
    - allow: connect
      hosts: [10.20.0.0/16]
      ports: [443]
tests:
  - connect: 10.20.4.7:443
    expect: allow
`;
  it("moves the reused diagnostics to the second policy's spans", async () => {
    const all: FidelityOptions = { targets: ["seccomp", "landlock", "sbpl"] };
    const first = await fidelity(policy("memo-first"), all, "/virtual/memo-first.yaml");
    // Warnings on every target that has one, and the test fails on Landlock and Seatbelt.
    expect(first.fidelity.filter((d) => d.code !== "SBC1010").length).toBeGreaterThan(1);
    expect(failures(first.fidelity).length).toBe(2);
    const second = await fidelity(policy("memo-second", "# shifted by one line\n"), all, "/virtual/memo-second.yaml");
    expect(second.fidelity.length).toBe(first.fidelity.length);
    for (const d of second.fidelity) {
      expect(d.span?.source.path).toBe("/virtual/memo-second.yaml");
      for (const l of d.labels) expect(l.span.source.path).toBe("/virtual/memo-second.yaml");
    }
    // Exactly the first policy's findings, one line lower.
    expect(second.fidelity.map((d) => [d.code, d.message, lineOf(d)! - 1])).toEqual(first.fidelity.map((d) => [d.code, d.message, lineOf(d)]));
  });
});

describe("presets and fixtures on every target", () => {
  const ALL: FidelityOptions = { targets: ["seccomp", "landlock", "sbpl"] };
  const key = (d: Diagnostic) => {
    const m = /^(test [^:]+|test `[^`]+`): .* on (\w+) /.exec(d.message);
    return m ? `${m[2]}: ${m[1]}` : d.message;
  };

  it("every preset's tests hold on every target", async () => {
    for (const file of readdirSync(join(REPO, "presets"))) {
      const name = file.replace(/\.(yaml|sbc)$/, "");
      const r = compilePolicy({ kind: "preset", name }, { runTests: true });
      expect(r.ir, name).toBeDefined();
      expect(failures(await checkTargetFidelity(r.ir!, ALL)).map((d) => d.message), name).toEqual([]);
    }
  });

  it("every fixture policy with tests holds on every target, but the known exceptions, each explained by a target diagnostic", async () => {
    const seen: Record<string, string[]> = {};
    for (const dir of readdirSync(join(REPO, "fixtures")).sort()) {
      const path = join(REPO, "fixtures", dir, "policy.yaml");
      if (!dir.startsWith("ok-") || !existsSync(path)) continue;
      const r = compilePolicy({ kind: "file", path }, { runTests: true });
      if (!r.ir || r.diagnostics.some((d) => d.severity === "error") || !r.ir.tests.length) continue;
      const f = failures(await checkTargetFidelity(r.ir, ALL));
      for (const d of f) expect(d.help, `${dir}: ${d.message}`).toMatch(/^the target said so|^probably what the target said/);
      if (f.length) seen[dir] = f.map(key);
    }
    expect(seen).toEqual(KNOWN);
  }, 180_000);
});

describe("sbc check --target (CLI)", () => {
  beforeAll(() => ensureBuilt(), 200_000);

  it("prints the target diagnostic `compile -t landlock` prints for a loopback rule, and exits 1 on the test Landlock fails", async () => {
    const dir = writeFiles(tempDir(), { "policy.yaml": HOSTS() });
    const compiled = await sbc(["compile", "-t", "landlock", "policy.yaml"], { cwd: dir });
    const warnings = compiled.stderr.split("\n").filter((l) => l.startsWith("warning[SBC2201]"));
    expect(warnings.length).toBeGreaterThan(0);
    const checked = await sbc(["check", "--target", "landlock", "policy.yaml"], { cwd: dir });
    for (const w of warnings) expect(checked.stdout).toContain(w);
    expect(checked.stdout).toContain("error[SBC1010]: test 1: connect tcp `127.0.0.1:8080` is denied on landlock (ABI 10, in a mount namespace), though the policy says allow");
    expect(checked.code).toBe(1);
    // Without targets, check is the IR's alone again: the tests pass, nothing else is said.
    const none = await sbc(["check", "--target", "none", "policy.yaml"], { cwd: dir });
    expect(none.stdout).not.toContain("SBC2201");
    expect(none.code).toBe(0);
    // The default is every target.
    const all = await sbc(["check", "policy.yaml"], { cwd: dir });
    expect(all.stdout).toContain("error[SBC1010]");
    expect(all.code).toBe(1);
  }, 60_000);

  it("--abi and --arch reach the models; an unknown target is a usage error", async () => {
    const dir = writeFiles(tempDir(), { "policy.yaml": HOSTS() });
    const abi = await sbc(["check", "--target", "landlock", "--abi", "7", "--format", "json", "policy.yaml"], { cwd: dir });
    expect(abi.stdout).toContain("on landlock (ABI 7, in a mount namespace)");
    const bad = await sbc(["check", "--target", "linux", "policy.yaml"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown target `linux` for check");
    const badAbi = await sbc(["check", "--abi", "11", "policy.yaml"], { cwd: dir });
    expect(badAbi.code).toBe(2);
  }, 60_000);
});
