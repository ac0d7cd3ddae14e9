// The egress proxy's relay in Node, for macOS (no network namespace there, no loader): the protocols of the
// loader's C relay (native/loader/relay.c, native/README.md "The egress proxy") with the same answers, limits
// and refusals, on 127.0.0.1 of the host, asking the decision service in process instead of over a channel.

import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { getSystemErrorMap } from "node:util";
import { formatIp } from "../../ir/values.js";
import type { ProxyRequest } from "./decide.js";

/** What the relay needs of a decision: where to connect, or the refusal's status and text. */
export type RelayAnswer =
  | { readonly decision: "allow"; readonly address: string; readonly port: number }
  | { readonly decision: "deny"; readonly status: number; readonly text: string };

/**
 * Who decides (DecisionService in process): the relay's `Q`, `R` and `X` lines as calls. `ask` names the
 * request by an id the later reports use; `upstream` gets null when the connect succeeded, else the errno name.
 */
export interface RelayDecider {
  ask(request: ProxyRequest): Promise<{ readonly id: string; readonly answer: RelayAnswer }>;
  upstream(id: string, errno: string | null): void;
  done(id: string, up: number, down: number): void;
}

export interface NodeRelay {
  /** The ephemeral port on 127.0.0.1. */
  readonly port: number;
  /** Stop accepting; let open connections finish for up to `drainMs` (the C relay's 0.5 s), then cut them. */
  close(drainMs?: number): Promise<void>;
}

// The C relay's limits (relay.c), the same numbers.
const HANDSHAKE_MS = 10_000;
const DECISION_MS = 30_000;
const CONNECT_MS = 30_000;
const MAX_HEADER = 16_384;
const MAX_CONNECTIONS = 1024;
const DRAIN_MS = 500;

const CHANNEL_GONE = "sbc: the egress proxy cannot reach its policy decider (`sbc exec`); connection refused";
const DECIDER_SLOW = "sbc: the egress proxy's policy decider did not answer in time; connection refused";

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  407: "Proxy Authentication Required",
  411: "Length Required",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** glibc's strerror for the connect failures that matter (the C relay's texts); libuv's text otherwise. */
const STRERROR: Readonly<Record<string, string>> = {
  ECONNREFUSED: "Connection refused",
  ETIMEDOUT: "Connection timed out",
  ENETUNREACH: "Network is unreachable",
  EHOSTUNREACH: "No route to host",
  ECONNRESET: "Connection reset by peer",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
};

function strerror(code: string, errno: number | undefined): string {
  if (STRERROR[code]) return STRERROR[code]!;
  const uv = errno !== undefined ? getSystemErrorMap().get(errno)?.[1] : undefined;
  return uv ? uv.charAt(0).toUpperCase() + uv.slice(1) : code;
}

function httpReply(text: string, status: number): Buffer {
  const reason = REASONS[status] ?? (status < 500 ? "Client Error" : "Server Error");
  const body = Buffer.from(`${text}\n`, "latin1");
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, "latin1"),
    body,
  ]);
}

const socksReply = (rep: number) => Buffer.from([5, rep, 0, 1, 0, 0, 0, 0, 0, 0]);
const socksCodeFor = (status: number) => (status === 403 ? 0x02 : status === 502 || status === 504 ? 0x04 : 0x01);

/** What a `Q` may carry as a host: printable, no space, 1-255 bytes. */
function hostOk(h: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(h);
}

/** relay.c's parse_decimal: digits, no leading zero, at most `max`. */
function decimal(s: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return undefined;
  const v = Number(s);
  return v <= max ? v : undefined;
}

