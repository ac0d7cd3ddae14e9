// A policy with rules by domain through the `sbc` command twice: the first run compiles with Node (its
// decision service answers the relay) and stores the plan with its decision table; the second runs that plan
// from the cache without Node, the loader's relay deciding alone (native/loader/decide.c). curl through the
// proxy (plain HTTP, CONNECT, SOCKS5) reaches the allowed name and gets the refusal for another, as root and
// as uid 65534; a policy with HTTP method rules (no table) is never stored. The allowed name
// is `localhost` (resolved by the relay's getaddrinfo through /etc/hosts: no DNS), and the policy names
// loopback on the server's port so the check after resolution lets it through.

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { describeLoader, loaderPath } from "./support/loader.js";

const SBC = join(import.meta.dirname, "..", "bin", "sbc");
const NOBODY = 65534;
let dir = "";
let server: Server | undefined;
let port = 0;

function policy(): string {
  return `sbc: 1
name: proxy-fast
extends: workspace-write
network:
  rules:
    - allow: connect
      domains: [localhost]
      ports: [${port}]
    - allow: connect
      hosts: loopback
      ports: [${port}]
`;
}

/**
 * `sbc exec POLICY -- sh -c SCRIPT` through bin/sbc: what the script printed, and who ran it. The script
 * prints its ancestors' pids and names: bin/sbc's process (spawnSync's pid) is `sbc-loader` when bin/sbc
 * exec'd the loader (no Node anywhere in the run), `node` when the Node CLI ran.
 */
