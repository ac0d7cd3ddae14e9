// The egress proxy's relay in the native loader (a plan with `net-proxy`, native/README.md "The egress proxy"),
// on the real kernel, as root and as uid 65534, with and without a mount layer. A fake decider stands in for
// `sbc exec`: it answers the relay's `Q` lines from a table and records every line; the upstream servers are
// started here on the host's loopback. The commands inside are curl and small python3 socket clients.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import type { Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildPlan } from "../targets/landlock/plan.js";
import { NOBODY, SETPRIV_NOBODY, describeLoaderAsRoot, loaderPath, planText } from "./support/loader.js";
import { RELAY_CASES, replyMatches, startUpstreams, tableAnswer, type Upstreams } from "./support/relay-cases.js";

const PROXY_PORT = 3128;
const PROXY = `127.0.0.1:${PROXY_PORT}`;
const PY = "/usr/bin/python3";

/** The decider's answer to one request (`allow ADDR PORT` / `deny STATUS TEXT`), or "close" to end the channel. */
type Answer = string | "close" | "garbage";
interface Request {
  readonly id: string;
  readonly kind: string;
  readonly host: string;
  readonly port: number;
  readonly method?: string;
  readonly path?: string;
}

interface RelayRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every line the relay wrote on the control channel. */
  readonly lines: readonly string[];
}

interface RunOptions {
  /** Called once the command has printed its first line on stdout, with the loader's process. */
  readonly onReady?: (loader: import("node:child_process").ChildProcess) => void;
  readonly asNobody?: boolean;
  readonly mounts?: boolean;
  readonly plan?: string;
  /** Leave out `--proxy-fd` (and the control channel). */
  readonly noProxyFd?: boolean;
  readonly args?: readonly string[];
  readonly decide?: (q: Request) => Answer;
}

/** A plan with `net-proxy`; with `mounts`, the namespace-mode shape (`/` read-only, /tmp writable). */
function proxyPlan(mounts: boolean): string {
  return planText({
    abi: 0,
    handledFs: 0,
    preamble: [`net-proxy 127.0.0.1 ${PROXY_PORT}`],
    ...(mounts ? { mounts: [["/", "ro", "exec"], ["/tmp", "rw", "exec"]] as const } : {}),
  });
}

/** Runs `sh -c script` under the loader with the fake decider on fd 4 (a socketpair, as `sbc exec` would). */
function run(script: string, options: RunOptions = {}): Promise<RelayRun> {
  const loader = loaderPath()!;
  const plan = options.plan ?? proxyPlan(options.mounts ?? false);
  const argv = [
    ...(options.asNobody ? SETPRIV_NOBODY : []),
    loader,
    ...(options.args ?? []),
    ...(options.noProxyFd ? [] : ["--proxy-fd", "4"]),
    "--plan-fd",
    "3",
    "--",
    "sh",
    "-c",
    script,
  ];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe", "pipe", options.noProxyFd ? "ignore" : "pipe"], cwd: "/tmp" });
  const planPipe = child.stdio[3] as NodeJS.WritableStream;
  planPipe.end(plan);
  const lines: string[] = [];
  const control = child.stdio[4] as Socket | null;
  if (control) {
    let buf = "";
    control.on("error", () => {});
    control.on("data", (chunk: Buffer) => {
      buf += chunk.toString("latin1");
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        const w = line.split(" ");
        if (w[0] !== "Q") continue;
        const q: Request = { id: w[1]!, kind: w[2]!, host: w[3]!, port: Number(w[4]), ...(w.length > 5 ? { method: w[5], path: w[6] } : {}) };
        const a = (options.decide ?? defaultDecide)(q);
        if (a === "close") control.end();
        else if (a === "garbage") control.write(`A ${q.id} perhaps\n`);
        else control.write(`A ${q.id} ${a}\n`);
      }
    });
  }
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => {
    const first = !stdout.includes("\n");
    stdout += c.toString();
    if (first && stdout.includes("\n")) options.onReady?.(child);
  });
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, lines });
    });
  });
}

// ---- the host's servers (tests/support/relay-cases.ts, shared with the Node relay's suite) ----

let upstreams: Upstreams;
let port4 = 0;
let port6 = 0;
/** A port on the host's 127.0.0.1 where nothing listens. */
let closedPort = 0;

