// The egress proxy's decision service without a kernel: a fake relay writes `Q` lines and reads the `A`
// lines (lib/proxy/), on IRs compiled from policies here. Host normal forms, the check after resolution (no
// rebinding into private ranges), --resolve, the refusal texts naming the rule, the network log, and a
// channel that carries garbage failing closed.

import fc from "fast-check";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex, PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/passes/index.js";
import type { IR } from "../ir/types.js";
import { decide, parseResolveEntries, resolverWith, type Resolver } from "../lib/proxy/decide.js";
import { parseRelayLine } from "../lib/proxy/protocol.js";
import { NetworkLog } from "../lib/proxy/run.js";
import { DecisionService, type NetworkEvent } from "../lib/proxy/service.js";
import { compile } from "../lib/compile.js";
import { convert } from "../lib/convert.js";
import { evalQuery } from "../lib/eval-query.js";
import { explainProxyRefusals, explainRecords, renderDenials } from "../lib/explain.js";
import { evaluateName } from "../ir/evaluator/evaluate.js";
import { normalizeHttpPath } from "../ir/http-match.js";
import { propertyOptions } from "./support/property.js";
import { checkablePlanText, negotiateRun, runPlanText } from "../lib/exec-plan.js";
import { lowerDomainRulesForProxy } from "../ir/backend.js";
import { impliedRuleFor, networkSyscalls } from "../ir/evaluator/network-syscalls.js";
import { evaluateNetworkOp } from "../targets/sbpl/model.js";
import { readSbpl } from "../targets/sbpl/reader.js";
import { ensureBuilt, sbc, STACK_TRACE } from "./support/cli.js";

const POLICY = `sbc: 1
name: proxy-test
network:
  rules:
    - allow: connect
      domains: [registry.npmjs.org, "*.githubusercontent.com", "bücher.example"]
      ports: [443]
      reason: registries
    - deny: connect
      domains: [gist.githubusercontent.com]
    - allow: connect
      domains: [local.test]
      ports: [80, 8080]
    - allow: connect
      hosts: [127.0.0.1]
      ports: [8080]
    - allow: connect
      hosts: [93.184.216.0/24]
      ports: [443]
    - deny: connect
      hosts: [93.184.216.99]
`;

function build(yaml: string): IR {
  const r = compilePolicy({ kind: "text", path: "/tmp/p.yaml", text: yaml }, { stopAfter: "build-ir" });
  if (!r.ir) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.ir;
}

const IR_ = build(POLICY);

/** A resolver from a table; a name not in it does not resolve. */
function table(t: Record<string, string[]>): Resolver {
  return async (name) => {
    const a = t[name];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return a;
  };
}

const DNS = table({
  "registry.npmjs.org": ["104.16.0.35", "2606:4700::6810:23"],
  "raw.githubusercontent.com": ["185.199.108.133"],
  "evil.githubusercontent.com": ["185.199.108.133", "10.0.0.7"],
  "meta.githubusercontent.com": ["169.254.169.254"],
  "mapped.githubusercontent.com": ["::ffff:192.168.1.1"],
  "xn--bcher-kva.example": ["198.51.100.1"],
  "local.test": ["127.0.0.1"],
});

const ask = (host: string, port: number, ir: IR = IR_, resolver: Resolver = DNS) => decide(ir, { kind: "connect", host, port }, resolver);

