// `sbc learn --network-by name` without a kernel: the egress proxy's requests folded by name and port
// (foldProxyRequests), the tracer's connects sorted into the proxy's own, bypasses and the command's own
// loopback (observe with a proxy), the rules by domain a learned policy gets, and the learning decider.

import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { compileObserver, foldProxyRequests, learnPolicy, observe, type Observed, type ProxyRequestSeen } from "../lib/learn.js";
import type { TraceRecord } from "../lib/explain.js";
import { decideLearning, resolverWith } from "../lib/proxy/decide.js";
import { evaluateName, evaluateNetwork } from "../ir/evaluator/evaluate.js";
import { compileToRun } from "../lib/run-policy.js";
import { syscallNumber } from "../linux-abi/index.js";
import type { IR } from "../ir/types.js";

let dir = "";
let ws = "";
let home = "";
const b = () => ({ workspace: ws, home, tmpdir: "/tmp" });
const nr = (name: string) => syscallNumber("x86_64", name)!;
/** A connect (or bind) record as the tracer writes it: AF_INET, a stream socket unless said. */
const sock = (name: "connect" | "bind", addr: string, port: number, errno = 0, socktype = 1): TraceRecord => ({ kind: "exit", pid: 1, nr: nr(name), errno, args: ["3", "0", "16", "0", "0", "0"], family: addr.includes(":") ? 10 : 2, addr, port, socktype });
const ECONNREFUSED = 111;
const EINPROGRESS = 115;
const ENETUNREACH = 101;

function observerIr(): IR {
  const r = compileObserver({ kind: "standalone" }, b());
  if (!("ir" in r)) throw new Error("observer");
  return r.ir;
}

