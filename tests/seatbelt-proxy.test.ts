// `sbc debug seatbelt` with a policy that has rules by domain, as on macOS but on Linux: runSeatbelt with
// platform `darwin` and a stand-in sandbox-exec that records its arguments and environment and runs the command
// unsandboxed. Checked: the Node relay answers the command's curl through the proxy variables, the profile
// passed lets outbound traffic reach only localhost:PORT (the SBPL model), the relay stops when the command ends.

import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CANNOT_RUN } from "../cli/exit.js";
import { runSeatbelt } from "../cli/seatbelt-command.js";
import { sandboxedCommand, spawnSandboxedOn } from "../lib/spawn.js";
import { evaluateNetworkOp } from "../targets/sbpl/model.js";
import { readSbpl } from "../targets/sbpl/reader.js";
import { startUpstreams, type Upstreams } from "./support/relay-cases.js";
import { tempDir } from "./support/tmp.js";

let up: Upstreams;
let dir = "";
let fake = "";
let policy = "";

beforeAll(async () => {
  up = await startUpstreams();
  dir = tempDir("sbc-seatbelt-proxy-");
  fake = join(dir, "fake-sandbox-exec");
  // Records argv (NUL-separated) and the proxy variables, then runs what follows `--`, unsandboxed.
  writeFileSync(
    fake,
    `#!/bin/sh
for a in "$@"; do printf '%s\\0' "$a"; done > ${dir}/args
env | grep -E '^(HTTP_PROXY|http_proxy|HTTPS_PROXY|https_proxy|ALL_PROXY|all_proxy|NO_PROXY|no_proxy|npm_config_proxy|npm_config_https_proxy|npm_config_noproxy|NODE_USE_ENV_PROXY)=' | sort > ${dir}/env
while [ "$1" != "--" ]; do shift; done; shift
exec "$@"
`,
  );
  chmodSync(fake, 0o755);
  policy = join(dir, "p.yaml");
  writeFileSync(
    policy,
    `sbc: 1
name: seatbelt-proxy
network:
  rules:
    - allow: connect
      domains: [allowed.test]
    - allow: connect
      hosts: [127.0.0.1]
      ports: [${up.port4}]
`,
  );
});
afterAll(() => up?.close());

const opts = (extra: object = {}) => ({ param: [], color: false, ...extra });

