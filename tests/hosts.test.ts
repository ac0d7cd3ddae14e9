// Network rules by domain: host-name normal form and wildcard matching (ir/hosts.ts), the special address
// ranges, the rules through the YAML front end into the IR, the evaluator's answers before and after
// resolution, `sbc eval`'s `connect NAME:PORT`, and every target refusing to compile them (SBC1410).

import fc from "fast-check";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { domainMatches, formatHost, parseDomainPattern, parseHost, parseHostPort, specialRange } from "../ir/hosts.js";
import { checkResolvedAddress, evaluateName } from "../ir/evaluator/evaluate.js";
import { compilePolicy } from "../compiler/passes/index.js";
import { evalQuery } from "../lib/eval-query.js";
import { compile } from "../lib/compile.js";
import { diffPolicies, probePolicies } from "../lib/diff/index.js";
import type { IR } from "../ir/types.js";
import { propertyOptions } from "./support/property.js";
import { ensureBuilt, sbc, STACK_TRACE } from "./support/cli.js";

function host(s: string): string {
  const h = parseHost(s);
  if (!h.ok) throw new Error(`${s}: ${h.issue.message}`);
  return `${h.value.kind}:${formatHost(h.value)}`;
}

function pattern(s: string): string {
  const p = parseDomainPattern(s);
  if (!p.ok) throw new Error(`${s}: ${p.issue.message}`);
  return p.value;
}

function build(yaml: string): { ir?: IR; codes: string[] } {
  const r = compilePolicy({ kind: "text", path: "/tmp/p.yaml", text: yaml }, { stopAfter: "build-ir" });
  return { ...(r.ir ? { ir: r.ir } : {}), codes: r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code) };
}

describe("host names", () => {
  it.each([
    ["Registry.NPMJS.org", "name:registry.npmjs.org"],
    ["registry.npmjs.org.", "name:registry.npmjs.org"],
    ["Bücher.example", "name:xn--bcher-kva.example"],
    ["xn--bcher-kva.example", "name:xn--bcher-kva.example"],
    ["ＥＸＡＭＰＬＥ.com", "name:example.com"], // full-width letters fold (IDNA mapping)
    ["straße.example", "name:xn--strae-oqa.example"], // ß is kept (UTS 46 nontransitional, as browsers): not `strasse`
    ["10.1.2.3", "ip:10.1.2.3"],
    ["[::1]", "ip:::1"],
    ["::ffff:169.254.169.254", "ip:::ffff:169.254.169.254"],
    ["0x7f.1", "ip:127.0.0.1"], // the URL parser's IPv4 notations are addresses, never names
    ["2130706433", "ip:127.0.0.1"],
    ["0177.0.0.1", "ip:127.0.0.1"],
  ])("%s is %s", (raw, want) => expect(host(raw)).toBe(want));

  it.each(["", ".", "a..b", "-a.com", "a-.com", "a b.com", `${"a".repeat(64)}.com`, "example.com..", "1.2.3.999"])("`%s` is refused", (raw) => {
    expect(parseHost(raw).ok).toBe(false);
  });

  it("HOST:PORT", () => {
    const r = parseHostPort("Registry.npmjs.org.:443");
    expect(r.ok && formatHost(r.value.host)).toBe("registry.npmjs.org");
    expect(r.ok && r.value.port).toBe(443);
    const v6 = parseHostPort("[::1]:8080");
    expect(v6.ok && v6.value.host.kind).toBe("ip");
    expect(parseHostPort("example.com:70000").ok).toBe(false);
    expect(parseHostPort("example.com").ok).toBe(false);
  });
});

describe("international names", () => {
  it("a name and its punycode form are one name, whatever the case", () => {
    // No ß: JavaScript upper-cases it to `SS`, another name (the table has it).
    const unicodeLabel = fc.stringMatching(/^[a-zäöüéñçøå]{1,10}$/);
    fc.assert(
      fc.property(unicodeLabel, unicodeLabel, (a, b) => {
        const raw = `${a}.${b}.example`;
        const h = parseHost(raw);
        expect(h.ok, raw).toBe(true);
        if (!h.ok || h.value.kind !== "name") return;
        expect(host(h.value.name)).toBe(`name:${h.value.name}`); // already normal: a fixed point
        expect(host(raw.toUpperCase())).toBe(`name:${h.value.name}`);
        expect(domainMatches(pattern(`*.${b}.example`), h.value.name)).toBe(true);
      }),
      propertyOptions(300),
    );
  });
});

