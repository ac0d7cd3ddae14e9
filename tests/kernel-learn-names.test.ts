// `sbc learn --network-by name` on the real kernel: the command runs behind the egress proxy in a network
// namespace of its own, and the names it asked for become rules by domain. A server on the host's loopback
// stands in for the registry (`--resolve registry.test=127.0.0.1`); the learned policy then lets `sbc exec`
// reach that name, and refuses another; the proxy's own listener and a tool ignoring the proxy variables are
// never learned as peers. As the test's user (root in CI) and as uid 65534.

import { spawn, spawnSync, type SpawnOptions } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BIN, childEnv, ensureBuilt } from "./support/cli.js";
import { itKernel } from "./support/kernel.js";
import { describeLoader, NOBODY, NO_USERNS_WRAPPER, SETPRIV_NOBODY } from "./support/loader.js";

const asRoot = process.getuid?.() === 0 && spawnOk("setpriv");
let root = "";
let server: Server | undefined;
let port = 0;

function spawnOk(cmd: string): boolean {
  return spawnSync(cmd, ["--version"]).status === 0;
}

/** `sbc ARGS`, awaited (the server lives in this process: a synchronous spawn would starve it). */
function sbc(args: readonly string[], opts: { cwd: string; home: string; nobody?: boolean; wrap?: readonly string[] }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const argv = [...(opts.wrap ?? []), ...(opts.nobody ? SETPRIV_NOBODY : []), process.execPath, BIN, ...args];
  const options: SpawnOptions = { cwd: opts.cwd, env: childEnv({ HOME: opts.home, TMPDIR: "/tmp", SBC_CACHE_DIR: join(opts.home, "plans"), XDG_CACHE_HOME: undefined }) };
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A home and a workspace for one run, owned by uid 65534 when it runs as that user. */
function place(name: string, nobody = false): { home: string; ws: string } {
  const home = join(root, name, "home");
  const ws = join(root, name, "ws");
  for (const d of [join(root, name), home, join(home, ".ssh"), ws]) {
    mkdirSync(d, { recursive: true });
    if (nobody) chownSync(d, NOBODY, NOBODY);
  }
  return { home, ws };
}

interface Rule {
  allow?: string;
  hosts?: string[];
  domains?: string[];
  ports?: number[];
}

/** Learn by name with curl over plain HTTP and CONNECT, plus one curl that ignores the proxy; then run the policy. */
async function learnAndRun(who: { home: string; ws: string; nobody?: boolean }): Promise<void> {
  const policy = join(who.ws, "L.yaml");
  const url = `http://registry.test:${port}/x`;
  // The last two go around the proxy: to the namespace's own loopback (in NO_PROXY anyway), and to an address
  // elsewhere (TEST-NET-1) with the proxy variables ignored; neither can connect there.
  const script = `curl -sS ${url} && curl -sS -p ${url} && curl -sS http://127.0.0.1:${port}/direct; curl -sS --noproxy '*' -m 5 http://192.0.2.1:${port}/direct; true`;
  const learned = await sbc(["learn", "--network-by", "name", "--resolve", "registry.test=127.0.0.1", "-o", policy, "--", "sh", "-c", script], { cwd: who.ws, home: who.home, nobody: who.nobody ?? false });
  if (who.nobody && learned.status === 125 && /network namespace/.test(learned.stderr)) {
    // A kernel without unprivileged user namespaces cannot give the namespace: refused before the command, said.
    console.warn(`uid ${NOBODY} could not get a network namespace here: ${learned.stderr.trim().split("\n").pop()}`);
    return;
  }
  expect(learned.status, learned.stderr).toBe(0);
  expect(learned.stdout).toBe("learned by name\nlearned by name\n");
  const text = readFileSync(policy, "utf8");
  const doc = parseYaml(text) as { network: { rules: Rule[] }; tests: Record<string, unknown>[] };
  const rules = doc.network.rules;
  expect(rules).toContainEqual({ allow: "connect", domains: ["registry.test"], ports: [port], reason: "seen while learning, through the egress proxy" });
  // The proxy's own listener inside the namespace is not a peer; nor is the address the curl went to directly.
  expect(rules.filter((r) => r.ports?.includes(3128))).toEqual([]);
  expect(text).not.toMatch(/127\.0\.0\.1:3128/); // not even for a person to review: it is how the names were learned
  expect(rules.filter((r) => r.hosts !== undefined && !/--resolve/.test(JSON.stringify(r)))).toEqual([]);
  expect(text).toMatch(new RegExp(`^# +tcp 127\\.0\\.0\\.1:${port}: connected directly to loopback \\(NO_PROXY lists it\\)`, "m"));
  expect(text).toMatch(new RegExp(`^# +tcp 192\\.0\\.2\\.1:${port}: connected directly, not through the egress proxy \\(the tool ignored the proxy variables\\)`, "m"));
  expect(doc.tests).toContainEqual({ connect: `registry.test:${port}`, expect: "allow" });

  const check = await sbc(["check", policy], { cwd: who.ws, home: who.home, nobody: who.nobody ?? false });
  expect(check.status, check.stdout + check.stderr).toBe(0);
  // The learned policy reaches the name it learned, and the proxy refuses another name on the same server.
  const run = await sbc(["exec", "--resolve", "registry.test=127.0.0.1", "--resolve", "other.test=127.0.0.1", policy, "--", "sh", "-c", `curl -sS ${url} && curl -sS -p ${url} && curl -sS -f http://other.test:${port}/x`], {
    cwd: who.ws,
    home: who.home,
    nobody: who.nobody ?? false,
  });
  expect(run.stdout).toBe("learned by name\nlearned by name\n");
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/403/);
}