async function run(root: string, script: string, asNobody = false) {
  const cache = join(root, "cache");
  const ws = join(root, "ws");
  const args = ["exec", join(root, "policy.yaml"), "--", "sh", "-c", `${script}; p=$$; while [ "$p" -gt 1 ]; do echo "@ $p $(cat /proc/$p/comm)"; p=$(awk '/^PPid:/ {print $2}' /proc/$p/status); done`];
  const env = childEnv({ SBC_CACHE_DIR: cache, HOME: root });
  // Asynchronous: the server answering curl runs in this process.
  const child = asNobody
    ? spawn("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", SBC, ...args], { cwd: ws, env })
    : spawn(SBC, args, { cwd: ws, env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const status = await new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  clearTimeout(timer);
  const all = stdout.trim().split("\n");
  const chain = new Map(all.filter((l) => l.startsWith("@ ")).map((l) => [Number(l.split(" ")[1]), l.split(" ")[2]]));
  // setpriv execs bin/sbc in its own process: the pid is the same.
  return { status, pid: child.pid!, err: stderr, lines: all.filter((l) => !l.startsWith("@ ")), by: chain.get(child.pid!) === "sbc-loader" ? "loader" : "node", chain };
}

function setup(owner?: number): string {
  const root = realpathSync(mkdtempSync("/var/tmp/sbc-proxy-fast-"));
  mkdirSync(join(root, "ws"));
  writeFileSync(join(root, "policy.yaml"), policy());
  chmodSync(root, 0o755);
  if (owner !== undefined) for (const p of [root, join(root, "ws"), join(root, "policy.yaml")]) chownSync(p, owner, owner);
  return root;
}

const plans = (root: string) => (existsSync(join(root, "cache")) ? readdirSync(join(root, "cache")).filter((f) => f.endsWith(".plan")) : []);

const SCRIPT = () =>
  `curl -sS --noproxy '' http://localhost:${port}/hello.txt; echo; curl -sS --noproxy '' -p http://localhost:${port}/; echo; curl -sS --noproxy '' -x "$ALL_PROXY" http://localhost:${port}/; echo; curl -sS http://denied.test:${port}/; curl -sS -o /dev/null -w '%{http_code}\n' http://denied.test:${port}/; curl -sS -o /dev/null -w '%{http_code}' --noproxy '*' http://127.0.0.1:${port}/ 2>/dev/null; echo " direct=$?"`;

function expectConfined(r: Awaited<ReturnType<typeof run>>): void {
  expect(r.status, r.err).toBe(0);
  // Plain HTTP, a CONNECT tunnel (-p) and SOCKS5 with the name resolved by the proxy (ALL_PROXY, socks5h).
  expect(r.lines.slice(0, 3)).toEqual(["hello from the host", "hello from the host", "hello from the host"]);
  r.lines.splice(0, 2);
  expect(r.lines[1]).toBe(`sbc: connecting to \`denied.test:${port}\` is denied by the policy: no rule allows it (default deny)`);
  expect(r.lines[2]).toBe("403");
  // No route out: the host's loopback is not the sandbox's.
  expect(r.lines[3]).toMatch(/^000 direct=[1-9]/);
}

describeLoader("a domain policy from the plan cache, without Node (the relay decides from the plan)", () => {
  beforeAll(async () => {
    ensureBuilt();
    server = createServer((_req, res) => res.end("hello from the host"));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  itKernel("as root: the first run stores a plan with its table, the second runs it without Node, confined alike", async () => {
    dir = setup();
    const first = await run(dir, SCRIPT());
    expectConfined(first);
    expect(first.by).toBe("node");
    expect(plans(dir)).toHaveLength(1);
    const text = readFileSync(join(dir, "cache", plans(dir)[0]!), "utf8");
    expect(text).toMatch(/^proxy-table$/m);
    expect(text).toMatch(/^proxy-name allow localhost /m);

    const second = await run(dir, SCRIPT());
    expectConfined(second);
    expect(second.by, [...second.chain].join(" ")).toBe("loader");
    // Between the command and bin/sbc's process: no Node.
    const below = [...second.chain].slice(0, [...second.chain.keys()].indexOf(second.pid) + 1).map(([, comm]) => comm);
    expect(below).not.toContain("node");
  }, 150_000);

  itKernel("as uid 65534: the same, in a user namespace", async () => {
    const root = setup(NOBODY);
    try {
      const first = await run(root, SCRIPT(), true);
      expectConfined(first);
      expect(first.by).toBe("node");
      const second = await run(root, SCRIPT(), true);
      expectConfined(second);
      expect(second.by).toBe("loader");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 150_000);

  itKernel("ahead of time: `sbc compile -t linux` carries the table, and the loader runs the bundle alone, confined alike", async () => {
    const root = setup();
    try {
      const bundle = join(root, "policy.plan");
      const c = spawnSync(SBC, ["compile", join(root, "policy.yaml"), "-t", "linux", "-q", "-o", bundle, "-p", `workspace=${join(root, "ws")}`, "-p", `home=${root}`, "-p", "tmpdir=/var/tmp/sbc-none"], { encoding: "utf8", env: childEnv() });
      expect(c.status, c.stderr).toBe(0);
      expect(readFileSync(bundle, "utf8")).toMatch(/^proxy-name allow localhost /m);
      // No sbc anywhere: the loader alone, the plan on fd 3 (asynchronous: the server runs in this process).
      const child = spawn("sh", ["-c", `"${loaderPath()}" --plan-fd 3 -- sh -c "$0" 3< "${bundle}"`, SCRIPT()], { cwd: join(root, "ws"), env: childEnv({ HOME: root }) });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const status = await new Promise<number | null>((r) => child.on("close", (code) => r(code)));
      expectConfined({ status, pid: child.pid!, err, lines: out.trim().split("\n"), by: "loader", chain: new Map() });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 150_000);

  itKernel("a policy with HTTP method rules carries no table: never stored, every run through Node", async () => {
    const root = setup();
    try {
      writeFileSync(join(root, "policy.yaml"), policy().replace("      domains: [localhost]\n", "      domains: [localhost]\n      http-methods: [GET]\n"));
      for (let i = 0; i < 2; i++) {
        const r = await run(root, `curl -sS --noproxy '' http://localhost:${port}/x.txt; echo`);
        expect(r.status, r.err).toBe(0);
        expect(r.lines[0]).toBe("hello from the host");
        expect(r.by).toBe("node");
      }
      expect(plans(root)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 150_000);
});