describe("decisions", () => {
  it("an allowed name resolves and is answered with its first checked address", async () => {
    expect(await ask("registry.npmjs.org", 443)).toMatchObject({ decision: "allow", address: "104.16.0.35", port: 443, host: "registry.npmjs.org" });
    const d = await ask("registry.npmjs.org", 443);
    expect(d.rule).toEqual({ rule: "allow connect *.githubusercontent.com, registry.npmjs.org, xn--bcher-kva.example port 443", location: "/tmp/p.yaml:5:7" });
  });

  it("a dual-stack name is answered with its IPv4 address first", async () => {
    expect(await ask("registry.npmjs.org", 443, IR_, table({ "registry.npmjs.org": ["2606:4700::6810:23", "104.16.0.35"] }))).toMatchObject({ decision: "allow", address: "104.16.0.35" });
    expect(await ask("registry.npmjs.org", 443, IR_, table({ "registry.npmjs.org": ["2606:4700::6810:23"] }))).toMatchObject({ decision: "allow", address: "2606:4700::6810:23" });
  });

  it.each([
    ["Registry.NPMJS.org", "registry.npmjs.org"],
    ["registry.npmjs.org.", "registry.npmjs.org"],
    ["RAW.GitHubUserContent.com.", "raw.githubusercontent.com"],
    ["Bücher.example", "xn--bcher-kva.example"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
  ])("the host %s is matched as %s", async (raw, normal) => {
    const d = await ask(raw, 443);
    expect(d).toMatchObject({ decision: "allow", host: normal });
  });

  it("wildcard depth: `*.` is one label, never the bare domain", async () => {
    expect(await ask("githubusercontent.com", 443)).toMatchObject({ decision: "deny", status: 403 });
    expect(await ask("a.b.githubusercontent.com", 443)).toMatchObject({ decision: "deny", status: 403 });
  });

  it("a refusal names the deciding rule and its file:line:col, or the default", async () => {
    const d = await ask("gist.githubusercontent.com", 443);
    expect(d).toMatchObject({ decision: "deny", status: 403 });
    expect(d.decision === "deny" && d.text).toBe("sbc: connecting to `gist.githubusercontent.com:443` is denied by the rule `deny connect gist.githubusercontent.com port any` at /tmp/p.yaml:9:7");
    const e = await ask("example.com", 443);
    expect(e.decision === "deny" && e.text).toBe("sbc: connecting to `example.com:443` is denied by the policy: no rule allows it (default deny)");
    expect(e.rule).toBeNull();
  });

  it("ports: an allowed name on another port is refused", async () => {
    expect(await ask("registry.npmjs.org", 80)).toMatchObject({ decision: "deny", status: 403 });
  });

  it("a name that resolves into a private, link-local or metadata range is refused, even partly", async () => {
    const evil = await ask("evil.githubusercontent.com", 443);
    expect(evil).toMatchObject({ decision: "deny", status: 403, rule: { rule: "special range 10.0.0.0/8" } });
    expect(evil.decision === "deny" && evil.text).toContain("resolves to 10.0.0.7, in the private range 10.0.0.0/8, which no rule names");
    expect(await ask("meta.githubusercontent.com", 443)).toMatchObject({ decision: "deny", rule: { rule: "special range 169.254.0.0/16" } });
    // An IPv4-mapped IPv6 answer is judged (and would be connected to) as IPv4.
    expect(await ask("mapped.githubusercontent.com", 443)).toMatchObject({ decision: "deny", rule: { rule: "special range 192.168.0.0/16" } });
  });

  it("a private address a rule names is allowed, on that rule's ports only", async () => {
    expect(await ask("local.test", 8080)).toMatchObject({ decision: "allow", address: "127.0.0.1" });
    expect(await ask("local.test", 80)).toMatchObject({ decision: "deny", rule: { rule: "special range 127.0.0.0/8" } });
  });

  it("a name that does not resolve gets 502, one too slow 504", async () => {
    const d = await ask("nowhere.githubusercontent.com", 443);
    expect(d).toMatchObject({ decision: "deny", status: 502 });
    expect(d.decision === "deny" && d.text).toBe("sbc: `nowhere.githubusercontent.com:443` does not resolve (ENOTFOUND)");
    const never: Resolver = () => new Promise(() => undefined);
    expect(await decide(IR_, { kind: "connect", host: "raw.githubusercontent.com", port: 443 }, never, { timeoutMs: 5 })).toMatchObject({ decision: "deny", status: 504 });
  });

  it("IP literals are judged by the IP rules and the special ranges, v4-mapped as v4", async () => {
    expect(await ask("93.184.216.34", 443)).toMatchObject({ decision: "allow", address: "93.184.216.34" });
    expect(await ask("::ffff:93.184.216.34", 443)).toMatchObject({ decision: "allow", address: "93.184.216.34" });
    expect(await ask("[::ffff:5db8:d822]", 443)).toMatchObject({ decision: "allow", address: "93.184.216.34" });
    const denied = await ask("93.184.216.99", 443);
    expect(denied.decision === "deny" && denied.text).toMatch(/denied by the rule `deny connect 93\.184\.216\.99\/32 port any` at \/tmp\/p\.yaml:20:7$/);
    expect(await ask("8.8.8.8", 443)).toMatchObject({ decision: "deny", status: 403, rule: null });
    expect(await ask("127.0.0.1", 8080)).toMatchObject({ decision: "allow", address: "127.0.0.1" });
    expect(await ask("127.0.0.1", 22)).toMatchObject({ decision: "deny" });
    // A name written as an address in another notation is that address.
    expect(await ask("0x7f.1", 8080)).toMatchObject({ decision: "allow", address: "127.0.0.1", host: "127.0.0.1" });
  });

  it("an `any` host rule allows names on its ports but not into special ranges", async () => {
    const ir = build("sbc: 1\nname: x\nnetwork:\n  rules:\n    - allow: connect\n      hosts: any\n      ports: [443]\n");
    expect(await ask("example.org", 443, ir, table({ "example.org": ["93.184.216.34"] }))).toMatchObject({ decision: "allow" });
    expect(await ask("169.254.169.254", 443, ir)).toMatchObject({ decision: "deny", rule: { rule: "special range 169.254.0.0/16" } });
    expect(await ask("[fd00:ec2::254]", 443, ir)).toMatchObject({ decision: "deny", rule: { rule: "special range fc00::/7" } });
  });

  it.each(["a..b", "-a.example", "exa mple.com", "x".repeat(64) + ".com", "*.example.com"])("a host that is not one (%s) gets 400", async (h) => {
    expect(await ask(h, 443)).toMatchObject({ decision: "deny", status: 400 });
  });

  it("port 0 is refused", async () => {
    expect(await ask("registry.npmjs.org", 0)).toMatchObject({ decision: "deny", status: 400 });
  });
});

describe("--resolve", () => {
  it("maps names (normalized) to addresses before the system resolver", async () => {
    const p = parseResolveEntries(["Local.Test.=127.0.0.1", "registry.npmjs.org=127.0.0.1,[::1]"]);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect([...p.map]).toEqual([
      ["local.test", ["127.0.0.1"]],
      ["registry.npmjs.org", ["127.0.0.1", "::1"]],
    ]);
    const fallback = table({ "raw.githubusercontent.com": ["185.199.108.133"] });
    const r = resolverWith(p.map, fallback);
    expect(await r("local.test")).toEqual(["127.0.0.1"]);
    expect(await r("raw.githubusercontent.com")).toEqual(["185.199.108.133"]);
    // Resolved to loopback, which no rule names for 443: refused.
    expect(await ask("registry.npmjs.org", 443, IR_, r)).toMatchObject({ decision: "deny", rule: { rule: "special range 127.0.0.0/8" } });
  });

  it.each([["x"], ["=1.2.3.4"], ["a.test=not-an-ip"], ["1.2.3.4=1.2.3.4"], ["a.test="]])("refuses %s", (e) => {
    expect(parseResolveEntries([e]).ok).toBe(false);
  });
});

describe("--network-log", () => {
  it("a write that fails (a full disk) stops the log and says why; it never throws into the running service", () => {
    const log = NetworkLog.open("/dev/full");
    if ("error" in log) throw new Error(log.error);
    const event: NetworkEvent = { time: "2026-12-07T00:00:00.000Z", id: "1", via: "connect", host: "example.com", port: 443, decision: "allow", rule: null };
    expect(() => log.write(event)).not.toThrow();
    expect(log.failure).toBe("the network log stopped: ENOSPC");
    expect(() => log.write(event)).not.toThrow(); // stopped: nothing more is tried
    log.close();
  });
});

describe("the control protocol", () => {
  it("parses the relay's lines", () => {
    expect(parseRelayLine("Q 1 connect registry.npmjs.org 443")).toEqual({ type: "Q", id: "1", request: { kind: "connect", host: "registry.npmjs.org", port: 443 } });
    expect(parseRelayLine("Q 2 http local.test 80 GET /simple/%20x/")).toEqual({ type: "Q", id: "2", request: { kind: "http", host: "local.test", port: 80, method: "GET", path: "/simple/%20x/" } });
    expect(parseRelayLine("Q 3 socks5 ::1 80")).toMatchObject({ type: "Q", request: { host: "::1" } });
    expect(parseRelayLine("R 1 ok")).toEqual({ type: "R", id: "1", ok: true });
    expect(parseRelayLine("R 1 fail ECONNREFUSED")).toEqual({ type: "R", id: "1", ok: false, errno: "ECONNREFUSED" });
    expect(parseRelayLine("X 1 10 20")).toEqual({ type: "X", id: "1", up: 10, down: 20 });
  });

  it.each(["", "Q", "Q x connect a 1", "Q 1 ftp a 21", "Q 1 connect a", "Q 1 connect a 99999999", "Q 1 connect a 80 GET /", "R 1 maybe", "X 1 a b", "Z 1"])("refuses `%s`", (line) => {
    expect(parseRelayLine(line).type).toBe("error");
  });
});

/** A fake relay: what it writes the service reads, and the service's answers come back as lines. */
function fakeRelay(ir: IR = IR_, resolver: Resolver = DNS) {
  const toService = new PassThrough();
  const fromService = new PassThrough();
  const channel = Duplex.from({ readable: toService, writable: fromService });
  const events: NetworkEvent[] = [];
  const warnings: string[] = [];
  const service = new DecisionService(ir, channel, { resolver, log: (e) => events.push(e), warn: (m) => warnings.push(m) });
  let out = "";
  fromService.setEncoding("latin1");
  fromService.on("data", (s: string) => (out += s));
  const answers = async (n: number) => {
    for (let i = 0; i < 100 && out.split("\n").length - 1 < n; i++) await new Promise((r) => setImmediate(r));
    return out.split("\n").filter(Boolean);
  };
  return { send: (s: string) => toService.write(s), answers, service, events, warnings };
}

describe("the service over a fake relay", () => {
  it("answers each request by its id, and logs each connection with its bytes", async () => {
    const r = fakeRelay();
    r.send("Q 7 connect registry.npmjs.org 443\nQ 8 socks5 example.com 443\nQ 9 http local.test 8080 GET /simple/\n");
    const a = await r.answers(3);
    expect(a.sort()).toEqual([
      "A 7 allow 104.16.0.35 443",
      "A 8 deny 403 sbc: connecting to `example.com:443` is denied by the policy: no rule allows it (default deny)",
      "A 9 allow 127.0.0.1 8080",
    ]);
    r.send("R 7 ok\nX 7 100 2000\nR 9 fail ECONNREFUSED\n");
    await new Promise((done) => setImmediate(done));
    await r.service.finish();
    expect(r.events.map((e) => [e.id, e.via, e.host, e.port, e.decision, e.address ?? e.status, e.upstream, e.bytesUp, e.bytesDown])).toEqual([
      ["8", "socks5", "example.com", 443, "deny", 403, undefined, undefined, undefined],
      ["7", "connect", "registry.npmjs.org", 443, "allow", "104.16.0.35", "ok", 100, 2000],
      ["9", "http", "local.test", 8080, "allow", "127.0.0.1", "ECONNREFUSED", undefined, undefined],
    ]);
    expect(r.events[2]).toMatchObject({ method: "GET", path: "/simple/" });
    expect(r.service.refusals().map((e) => e.host)).toEqual(["example.com"]);
    expect(r.warnings).toEqual([]);
  });

  it("lines split across reads are put together", async () => {
    const r = fakeRelay();
    r.send("Q 1 conn");
    r.send("ect raw.githubuser");
    r.send("content.com 443\r\n");
    expect(await r.answers(1)).toEqual(["A 1 allow 185.199.108.133 443"]);
  });

  it("a malformed line is refused and said once; a connection still open at the end is logged", async () => {
    const r = fakeRelay();
    r.send("Q 4 gopher example.com 70\nhello\nQ 5 connect registry.npmjs.org 443\n");
    expect((await r.answers(2)).sort()).toEqual(["A 4 deny 400 sbc: the request could not be read", "A 5 allow 104.16.0.35 443"]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/malformed line/);
    await r.service.finish();
    expect(r.events.map((e) => [e.id, e.decision, e.bytesUp])).toEqual([["5", "allow", undefined]]);
  });
});

describe("compiling a policy with rules by domain for the proxy", () => {
  const TEXT = `${POLICY}    - allow: connect
      protocol: udp
      hosts: [10.0.0.53]
      ports: [53]
linux:
  accept-widening: [udp]
`;

  it("the linux bundle runs it behind the proxy: net-proxy, port 3128 for connect, SBC1420 at each direct allow", async () => {
    const r = await compile({ kind: "text", text: POLICY, syntax: "yaml", path: "/tmp/p.yaml" }, { target: "linux" });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.ok).toBe(true);
    const plan = r.output as string;
    expect(plan).toContain("\nnet-proxy 127.0.0.1 3128\n");
    expect(plan).toMatch(/\nnet 0x2 3128\n/);
    expect(plan).toMatch(/\nnet 0x2 8080\n/);
    const warned = r.diagnostics.filter((d) => d.code === "SBC1420");
    expect(warned.map((d) => d.message)).toEqual([
      "in the sandbox's network namespace, the rule `allow connect 127.0.0.1/32 port 8080` reaches only the sandbox's own loopback when the command connects directly",
      "in the sandbox's network namespace, the rule `allow connect 93.184.216.0/24 port 443` reaches only the sandbox's own loopback when the command connects directly",
    ]);
    expect(warned.every((d) => d.span !== undefined)).toBe(true);
    expect(r.diagnostics.some((d) => d.code === "SBC1410" || d.code === "SBC2201")).toBe(false);
  });

  it("the lowered IR: TCP sockets allowed, UDP sockets refused unless a rule allows UDP; the rules by domain gone", () => {
    const AF_INET = "0x2";
    const socketFor = (ir: IR, type: string) =>
      impliedRuleFor(networkSyscalls(ir), "socket", (c) => (c.arg === 0 ? c.value === AF_INET : c.arg === 1 ? (BigInt(type) & BigInt(c.mask ?? "0xffffffffffffffff")) === BigInt(c.value) : c.value === "0x0"))?.action.type;
    const tcpOnly = lowerDomainRulesForProxy(IR_).ir;
    expect(tcpOnly.network.domains).toBeUndefined();
    expect(socketFor(tcpOnly, "0x1")).toBe("allow");
    expect(socketFor(tcpOnly, "0x2")).toBe("errno");
    const udp = lowerDomainRulesForProxy(build(TEXT)).ir;
    expect(socketFor(udp, "0x2")).toBe("allow");
  });

  it("exec's negotiation marks the run for the proxy; the plan for the loader's --check has no net-proxy", () => {
    const n = negotiateRun(IR_, { arch: "x86_64", kernelAbi: 6, compat: "hard-requirement", probeNamespaces: "admin" });
    expect(n.kind).toBe("ready");
    if (n.kind !== "ready") return;
    // The port, and the decision table (computed once, here) that the plan carries for the relay.
    expect(n.run.netProxy?.port).toBe(3128);
    expect(n.run.netProxy?.table?.length).toBeGreaterThan(0);
    for (const line of n.run.netProxy!.table!) expect(runPlanText(n.run).text).toContain(`\n${line}\n`);
    expect(n.run.ir).toBe(IR_);
    expect(runPlanText(n.run).text).toContain("\nnet-proxy 127.0.0.1 3128\n");
    expect(checkablePlanText(n.run)).not.toContain("net-proxy");
    expect(n.run.narrowed.filter((d) => d.code === "SBC1420")).toHaveLength(2);
    const plain = negotiateRun(build("sbc: 1\nname: x\n"), { arch: "x86_64", kernelAbi: 6, compat: "hard-requirement", probeNamespaces: "admin" });
    expect(plain.kind === "ready" && plain.run.netProxy).toBeUndefined();
  });

  it.each(["landlock", "seccomp", "oci-seccomp", "sbpl"])("the standalone target %s still refuses them (SBC1410)", async (target) => {
    const r = await compile({ kind: "text", text: POLICY, syntax: "yaml", path: "/tmp/p.yaml" }, { target });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.some((d) => d.code === "SBC1410")).toBe(true);
  });

  it("Seatbelt with a proxy on localhost:PORT: outbound only there for the names (SBC1423), checked on the SBPL model", async () => {
    // Without the deny for one host, which Seatbelt (addresses: localhost or every host) makes a deny of its ports everywhere.
    const text = POLICY.replace("    - deny: connect\n      hosts: [93.184.216.99]\n", "");
    expect(text).not.toEqual(POLICY);
    const r = await compile({ kind: "text", text, syntax: "yaml", path: "/tmp/p.yaml" }, { target: "sbpl", proxyPort: 3128 });
    expect(r.ok).toBe(true);
    expect(r.diagnostics.filter((d) => d.code === "SBC1423").map((d) => d.message)).toEqual(["sbpl lets the sandbox connect to the egress proxy on localhost:3128 for the 3 network rules by domain: only that proxy enforces the names"]);
    const read = readSbpl(r.output as string, "t.sb");
    if (!read.profile) throw new Error("unreadable profile");
    const p = read.profile;
    const out = (host: string, port: number) => evaluateNetworkOp(p, "network-outbound", { kind: "ip", host, port, protocol: "tcp" }).decision;
    expect(out("127.0.0.1", 3128)).toBe("allow");
    expect(out("::1", 3128)).toBe("allow");
    expect(out("127.0.0.1", 3129)).toBe("deny");
    expect(out("104.16.0.35", 443)).toBe("deny"); // registry.npmjs.org's address: by name only, through the proxy
    expect(out("93.184.216.34", 443)).toBe("deny"); // the policy's own IP rule: Seatbelt cannot name the block, so it stays closed
    await expect(compile({ kind: "text", text: POLICY, syntax: "yaml", path: "/tmp/p.yaml" }, { target: "landlock", proxyPort: 3128 })).rejects.toThrow(/sbpl targets/);
  });

  it("Seatbelt's `::ffff:127.0.0.1` narrowing (SBC2301) is not said of sbc's own rule to the proxy, and still said of a policy's loopback rule, whatever its reason", async () => {
    const domainsOnly = `sbc: 1\nname: t\nnetwork:\n  rules:\n    - allow: connect\n      domains: [registry.npmjs.org]\n      ports: [443]\n`;
    const proxied = await compile({ kind: "text", text: domainsOnly, syntax: "yaml", path: "/tmp/p.yaml" }, { target: "sbpl", proxyPort: 3128 });
    expect(proxied.ok).toBe(true);
    expect(proxied.diagnostics.map((d) => d.code)).toEqual(["SBC1423"]);
    const own = domainsOnly + `    - allow: connect\n      hosts: loopback\n      ports: [8080]\n      reason: sbc's egress proxy\n`;
    const r = await compile({ kind: "text", text: own, syntax: "yaml", path: "/tmp/p.yaml" }, { target: "sbpl", proxyPort: 3128 });
    expect(r.diagnostics.filter((d) => d.code === "SBC2301").map((d) => d.message)).toEqual([
      "Seatbelt `localhost` is 127.0.0.1 and ::1: the IPv4-mapped `::ffff:127.0.0.1` that the policy's loopback includes stays closed on macOS",
    ]);
  });
});

