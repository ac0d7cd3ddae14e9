// The egress proxy's Node relay (lib/proxy/node-relay.ts, macOS's relay), on Linux without a sandbox: the C
// relay's protocol cases from the shared table (tests/support/relay-cases.ts) against it with a fake decider,
// then curl through it (plain HTTP, CONNECT, socks5h) with the real decision service on a policy.

import { spawn, spawnSync } from "node:child_process";
import { connect, createServer as createTcpServer, type AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compilePolicy } from "../compiler/passes/index.js";
import { resolverWith } from "../lib/proxy/decide.js";
import { startNodeRelay, type NodeRelay, type RelayDecider } from "../lib/proxy/node-relay.js";
import { DecisionService, type NetworkEvent } from "../lib/proxy/service.js";
import { RELAY_CASES, replyMatches, startUpstreams, tableAnswer, type Upstreams } from "./support/relay-cases.js";
import { tempDir } from "./support/tmp.js";

let up: Upstreams;
beforeAll(async () => {
  up = await startUpstreams();
});
afterAll(() => up?.close());

/** The fake decider: answers from the shared table and records the lines the C relay would have written. */
function tableDecider(lines: string[]): RelayDecider {
  let next = 1;
  return {
    async ask(q) {
      const id = String(next++);
      lines.push(`Q ${id} ${q.kind} ${q.host} ${q.port}${q.method !== undefined ? ` ${q.method} ${q.path}` : ""}`);
      const a = tableAnswer(q, up.closedPort).split(" ");
      if (a[0] === "allow") return { id, answer: { decision: "allow", address: a[1]!, port: Number(a[2]) } };
      return { id, answer: { decision: "deny", status: Number(a[1]), text: a.slice(2).join(" ") } };
    },
    upstream: (id, errno) => lines.push(`R ${id} ${errno === null ? "ok" : `fail ${errno}`}`),
    done: (id, u, d) => lines.push(`X ${id} ${u} ${d}`),
  };
}

/** Sends `bytes` at once and reads until the relay ends the connection (as the kernel suite's python client). */
function rawClient(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    const got: Buffer[] = [];
    s.on("data", (d: Buffer) => got.push(d));
    s.on("end", () => resolve(Buffer.concat(got).toString("latin1")));
    s.on("error", reject);
    s.write(bytes);
  });
}