beforeAll(async () => {
  upstreams = await startUpstreams();
  ({ port4, port6, closedPort } = upstreams);
});

afterAll(() => upstreams?.close());

/** The shared table: allowed.test and IP literals go to the host's servers, refused.test to a closed port. */
function defaultDecide(q: Request): Answer {
  return tableAnswer(q, closedPort);
}

/** A python3 one-liner inside: sends `hex` to the proxy and prints what comes back, as hex. */
function rawClient(hex: string): string {
  return `${PY} -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",${PROXY_PORT}))
s.sendall(bytes.fromhex(sys.argv[1]))
out=b""
while True:
    b=s.recv(65536)
    if not b: break
    out+=b
print(out.hex())' ${hex}`;
}

/** A SOCKS5 greeting (no auth) and a CONNECT request, in hex. */
function socksHex(atyp: number, addr: Buffer, port: number, cmd = 1): string {
  const p = Buffer.from([port >> 8, port & 0xff]);
  const a = atyp === 3 ? Buffer.concat([Buffer.from([addr.length]), addr]) : addr;
  return Buffer.concat([Buffer.from([5, 1, 0, 5, cmd, 0, atyp]), a, p]).toString("hex");
}

const ids = (lines: readonly string[], prefix: string) => lines.filter((l) => l.startsWith(prefix));