describe("domain patterns", () => {
  it.each([
    ["*.Example.COM.", "*.example.com"],
    ["**.example.com", "**.example.com"],
    ["*.bücher.example", "*.xn--bcher-kva.example"],
  ])("%s normalizes to %s", (raw, want) => expect(pattern(raw)).toBe(want));

  it.each(["a.*.com", "*", "*.com", "***.example.com", "ex*.com", "10.0.0.1", "*.10.0.0.1", ""])("`%s` is refused", (raw) => {
    const r = parseDomainPattern(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issue.key).toBe("invalidDomain");
  });

  it.each([
    ["example.com", "example.com", true],
    ["example.com", "a.example.com", false],
    ["*.example.com", "a.example.com", true],
    ["*.example.com", "example.com", false],
    ["*.example.com", "a.b.example.com", false],
    ["*.example.com", "aexample.com", false],
    ["**.example.com", "a.b.example.com", true],
    ["**.example.com", "a.example.com", true],
    ["**.example.com", "example.com", false],
    ["**.example.com", "badexample.com", false],
  ])("%s matches %s: %s", (p, name, want) => expect(domainMatches(p, name)).toBe(want));

  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
  // The last label has a letter: an all-numeric one would make the name an address.
  const name = fc.tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.stringMatching(/^[a-z]{2,6}$/)).map(([ls, tld]) => [...ls, tld].join("."));

  it("`*.` matches exactly one more label; `**.` one or more; neither the apex", () => {
    fc.assert(
      fc.property(name, fc.array(label, { minLength: 0, maxLength: 3 }), (base, extra) => {
        const full = [...extra, base].join(".");
        expect(domainMatches(`*.${base}`, full)).toBe(extra.length === 1);
        expect(domainMatches(`**.${base}`, full)).toBe(extra.length >= 1);
        expect(domainMatches(base, full)).toBe(extra.length === 0);
      }),
      propertyOptions(300),
    );
  });

  it("case and a trailing dot never change a match", () => {
    fc.assert(
      fc.property(name, label, fc.boolean(), (base, head, dot) => {
        const raw = `${head}.${base}`.toUpperCase() + (dot ? "." : "");
        const h = parseHost(raw);
        expect(h.ok && h.value.kind === "name" && domainMatches(pattern(`*.${base.toUpperCase()}`), h.value.name)).toBe(true);
      }),
      propertyOptions(300),
    );
  });
});

describe("special ranges", () => {
  it.each([
    ["10.0.0.1", "10.0.0.0/8"],
    ["172.31.255.255", "172.16.0.0/12"],
    ["192.168.1.1", "192.168.0.0/16"],
    ["127.0.0.53", "127.0.0.0/8"],
    ["169.254.169.254", "169.254.0.0/16"],
    ["100.64.0.1", "100.64.0.0/10"],
    ["0.0.0.0", "0.0.0.0/8"],
    ["::1", "::1/128"],
    ["::", "::/128"],
    ["fd00:ec2::254", "fc00::/7"],
    ["fc00::1", "fc00::/7"],
    ["fe80::1", "fe80::/10"],
    ["::ffff:169.254.169.254", "169.254.0.0/16"],
    ["::ffff:10.0.0.1", "10.0.0.0/8"],
  ])("%s is in %s", (ip, range) => {
    const h = parseHost(ip);
    expect(h.ok && h.value.kind === "ip" && specialRange(h.value.ip)?.text).toBe(range);
  });

  it("an IPv4 address and its IPv4-mapped IPv6 form are in the same range (or none)", () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const a = parseHost(v4);
        const b = parseHost(`[::ffff:${v4}]`);
        expect(a.ok && b.ok).toBe(true);
        if (a.ok && b.ok && a.value.kind === "ip" && b.value.kind === "ip") expect(specialRange(b.value.ip)).toEqual(specialRange(a.value.ip));
      }),
      propertyOptions(500),
    );
  });

  it.each(["8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "fec0::1"])("%s is public", (ip) => {
    const h = parseHost(ip);
    expect(h.ok && h.value.kind === "ip" && specialRange(h.value.ip)).toBeUndefined();
  });
});

