// What `sbc exec` adds to a run behind the egress proxy: the environment that points the command's tools at
// the proxy (docs/proxy.md lists who reads what), and the `--network-log` file (one JSON line per
// connection). The decisions themselves are lib/proxy/decide.ts; the channel lib/proxy/service.ts.

import { closeSync, openSync, writeSync } from "node:fs";
import type { NetworkEvent } from "./service.js";

/**
 * The variables a command reads to use a proxy. The standard ones in both cases (curl reads the lower-case
 * `http_proxy` only; Python's urllib, requests and so pip, git (through libcurl), Go, Ruby, Rust and wget
 * read one or the other), `ALL_PROXY` for SOCKS5 with names resolved by the proxy (`socks5h`), `NO_PROXY` so
 * the sandbox's own loopback is reached directly, npm's own (npm ignores HTTP_PROXY before v9's
 * `npm_config_*` fallbacks), and Node 22.21+/24's NODE_USE_ENV_PROXY for Node's own fetch and http.
 */
export function proxyEnvironment(port: number): Record<string, string> {
  const http = `http://127.0.0.1:${port}`;
  const socks = `socks5h://127.0.0.1:${port}`;
  const none = "localhost,127.0.0.1,::1";
  return {
    HTTP_PROXY: http,
    http_proxy: http,
    HTTPS_PROXY: http,
    https_proxy: http,
    ALL_PROXY: socks,
    all_proxy: socks,
    NO_PROXY: none,
    no_proxy: none,
    npm_config_proxy: http,
    npm_config_https_proxy: http,
    npm_config_noproxy: none,
    NODE_USE_ENV_PROXY: "1",
  };
}

/** The `--network-log` file: created (truncated) before the command runs; one JSON line per connection. */
export class NetworkLog {
  private constructor(private fd: number | undefined) {}

  /** Why the log stopped (a write failed: a full disk, say), once; the run goes on without it. */
  failure: string | undefined;

  /** Open the file, or why it cannot be opened. */
  static open(path: string): NetworkLog | { error: string } {
    try {
      return new NetworkLog(openSync(path, "w", 0o600));
    } catch (e) {
      return { error: `cannot write the network log \`${path}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  }

  write(e: NetworkEvent): void {
    if (this.fd === undefined) return;
    const { time, host, port, decision, rule, ...rest } = e;
    try {
      writeSync(this.fd, JSON.stringify({ time, host, port, decision, rule, ...rest }) + "\n");
    } catch (err) {
      // Thrown here it would be an uncaught exception in the channel's handler, ending `sbc exec` (and the
      // relay's decisions) while the command runs: the log stops instead, and the caller says so.
      this.failure = `the network log stopped: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      this.close();
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