describeLoader("sbc learn --network-by name", () => {
  beforeAll(async () => {
    ensureBuilt();
    root = realpathSync(mkdtempSync("/var/tmp/sbc-learn-names-"));
    chmodSync(root, 0o755);
    server = createServer((req, res) => res.end(req.url === "/x" ? "learned by name\n" : "direct\n"));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  itKernel("learns `domains: [registry.test]` through the proxy; exec of it reaches that name and refuses another", () => learnAndRun(place("self")), 240_000);

  itKernel("--format json carries the names asked of the proxy, with counts, beside `observed`", async () => {
    const who = place("json");
    const r = await sbc(["learn", "--network-by", "name", "--resolve", "registry.test=127.0.0.1", "--format", "json", "--", "sh", "-c", `curl -sS -o /dev/null http://registry.test:${port}/x && curl -sS -o /dev/null -x socks5h://127.0.0.1:3128 http://registry.test:${port}/x`], { cwd: who.ws, home: who.home });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { names: unknown[]; observed: Record<string, unknown>; policy: string };
    expect(j.names).toEqual([{ host: "registry.test", port, via: ["http", "socks5"], count: 2, addresses: ["127.0.0.1"], refused: 0 }]);
    expect(j.observed.names).toBeUndefined();
    expect(j.observed.network).toEqual([]);
    expect(j.policy).toContain("domains: [registry.test]");
  }, 240_000);

  itKernel("a private address the run was not told about is refused while learning, said, and not learned", async () => {
    const who = place("private");
    const r = await sbc(["learn", "--network-by", "name", "-o", join(who.ws, "P.yaml"), "--", "sh", "-c", `curl -sS -f http://10.255.255.1:${port}/x; true`], { cwd: who.ws, home: who.home });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the egress proxy refused http `10\.255\.255\.1:\d+`: .*private range/);
    const text = readFileSync(join(who.ws, "P.yaml"), "utf8");
    expect(text).toMatch(/^# +connect 10\.255\.255\.1:\d+: refused while learning/m);
    expect(text).not.toMatch(/hosts: \[10\.255\.255\.1\]/);
  }, 240_000);

  itKernel("`--resolve` without `--network-by name` is a usage error, and nothing runs", async () => {
    const who = place("usage");
    const r = await sbc(["learn", "--resolve", "a.test=127.0.0.1", "--", "sh", "-c", "touch ran"], { cwd: who.ws, home: who.home });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--network-by name");
  });

  const asNobody = asRoot ? itKernel : (name: string, fn: () => unknown, ms?: number) => it.skip(`${name} (skipped: needs root to switch to uid 65534)`, fn, ms);
  asNobody("as uid 65534: the same, in a user namespace", () => learnAndRun({ ...place("nobody", true), nobody: true }), 240_000);

  asNobody("fails closed where no network namespace can be made: 125, the command not run, no policy written", async () => {
    const who = place("no-userns", true);
    const policy = join(who.ws, "never.yaml");
    const r = await sbc(["learn", "--network-by", "name", "-o", policy, "--", "sh", "-c", "touch ran"], { cwd: who.ws, home: who.home, nobody: true, wrap: NO_USERNS_WRAPPER });
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/needs a network namespace/);
    expect(r.stderr).toContain("the command did not start: no policy written");
    expect(existsSync(policy)).toBe(false);
    expect(existsSync(join(who.ws, "ran"))).toBe(false);
  }, 240_000);
});
