// Issue 16's acceptance on the real kernel: `sbc exec` with rules by domain runs the command in a network
// namespace of its own behind the egress proxy (the loader's relay, decisions in Node). Every server is
// started here on the host's loopback; names map to 127.0.0.1 through `--resolve`, with a policy that names
// 127.0.0.1 so the check after resolution lets them through. Real clients: curl, git (dumb HTTP), npm (a
// registry stub), pip (a simple index with a wheel built here); then what must fail: a name no rule allows,
// a direct connect to the host, UDP, DNS, a name resolving into a private range; as root and as uid 65534.

import { spawn, spawnSync, type SpawnOptions } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { childEnv, ensureBuilt, sbc, BIN, REPO, type RunResult } from "./support/cli.js";
import { describeKernel, itKernel } from "./support/kernel.js";

const LOADER = join(REPO, "native", "build", "sbc-loader");
const NOBODY = 65534;
let ws = "";
let srv = "";
let server: Server | undefined;
let port = 0;
const hits: string[] = [];

/** A policy with rules by domain on the server's port; `named`: also name 127.0.0.1 (else the private-range check refuses). */
function policy(named = true, extra = ""): string {
  return `sbc: 1
name: proxy-acceptance
extends: workspace-write
network:
  rules:
    - allow: connect
      domains: [allowed.test, git.test, npm.test, pypi.test]
      ports: [${port}]
      reason: the test's servers
    - deny: connect
      domains: [blocked.allowed.test]
${named ? `    - allow: connect\n      hosts: [127.0.0.1]\n      ports: [${port}]\n` : ""}${extra}`;
}

const RESOLVE = ["allowed.test", "git.test", "npm.test", "pypi.test", "blocked.allowed.test", "denied.test"].flatMap((n) => ["--resolve", `${n}=127.0.0.1`]);

function writePolicy(name: string, text: string): string {
  const p = join(ws, name);
  writeFileSync(p, text);
  chmodSync(p, 0o644);
  return p;
}

function run(policyFile: string, script: string, extra: readonly string[] = [], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return sbc(["exec", policyFile, ...RESOLVE, ...extra, "--", "sh", "-c", script], { cwd: ws, env, timeoutMs: 60_000 });
}