describe("the command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "sbc-proxy-cli-"));
  const file = join(dir, "p.yaml");
  writeFileSync(file, POLICY);

  it("`sbc debug seatbelt` off macOS shows the profile for the proxy's port and runs nothing (125); no SBC1421 any more", async () => {
    ensureBuilt();
    const r = await sbc(["debug", "seatbelt", file, "--", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).not.toContain("SBC1421");
    expect(r.stderr).toContain("warning[SBC1423]: sbpl lets the sandbox connect to the egress proxy on localhost:3128");
    expect(r.stderr).toContain("on macOS the egress proxy would listen on an ephemeral port of 127.0.0.1 in place of 3128");
    expect(r.stdout).toContain("/usr/bin/sandbox-exec -p ");
  });

  it("`sbc compile -t sbpl --proxy-port` lets the profile reach only the proxy for the names; other targets refuse the option", async () => {
    const r = await sbc(["compile", "-t", "sbpl", "--proxy-port", "3128", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(remote tcp "localhost:3128")');
    expect(r.stderr).toContain("warning[SBC1423]");
    const bad = await sbc(["compile", "-t", "landlock", "--proxy-port", "3128", file]);
    expect(bad.code).toBe(2);
    expect((await sbc(["compile", "-t", "sbpl", "--proxy-port", "0", file])).code).toBe(2);
  });

  it("`sbc exec --resolve` that is not NAME=ADDR is a usage error, before anything runs", async () => {
    const r = await sbc(["exec", file, "--resolve", "local.test=nowhere", "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("`--resolve local.test=nowhere`: `nowhere` is not an IP address");
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });
});

describe("HTTP method and path rules (plain HTTP only)", () => {
  const YAML = `sbc: 1
name: http-rules
network:
  rules:
    - allow: connect
      domains: [pypi.test]
      ports: [80]
      http-methods: [get, HEAD]
      http-paths: ["/simple/**", "/packages/*/*.whl"]
    - allow: connect
      domains: [files.test]
      ports: [80, 443]
    - deny: connect
      domains: [files.test]
      http-methods: [POST, PUT]
`;
  const ir = build(YAML);
  const http = (host: string, port: number, method: string, path: string) => decide(ir, { kind: "http", host, port, method, path }, table({ "pypi.test": ["93.184.216.1"], "files.test": ["93.184.216.2"] }));
  const tunnel = (host: string, port: number) => decide(ir, { kind: "connect", host, port }, table({ "pypi.test": ["93.184.216.1"], "files.test": ["93.184.216.2"] }));

  it("the IR keeps the conditions normalized (methods upper case, sorted)", () => {
    expect(ir.network.domains![0]!.http).toEqual({ methods: ["GET", "HEAD"], paths: ["/packages/*/*.whl", "/simple/**"] });
    expect(ir.network.domains![1]!.http).toBeUndefined();
  });

  it.each([
    ["GET", "/simple/", "allow"],
    ["GET", "/simple", "allow"],
    ["HEAD", "/simple/tinypkg/?x=1", "allow"],
    ["GET", "/packages/ab/tinypkg-1.0-py3-none-any.whl", "allow"],
    ["GET", "/packages/ab/cd/tinypkg.whl", "deny"],
    ["POST", "/simple/", "deny"],
    ["GET", "/admin", "deny"],
    ["GET", "/simple/../admin", "deny"],
    ["GET", "/simple/%2e%2e/admin", "deny"],
    ["GET", "/simple%2F..%2Fadmin", "deny"],
    ["GET", "/simple/%zz", "deny"], // a path it cannot read: the allow does not apply
    // Segments other servers read differently: through `%2F`, `\`, or `..;` (Tomcat, Jetty) to /admin.
    ["GET", "/simple/x%2F..%2F..%2Fadmin", "deny"],
    ["GET", "/simple/x%2f..%2f..%2fadmin", "deny"],
    ["GET", "/simple/x\\..\\..\\admin", "deny"],
    ["GET", "/simple/x%5C..%5C..%5Cadmin", "deny"],
    ["GET", "/simple/..;/admin", "deny"],
    ["GET", "/simple/x/..;x/..;/admin", "deny"],
    ["GET", "/simple/a;b/c%2Fd", "allow"], // parameters and an escaped slash without a dot segment: unchanged
    ["GET", "/simple/x/../y", "allow"], // a plain `..` within the tree is resolved as before
  ])("plain HTTP %s %s to an allow with conditions: %s", async (method, path, expected) => {
    expect((await http("pypi.test", 80, method, path)).decision).toBe(expected);
  });

  it("an allow with conditions never allows a tunnel: the proxy cannot see inside", async () => {
    const d = await tunnel("pypi.test", 80);
    expect(d).toMatchObject({ decision: "deny", status: 403, rule: null });
  });

  it("a deny with conditions denies its requests, and every tunnel to the host (fail closed)", async () => {
    expect((await http("files.test", 80, "GET", "/a")).decision).toBe("allow");
    const post = await http("files.test", 80, "POST", "/a");
    expect(post.decision === "deny" && post.text).toContain("denied by the rule `deny connect files.test port any POST,PUT` at /tmp/p.yaml:13:7");
    expect((await tunnel("files.test", 443)).decision).toBe("deny");
  });

  it("`sbc eval connect NAME:PORT` asks as a tunnel; with METHOD /PATH as a plain-HTTP request", () => {
    expect(evalQuery(ir, ["connect", "pypi.test:80"], "/")).toMatchObject({ decision: "deny" });
    expect(evalQuery(ir, ["connect", "pypi.test:80", "get", "/simple/x/"], "/")).toMatchObject({ query: "connect tcp pypi.test:80 GET /simple/x/", decision: "allow", rule: { index: 1 } });
    expect(evalQuery(ir, ["connect", "pypi.test:80", "POST", "/simple/x/"], "/")).toMatchObject({ decision: "deny", rule: null });
    expect(() => evalQuery(ir, ["connect", "pypi.test:80", "G T", "/x"], "/")).toThrow(/not an HTTP method/);
    expect(evalQuery(ir, ["connect", "files.test:443"], "/")).toMatchObject({ decision: "deny", rule: { index: 3 } });
  });

  it.each([
    ["http-methods: [\"GE T\"]", "SBC1424", "`GE T` is not an HTTP method"],
    ["http-paths: [simple/**]", "SBC1424", "`simple/**` is not an absolute path"],
    ["http-paths: [\"/a/**b\"]", "SBC1424", "has `**` inside a segment"],
    ["http-paths: [\"/a/../b\"]", "SBC1424", "has a `..` segment"],
    ["http-paths: [\"/a?x=1\"]", "SBC1424", "has a query"],
    ["http-paths: []", "SBC1401", "is empty"],
  ])("`%s` is refused with a span", (line, code, message) => {
    const r = compilePolicy({ kind: "text", path: "/tmp/p.yaml", text: `sbc: 1\nname: x\nnetwork:\n  rules:\n    - allow: connect\n      domains: [a.test]\n      ${line}\n` }, { stopAfter: "build-ir" });
    const d = r.diagnostics.find((x) => x.code === code);
    expect(d?.message).toContain(message);
    expect(d?.span).toBeDefined();
  });

  it("conditions without `domains` are refused (SBC1401)", () => {
    const r = compilePolicy({ kind: "text", path: "/tmp/p.yaml", text: "sbc: 1\nname: x\nnetwork:\n  rules:\n    - allow: connect\n      hosts: [10.0.0.1]\n      http-paths: [\"/x\"]\n" }, { stopAfter: "build-ir" });
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toContain("SBC1401 `http-paths` of network rule 1 needs `domains`");
  });

  it("the DSL says the same, and convert goes both ways", async () => {
    const dsl = (await convert(YAML, { to: "sbc", path: "/tmp/p.yaml" })).output!;
    // Convert keeps what was written; the IR normalizes it.
    expect(dsl).toContain('http-methods ["get", "HEAD"]');
    expect(dsl).toContain('http-paths ["/simple/**", "/packages/*/*.whl"]');
    const back = compilePolicy({ kind: "text", path: "/tmp/p.sbc", text: dsl }, { stopAfter: "build-ir" });
    expect(back.ir!.network.domains!.map((d) => d.http)).toEqual(ir.network.domains!.map((d) => d.http));
    const yaml = (await convert(dsl, { to: "yaml", path: "/tmp/p.sbc" })).output!;
    expect(yaml).toMatch(/http-methods: \[ ?"?get"?, "?HEAD"? ?\]/);
  });
});

describe("--explain's proxy layer", () => {
  it("folds the refusals by host, port and answer, with a rule by domain for a name no rule allows", () => {
    const base = { time: "t", via: "connect" as const, port: 443, decision: "deny" as const };
    const denials = explainProxyRefusals([
      { ...base, id: "1", host: "example.com", rule: null, status: 403, text: "sbc: … default deny" },
      { ...base, id: "2", host: "example.com", rule: null, status: 403, text: "sbc: … default deny" },
      { ...base, id: "3", host: "gist.githubusercontent.com", rule: "deny connect gist.githubusercontent.com port any", location: "/tmp/p.yaml:9:7", status: 403, text: "sbc: …" },
      { ...base, id: "4", via: "socks5", host: "evil.githubusercontent.com", rule: "special range 10.0.0.0/8", status: 403, text: "sbc: `evil.githubusercontent.com:443` resolves to 10.0.0.7, in the private range" },
      { ...base, id: "5", host: "::1", rule: null, status: 403, text: "sbc: …" },
    ]);
    expect(denials.map((d) => [d.layer, d.syscall, d.address, d.errno, d.count, d.location, d.decidedBy])).toEqual([
      ["proxy", "HTTP CONNECT", "example.com:443", "403", 2, undefined, "no rule allows it (default deny)"],
      ["proxy", "HTTP CONNECT", "gist.githubusercontent.com:443", "403", 1, "/tmp/p.yaml:9:7", "`deny connect gist.githubusercontent.com port any`"],
      ["proxy", "SOCKS5 CONNECT", "evil.githubusercontent.com:443", "403", 1, undefined, "`evil.githubusercontent.com:443` resolves to 10.0.0.7, in the private range"],
      ["proxy", "HTTP CONNECT", "[::1]:443", "403", 1, undefined, "no rule allows it (default deny)"],
    ]);
    expect(denials[0]!.suggestion).toBe("network:\n  rules:\n    - allow: connect\n      domains: [example.com]\n      ports: [443]");
    expect(denials.slice(1).every((d) => d.suggestion === undefined)).toBe(true);
    expect(renderDenials(denials)).toContain("- proxy: connect `example.com:443` (HTTP CONNECT) → 403 ×2\n  decided by: no rule allows it (default deny)\n");
  });
});

describe("HTTP conditions: properties", () => {
  const seg = fc.constantFrom("a", "b", "simple", "..", ".", "", "%2e%2e", "%2F", "x%20y", "*");
  const rawPath = fc.array(seg, { minLength: 0, maxLength: 6 }).map((xs) => "/" + xs.join("/"));
  const method = fc.constantFrom("GET", "HEAD", "POST", "PUT");
  const patternSeg = fc.constantFrom("a", "b", "simple", "*", "**", "s*");
  const pattern = fc.array(patternSeg, { minLength: 1, maxLength: 4 }).map((xs) => "/" + xs.join("/"));
  const httpCond = fc.record({ methods: fc.option(fc.uniqueArray(method, { minLength: 1, maxLength: 2 }), { nil: undefined }), paths: fc.option(fc.uniqueArray(pattern, { minLength: 1, maxLength: 2 }), { nil: undefined }) });
  const rule = fc.record({ effect: fc.constantFrom("allow", "deny"), http: fc.option(httpCond, { nil: undefined }) });

  it("a normalized path is its own normal form and has no `.` or `..` segment", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const n = normalizeHttpPath(raw);
        if (n === undefined) return;
        // Re-encoding its `%` and normalizing again gives it back (a kept `%2F` included).
        expect(normalizeHttpPath(n.replace(/%/g, "%25"))).toBe(n);
        expect(n.slice(1).split("/").some((s) => s === "." || s === "..")).toBe(false);
      }),
      propertyOptions(300),
    );
  });

  it("fail closed: where a tunnel to a name is allowed, every plain-HTTP request to it is allowed too", () => {
    fc.assert(
      fc.property(fc.array(rule, { minLength: 1, maxLength: 4 }), method, rawPath, (rules, m, path) => {
        const yaml = `sbc: 1\nname: p\nnetwork:\n  rules:\n${rules
          .map((r) => {
            const lines = [`    - ${r.effect}: connect`, "      domains: [a.test]"];
            const methods = r.http?.methods;
            const paths = r.http?.paths;
            if (r.http && !methods && !paths) lines.push('      http-methods: [GET]');
            if (methods) lines.push(`      http-methods: [${methods.join(", ")}]`);
            if (paths) lines.push(`      http-paths: [${paths.map((p) => JSON.stringify(p)).join(", ")}]`);
            return lines.join("\n");
          })
          .join("\n")}\n`;
        const ir = build(yaml);
        const tunnel = evaluateName(ir, { name: "a.test", port: 80 });
        const request = evaluateName(ir, { name: "a.test", port: 80, http: { method: m, path } });
        if (tunnel.decision === "allow") expect(request.decision).toBe("allow");
      }),
      propertyOptions(200),
    );
  });
});

describe("--explain behind the proxy: UDP sockets", () => {
  it("a refused datagram socket is said to have no way out, with no rule to suggest; a stream socket keeps its suggestion", () => {
    const ir = build("sbc: 1\nname: x\nnetwork:\n  rules:\n    - allow: connect\n      domains: [a.test]\n");
    const rec = (type: number) => ({ kind: "seccomp" as const, pid: 1, nr: 41, errno: 1, args: ["10", String(type), "0", "0", "0", "0"] });
    const [udp] = explainRecords(ir, [rec(2)], { arch: "x86_64", lint: false, proxied: true });
    expect(udp).toMatchObject({ layer: "seccomp", syscall: "socket", errno: "EPERM", decidedBy: "the network section: behind the egress proxy UDP has no way out (docs/proxy.md), so seccomp refuses datagram sockets" });
    expect(udp!.suggestion).toBeUndefined();
    const [plain] = explainRecords(ir, [rec(2)], { arch: "x86_64", lint: false });
    expect(plain!.suggestion).toBeDefined();
  });
});
