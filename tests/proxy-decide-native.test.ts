// The loader's own proxy decisions (native/loader/decide.c, from the plan's `proxy-table`) against lib/proxy's
// decision service (the reference), request by request: `sbc-loader --proxy-decide` reads the same `Q` lines
// and prints the `A` lines the relay would act on, with a fixed resolver on both sides (no DNS). A tricky table
// of hosts, then generated rule sets and hosts under the run's property seed.

import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/passes/index.js";
import type { IR } from "../ir/types.js";
import { decide, type ProxyRequest, type Resolver } from "../lib/proxy/decide.js";
import { answerLine } from "../lib/proxy/protocol.js";
import { proxyTableLines } from "../lib/proxy/table.js";
import { buildPlan } from "../targets/landlock/plan.js";
import { loaderPath } from "./support/loader.js";
import { propertyOptions } from "./support/property.js";

const loader = loaderPath();
const dir = mkdtempSync(join(tmpdir(), "sbc-decide-"));

function build(yaml: string): IR {
  const r = compilePolicy({ kind: "text", path: "/tmp/p.yaml", text: yaml }, { stopAfter: "build-ir" });
  if (!r.ir) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.ir;
}

function planText(ir: IR): string {
  const table = proxyTableLines(ir, 3128);
  if (!table) throw new Error("no table");
  return buildPlan(undefined, undefined, { netProxy: { port: 3128, table } }).text;
}

/** The loader's answers, one per request, in order. */
function nativeAnswers(ir: IR, requests: readonly ProxyRequest[], dns: Record<string, string[]>): string[] {
  const file = join(dir, "plan");
  writeFileSync(file, planText(ir));
  const fd = openSync(file, "r");
  try {
    const input = requests.map((q, i) => `Q ${i + 1} ${q.kind} ${q.host} ${q.port}\n`).join("");
    const r = spawnSync(loader!, ["--proxy-decide", "--plan-fd", "3", ...Object.entries(dns).flatMap(([n, a]) => ["--resolve", `${n}=${a.join(",")}`])], {
      input,
      stdio: ["pipe", "pipe", "pipe", fd],
      encoding: "latin1",
    });
    if (r.status !== 0) throw new Error(`sbc-loader --proxy-decide: ${r.status} ${r.stderr}`);
    return r.stdout.split("\n").filter(Boolean);
  } finally {
    closeSync(fd);
  }
}

function resolver(dns: Record<string, string[]>): Resolver {
  return async (name) => {
    const a = dns[name];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return a;
  };
}

async function referenceAnswers(ir: IR, requests: readonly ProxyRequest[], dns: Record<string, string[]>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < requests.length; i++) out.push(answerLine(String(i + 1), await decide(ir, requests[i]!, resolver(dns))).trimEnd());
  return out;
}

/**
 * Hosts the C side reads more strictly than WHATWG's URL parser (ir/hosts.ts): non-ASCII (punycoded there),
 * and the characters the URL parser cuts a host at or decodes (`/`, `?`, `#`, `%`, `\`, tabs). There the
 * loader must refuse (400), whatever the reference says: never wider.
 */