describe("sbc debug seatbelt behind the Node relay (a stand-in sandbox-exec)", () => {
  it("starts the proxy, passes its port to the profile and the variables to the command, and stops it after", async () => {
    const out = join(dir, "out");
    const script = [
      `curl -sS --max-time 10 http://allowed.test:${up.port4}/plain > ${out}.plain 2>&1`,
      `curl -sS --max-time 10 -p http://allowed.test:${up.port4}/tunnel > ${out}.tunnel 2>&1`,
      `curl -sS --max-time 10 http://other.test:${up.port4}/denied > ${out}.denied 2>&1`,
      "exit 3",
    ].join("; ");
    const log = join(dir, "net.jsonl");
    const status = await runSeatbelt(policy, ["sh", "-c", script], opts({ resolve: ["allowed.test=127.0.0.1", "other.test=127.0.0.1"], networkLog: log }), "darwin", fake);
    expect(status).toBe(3);

    const env = Object.fromEntries(readFileSync(join(dir, "env"), "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(env.HTTP_PROXY!)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(env).toEqual({
      HTTP_PROXY: `http://127.0.0.1:${port}`,
      http_proxy: `http://127.0.0.1:${port}`,
      HTTPS_PROXY: `http://127.0.0.1:${port}`,
      https_proxy: `http://127.0.0.1:${port}`,
      ALL_PROXY: `socks5h://127.0.0.1:${port}`,
      all_proxy: `socks5h://127.0.0.1:${port}`,
      NO_PROXY: "localhost,127.0.0.1,::1",
      no_proxy: "localhost,127.0.0.1,::1",
      npm_config_proxy: `http://127.0.0.1:${port}`,
      npm_config_https_proxy: `http://127.0.0.1:${port}`,
      npm_config_noproxy: "localhost,127.0.0.1,::1",
      NODE_USE_ENV_PROXY: "1",
    });

    expect(readFileSync(`${out}.plain`, "utf8")).toBe(`GET /plain host=allowed.test:${up.port4} connection=close proxy-connection=- body=-\n`);
    expect(readFileSync(`${out}.tunnel`, "utf8")).toBe(`GET /tunnel host=allowed.test:${up.port4} connection=- proxy-connection=- body=-\n`);
    expect(readFileSync(`${out}.denied`, "utf8")).toBe(`sbc: connecting to \`other.test:${up.port4}\` is denied by the policy: no rule allows it (default deny)\n`);
    const records = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => `${r.via} ${r.host} ${r.decision}`).sort()).toEqual(["connect allowed.test allow", "http allowed.test allow", "http other.test deny"]);
    expect(records.find((r) => r.via === "connect")).toMatchObject({ address: "127.0.0.1", upstream: "ok", rule: "allow connect allowed.test port any", location: `${policy}:5:7` });

    // The profile sandbox-exec got: outbound TCP only to the proxy's port on localhost.
    const argv = readFileSync(join(dir, "args"), "utf8").split("\0").slice(0, -1);
    expect(argv[0]).toBe("-p");
    const defines = new Map<string, string>();
    for (let i = 2; argv[i] === "-D"; i += 2) {
      const kv = argv[i + 1]!;
      defines.set(kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1));
    }
    const read = readSbpl(argv[1]!, "fake.sb");
    if (!read.profile) throw new Error(read.diagnostics.map((d) => d.message).join("\n"));
    const outbound = (host: string, p: number) => evaluateNetworkOp(read.profile!, "network-outbound", { kind: "ip", host, port: p, protocol: "tcp" }, defines).decision;
    expect(outbound("127.0.0.1", port)).toBe("allow");
    expect(outbound("127.0.0.1", port + 1 === 65536 ? port - 1 : port + 1)).toBe("deny");
    expect(outbound("93.184.216.34", 443)).toBe("deny");
    expect(outbound("93.184.216.34", 80)).toBe("deny");
    expect(evaluateNetworkOp(read.profile!, "network-outbound", { kind: "ip", host: "8.8.8.8", port: 53, protocol: "udp" }, defines).decision).toBe("deny");

    // The relay is gone once the command has ended.
    await expect(
      new Promise((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port }, () => resolve(s.destroy()));
        s.on("error", reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it("a network log that cannot be written: SBC1422, 125, the command not run", async () => {
    const marker = join(dir, "ran");
    const status = await runSeatbelt(policy, ["touch", marker], opts({ networkLog: join(dir, "missing", "net.jsonl") }), "darwin", fake);
    expect(status).toBe(EXIT_CANNOT_RUN);
    expect(existsSync(marker)).toBe(false);
  });

  it("a policy without rules by domain: no proxy, no proxy variables", async () => {
    const plain = join(dir, "plain.yaml");
    writeFileSync(plain, "sbc: 1\nname: plain\nnetwork:\n  rules:\n    - allow: connect\n      hosts: [127.0.0.1]\n      ports: [80]\n");
    const status = await runSeatbelt(plain, ["true"], opts(), "darwin", fake);
    expect(status).toBe(0);
    // (npx, which may run this suite, sets an empty npm_config_noproxy of its own)
    expect(readFileSync(join(dir, "env"), "utf8")).not.toMatch(/127\.0\.0\.1|socks5h|NODE_USE_ENV_PROXY/);
  });

  it("--resolve that is not NAME=ADDR is a usage error", async () => {
    await expect(runSeatbelt(policy, ["true"], opts({ resolve: ["nonsense"] }), "darwin", fake)).rejects.toThrow(/is not NAME=ADDR/);
  });
});

describe("spawnSandboxed on macOS behind the Node relay (a stand-in sandbox-exec)", () => {
  it("sandboxedCommand says the profile's proxy port and the variables; spawnSandboxed starts the relay there and stops it", async () => {
    const cmd = await sandboxedCommand({ kind: "file", path: policy }, ["true"], { platform: "darwin" });
    expect(cmd.proxy?.port).toBe(3128);
    expect(cmd.proxy?.env.HTTPS_PROXY).toBe("http://127.0.0.1:3128");
    expect(cmd.diagnostics.map((d) => d.code)).toContain("SBC1423");

    const child = await spawnSandboxedOn("darwin", fake, { kind: "file", path: policy }, ["sh", "-c", `curl -sS --max-time 10 http://allowed.test:${up.port4}/spawned; echo "rc=$?"; curl -sS --max-time 10 http://other.test/; echo`], {
      resolve: { "allowed.test": ["127.0.0.1"] },
    });
    const port = child.sandbox.proxy!.port!;
    expect(port).not.toBe(3128);
    const profile = child.sandbox.args[1]!;
    const p = readSbpl(profile, "spawn.sb").profile!;
    expect(evaluateNetworkOp(p, "network-outbound", { kind: "ip", host: "127.0.0.1", port, protocol: "tcp" }).decision).toBe("allow");
    expect(evaluateNetworkOp(p, "network-outbound", { kind: "ip", host: "127.0.0.1", port: 3128, protocol: "tcp" }).decision).toBe(port === 3128 ? "allow" : "deny");
    let stdout = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(stdout).toBe(
      `GET /spawned host=allowed.test:${up.port4} connection=close proxy-connection=- body=-\nrc=0\n` +
        "sbc: connecting to `other.test:80` is denied by the policy: no rule allows it (default deny)\n\n",
    );
    await expect(
      new Promise((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port }, () => resolve(s.destroy()));
        s.on("error", reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