describe("the Node relay: the C relay's protocol cases", () => {
  for (const c of RELAY_CASES) {
    it(c.name, async () => {
      const lines: string[] = [];
      const relay = await startNodeRelay(tableDecider(lines));
      try {
        const got = await rawClient(relay.port, c.send(up));
        expect(replyMatches(got, c.reply(up)), JSON.stringify(got.slice(0, 400))).toBe(true);
        await relay.close();
        expect(lines.filter((l) => l.startsWith("Q ")).map((l) => l.replace(/^Q \d+ /, ""))).toEqual(c.asks(up));
        expect(lines.filter((l) => l.startsWith("R ")).map((l) => l.replace(/^R \d+ /, ""))).toEqual(c.upstream ?? []);
        // A relayed connection reports its bytes, both ways, once it ends.
        const relayed = (c.upstream ?? []).filter((r) => r === "ok").length;
        expect(lines.filter((l) => /^X \d+ [1-9]\d* [1-9]\d*$/.test(l))).toHaveLength(relayed);
      } finally {
        await relay.close();
      }
    });
  }

  it("listens on 127.0.0.1 only, on an ephemeral port; close stops it", async () => {
    const relay = await startNodeRelay(tableDecider([]));
    expect(relay.port).toBeGreaterThan(0);
    await relay.close();
    await expect(rawClient(relay.port, Buffer.from("x"))).rejects.toThrow(/ECONNREFUSED/);
  });

  it("a client gone while its request is decided: the upstream connection is ended, not kept open", async () => {
    // A server that never hangs up on its own: only the relay's end of the connection closes it.
    const accepted: import("node:net").Socket[] = [];
    const closed: Promise<void>[] = [];
    const server = createTcpServer((s) => {
      accepted.push(s);
      closed.push(new Promise((r) => s.once("close", () => r())));
      s.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const serverPort = (server.address() as AddressInfo).port;
    let answer: (() => void) | undefined;
    const done: string[] = [];
    const relay = await startNodeRelay({
      ask: () => new Promise((r) => (answer = () => r({ id: "1", answer: { decision: "allow", address: "127.0.0.1", port: serverPort } }))),
      upstream: () => {},
      done: (id, u, d) => done.push(`X ${id} ${u} ${d}`),
    });
    try {
      const c = connect({ host: "127.0.0.1", port: relay.port });
      c.on("error", () => {});
      c.write(`CONNECT slow.test:${serverPort} HTTP/1.1\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 50));
      c.resetAndDestroy(); // a reset (a killed client, say): gone before the decision
      await new Promise((r) => setTimeout(r, 50));
      answer!();
      await new Promise((r) => setTimeout(r, 100));
      expect(accepted).toHaveLength(1);
      await closed[0]; // times out the test if the relay keeps it open
      expect(done).toEqual(["X 1 0 0"]);
    } finally {
      await relay.close();
      server.close();
    }
  });

  it("a decider that fails refuses the connection (502), fail closed", async () => {
    const relay = await startNodeRelay({ ask: () => Promise.reject(new Error("gone")), upstream: () => {}, done: () => {} });
    try {
      const got = await rawClient(relay.port, Buffer.from(`CONNECT allowed.test:${up.port4} HTTP/1.1\r\n\r\n`));
      expect(got).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[^]*cannot reach its policy decider/);
    } finally {
      await relay.close();
    }
  });

  it("a tunnel half-closed by the client still carries the answer back", async () => {
    const lines: string[] = [];
    const relay = await startNodeRelay(tableDecider(lines));
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port: relay.port, allowHalfOpen: true });
        const chunks: Buffer[] = [];
        s.on("data", (d: Buffer) => chunks.push(d));
        s.on("end", () => {
          s.end();
          resolve(Buffer.concat(chunks).toString("latin1"));
        });
        s.on("error", reject);
        s.end(`CONNECT allowed.test:${up.port4} HTTP/1.1\r\n\r\nGET /half HTTP/1.1\r\nHost: a\r\n\r\n`);
      });
      expect(got).toMatch(/^HTTP\/1\.1 200 Connection established\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*GET \/half host=a /);
    } finally {
      await relay.close();
    }
  });
});

const hasCurl = spawnSync("curl", ["--version"]).status === 0;

describe.skipIf(!hasCurl)("curl through the Node relay, decided by the policy", () => {
  let relay: NodeRelay;
  let service: DecisionService;
  const events: NetworkEvent[] = [];
  let policyFile = "";

  beforeAll(async () => {
    const dir = tempDir("sbc-node-relay-");
    policyFile = join(dir, "p.yaml");
    const text = `sbc: 1
name: node-relay
network:
  rules:
    - allow: connect
      domains: [allowed.test]
    - deny: connect
      domains: [denied.test]
    - allow: connect
      hosts: [127.0.0.1]
      ports: [${up.port4}]
`;
    // The rule's file:line:col in the refusal: written to a file so the location names it.
    writeFileSync(policyFile, text);
    const ir = compilePolicy({ kind: "text", path: policyFile, text }, { stopAfter: "build-ir" }).ir!;
    service = new DecisionService(ir, null, { resolver: resolverWith(new Map([["allowed.test", ["127.0.0.1"]], ["denied.test", ["127.0.0.1"]]])), log: (e) => events.push(e) });
    relay = await startNodeRelay(service);
  });
  afterAll(async () => {
    await relay?.close();
  });

  // Asynchronous: the relay runs in this process, so a synchronous curl would wait for it forever.
  const curl = (args: readonly string[]) =>
    new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn("curl", ["-sS", "--max-time", "10", "--noproxy", "", ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "ignore"] });
      let stdout = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.on("close", (status) => resolve({ status, stdout }));
    });

  it("plain HTTP, CONNECT and socks5h reach an allowed name; a denied one gets the rule's text", async () => {
    const proxy = `http://127.0.0.1:${relay.port}`;
    const plain = await curl(["-x", proxy, `http://allowed.test:${up.port4}/plain`]);
    expect(plain.stdout).toBe(`GET /plain host=allowed.test:${up.port4} connection=close proxy-connection=- body=-\n`);
    const tunnel = await curl(["-p", "-x", proxy, `http://allowed.test:${up.port4}/tunnel`]);
    expect(tunnel.stdout).toBe(`GET /tunnel host=allowed.test:${up.port4} connection=- proxy-connection=- body=-\n`);
    const socks = await curl(["-x", `socks5h://127.0.0.1:${relay.port}`, `http://allowed.test:${up.port4}/socks`]);
    expect(socks.stdout).toBe(`GET /socks host=allowed.test:${up.port4} connection=- proxy-connection=- body=-\n`);
    const denied = await curl(["-x", proxy, `http://denied.test:${up.port4}/x`]);
    expect(denied.stdout).toBe(`sbc: connecting to \`denied.test:${up.port4}\` is denied by the rule \`deny connect denied.test port any\` at ${policyFile}:7:7\n`);
    const deniedTunnel = await curl(["-p", "-x", proxy, `http://denied.test:${up.port4}/x`]);
    expect(deniedTunnel.status).toBe(56); // curl: the CONNECT was refused (403)
    const deniedSocks = await curl(["-x", `socks5h://127.0.0.1:${relay.port}`, `http://other.test:${up.port4}/x`]);
    expect(deniedSocks.status).toBe(97); // curl: the SOCKS5 proxy refused (rule failure)
    await relay.close();
    await service.finish();
    const log = events.map((e) => `${e.via} ${e.host} ${e.decision}${e.upstream ? ` ${e.upstream}` : ""}${e.bytesDown ? " bytes" : ""}`);
    expect(log.sort()).toEqual(
      [
        "http allowed.test allow ok bytes",
        "connect allowed.test allow ok bytes",
        "socks5 allowed.test allow ok bytes",
        "http denied.test deny",
        "connect denied.test deny",
        "socks5 other.test deny",
      ].sort(),
    );
    expect(service.refusals()).toHaveLength(3);
  });
});