const STRICTER = /[^\x21-\x7e]|[/?#%\\@]/;

async function compare(ir: IR, requests: readonly ProxyRequest[], dns: Record<string, string[]>): Promise<void> {
  const native = nativeAnswers(ir, requests, dns);
  const reference = await referenceAnswers(ir, requests, dns);
  expect(native.length).toBe(requests.length);
  requests.forEach((q, i) => {
    if (STRICTER.test(q.host)) expect(native[i], q.host).toMatch(/^A \d+ deny 400 /);
    else expect(native[i], `${q.host}:${q.port}`).toBe(reference[i]);
  });
}

const POLICY = `sbc: 1
name: decide-native
network:
  rules:
    - allow: connect
      domains: [registry.npmjs.org, "*.githubusercontent.com", "**.deep.example", "xn--bcher-kva.example", "Under_Score.example."]
      ports: [443]
    - deny: connect
      domains: [gist.githubusercontent.com]
    - allow: connect
      domains: [local.test, private.test, mixed.test]
      ports: [80, 8080-8090]
    - allow: connect
      hosts: [127.0.0.1, 10.1.0.0/16]
      ports: [8080]
    - allow: connect
      hosts: [93.184.216.0/24, "2001:db8::/32"]
      ports: [443]
    - deny: connect
      hosts: [93.184.216.99]
`;

const DNS: Record<string, string[]> = {
  "registry.npmjs.org": ["2606:4700::6810:23", "104.16.0.35"],
  "raw.githubusercontent.com": ["185.199.108.133"],
  "evil.githubusercontent.com": ["185.199.108.133", "10.0.0.7"],
  "meta.githubusercontent.com": ["169.254.169.254"],
  "mapped.githubusercontent.com": ["::ffff:192.168.1.1"],
  "v6only.githubusercontent.com": ["2606:4700::1"],
  "ula.githubusercontent.com": ["fd00:ec2::254"],
  "a.b.deep.example": ["198.51.100.7"],
  "xn--bcher-kva.example": ["198.51.100.1"],
  "under_score.example": ["198.51.100.2"],
  "local.test": ["127.0.0.1"],
  "private.test": ["10.1.2.3"],
  "mixed.test": ["10.1.2.3", "10.2.0.1"],
  "denied.githubusercontent.com": ["93.184.216.99"],
};

const HOSTS = [
  "registry.npmjs.org",
  "REGISTRY.npmjs.ORG.",
  "registry.npmjs.org..",
  "npmjs.org",
  "raw.githubusercontent.com",
  "githubusercontent.com",
  "a.b.githubusercontent.com",
  "gist.githubusercontent.com",
  "GIST.githubusercontent.com.",
  "evil.githubusercontent.com",
  "meta.githubusercontent.com",
  "mapped.githubusercontent.com",
  "v6only.githubusercontent.com",
  "ula.githubusercontent.com",
  "nx.githubusercontent.com",
  "denied.githubusercontent.com",
  "deep.example",
  "x.deep.example",
  "a.b.deep.example",
  "xn--bcher-kva.example",
  "bücher.example",
  "under_score.example",
  "local.test",
  "private.test",
  "mixed.test",
  "-bad.test",
  "bad-.test",
  "a..b",
  ".",
  "",
  "a/b",
  "a%2eb",
  "127.0.0.1",
  "[127.0.0.1]",
  "127.1",
  "0x7f.1",
  "0x7f000001",
  "2130706433",
  "0177.0.0.1",
  "1.2.3.08",
  "a.09",
  "a.b.1",
  "0x",
  "01.2.3.4",
  "10.1.2.3",
  "10.2.0.1",
  "93.184.216.34",
  "93.184.216.99",
  "::1",
  "[::1]",
  "::ffff:127.0.0.1",
  "[::ffff:10.1.9.9]",
  "::ffff:7f00:1",
  "2001:db8::1",
  "2001:DB8:0:0:0:0:0:1",
  "2001:db8::0:1",
  "::",
  "fe80::1",
  "169.254.169.254",
  "1:2:3:4:5:6:7:8:9",
  "::ffff:1.2.3.04",
  "a".repeat(64) + ".example",
  "UPPER.GITHUBUSERCONTENT.COM",
];

describe.skipIf(!loader)("the loader decides as lib/proxy does", () => {
  it("over the tricky table: case, trailing dot, punycode, wildcard depth, IP literal forms, v4-mapped, ports, private ranges", async () => {
    const ir = build(POLICY);
    const requests: ProxyRequest[] = [];
    for (const host of HOSTS) for (const port of [443, 80, 8080, 8085, 22]) requests.push({ kind: "connect", host, port });
    // The relay never sends an empty or spaced host; the line would not parse.
    await compare(
      ir,
      requests.filter((q) => q.host !== "" && !/\s/.test(q.host)),
      DNS,
    );
  });

  it("says which rule refused, with its file:line:col, as `sbc exec` does", async () => {
    const ir = build(POLICY);
    const [a] = nativeAnswers(ir, [{ kind: "connect", host: "gist.githubusercontent.com", port: 443 }], DNS);
    expect(a).toBe("A 1 deny 403 sbc: connecting to `gist.githubusercontent.com:443` is denied by the rule `deny connect gist.githubusercontent.com port any` at /tmp/p.yaml:8:7");
  });

  it("leaves a policy with HTTP method or path rules to `sbc exec` (no table)", () => {
    const ir = build(`sbc: 1
name: http
network:
  rules:
    - allow: connect
      domains: [pypi.test]
      ports: [80]
      http-methods: [GET]
`);
    expect(proxyTableLines(ir, 3128)).toBeUndefined();
  });

  it("agrees on generated rule sets and hosts (property, the run's seed)", async () => {
    const labels = ["a", "b", "x-y", "q_1", "0x1f", "9"];
    const suffixes = ["example.com", "test.org", "b.example.com"];
    const name = fc.tuple(fc.array(fc.constantFrom(...labels), { maxLength: 3 }), fc.constantFrom(...suffixes)).map(([ls, s]) => [...ls, s].join("."));
    const pattern = fc.tuple(fc.constantFrom("", "*.", "**."), fc.constantFrom(...suffixes, "a.example.com"));
    const portSet = fc.constantFrom("[443]", "[80, 443]", "[8000-8100]", "[]");
    const cidr = fc.constantFrom("10.0.0.0/8", "127.0.0.1", "192.168.1.0/24", "::1", "fd00::/8", "203.0.113.0/24", "169.254.169.254", "loopback", "any");
    const rule = fc.oneof(
      fc.record({ effect: fc.constantFrom("allow", "deny"), patterns: fc.array(pattern, { minLength: 1, maxLength: 2 }), ports: portSet }).map(
        (r) => `    - ${r.effect}: connect\n      domains: [${r.patterns.map(([w, s]) => JSON.stringify(w + s)).join(", ")}]\n${r.ports === "[]" ? "" : `      ports: ${r.ports}\n`}`,
      ),
      fc.record({ effect: fc.constantFrom("allow", "deny"), hosts: cidr, ports: portSet }).map(
        (r) => `    - ${r.effect}: connect\n      hosts: ${r.hosts === "any" || r.hosts === "loopback" ? r.hosts : `[${JSON.stringify(r.hosts)}]`}\n${r.ports === "[]" ? "" : `      ports: ${r.ports}\n`}`,
      ),
    );
    const address = fc.constantFrom("203.0.113.5", "10.1.1.1", "127.0.0.1", "192.168.1.9", "::1", "fd00::5", "2001:db8::7", "169.254.169.254", "::ffff:10.0.0.1", "8.8.8.8");
    const host = fc.oneof(name, address, name.map((n) => n.toUpperCase() + "."), address.map((a) => (a.includes(":") ? `[${a}]` : a)));
    await fc.assert(
      fc.asyncProperty(
        fc.array(rule, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(host, fc.constantFrom(80, 443, 8080, 22)), { minLength: 1, maxLength: 12 }),
        fc.dictionary(name, fc.array(address, { minLength: 1, maxLength: 3 }), { maxKeys: 6 }),
        async (rules, queries, dns) => {
          const yaml = `sbc: 1\nname: gen\nnetwork:\n  rules:\n    - allow: connect\n      domains: [anchor.example.com]\n${rules.join("")}`;
          let ir: IR;
          try {
            ir = build(yaml);
          } catch {
            return; // a generated rule the language refuses (e.g. an empty port list): nothing to compare
          }
          await compare(ir, queries.map(([h, port]) => ({ kind: "connect", host: h, port })), dns);
        },
      ),
      propertyOptions(60),
    );
  });
});

describe.skipIf(!loader)("the loader refuses a malformed table with its line number", () => {
  const base = planText(build(POLICY)).split("\n");
  const at = base.indexOf("proxy-table");
  const cases: [string, string, RegExp][] = [
    ["a rule before proxy-table", "proxy-name allow a.example 443-443 x", /`proxy-name` before `proxy-table`/],
    ["a bad effect", "proxy-name permit a.example 443-443 x", /`permit` is neither `allow` nor `deny`/],
    ["a pattern not normalized", "proxy-name allow A.Example 443-443 x", /`A.Example` is not a normalized domain pattern/],
    ["a bad port range", "proxy-addr allow any 443-80 x", /`443-80` is not a port range/],
    ["a bad block", "proxy-addr allow 10.0.0.0/33 443-443 x", /`10.0.0.0\/33` is not an address or CIDR block/],
    ["a missing label", "proxy-addr allow any 443-443", /expected `proxy-addr allow\|deny/],
    ["a raw byte in a label", "proxy-name deny a.example 443-443 caf\u00e9", /must be percent-encoded/],
  ];
  for (const [what, line, message] of cases) {
    it(what, () => {
      const lines = [...base];
      // Before the table for the first case, after it for the others.
      lines.splice(what.startsWith("a rule before") ? at : at + 1, 0, line);
      const file = join(dir, "bad-plan");
      writeFileSync(file, lines.join("\n"));
      const fd = openSync(file, "r");
      try {
        const r = spawnSync(loader!, ["--proxy-decide", "--plan-fd", "3"], { input: "", stdio: ["pipe", "pipe", "pipe", fd], encoding: "utf8" });
        expect(r.status).toBe(125);
        const n = lines.indexOf(line) + 1;
        expect(r.stderr).toMatch(new RegExp(`^sbc-loader: plan line ${n}: `));
        expect(r.stderr).toMatch(message);
      } finally {
        closeSync(fd);
      }
    });
  }
});