const POLICY = `sbc: 1
name: registry-only
network:
  rules:
    - allow: connect
      domains: [Registry.NPMJS.org, "*.githubusercontent.com"]
      ports: [443]
      reason: npm and raw GitHub
    - deny: connect
      domains: [evil.githubusercontent.com]
    - allow: connect
      hosts: [10.20.0.0/16]
      ports: 443
    - deny: connect
      hosts: [10.20.0.9]
`;

describe("domain rules in the IR and the evaluator", () => {
  const { ir, codes } = build(POLICY);

  it("builds into network.domains, normalized and apart from the IP rules", () => {
    expect(codes).toEqual([]);
    expect(ir!.network.rules).toHaveLength(2);
    expect(ir!.network.domains!.map((d) => [d.effect, d.domains, d.ports])).toEqual([
      ["allow", ["*.githubusercontent.com", "registry.npmjs.org"], [[443, 443]]],
      ["deny", ["evil.githubusercontent.com"], [[0, 65535]]],
    ]);
  });

  it.each([
    ["registry.npmjs.org", 443, "allow"],
    ["REGISTRY.npmjs.org.", 443, "allow"],
    ["registry.npmjs.org", 80, "deny"],
    ["raw.githubusercontent.com", 443, "allow"],
    ["githubusercontent.com", 443, "deny"],
    ["a.raw.githubusercontent.com", 443, "deny"],
    ["evil.githubusercontent.com", 443, "deny"],
    ["example.com", 443, "deny"],
  ])("connect %s:%d is %s", (name, port, want) => {
    const h = parseHost(name);
    expect(h.ok && h.value.kind === "name" && evaluateName(ir!, { name: h.value.name, port }).decision).toBe(want);
  });

  it("after resolution: special ranges refused unless a rule names them, IP denies win", () => {
    expect(checkResolvedAddress(ir!, { address: "104.16.0.35", port: 443 }).decision).toBe("allow");
    expect(checkResolvedAddress(ir!, { address: "169.254.169.254", port: 443 })).toMatchObject({ decision: "deny", by: "special" });
    expect(checkResolvedAddress(ir!, { address: "::ffff:127.0.0.1", port: 443 })).toMatchObject({ decision: "deny", by: "special", range: "127.0.0.0/8" });
    expect(checkResolvedAddress(ir!, { address: "10.20.1.1", port: 443 }).decision).toBe("allow"); // named by rule 3
    expect(checkResolvedAddress(ir!, { address: "10.20.1.1", port: 80 }).decision).toBe("deny"); // rule 3 is for 443
    expect(checkResolvedAddress(ir!, { address: "10.20.0.9", port: 443 })).toMatchObject({ decision: "deny", by: "ip" });
  });

  it("`network: on` allows every name; a deny-any IP rule refuses every name", () => {
    const on = build("sbc: 1\nname: x\nnetwork: on\n").ir!;
    expect(evaluateName(on, { name: "example.com", port: 443 })).toMatchObject({ decision: "allow", by: "ip" });
    const { ir: denied } = build(`${POLICY}    - deny: connect\n      ports: 443\n`);
    expect(evaluateName(denied!, { name: "registry.npmjs.org", port: 443 })).toMatchObject({ decision: "deny", by: "ip" });
  });

  it("a mode word drops the domain rules before it", () => {
    const r = compilePolicy({ kind: "text", path: "/tmp/p.yaml", text: POLICY }, { stopAfter: "build-ir" });
    expect(r.ir!.network.domains).toHaveLength(2);
    expect(build("sbc: 1\nname: x\nnetwork: off\n").ir!.network.domains).toBeUndefined();
  });

  it("sbc eval answers `connect NAME:PORT` with the deciding rule", () => {
    const a = evalQuery(ir!, ["connect", "Raw.GitHubUserContent.com:443"], "/");
    expect(a.decision).toBe("allow");
    expect(a.query).toBe("connect tcp raw.githubusercontent.com:443");
    expect(a.rule).toMatchObject({ section: "network domains", index: 1, reason: "npm and raw GitHub" });
    expect(a.rule!.location).toMatch(/p\.yaml:5:7$/);
    expect(evalQuery(ir!, ["connect", "evil.githubusercontent.com:443"], "/").rule).toMatchObject({ section: "network domains", index: 2 });
    expect(evalQuery(ir!, ["connect", "example.com:443"], "/")).toMatchObject({ decision: "deny", rule: null });
    expect(evalQuery(ir!, ["connect", "10.20.3.4:443"], "/")).toMatchObject({ decision: "allow", rule: { section: "network", index: 1 } });
    expect(() => evalQuery(ir!, ["connect", "a..b:443"], "/")).toThrow(/not a valid host name/);
  });

  it.each(["landlock", "seccomp", "sbpl", "oci-seccomp"])("target %s refuses them, naming each rule (SBC1410)", async (target) => {
    const r = await compile({ kind: "text", text: POLICY, syntax: "yaml", path: "/tmp/p.yaml" }, { target });
    expect(r.ok).toBe(false);
    expect(r.output).toBeUndefined();
    const d = r.diagnostics.filter((x) => x.code === "SBC1410");
    expect(d).toHaveLength(2);
    expect(d[0]!.message).toContain("`allow connect *.githubusercontent.com, registry.npmjs.org`");
    expect(d[0]!.span).toBeDefined();
  });

  const ACCEPTING = `${POLICY}linux:\n  accept-widening: [domains]\n`;

  it.each(["landlock", "seccomp", "oci-seccomp"])("a Linux target %s widens them when the policy accepts `domains` (SBC1411)", async (target) => {
    const r = await compile({ kind: "text", text: ACCEPTING, syntax: "yaml", path: "/tmp/p.yaml" }, { target });
    expect(r.diagnostics.filter((x) => x.severity === "error")).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.diagnostics.filter((x) => x.code === "SBC1411").map((x) => x.message)).toEqual([
      `${target} enforces the network rule by domain \`allow connect *.githubusercontent.com, registry.npmjs.org\` as an allow for every host on its ports (accepted widening)`,
      `${target} drops the network rule by domain \`deny connect evil.githubusercontent.com\` (accepted widening)`,
    ]);
  });

  it("the Landlock table of the accepted widening opens port 443, and only that", async () => {
    const text = "sbc: 1\nname: x\nnetwork:\n  rules:\n    - allow: connect\n      domains: [registry.npmjs.org]\n      ports: [443]\nlinux:\n  accept-widening: [domains]\n";
    const r = await compile({ kind: "text", text, syntax: "yaml", path: "/tmp/p.yaml" }, { target: "landlock" });
    const table = JSON.parse(r.output as string) as { net: { port: number; rights: string[] }[] };
    expect(table.net.map((n) => [n.port, n.rights])).toEqual([[443, ["connect_tcp"]]]);
  });

  it("Seatbelt has no Linux acceptance: still an error", async () => {
    const r = await compile({ kind: "text", text: ACCEPTING, syntax: "yaml", path: "/tmp/p.yaml" }, { target: "sbpl" });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.filter((x) => x.code === "SBC1410")).toHaveLength(2);
  });
});