beforeAll(() => {
  dir = realpathSync(mkdtempSync("/var/tmp/sbc-learn-names-"));
  ws = join(dir, "ws");
  home = join(dir, "home");
  mkdirSync(ws, { recursive: true });
  mkdirSync(join(home, ".ssh"), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const allow = (via: ProxyRequestSeen["via"], host: string, port: number, address = "104.16.0.35"): ProxyRequestSeen => ({ via, host, port, decision: "allow", address });

describe("foldProxyRequests", () => {
  it("one entry per host and port, with the ways it was asked, counts and addresses; refusals counted apart", () => {
    const folded = foldProxyRequests([
      allow("connect", "registry.npmjs.org", 443),
      allow("connect", "registry.npmjs.org", 443, "104.16.1.35"),
      allow("http", "registry.npmjs.org", 80),
      allow("socks5", "github.com", 443, "140.82.112.3"),
      { via: "http", host: "metadata.test", port: 80, decision: "deny", text: "sbc: `metadata.test:80` resolves to 169.254.169.254" },
    ]);
    expect(folded).toEqual([
      { host: "github.com", port: 443, via: ["socks5"], count: 1, addresses: ["140.82.112.3"], refused: 0 },
      { host: "metadata.test", port: 80, via: ["http"], count: 0, addresses: [], refused: 1, why: "sbc: `metadata.test:80` resolves to 169.254.169.254" },
      { host: "registry.npmjs.org", port: 80, via: ["http"], count: 1, addresses: ["104.16.0.35"], refused: 0 },
      { host: "registry.npmjs.org", port: 443, via: ["connect"], count: 2, addresses: ["104.16.0.35", "104.16.1.35"], refused: 0 },
    ]);
  });
});

describe("observe behind the egress proxy", () => {
  it("drops the connections to the proxy, lists connects around it, keeps the command's own loopback server", () => {
    const records = [
      sock("connect", "127.0.0.1", 3128, EINPROGRESS),
      sock("connect", "127.0.0.1", 3128),
      sock("connect", "::ffff:127.0.0.1", 3128),
      sock("connect", "140.82.112.3", 443, ENETUNREACH),
      sock("connect", "127.0.0.1", 8080, ECONNREFUSED),
      sock("connect", "127.0.0.1", 9000, EINPROGRESS), // nothing of the command's listens there: around the proxy
      sock("bind", "127.0.0.1", 7000),
      sock("connect", "127.0.0.1", 7000, EINPROGRESS), // its own server
      sock("connect", "10.0.0.1", 53, ENETUNREACH, 2), // UDP: as without the proxy
    ];
    const o = observe(records, observerIr(), "x86_64", { port: 3128, requests: [allow("connect", "registry.npmjs.org", 443)] });
    expect(o.network).toEqual([
      { op: "bind", protocol: "tcp", host: "127.0.0.1", port: 7000, count: 1 },
      { op: "connect", protocol: "tcp", host: "127.0.0.1", port: 7000, count: 1 },
      { op: "connect", protocol: "udp", host: "10.0.0.1", port: 53, count: 1 },
    ]);
    expect(o.bypassed).toEqual([
      { host: "127.0.0.1", port: 8080, count: 1 },
      { host: "127.0.0.1", port: 9000, count: 1 },
      { host: "140.82.112.3", port: 443, count: 1 },
    ]);
    expect(o.names?.map((n) => `${n.host}:${n.port}`)).toEqual(["registry.npmjs.org:443"]);
  });

  it("without the proxy, nothing changes: a connect to 127.0.0.1:3128 is a peer like any other", () => {
    const o = observe([sock("connect", "127.0.0.1", 3128)], observerIr(), "x86_64");
    expect(o.network).toEqual([{ op: "connect", protocol: "tcp", host: "127.0.0.1", port: 3128, count: 1 }]);
    expect(o.names).toBeUndefined();
    expect(o.bypassed).toBeUndefined();
  });
});

describe("learnPolicy with names", () => {
  const observed = (requests: readonly ProxyRequestSeen[], extra: Partial<Observed> = {}): Observed => ({
    files: [{ path: "/usr/bin/node", access: ["read", "execute"], count: 1 }],
    network: [],
    unixSockets: [],
    syscalls: [],
    failed: 0,
    names: foldProxyRequests(requests),
    bypassed: [],
    ...extra,
  });
  const opts = (format: "yaml" | "dsl" = "yaml") => ({ arch: "x86_64" as const, bindings: b(), command: ["npm", "install"], path: join(dir, format === "dsl" ? "learned.sbc" : "learned.yaml"), format });
  const boundIr = (text: string) => {
    const r = compileToRun({ kind: "text", text, syntax: "yaml", path: join(dir, "learned.yaml") }, { workspace: ws, cwd: ws, home, tmpdir: "/tmp" });
    expect(r.errors).toEqual([]);
    return r.ir!;
  };
  const requests = [
    allow("connect", "registry.npmjs.org", 443),
    allow("connect", "github.com", 443, "140.82.112.3"),
    allow("connect", "codeload.github.com", 443, "140.82.112.9"),
    allow("connect", "codeload.github.com", 80, "140.82.112.9"),
    allow("http", "pypi.test", 8080, "127.0.0.1"),
    allow("connect", "93.184.216.34", 443, "93.184.216.34"),
  ];

  it("a rule by domain per set of ports, names sorted; an IP literal stays an address; a test per name", async () => {
    const l = await learnPolicy(observed(requests), opts());
    const doc = parseYaml(l.yaml) as { network: { rules: Record<string, unknown>[] }; tests: Record<string, unknown>[]; linux?: unknown };
    expect(doc.network.rules).toEqual([
      { allow: "connect", hosts: ["93.184.216.34"], ports: [443], reason: "seen while learning" },
      { allow: "connect", domains: ["codeload.github.com"], ports: [80, 443], reason: "seen while learning, through the egress proxy" },
      { allow: "connect", domains: ["github.com", "registry.npmjs.org"], ports: [443], reason: "seen while learning, through the egress proxy" },
      { allow: "connect", domains: ["pypi.test"], ports: [8080], reason: "seen while learning, through the egress proxy" },
      // The name the run mapped to loopback (`--resolve`): named, or the proxy's check after resolution refuses it.
      expect.objectContaining({ allow: "connect", hosts: ["127.0.0.1"], ports: [8080] }),
    ]);
    for (const t of ["codeload.github.com:80", "github.com:443", "registry.npmjs.org:443", "pypi.test:8080"]) expect(doc.tests).toContainEqual({ connect: t, expect: "allow" });
    expect(doc.linux).toEqual({ "accept-widening": ["hosts"] });
    expect(l.findings.filter((f) => f.startsWith("not allowed"))).toEqual([]);
    const ir = boundIr(l.yaml);
    expect(evaluateName(ir, { name: "registry.npmjs.org", port: 443, protocol: "tcp" }).decision).toBe("allow");
    expect(evaluateName(ir, { name: "codeload.github.com", port: 80, protocol: "tcp" }).decision).toBe("allow");
    expect(evaluateName(ir, { name: "github.com", port: 80, protocol: "tcp" }).decision).toBe("deny");
    expect(evaluateName(ir, { name: "evil.example", port: 443, protocol: "tcp" }).decision).toBe("deny");
    // The proxy's own listener is never a learned peer.
    expect(evaluateNetwork(ir, { op: "connect", protocol: "tcp", host: "127.0.0.1", port: 3128 }).decision).toBe("deny");
  });

  it("--extend: only the names and addresses the base does not allow", async () => {
    const base = join(dir, "base.yaml");
    writeFileSync(base, "sbc: 1\nname: base\nnetwork:\n  rules:\n    - allow: connect\n      domains: [registry.npmjs.org, github.com]\n      ports: [443]\n    - allow: connect\n      hosts: [127.0.0.1]\n      ports: [8080]\n");
    const o = compileObserver({ kind: "file", path: base }, b());
    if (!("ir" in o)) throw new Error("base");
    const l = await learnPolicy(observed(requests), { ...opts(), extend: { name: "./base.yaml", ir: o.ir } });
    const doc = parseYaml(l.yaml) as { extends: string; network: { rules: Record<string, unknown>[] } };
    expect(doc.extends).toBe("./base.yaml");
    expect(doc.network.rules).toEqual([
      { allow: "connect", hosts: ["93.184.216.34"], ports: [443], reason: "seen while learning" },
      { allow: "connect", domains: ["codeload.github.com"], ports: [80, 443], reason: "seen while learning, through the egress proxy" },
      { allow: "connect", domains: ["pypi.test"], ports: [8080], reason: "seen while learning, through the egress proxy" },
    ]);
  });

  it("the same requests in any order make the same policy, byte for byte", async () => {
    const a = await learnPolicy(observed(requests), opts());
    const b2 = await learnPolicy(observed([...requests].reverse()), opts());
    expect(b2.yaml).toBe(a.yaml);
  });

  it("names only: no address widening; the DSL has the rule by domain", async () => {
    const l = await learnPolicy(observed([allow("connect", "registry.npmjs.org", 443)]), opts("dsl"));
    expect((parseYaml(l.yaml) as { linux?: unknown }).linux).toBeUndefined();
    expect(l.policy).toMatch(/allow connect\s+domains \["registry\.npmjs\.org"\]\s+ports \[443\]/);
    expect(l.policy).toContain('expect allow connect "registry.npmjs.org:443"');
  });

  it("a refused name and a connect around the proxy are for a person, never allowed", async () => {
    const l = await learnPolicy(
      observed([{ via: "http", host: "metadata.test", port: 80, decision: "deny", text: "sbc: `metadata.test:80` resolves to 169.254.169.254, in the link-local range 169.254.0.0/16, which no rule names" }], {
        bypassed: [
          { host: "127.0.0.1", port: 8080, count: 1 },
          { host: "140.82.112.3", port: 443, count: 2 },
        ],
      }),
      opts(),
    );
    expect(l.review).toEqual([
      { path: "connect metadata.test:80", access: [], why: expect.stringMatching(/^refused while learning: `metadata.test:80` resolves to 169\.254\.169\.254/) },
      { path: "tcp 127.0.0.1:8080", access: [], why: expect.stringContaining("NO_PROXY") },
      { path: "tcp 140.82.112.3:443", access: [], why: expect.stringContaining("ignored the proxy variables") },
    ]);
    expect(l.yaml).toContain("#   tcp 140.82.112.3:443: connected directly, not through the egress proxy (the tool ignored the proxy variables)");
    const ir = boundIr(l.yaml);
    expect(evaluateName(ir, { name: "metadata.test", port: 80, protocol: "tcp" }).decision).toBe("deny");
    expect(evaluateNetwork(ir, { op: "connect", protocol: "tcp", host: "140.82.112.3", port: 443 }).decision).toBe("deny");
  });
});

describe("decideLearning", () => {
  const map = new Map<string, readonly string[]>([
    ["registry.test", ["127.0.0.1"]],
  ]);
  const resolver = resolverWith(map, async (name) => (name === "cdn.example" ? ["104.16.0.35"] : name === "rebind.example" ? ["10.0.0.5"] : []));
  const trusted = new Set(map.keys());

  it("allows every name and port, normalized; a name `--resolve` maps may resolve to loopback", async () => {
    const ir = observerIr();
    expect(await decideLearning(ir, { kind: "connect", host: "CDN.Example.", port: 8443 }, resolver, trusted)).toMatchObject({ decision: "allow", host: "cdn.example", address: "104.16.0.35", port: 8443 });
    expect(await decideLearning(ir, { kind: "http", host: "registry.test", port: 80 }, resolver, trusted)).toMatchObject({ decision: "allow", address: "127.0.0.1" });
  });

  it("still refuses a private, loopback or metadata address it was not told about", async () => {
    const ir = observerIr();
    expect(await decideLearning(ir, { kind: "connect", host: "rebind.example", port: 443 }, resolver, trusted)).toMatchObject({ decision: "deny", status: 403, text: expect.stringContaining("private") });
    expect(await decideLearning(ir, { kind: "socks5", host: "169.254.169.254", port: 80 }, resolver, trusted)).toMatchObject({ decision: "deny", status: 403, text: expect.stringContaining("unless `--resolve` maps the name") });
    expect(await decideLearning(ir, { kind: "connect", host: "127.0.0.1", port: 22 }, resolver, trusted)).toMatchObject({ decision: "deny" });
    expect(await decideLearning(ir, { kind: "connect", host: "93.184.216.34", port: 443 }, resolver, trusted)).toMatchObject({ decision: "allow", address: "93.184.216.34" });
    expect(await decideLearning(ir, { kind: "connect", host: "nowhere.example", port: 443 }, resolver, trusted)).toMatchObject({ decision: "deny", status: 502 });
  });
});