/** A wheel pip accepts: a zip with the package, METADATA, WHEEL and RECORD. */
function buildWheel(dir: string): string {
  const file = join(dir, "tinypkg-1.0-py3-none-any.whl");
  const py = `
import zipfile, hashlib, base64, sys
files = {
  "tinypkg/__init__.py": b"VALUE = 1\\n",
  "tinypkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: tinypkg\\nVersion: 1.0\\n",
  "tinypkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: sbc-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
for name, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(data)}")
record.append("tinypkg-1.0.dist-info/RECORD,,")
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
    z.writestr("tinypkg-1.0.dist-info/RECORD", "\\n".join(record) + "\\n")
`;
  const r = spawnSync("python3", ["-c", py, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return file;
}

function sh(cmd: string, cwd: string): void {
  const r = spawnSync("sh", ["-c", cmd], { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

describeKernel("sbc exec behind the egress proxy (rules by domain)", () => {
  beforeAll(async () => {
    ensureBuilt();
    if (!existsSync(LOADER)) spawnSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { stdio: "inherit" });
    ws = mkdtempSync("/var/tmp/sbc-proxy-ws-");
    srv = mkdtempSync("/var/tmp/sbc-proxy-srv-");
    // A git repository served over dumb HTTP: a bare clone with its info/refs.
    mkdirSync(join(srv, "src"));
    sh("git init -q && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m one && git clone -q --bare . ../repo.git && cd ../repo.git && git update-server-info", join(srv, "src"));
    // A simple index with one wheel.
    mkdirSync(join(srv, "files"));
    buildWheel(join(srv, "files"));
    mkdirSync(join(srv, "simple", "tinypkg"), { recursive: true });
    writeFileSync(join(srv, "simple", "tinypkg", "index.html"), '<!DOCTYPE html><html><body><a href="../../files/tinypkg-1.0-py3-none-any.whl">tinypkg-1.0-py3-none-any.whl</a></body></html>\n');
    writeFileSync(join(srv, "hello.txt"), "hello through the proxy\n");
    server = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
      hits.push(`${req.headers.host} ${path}`);
      if (path === "/tinypkg") {
        // The npm registry's packument for one version.
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ name: "tinypkg", "dist-tags": { latest: "1.2.3" }, versions: { "1.2.3": { name: "tinypkg", version: "1.2.3", dist: { tarball: `http://npm.test:${port}/tinypkg/-/tinypkg-1.2.3.tgz`, shasum: "0".repeat(40) } } } }));
        return;
      }
      let file = join(srv, path);
      if (existsSync(file) && isDirectory(file)) file = join(file, "index.html");
      if (!file.startsWith(srv + "/") || !existsSync(file)) {
        res.statusCode = 404;
        res.end("not found\n");
        return;
      }
      if (file.endsWith(".html")) res.setHeader("content-type", "text/html");
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    rmSync(ws, { recursive: true, force: true });
    rmSync(srv, { recursive: true, force: true });
  });

  itKernel("curl reaches an allowed name by plain HTTP, CONNECT and SOCKS5; the network log has each connection", async () => {
    const p = writePolicy("p.yaml", policy());
    const log = join(ws, "net.jsonl");
    const r = await run(
      p,
      `curl -sS http://allowed.test:${port}/hello.txt && curl -sS -p http://allowed.test:${port}/hello.txt && curl -sS -x socks5h://127.0.0.1:3128 http://allowed.test:${port}/hello.txt`,
      ["--network-log", log],
    );
    expect(r.stderr).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hello through the proxy\n".repeat(3));
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.host, l.port, l.decision, l.via, l.address])).toEqual([
      ["allowed.test", port, "allow", "http", "127.0.0.1"],
      ["allowed.test", port, "allow", "connect", "127.0.0.1"],
      ["allowed.test", port, "allow", "socks5", "127.0.0.1"],
    ]);
    expect(lines[0]).toMatchObject({ rule: `allow connect allowed.test, git.test, npm.test, pypi.test port ${port}`, location: `${p}:6:7`, upstream: "ok" });
    expect(lines.every((l) => typeof l.bytesDown === "number" && (l.bytesDown as number) > 20 && typeof l.time === "string")).toBe(true);
  });

  itKernel("git ls-remote over dumb HTTP through the proxy", async () => {
    const r = await run(writePolicy("p.yaml", policy()), `git ls-remote http://git.test:${port}/repo.git`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{40}\tHEAD\n/);
    expect(r.stdout).toMatch(/refs\/heads\/(main|master)\n/);
  });

  itKernel("npm view against a registry stub through the proxy (npm_config_proxy)", async () => {
    const r = await run(writePolicy("p.yaml", policy()), `npm view tinypkg version --registry http://npm.test:${port}/`, [], { npm_config_cache: join(ws, ".npm"), npm_config_update_notifier: "false" });
    expect(r.stderr).not.toMatch(/ERR!/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("1.2.3");
    expect(hits).toContain(`npm.test:${port} /tinypkg`);
  });

  itKernel("pip download from a simple index through the proxy", async () => {
    const dl = join(ws, "dl");
    const r = await run(writePolicy("p.yaml", policy()), `python3 -m pip download tinypkg --no-deps --no-cache-dir --disable-pip-version-check --index-url http://pypi.test:${port}/simple/ --trusted-host pypi.test -d ${dl}`, [], {
      // This machine's pip settings (extra indexes, find-links) are not the test's.
      PIP_CONFIG_FILE: "/dev/null",
      PIP_FIND_LINKS: undefined,
      PIP_DEFAULT_TIMEOUT: "10",
    });
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    expect(readdirSync(dl)).toEqual(["tinypkg-1.0-py3-none-any.whl"]);
  });

  itKernel("HTTP method and path rules: pip reads the index over plain HTTP; another path, a POST and a CONNECT are refused", async () => {
    const dl = join(ws, "dl-http");
    const text = policy().replace("domains: [allowed.test, git.test, npm.test, pypi.test]", "domains: [allowed.test, git.test, npm.test]") +
      `    - allow: connect\n      domains: [pypi.test]\n      ports: [${port}]\n      http-methods: [GET]\n      http-paths: ["/simple/**", "/files/*.whl"]\n`;
    const p = writePolicy("p-http.yaml", text);
    const r = await run(
      p,
      `python3 -m pip download tinypkg --no-deps --no-cache-dir --index-url http://pypi.test:${port}/simple/ --trusted-host pypi.test -d ${dl} >/dev/null 2>&1; echo pip=$?; ` +
        `curl -sS -w ' %{http_code}\n' http://pypi.test:${port}/hello.txt; curl -sS -w ' %{http_code}\n' -X POST http://pypi.test:${port}/simple/; curl -sS -p http://pypi.test:${port}/simple/ 2>&1 | head -c 300; echo`,
      [],
      { PIP_CONFIG_FILE: "/dev/null", PIP_FIND_LINKS: undefined, PIP_DEFAULT_TIMEOUT: "10" },
    );
    expect(r.stdout).toContain("pip=0\n");
    expect(readdirSync(dl)).toEqual(["tinypkg-1.0-py3-none-any.whl"]);
    expect(r.stdout).toContain(`sbc: connecting to \`pypi.test:${port}\` is denied by the policy: no rule allows it (default deny)\n 403\n`);
    // The other path and the POST (and curl's line for the refused tunnel, `response 403`).
    expect(r.stdout.match(/ 403\n/g)).toHaveLength(3);
    // CONNECT: curl reports the proxy's refusal of the tunnel.
    expect(r.stdout).toMatch(/CONNECT.*403|403.*CONNECT|CONNECT tunnel failed, response 403/);
  });

  itKernel("a name no rule allows, or a rule denies, gets the proxy's 403 naming the rule; SOCKS5 its rule-failure code", async () => {
    const p = writePolicy("p.yaml", policy());
    const r = await run(p, `curl -sS -w ' %{http_code}\\n' http://denied.test:${port}/hello.txt; curl -sS -w ' %{http_code}\\n' http://blocked.allowed.test:${port}/; curl -sS -x socks5h://127.0.0.1:3128 http://denied.test:${port}/ 2>&1; echo socks=$?`);
    expect(r.stdout).toContain(`sbc: connecting to \`denied.test:${port}\` is denied by the policy: no rule allows it (default deny)\n 403\n`);
    expect(r.stdout).toContain(`sbc: connecting to \`blocked.allowed.test:${port}\` is denied by the rule \`deny connect blocked.allowed.test port any\` at ${p}:10:7\n 403\n`);
    // curl 97: the SOCKS5 proxy refused the connection (reply 0x02: not allowed by ruleset).
    expect(r.stdout).toMatch(/socks=97/);
    expect(hits.some((h) => h.startsWith("denied.test") || h.startsWith("blocked."))).toBe(false);
  });

  itKernel("an allowed name that resolves to a private address is refused unless a rule names it", async () => {
    const r = await run(writePolicy("p-unnamed.yaml", policy(false)), `curl -sS -w ' %{http_code}\\n' http://allowed.test:${port}/hello.txt`);
    expect(r.stdout).toContain(`sbc: \`allowed.test:${port}\` resolves to 127.0.0.1, in the loopback range 127.0.0.0/8, which no rule names`);
    expect(r.stdout).toMatch(/ 403\n$/);
  });

  itKernel("a direct connect() to the host's 127.0.0.1 fails, and so does a UDP send; DNS has no server", async () => {
    const py = `
import socket
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.1", ${port})); print("direct: connected")
except OSError as e:
    print("direct:", type(e).__name__)
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"x", ("8.8.8.8", 53)); print("udp: sent")
except OSError as e:
    print("udp:", type(e).__name__)
try:
    socket.getaddrinfo("example.com", 443); print("dns: resolved")
except OSError as e:
    print("dns:", type(e).__name__)
`;
    const r = await run(writePolicy("p.yaml", policy()), `python3 -c '${py}'`);
    expect(r.code).toBe(0);
    // Nothing listens on the port in the sandbox's own loopback; the host's server is not reachable.
    expect(r.stdout).toContain("direct: ConnectionRefusedError");
    expect(r.stdout).toContain("udp: PermissionError");
    expect(r.stdout).toContain("dns: gaierror");
    // Even where the policy allows UDP (seccomp lets the socket through), the namespace has no route out.
    const udp = await run(writePolicy("p-udp.yaml", policy(true, "    - allow: connect\n      protocol: udp\n      hosts: any\n      ports: [53]\nlinux:\n  accept-widening: [udp]\n")), `python3 -c '${py}'`);
    expect(udp.stderr).not.toMatch(/error\[/);
    expect(udp.stdout).toContain("udp: OSError");
    expect(udp.stdout).toContain("dns: gaierror");
  });

  itKernel("--explain reports the proxy's refusals with the rule that would allow the name", async () => {
    const r = await run(writePolicy("p.yaml", policy()), `curl -sS -o /dev/null http://denied.test:${port}/`, ["--explain"]);
    expect(r.stderr).toContain(`- proxy: connect \`denied.test:${port}\` (HTTP GET) → 403`);
    expect(r.stderr).toMatch(new RegExp(`- allow: connect\\n\\s+domains: \\[denied\\.test\\]\\n\\s+ports: \\[${port}\\]`));
  });

  itKernel("spawnSandboxed runs a policy with rules by domain behind the proxy too (the library, no CLI)", async () => {
    const { spawnSandboxed } = await import("../lib/spawn.js");
    const child = await spawnSandboxed({ kind: "text", text: policy(), syntax: "yaml", path: join(ws, "lib.yaml") }, ["sh", "-c", `curl -sS http://allowed.test:${port}/hello.txt; curl -sS http://denied.test:${port}/; echo; echo $HTTPS_PROXY`], {
      cwd: ws,
      // Written as a caller might: the names are normalized as --resolve's are (lookups use the normal form).
      resolve: { "Allowed.TEST.": ["127.0.0.1"], "denied.test": ["127.0.0.1"] },
    });
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (x: string) => (out += x));
    const code = await new Promise((r) => child.on("close", r));
    expect(code).toBe(0);
    expect(out).toBe(`hello through the proxy\nsbc: connecting to \`denied.test:${port}\` is denied by the policy: no rule allows it (default deny)\n\nhttp://127.0.0.1:3128\n`);
    expect(child.sandbox.proxy?.fd).toBe(4);
    // A bad entry is refused before anything runs.
    await expect(spawnSandboxed({ kind: "text", text: policy(), syntax: "yaml", path: join(ws, "lib.yaml") }, ["true"], { cwd: ws, resolve: { "allowed.test": ["not-an-ip"] } })).rejects.toThrow(
      /`resolve` entry `allowed.test`: `not-an-ip` is not an IP address/,
    );
  });

  // A plain run of a domain policy is cached and runs Node-free later (tests/kernel-proxy-fast-path.test.ts); a
  // run with `--resolve` or `--network-log` needs the decision service, so bin/sbc never takes the fast path.
  itKernel("the plan of a run with --resolve is never cached; bin/sbc runs it through Node every time", async () => {
    const p = writePolicy("p.yaml", policy());
    const cache = mkdtempSync("/var/tmp/sbc-proxy-cache-");
    try {
      for (let i = 0; i < 2; i++) {
        const r = await spawnAsync(join(REPO, "bin", "sbc"), ["exec", p, ...RESOLVE, "--", "curl", "-sS", `http://allowed.test:${port}/hello.txt`], { cwd: ws, env: childEnv({ SBC_CACHE_DIR: join(cache, "plans") }) });
        expect(r.stdout).toBe("hello through the proxy\n");
        expect(r.status).toBe(0);
      }
      expect(existsSync(join(cache, "plans")) ? readdirSync(join(cache, "plans")).filter((f) => !f.startsWith(".")) : []).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  itKernel("a proxy that cannot start stops exec with 125 before the command runs", async () => {
    const marker = join(ws, "ran");
    const r = await run(writePolicy("p.yaml", policy()), `touch ${marker}`, ["--network-log", "/nonexistent/dir/net.jsonl"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("error[SBC1422]: cannot write the network log `/nonexistent/dir/net.jsonl`: ENOENT; the command is not run");
    expect(existsSync(marker)).toBe(false);
  });

  itKernel("a malformed domain pattern or port gets a coded diagnostic with its span, exit 1", async () => {
    const marker = join(ws, "ran-bad");
    const bad = writePolicy("bad.yaml", "sbc: 1\nname: bad\nnetwork:\n  rules:\n    - allow: connect\n      domains: [\"*.com\", \"a..b.example\"]\n      ports: [443]\n");
    const r = await run(bad, `touch ${marker}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[SBC1400\]: `\*\.com` covers a whole top-level domain\n\s+--> .*bad\.yaml:6:17/);
    expect(r.stderr).toMatch(/error\[SBC1400\]: `a\.\.b\.example` is not a valid domain pattern.*\n\s+--> .*bad\.yaml:6:26/);
    const badPort = writePolicy("bad-port.yaml", "sbc: 1\nname: bad\nnetwork:\n  rules:\n    - allow: connect\n      domains: [a.example]\n      ports: [70000]\n");
    const p = await run(badPort, `touch ${marker}`);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/error\[SBC0701\]: port `70000` is out of 0–65535\n\s+--> .*bad-port\.yaml:7:15/);
    expect(existsSync(marker)).toBe(false);
  });

  itKernel("unprivileged (uid 65534): the same run works in a user namespace", async () => {
    const home = mkdtempSync("/var/tmp/sbc-proxy-nobody-");
    chownSync(home, NOBODY, NOBODY);
    const p = join(home, "p.yaml");
    writeFileSync(p, policy());
    chownSync(p, NOBODY, NOBODY);
    try {
      const r = await spawnAsync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", process.execPath, BIN, "exec", p, ...RESOLVE, "--", "sh", "-c", `curl -sS http://allowed.test:${port}/hello.txt; curl -sS http://denied.test:${port}/; echo`], {
        cwd: home,
        env: childEnv({ HOME: home, SBC_CACHE_DIR: join(home, "plans") }),
      });
      if (r.stderr.includes("namespace") && r.status === 125) {
        // A kernel that refuses unprivileged user namespaces cannot give the network namespace: refused, said.
        expect(r.stderr).toMatch(/network namespace/);
        return;
      }
      expect(r.stdout).toBe(`hello through the proxy\nsbc: connecting to \`denied.test:${port}\` is denied by the policy: no rule allows it (default deny)\n\n`);
      expect(r.status).toBe(0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

function isDirectory(p: string): boolean {
  return statSync(p).isDirectory();
}

/** spawn, awaited: the servers live in this process, so a synchronous spawn would starve them. */
function spawnAsync(cmd: string, args: readonly string[], options: SpawnOptions): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