describe("policy tests by name", () => {
  const run = (tests: string) => {
    const r = compilePolicy({ kind: "text", path: "/tmp/p.yaml", text: `${POLICY}tests:\n${tests}` }, { runTests: true });
    return r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`);
  };

  it("a connect test may name a host; it passes or fails by the rules by domain", () => {
    expect(run("  - connect: Registry.NPMJS.org.:443\n    expect: allow\n  - connect: evil.githubusercontent.com:443\n    expect: deny\n")).toEqual([]);
    expect(run("  - connect: a.b.githubusercontent.com:443\n    expect: allow\n")).toEqual(["SBC1001 test 1: connect tcp `a.b.githubusercontent.com:443` is deny (no rule allows it), expected allow"]);
  });

  it("a malformed name is SBC1400; a name in a bind test SBC0703", () => {
    expect(run("  - connect: a..b:443\n    expect: deny\n").map((d) => d.slice(0, 7))).toEqual(["SBC1400"]);
    expect(run("  - bind: example.com:443\n    expect: deny\n").map((d) => d.slice(0, 7))).toEqual(["SBC0703"]);
  });
});

describe("bad domain rules", () => {
  const rule = (body: string) => build(`sbc: 1\nname: x\nnetwork:\n  rules:\n    - ${body}\n`).codes;
  it.each([
    ["allow: connect\n      domains: [a.*.com]", "SBC1400"],
    ["allow: connect\n      domains: [10.0.0.1]", "SBC1400"],
    ["allow: connect\n      domains: []", "SBC1401"],
    ["allow: [bind, connect]\n      domains: [example.com]", "SBC1401"],
    ["allow: connect\n      domains: [example.com]\n      hosts: [10.0.0.1]", "SBC1401"],
    ["allow: connect\n      domains: [example.com]\n      ports: 70000", "SBC0701"],
    ["allow: connect\n      domains: [example.com]\n      protocol: udp", "SBC1401"],
    ["allow: connect\n      domains: [example.com]\n      protocol: any", "SBC1401"],
    ["allow: connect\n      domains: example.com", "SBC0202"],
  ])("%s → %s", (body, code) => expect(rule(body)).toContain(code));
});

describe("the CLI", () => {
  const FIXTURE = join(import.meta.dirname, "..", "fixtures", "ok-network-domains", "policy.yaml");
  beforeAll(() => ensureBuilt());

  it("sbc eval connect NAME:PORT prints the decision and the deciding rule", async () => {
    const r = await sbc(["eval", FIXTURE, "connect", "Files.PythonHosted.org.:443"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^allow {2}connect tcp files\.pythonhosted\.org:443\n {2}decided by the network domains rule allow connect domains \*\*\.pythonhosted\.org,.* at .*policy\.yaml:8:7\n {2}reason: package registries\n$/);
    const denied = await sbc(["eval", FIXTURE, "--format", "json", "connect", "gist.githubusercontent.com:443"]);
    expect(JSON.parse(denied.stdout)).toMatchObject({ decision: "deny", rule: { section: "network domains", index: 2 } });
  });

  it("a malformed name is a usage error (exit 2), one line, no stack", async () => {
    const r = await sbc(["eval", FIXTURE, "connect", "api.-x.com:443"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("`api.-x.com` is not a valid host name");
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it("sbc check --target judges rules by domain as the proxy runs them: no SBC1410 nor SBC1411, SBC1423 for Seatbelt", async () => {
    const r = await sbc(["check", FIXTURE, "--target", "landlock,sbpl", "--format", "json"]);
    expect(r.code).toBe(0);
    const all = r.stdout;
    expect(all.match(/SBC1410|SBC1411/g)).toBeNull();
    expect(all.match(/SBC1423/g)).toHaveLength(1);
  });
});

describe("sbc diff", () => {
  const policy = (domains: string) => build(`sbc: 1\nname: t\nnetwork:\n  rules:\n    - allow: connect\n      domains: ${domains}\n      ports: [443]\n`).ir!;

  it("a wider pattern is a widening, naming the names it opens; the reverse a narrowing", () => {
    const d = diffPolicies(policy("[registry.npmjs.org]"), policy('[registry.npmjs.org, "**.githubusercontent.com"]'));
    expect(d.counts).toEqual({ widened: 1, narrowed: 0, changed: 0 });
    expect(d.changes[0]!.probes.map((p) => p.query)).toEqual(["connect tcp x.githubusercontent.com:443", "connect tcp x.y.githubusercontent.com:443"]);
    const back = diffPolicies(policy('["**.githubusercontent.com"]'), policy('["*.githubusercontent.com"]'));
    expect(back.counts).toEqual({ widened: 0, narrowed: 1, changed: 0 });
    expect(back.changes[0]!.probes.map((p) => p.query)).toEqual(["connect tcp x.y.githubusercontent.com:443"]);
  });

  it("asks nothing by name when neither policy has rules by domain", () => {
    const plain = build("sbc: 1\nname: t\nnetwork: on\n").ir!;
    expect(probePolicies(plain, plain).some((p) => p.ask.kind === "name")).toBe(false);
  });
});