/** `host:port`, `[v6]:port` or, with defaultPort, a bare host; undefined where relay.c's split_authority fails. */
function splitAuthority(a: string, defaultPort: number): { host: string; port: number } | undefined {
  let host: string;
  let portText: string | undefined;
  if (a.startsWith("[")) {
    const close = a.indexOf("]");
    if (close < 0) return undefined;
    host = a.slice(1, close);
    const rest = a.slice(close + 1);
    if (rest.length) {
      if (rest[0] !== ":") return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = a.lastIndexOf(":");
    host = colon >= 0 ? a.slice(0, colon) : a;
    if (host.includes(":")) return undefined; // IPv6 without brackets: where its port starts is a guess
    if (colon >= 0) portText = a.slice(colon + 1);
  }
  if (!host.length || host.length > 255 || host.includes("@")) return undefined;
  if (portText !== undefined) {
    if (!portText.length || portText.length > 5) return undefined;
    const port = decimal(portText, 65535);
    return port ? { host, port } : undefined;
  }
  if (!defaultPort || !hostOk(host)) return undefined;
  return { host, port: defaultPort };
}

/** inet_ntop's spelling of a SOCKS5 address (IPv6 in RFC 5952 form, IPv4-mapped as `::ffff:a.b.c.d`). */
function formatAddress(bytes: Buffer): string {
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  return formatIp({ family: bytes.length === 4 ? 4 : 6, bits });
}

const headerIs = (line: string, name: string) => line.length > name.length && line.slice(0, name.length).toLowerCase() === name.toLowerCase() && line[name.length] === ":";

/** One client connection: the handshake read into `buf`, then the decision, the upstream and the copy. */
class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private ended = false;
  /** The client has half-closed (it may do so right after its request). */
  private eof = false;
  private readonly deadline: NodeJS.Timeout;
  upstream: Socket | undefined;
  /** The upstream connection being made, until it connects or fails. */
  private connecting: Socket | undefined;

  constructor(
    readonly client: Socket,
    private readonly decider: RelayDecider,
  ) {
    client.setNoDelay(true);
    client.on("data", this.onData);
    client.on("end", () => {
      this.eof = true;
      this.stop();
    });
    client.on("error", () => this.stop());
    client.on("close", () => this.stop());
    this.deadline = setTimeout(() => this.stop(), HANDSHAKE_MS);
  }

  /** Ends the connection now, both sides and an upstream connection still being made (the relay's close). */
  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
    this.connecting?.destroy();
  }

  private readonly onData = (chunk: Buffer) => {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.buf.length >= MAX_HEADER) this.client.pause(); // the C relay reads no further than its buffer
    this.wake();
  };

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private stop(): void {
    this.ended = true;
    this.wake();
  }

  /** At least `n` bytes of handshake (within the C relay's 16 KiB buffer); false on EOF, error or time-out. */
  private async need(n: number): Promise<boolean> {
    while (this.buf.length < n) {
      if (this.ended || this.buf.length >= MAX_HEADER) return false;
      await new Promise<void>((r) => (this.waiting = r));
    }
    return true;
  }

  /** More bytes than now; false as need(). */
  private more(): Promise<boolean> {
    return this.need(this.buf.length + 1);
  }

  async serve(): Promise<void> {
    try {
      if (await this.more()) {
        if (this.buf[0] === 5) await this.socks();
        else await this.http();
      }
    } finally {
      clearTimeout(this.deadline);
      this.client.off("data", this.onData);
    }
    if (!this.upstream) await this.refusedEnd();
  }

  /** Refused, or never relayed: end our side and read what the client still sends, for a moment (no reset). */
  private refusedEnd(): Promise<void> {
    return new Promise((resolve) => {
      const c = this.client;
      if (c.destroyed) return resolve();
      let total = 0;
      const timer = setTimeout(() => c.destroy(), 1000);
      c.on("data", (d: Buffer) => {
        total += d.length;
        if (total >= 1 << 20) c.destroy();
      });
      c.on("close", () => {
        clearTimeout(timer);
        resolve();
      });
      c.on("end", () => c.destroy());
      c.end();
      c.resume();
    });
  }

  private send(data: Buffer | string): void {
    if (!this.client.destroyed) this.client.write(data);
  }

  private async ask(request: ProxyRequest): Promise<{ id: string | undefined; answer: RelayAnswer }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.decider.ask(request),
        new Promise<{ id: undefined; answer: RelayAnswer }>((r) => {
          timer = setTimeout(() => r({ id: undefined, answer: { decision: "deny", status: 504, text: DECIDER_SLOW } }), DECISION_MS);
        }),
      ]);
    } catch {
      return { id: undefined, answer: { decision: "deny", status: 502, text: CHANNEL_GONE } };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * The upstream connection of an allowed HTTP request (CONNECT or plain), reported to the decider; on failure
   * the client gets 502 naming the error and false is returned (the C relay's http_upstream).
   */
  private async httpUpstream(id: string | undefined, answer: Extract<RelayAnswer, { decision: "allow" }>, host: string, port: number): Promise<boolean> {
    const err = await this.connectUpstream(answer.address, answer.port);
    if (id !== undefined) this.decider.upstream(id, err ? err.code : null);
    if (err) this.send(httpReply(`sbc: the upstream connection to ${host} port ${port} failed: ${strerror(err.code, err.errno)}`, 502));
    return err === null;
  }

  /** Connects to the checked address within CONNECT_MS: null, or the error's code and errno. */
  private connectUpstream(address: string, port: number): Promise<{ code: string; errno?: number } | null> {
    return new Promise((resolve) => {
      const s = netConnect({ host: address, port, allowHalfOpen: true });
      this.connecting = s;
      const timer = setTimeout(() => {
        s.destroy();
        resolve({ code: "ETIMEDOUT" });
      }, CONNECT_MS);
      // Destroyed by the relay's close before it connected: settled, and the timer no longer holds the process.
      s.once("close", () => {
        if (this.connecting === s) this.connecting = undefined;
        clearTimeout(timer);
        resolve({ code: "ECONNABORTED" });
      });
      s.once("connect", () => {
        clearTimeout(timer);
        s.setNoDelay(true);
        this.upstream = s;
        resolve(null);
      });
      s.once("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        s.destroy();
        resolve({ code: e.code ?? "EIO", ...(typeof e.errno === "number" ? { errno: -Math.abs(e.errno) } : {}) });
      });
    });
  }

  /** SOCKS5 (RFC 1928): no authentication, CONNECT only. */
  private async socks(): Promise<void> {
    if (!(await this.need(2)) || !(await this.need(2 + this.buf[1]!))) return;
    const nmethods = this.buf[1]!;
    if (!this.buf.subarray(2, 2 + nmethods).includes(0)) return this.send(Buffer.from([5, 0xff]));
    this.send(Buffer.from([5, 0]));
    const off = 2 + nmethods;
    if (!(await this.need(off + 5))) return;
    if (this.buf[off] !== 5) return;
    const atyp = this.buf[off + 3]!;
    const len = atyp === 1 ? 6 : atyp === 4 ? 18 : atyp === 3 ? 1 + this.buf[off + 4]! + 2 : -1;
    if (len < 0) return this.send(socksReply(0x08));
    if (!(await this.need(off + 4 + len))) return;
    if (this.buf[off + 1] !== 1) return this.send(socksReply(0x07));
    const a = this.buf.subarray(off + 4, off + 4 + len);
    let host: string;
    if (atyp === 3) {
      host = a.subarray(1, 1 + a[0]!).toString("latin1");
      const nul = host.indexOf("\0"); // a C string ends there
      if (nul >= 0) host = host.slice(0, nul);
    } else host = formatAddress(a.subarray(0, len - 2));
    const port = (a[len - 2]! << 8) | a[len - 1]!;
    if (!hostOk(host) || port === 0) return this.send(socksReply(0x01));
    const { id, answer } = await this.ask({ kind: "socks5", host, port });
    if (answer.decision === "deny") return this.send(socksReply(socksCodeFor(answer.status)));
    const err = await this.connectUpstream(answer.address, answer.port);
    if (err) {
      if (id !== undefined) this.decider.upstream(id, err.code);
      return this.send(socksReply(err.code === "ECONNREFUSED" ? 0x05 : 0x04));
    }
    if (id !== undefined) this.decider.upstream(id, null);
    this.send(socksReply(0));
    const early = this.buf.subarray(off + 4 + len);
    await this.relay(id, early, -1, early.length);
  }

  /** HTTP/1.x: `CONNECT host:port`, or an absolute-form `http://` request (one request per connection). */
  private async http(): Promise<void> {
    let end: number;
    for (;;) {
      end = this.buf.subarray(0, MAX_HEADER).indexOf("\r\n\r\n");
      const nul = this.buf.subarray(0, MAX_HEADER).indexOf(0);
      if (nul >= 0 && (end < 0 || nul < end)) return this.send(httpReply("sbc: malformed request", 400));
      if (end >= 0) break;
      if (!(await this.more())) {
        if (this.buf.length >= MAX_HEADER) this.send(httpReply("sbc: the request header is larger than 16 KiB", 431));
        return;
      }
    }
    const headerLen = end + 4;
    const head = this.buf.subarray(0, end + 2).toString("latin1");
    const lineEnd = head.indexOf("\r\n");
    const requestLine = head.slice(0, lineEnd);
    const sp1 = requestLine.indexOf(" ");
    const sp2 = sp1 >= 0 ? requestLine.indexOf(" ", sp1 + 1) : -1;
    if (sp1 <= 0 || sp2 < 0 || sp2 === sp1 + 1 || requestLine.length - sp2 - 1 !== 8 || !requestLine.startsWith("HTTP/1.", sp2 + 1) || !/^[\x20-\x7e]*$/.test(requestLine)) {
      return this.send(httpReply("sbc: malformed request line", 400));
    }
    const method = requestLine.slice(0, sp1);
    const target = requestLine.slice(sp1 + 1, sp2);
    const version = requestLine.slice(sp2 + 1);

    if (method === "CONNECT") {
      const a = splitAuthority(target, 0);
      if (!a || !hostOk(a.host)) return this.send(httpReply("sbc: CONNECT needs host:port", 400));
      const { id, answer } = await this.ask({ kind: "connect", host: a.host, port: a.port });
      if (answer.decision === "deny") return this.send(httpReply(answer.text, answer.status));
      if (!(await this.httpUpstream(id, answer, a.host, a.port))) return;
      this.send("HTTP/1.1 200 Connection established\r\n\r\n");
      const early = this.buf.subarray(headerLen);
      return this.relay(id, early, -1, early.length);
    }

    if (target.length < 7 || target.slice(0, 7).toLowerCase() !== "http://") {
      const text = target.slice(0, 8).toLowerCase() === "https://" ? "sbc: https:// goes through CONNECT (the proxy does not terminate TLS)" : "sbc: expected CONNECT host:port or an absolute http:// request";
      return this.send(httpReply(text, 400));
    }
    const afterScheme = target.slice(7);
    const authLen = afterScheme.search(/[/?# ]/);
    const auth = authLen < 0 ? afterScheme : afterScheme.slice(0, authLen);
    const a = splitAuthority(auth, 80);
    if (!a || !hostOk(a.host)) return this.send(httpReply("sbc: malformed host in the request", 400));
    // origin-form: the path and query as sent, `/` when empty, no fragment.
    let rest = afterScheme.slice(auth.length);
    if (rest.startsWith("#")) rest = "";
    let path = rest.startsWith("/") ? rest : `/${rest}`;
    if (path.includes("#")) path = path.slice(0, path.indexOf("#"));

    // The body is forwarded only with Content-Length: that is where the one request ends.
    let body = 0;
    let hasLength = false;
    let out = `${method} ${path} ${version}\r\n`;
    const headers = head.slice(lineEnd + 2).split("\r\n").slice(0, -1);
    for (const h of headers) {
      // A bare CR or LF would end a header line for a lenient server and not for us.
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(h)) return this.send(httpReply("sbc: a control character in a request header", 400));
      // A field name is a token right before its colon (RFC 9112 5.1, 5.2): `Transfer-Encoding : chunked`, a
      // folded line or one without a colon is a header a lenient server may read and this relay would not.
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(h)) return this.send(httpReply("sbc: a malformed request header field name", 400));
      if (headerIs(h, "Transfer-Encoding")) return this.send(httpReply("sbc: the egress proxy forwards a plain-HTTP request body only with Content-Length", 411));
      if (headerIs(h, "Content-Length")) {
        const v = h.slice(15).replace(/^[ \t]+/, "").replace(/[ \t]+$/, "");
        const len = v.length && v.length < 32 ? decimal(v, 2 ** 62) : undefined;
        if (len === undefined || (hasLength && len !== body)) return this.send(httpReply("sbc: malformed Content-Length", 400));
        body = len;
        hasLength = true;
      }
      // The server gets the host the request was decided for (RFC 9112 3.2.2), never another name for the address.
      const drop = ["Proxy-Connection", "Proxy-Authorization", "Connection", "Keep-Alive", "Host"].some((n) => headerIs(h, n));
      if (!drop) out += `${h}\r\n`;
    }
    const v6 = a.host.includes(":");
    const hostPart = v6 ? `[${a.host}]` : a.host;
    out += `Host: ${a.port === 80 ? hostPart : `${hostPart}:${a.port}`}\r\nConnection: close\r\n\r\n`;

    const { id, answer } = await this.ask({ kind: "http", host: a.host, port: a.port, method, path });
    if (answer.decision === "deny") return this.send(httpReply(answer.text, answer.status));
    if (!(await this.httpUpstream(id, answer, a.host, a.port))) return;
    const head2 = Buffer.from(out, "latin1");
    // A second, pipelined request is not forwarded: at most the body's bytes follow the header.
    const early = this.buf.subarray(headerLen, headerLen + Math.min(this.buf.length - headerLen, body));
    this.upstream!.write(head2);
    await this.relay(id, early, body - early.length, head2.length + early.length);
  }

  /**
   * Copies both ways until both ends are done; `upLimit` bounds client-to-upstream (-1: a tunnel, to EOF, then
   * half-closed). At EOF the other side's write half is shut; an error on either cuts both.
   */
  private relay(id: string | undefined, early: Buffer, upLimit: number, earlyCounted: number): Promise<void> {
    const client = this.client;
    const upstream = this.upstream!;
    if (client.destroyed) {
      // The client went away while its request was decided or connected: its `close` is past, so nothing
      // below would ever end the upstream connection (and the relay's process would stay alive for it).
      upstream.destroy();
      if (id !== undefined) this.decider.done(id, 0, 0);
      return Promise.resolve();
    }
    // From here the bytes are copied, not collected (the callers took `early` from the buffer just now).
    clearTimeout(this.deadline);
    client.off("data", this.onData);
    client.pause();
    if (early.length) upstream.write(early);
    return new Promise((resolve) => {
      let up = 0;
      let down = 0;
      let upDone = upLimit === 0;
      let downDone = false;
      let finished = false;
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      const finish = () => {
        if (finished || !upDone || !downDone) return;
        finished = true;
        if (id !== undefined) this.decider.done(id, up + earlyCounted, down);
        upstream.destroy();
        if (client.destroyed) return resolve();
        client.once("close", () => resolve());
        client.end(() => client.destroy());
      };
      // client to upstream
      const onUp = (d: Buffer) => {
        if (upLimit >= 0 && up + d.length > upLimit) d = d.subarray(0, upLimit - up);
        up += d.length;
        if (!upstream.write(d)) {
          client.pause();
          upstream.once("drain", () => client.resume());
        }
        if (upLimit >= 0 && up >= upLimit) {
          client.off("data", onUp);
          client.pause();
          upDone = true;
          finish();
        }
      };
      const clientEnded = () => {
        if (upDone) return;
        upDone = true;
        if (upLimit < 0) upstream.end();
        finish();
      };
      if (!upDone) {
        client.on("data", onUp);
        if (this.eof) clientEnded();
        else client.once("end", clientEnded);
      }
      // upstream to client
      upstream.on("data", (d: Buffer) => {
        down += d.length;
        if (!client.write(d)) {
          upstream.pause();
          client.once("drain", () => upstream.resume());
        }
      });
      upstream.once("end", () => {
        downDone = true;
        // A plain request: the upstream has answered; a client still sending is not waited for.
        if (upLimit >= 0 && !upDone) {
          client.off("data", onUp);
          upDone = true;
        }
        if (!client.destroyed) client.end();
        finish();
      });
      const failed = () => {
        if (finished) return;
        upDone = downDone = true;
        cut();
        finish();
      };
      upstream.on("error", failed);
      client.on("error", failed);
      upstream.once("close", () => {
        if (!downDone) failed();
      });
      client.once("close", () => {
        if (!upDone || !downDone) failed();
      });
      client.resume();
    });
  }
}

/** Starts the relay on 127.0.0.1, an ephemeral port; every request is asked of `decider`. */
export async function startNodeRelay(decider: RelayDecider): Promise<NodeRelay> {
  const open = new Set<Connection>();
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (client) => {
    if (open.size >= MAX_CONNECTIONS) {
      client.destroy();
      return;
    }
    const c = new Connection(client, decider);
    open.add(c);
    // Served until serve() settles (not only until the client closes): an upstream connection still being
    // made is the relay's to end on close().
    void c
      .serve()
      .catch(() => c.destroy())
      .finally(() => open.delete(c));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, backlog: 512 }, () => resolve());
  });
  // An accept that fails later (EMFILE) is the server's `error` event: that connection is lost, the relay goes on.
  server.on("error", () => {});
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the relay's listener has no port");
  return {
    port: address.port,
    async close(drainMs = DRAIN_MS) {
      server.close();
      for (let waited = 0; open.size > 0 && waited < drainMs; waited += 10) await new Promise((r) => setTimeout(r, 10));
      for (const c of open) c.destroy();
    },
  };
}