describeLoaderAsRoot("the egress proxy's relay (net-proxy)", () => {
  for (const mode of [
    { name: "root, network namespace only", asNobody: false, mounts: false },
    { name: `uid ${NOBODY}, network namespace only`, asNobody: true, mounts: false },
    { name: "root, with the mount layer", asNobody: false, mounts: true },
    { name: `uid ${NOBODY}, with the mount layer`, asNobody: true, mounts: true },
  ]) {
    const opts = { asNobody: mode.asNobody, mounts: mode.mounts };

    it(`${mode.name}: CONNECT, plain HTTP and SOCKS5 reach allowed hosts; the listener is inside; no direct route`, async () => {
      const r = await run(
        [
          `curl -sS -p -x http://${PROXY} http://allowed.test:${port4}/tunnel`,
          `curl -sS -x http://${PROXY} 'http://allowed.test:${port4}/plain?q=1'`,
          `curl -sS --socks5-hostname ${PROXY} http://allowed.test:${port4}/socks-name`,
          `curl -sS --socks5 ${PROXY} http://127.0.0.1:${port4}/socks-v4`,
          `curl -sS --socks5 ${PROXY} 'http://[::1]:${port6}/socks-v6'`,
          `curl -sS --max-time 3 http://127.0.0.1:${port4}/direct 2>/dev/null || echo direct-failed`,
          `grep -c ' 0100007F:0C38 00000000:0000 0A ' /proc/net/tcp`,
          `${PY} -c 'import socket
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", ("8.8.8.8", 53)); print("udp-sent")
except OSError as e: print("udp-failed", e.errno)'`,
          "id -u",
        ].join("; "),
        opts,
      );
      expect(r.stderr).toBe("");
      const out = r.stdout.split("\n");
      expect(out[0]).toBe(`GET /tunnel host=allowed.test:${port4} connection=- proxy-connection=- body=-`);
      expect(out[1]).toBe(`GET /plain?q=1 host=allowed.test:${port4} connection=close proxy-connection=- body=-`);
      expect(out[2]).toBe(`GET /socks-name host=allowed.test:${port4} connection=- proxy-connection=- body=-`);
      expect(out[3]).toBe(`GET /socks-v4 host=127.0.0.1:${port4} connection=- proxy-connection=- body=-`);
      expect(out[4]).toBe(`GET /socks-v6 host=[::1]:${port6} connection=- proxy-connection=- body=-`);
      expect(out[5]).toBe("direct-failed");
      expect(out[6]).toBe("1");
      expect(out[7]).toBe("udp-failed 101"); // ENETUNREACH: the namespace has no route
      expect(out[8]).toBe(mode.asNobody ? `${NOBODY}` : "0");
      expect(r.status).toBe(0);
      expect(ids(r.lines, "Q ")).toEqual([
        `Q 1 connect allowed.test ${port4}`,
        `Q 2 http allowed.test ${port4} GET /plain?q=1`,
        `Q 3 socks5 allowed.test ${port4}`,
        `Q 4 socks5 127.0.0.1 ${port4}`,
        `Q 5 socks5 ::1 ${port6}`,
      ]);
      expect(ids(r.lines, "R ")).toEqual(["R 1 ok", "R 2 ok", "R 3 ok", "R 4 ok", "R 5 ok"]);
      expect(ids(r.lines, "X ")).toHaveLength(5);
      for (const x of ids(r.lines, "X ")) expect(x).toMatch(/^X [1-5] [1-9][0-9]* [1-9][0-9]*$/);
    });
  }

  it("refusals: 403 with the decider's text for CONNECT and plain HTTP, SOCKS5 codes, refused upstream -> 502", async () => {
    const r = await run(
      [
        `curl -sS -x http://${PROXY} http://denied.test:${port4}/x; echo "rc=$?"`,
        rawClient(Buffer.from(`CONNECT denied.test:443 HTTP/1.1\r\nHost: denied.test:443\r\n\r\n`).toString("hex")),
        rawClient(Buffer.from(`CONNECT refused.test:80 HTTP/1.1\r\n\r\n`).toString("hex")),
        rawClient(socksHex(3, Buffer.from("denied.test"), 443)),
        rawClient(socksHex(3, Buffer.from("bad-gateway.test"), 443)),
        rawClient(socksHex(3, Buffer.from("odd.test"), 443)),
        rawClient(socksHex(3, Buffer.from("refused.test"), 80)),
        rawClient(socksHex(1, Buffer.from([127, 0, 0, 1]), 80, 2)), // BIND
        rawClient(Buffer.from("GET https://allowed.test/ HTTP/1.1\r\n\r\n").toString("hex")),
        rawClient(Buffer.from("HELLO\r\n\r\n").toString("hex")),
        rawClient(Buffer.from("CONNECT b\u00e4d.test:443 HTTP/1.1\r\n\r\n", "latin1").toString("hex")),
        rawClient(Buffer.from(`GET http://allowed.test/ HTTP/1.1\r\nX-Big: ${"a".repeat(17000)}\r\n\r\n`).toString("hex")),
        rawClient("05010205010003"), // SOCKS5 offering username/password only
      ].join("; "),
    );
    const out = r.stdout.split("\n");
    expect(out[0]).toBe(`sbc: denied.test:${port4} is not allowed (policy.yaml:3:5)`);
    expect(out[1]).toBe("rc=0");
    const text = (hex: string) => Buffer.from(hex, "hex").toString("latin1");
    expect(text(out[2]!)).toBe(
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 54\r\nConnection: close\r\n\r\n" +
        "sbc: denied.test:443 is not allowed (policy.yaml:3:5)\n",
    );
    expect(text(out[3]!)).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[^]*\r\n\r\nsbc: the upstream connection to refused\.test port 80 failed: Connection refused\n$/);
    // SOCKS5: method reply `05 00`, then `05 REP 00 01 0.0.0.0:0`.
    expect(out[4]).toBe("050005020001000000000000");
    expect(out[5]).toBe("050005040001000000000000");
    expect(out[6]).toBe("050005010001000000000000");
    expect(out[7]).toBe("050005050001000000000000");
    expect(out[8]).toBe("050005070001000000000000");
    expect(text(out[9]!)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*https:\/\/ goes through CONNECT/);
    expect(text(out[10]!)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text(out[11]!)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text(out[12]!)).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*larger than 16 KiB\n$/);
    expect(out[13]).toBe("05ff");
    // Only well-formed requests were asked; the refused upstream was reported.
    expect(ids(r.lines, "Q ")).toEqual([
      `Q 1 http denied.test ${port4} GET /x`,
      "Q 2 connect denied.test 443",
      "Q 3 connect refused.test 80",
      "Q 4 socks5 denied.test 443",
      "Q 5 socks5 bad-gateway.test 443",
      "Q 6 socks5 odd.test 443",
      "Q 7 socks5 refused.test 80",
    ]);
    expect(ids(r.lines, "R ")).toEqual(["R 3 fail ECONNREFUSED", "R 7 fail ECONNREFUSED"]);
    expect(r.status).toBe(0);
  });

  it("the protocol cases both relays run (tests/support/relay-cases.ts): replies, requests asked, upstream results", async () => {
    const r = await run(RELAY_CASES.map((c) => rawClient(c.send(upstreams).toString("hex"))).join("; "));
    const out = r.stdout.split("\n");
    RELAY_CASES.forEach((c, i) => {
      const got = Buffer.from(out[i]!, "hex").toString("latin1");
      expect(replyMatches(got, c.reply(upstreams)), `${c.name}: ${JSON.stringify(got.slice(0, 400))}`).toBe(true);
    });
    expect(ids(r.lines, "Q ").map((l) => l.replace(/^Q \d+ /, ""))).toEqual(RELAY_CASES.flatMap((c) => c.asks(upstreams)));
    expect(ids(r.lines, "R ").map((l) => l.replace(/^R \d+ /, ""))).toEqual(RELAY_CASES.flatMap((c) => c.upstream ?? []));
    expect(ids(r.lines, "X ").filter((l) => /^X \d+ [1-9]\d* [1-9]\d*$/.test(l))).toHaveLength(RELAY_CASES.flatMap((c) => c.upstream ?? []).filter((u) => u === "ok").length);
    expect(r.status).toBe(0);
  });

  it("plain HTTP: one request per connection, the body by Content-Length, nothing pipelined, Host replaced", async () => {
    const req =
      `POST http://allowed.test:${port4}/up HTTP/1.1\r\nHost: other.test\r\nProxy-Connection: keep-alive\r\n` +
      `Proxy-Authorization: Basic eDp5\r\nContent-Length: 5\r\n\r\nhello` +
      `GET http://allowed.test:${port4}/second HTTP/1.1\r\nHost: allowed.test\r\n\r\n`;
    const chunked = `POST http://allowed.test:${port4}/c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`;
    const bareLf = `GET http://allowed.test:${port4}/lf HTTP/1.1\r\nX-A: 1\nTransfer-Encoding: chunked\r\n\r\n`;
    const twoLengths = `POST http://allowed.test:${port4}/cl HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello`;
    const r = await run([req, chunked, bareLf, twoLengths].map((t) => rawClient(Buffer.from(t).toString("hex"))).join("; "));
    const out = r.stdout.split("\n").map((h) => Buffer.from(h, "hex").toString("latin1"));
    expect(out[0]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out[0]).toContain(`POST /up host=allowed.test:${port4} connection=close proxy-connection=- body=hello\n`);
    expect(out[0]).not.toContain("second");
    expect(out[1]).toMatch(/^HTTP\/1\.1 411 Length Required\r\n/);
    expect(out[2]).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*a control character in a request header\n$/);
    expect(out[3]).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*malformed Content-Length\n$/);
    expect(ids(r.lines, "Q ")).toEqual([`Q 1 http allowed.test ${port4} POST /up`]);
  });

  it("bulk data is carried byte for byte: 24 MiB each way at once in a tunnel, a 6 MiB plain-HTTP body and not a byte past it", async () => {
    // The relay's buffer starts at 64 KiB a direction and grows while reads fill it (native/loader/relay.c,
    // pump_run): these streams cross every size, in chunks of varying length, both directions at once.
    const echo = createTcpServer((s) => s.pipe(s));
    // The plain request's upstream reads its head and body, then waits 100 ms for anything the relay might send
    // past the body (the client pipelines a second request right behind it) and answers with what it got.
    const hashing = createTcpServer((sock) => {
      let got = Buffer.alloc(0);
      let answered = false;
      sock.on("data", (c: Buffer) => {
        got = Buffer.concat([got, c]);
        const end = got.indexOf("\r\n\r\n");
        const length = Number(/content-length: *(\d+)/i.exec(got.subarray(0, Math.max(end, 0)).toString("latin1"))?.[1] ?? NaN);
        if (end < 0 || answered || got.length < end + 4 + length) return;
        answered = true;
        setTimeout(() => {
          const body = got.subarray(end + 4, end + 4 + length);
          const extra = got.length - (end + 4 + length);
          sock.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${body.length} ${createHash("sha256").update(body).digest("hex")} extra=${extra}\n`);
        }, 100);
      });
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => hashing.listen(0, "127.0.0.1", r));
    const echoPort = (echo.address() as AddressInfo).port;
    const hashPort = (hashing.address() as AddressInfo).port;
    try {
      const r = await run(
        `${PY} -c 'import hashlib,random,socket,sys,threading
def conn():
    return socket.create_connection(("127.0.0.1",${PROXY_PORT}))
rng=random.Random(16)
data=rng.randbytes(24<<20)
s=conn()
s.sendall(b"CONNECT echo.test:1 HTTP/1.1\\r\\n\\r\\n")
head=b""
while not head.endswith(b"\\r\\n\\r\\n"): head+=s.recv(1)
def send():
    i=0
    while i<len(data):
        n=rng.randint(1,3<<20); s.sendall(data[i:i+n]); i+=n
    s.shutdown(socket.SHUT_WR)
t=threading.Thread(target=send); t.start()
h=hashlib.sha256(); n=0
while True:
    b=s.recv(rng.choice([4096,65536,1<<20]))
    if not b: break
    h.update(b); n+=len(b)
t.join()
print(head.split(b"\\r\\n")[0].decode(), n, h.hexdigest()==hashlib.sha256(data).hexdigest())
body=data[:6<<20]
p=conn()
p.sendall(b"POST http://hash.test:1/b HTTP/1.1\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body + b"GET /past-the-body HTTP/1.1\\r\\n\\r\\n")
out=b""
while True:
    b=p.recv(65536)
    if not b: break
    out+=b
print(out.split(b"\\r\\n")[0].decode(), out.split(b"\\r\\n\\r\\n",1)[1].decode().strip())
print(hashlib.sha256(body).hexdigest())'`,
        { decide: (q) => (q.host === "echo.test" ? `allow 127.0.0.1 ${echoPort}` : q.host === "hash.test" ? `allow 127.0.0.1 ${hashPort}` : defaultDecide(q)) },
      );
      expect(r.stderr).toBe("");
      const [tunnel, plain, bodyHash] = r.stdout.trim().split("\n");
      expect(tunnel).toBe(`HTTP/1.1 200 Connection established ${24 << 20} True`);
      expect(plain).toBe(`HTTP/1.1 200 OK ${6 << 20} ${bodyHash} extra=0`);
      expect(r.status).toBe(0);
      // The relay's own count of each direction: the tunnel's 24 MiB each way; the request's head and body up.
      const x = ids(r.lines, "X ").map((l) => l.split(" ").slice(2).map(Number));
      expect(x[0]).toEqual([24 << 20, 24 << 20]);
      expect(x[1]![0]).toBeGreaterThan(6 << 20);
      expect(x[1]![0]).toBeLessThan((6 << 20) + 200);
    } finally {
      echo.close();
      hashing.close();
    }
  });

  it("exit status and signals pass through the relay", async () => {
    expect((await run("exit 7")).status).toBe(7);
    const killed = await run("kill -TERM $$", { mounts: true });
    expect(killed.signal).toBe("SIGTERM");
    const child = await run("kill -HUP $$", { asNobody: true });
    expect(child.signal).toBe("SIGHUP");
    // A SIGTERM sent to the loader (the relay) reaches the command, and the relay ends the way it ended.
    for (const mounts of [false, true]) {
      const sent = await run(`trap 'echo got-term; kill $!; exit 3' TERM; echo ready; sleep 20 >/dev/null 2>&1 & wait`, { mounts, onReady: (p) => p.kill("SIGTERM") });
      expect(sent.stdout).toBe("ready\ngot-term\n");
      expect(sent.status).toBe(3);
    }
  });

  it("--check and --else: a net-proxy plan is checked with a network namespace, and left to the Node CLI without --proxy-fd", () => {
    const loader = loaderPath()!;
    const check = (args: readonly string[]) =>
      spawnSync(loader, ["--check", ...args, "--plan-fd", "0"], { input: proxyPlan(true), encoding: "utf8" });
    expect(check([]).status).toBe(0);
    expect(check(["--namespaces", "never"]).status).toBe(1);
    expect(check(["--proxy-fd", "4"]).status).toBe(1); // a usage error; a check runs nothing, so no control channel
    const viaElse = spawnSync("/bin/sh", ["-c", `exec "$@" 3<&0 0</dev/null`, "sh", loader, "--plan-fd", "3", "--else", "2", "echo", "fallback", "--", "echo", "command"], {
      input: proxyPlan(false),
      encoding: "utf8",
    });
    expect(viaElse.status).toBe(0);
    expect(viaElse.stdout).toBe("fallback -- echo command\n");
  });

  it("control channel EOF or a malformed answer: later requests are refused (fail closed), said once", async () => {
    for (const broken of ["close", "garbage"] as const) {
      let n = 0;
      const r = await run(
        [
          `curl -sS -p -x http://${PROXY} http://allowed.test:${port4}/first`,
          `curl -sS -p -x http://${PROXY} http://allowed.test:${port4}/second; echo "rc=$?"`,
          rawClient(Buffer.from(`CONNECT allowed.test:${port4} HTTP/1.1\r\n\r\n`).toString("hex")),
        ].join("; "),
        { decide: (q) => (++n === 1 ? defaultDecide(q) : broken) },
      );
      const out = r.stdout.split("\n");
      expect(out[0]).toContain("GET /first");
      expect(out[1]).toBe("rc=56"); // curl: the CONNECT was refused
      expect(Buffer.from(out[2]!, "hex").toString("latin1")).toMatch(
        /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*\r\n\r\nsbc: the egress proxy cannot reach its policy decider/,
      );
      const said = r.stderr.split("\n").filter((l) => l.includes("every later connection is refused"));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(broken === "close" ? /control channel to `sbc exec` closed/ : /malformed answer/);
      expect(r.status).toBe(0);
    }
  });

  it("a net-proxy plan without a `proxy-table` and without --proxy-fd, --proxy-fd without net-proxy, and namespaces never: 125, nothing runs", async () => {
    const noFd = await run("echo ran", { noProxyFd: true });
    expect(noFd.status).toBe(125);
    expect(noFd.stdout).toBe("");
    expect(noFd.stderr).toBe("sbc-loader: this plan routes the network through sbc's egress proxy and carries no `proxy-table` to decide by: run it with `sbc exec`\n");
    const noDirective = await run("echo ran", { plan: planText({ abi: 0, handledFs: 0 }) });
    expect(noDirective.status).toBe(125);
    expect(noDirective.stdout).toBe("");
    expect(noDirective.stderr).toMatch(/^sbc-loader: usage: /);
    const never = await run("echo ran", { args: ["--namespaces", "never"], mounts: true });
    expect(never.status).toBe(125);
    expect(never.stdout).toBe("");
    expect(never.stderr).toMatch(/needs a network namespace: it cannot run with namespaces `never`/);
  });

  it("a net-proxy line with another address or port 0 is refused before anything runs", async () => {
    const bad = await run("echo ran", { plan: proxyPlan(false).replace(`net-proxy 127.0.0.1 ${PROXY_PORT}`, "net-proxy 0.0.0.0 3128") });
    expect(bad.status).toBe(125);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/plan line 8: net-proxy address `0\.0\.0\.0` is not `127\.0\.0\.1`/);
    const zero = await run("echo ran", { plan: proxyPlan(false).replace(`net-proxy 127.0.0.1 ${PROXY_PORT}`, "net-proxy 127.0.0.1 0") });
    expect(zero.status).toBe(125);
    expect(zero.stderr).toMatch(/is not a port \(1-65535\)/);
  });

  it("no user namespaces: the run stops with 125 and one line, never without the network namespace", async () => {
    const { NO_USERNS_WRAPPER } = await import("./support/loader.js");
    const loader = loaderPath()!;
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(NO_USERNS_WRAPPER[0]!, [...NO_USERNS_WRAPPER.slice(1), ...SETPRIV_NOBODY, loader, "--proxy-fd", "4", "--plan-fd", "3", "--", "echo", "ran"], {
        stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      });
      (child.stdio[3] as NodeJS.WritableStream).end(proxyPlan(false));
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^sbc-loader: this plan routes the network through sbc's egress proxy, which needs a network namespace, and none can be made here: unshare: /);
  });

  it("the plan writer emits the directive the loader parses (--report says so)", async () => {
    const plan = buildPlan(undefined, undefined, { netProxy: { port: PROXY_PORT } }).text;
    expect(plan).toContain(`\nnet-proxy 127.0.0.1 ${PROXY_PORT}\n`);
    const r = await run("true", { plan, args: ["--report"] });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`net-proxy listener 127.0.0.1:${PROXY_PORT} in a new network namespace`);
  });
});
