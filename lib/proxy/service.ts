// The decision service `sbc exec` runs beside the loader's relay: it reads the relay's lines from the control
// channel, answers each request by its id (lib/proxy/decide.ts, on the run's bound IR), and keeps what
// happened for `--network-log` (one JSON line per connection) and `--explain` (the refusals). Anything it
// cannot understand is refused, and said once: the channel fails closed on both sides. Without a channel
// (macOS, lib/proxy/node-relay.ts) the Node relay asks it in process through the same records.

import type { Duplex } from "node:stream";
import type { IR } from "../../ir/types.js";
import { decide, deny, type Decision, type ProxyRequest, type Resolver } from "./decide.js";
import { answerLine, parseRelayLine } from "./protocol.js";

/** One connection as `--network-log` writes it (docs/proxy.md). */
export interface NetworkEvent {
  readonly time: string;
  readonly id: string;
  /** How the client asked: `connect` (HTTP CONNECT), `socks5`, `http` (a plain-HTTP request). */
  readonly via: ProxyRequest["kind"];
  /** The host as normalized (lower case, punycode, no trailing dot; an IP literal in its short form). */
  readonly host: string;
  readonly port: number;
  readonly method?: string;
  readonly path?: string;
  readonly decision: "allow" | "deny";
  /** The deciding rule (or `special range CIDR`); null when the default decided. */
  readonly rule: string | null;
  /** The rule's file:line:col. */
  readonly location?: string;
  /** Allowed: the checked address the relay connects to. */
  readonly address?: string;
  /** Refused: the status the client got and the text. */
  readonly status?: number;
  readonly text?: string;
  /** The relay's upstream connect: `ok` or an errno name. */
  readonly upstream?: string;
  readonly bytesUp?: number;
  readonly bytesDown?: number;
}

export interface ServiceOptions {
  readonly resolver: Resolver;
  /** Called with each finished record (a refusal at once; an allowed connection when it ends). */
  readonly log?: (event: NetworkEvent) => void;
  /** Called once with a line for stderr when the channel breaks or carries something malformed. */
  readonly warn?: (message: string) => void;
  readonly timeoutMs?: number;
  /** Decides instead of the IR's rules (`sbc learn --network-by name`: lib/proxy/decide.ts decideLearning). */
  readonly decide?: (request: ProxyRequest) => Promise<Decision>;
}

/** The longest line the relay sends: a request's host is at most 255 bytes, a path at most the 16 KiB header. */
const MAX_LINE = 20_000;

export class DecisionService {
  private buffer = "";
  private warned = false;
  private readonly open = new Map<string, NetworkEvent>();
  private readonly refused: NetworkEvent[] = [];
  private readonly pending = new Set<Promise<void>>();
  private nextId = 1;

  /** `channel`: the loader relay's control socket; null when the Node relay asks in process (ask/upstream/done). */
  constructor(
    private readonly ir: IR,
    private readonly channel: Duplex | null,
    private readonly options: ServiceOptions,
  ) {
    if (!channel) return;
    channel.setEncoding("latin1");
    channel.on("data", (chunk: string) => this.receive(chunk));
    channel.on("error", (e: Error) => this.warnOnce(`the egress proxy's control channel failed (${e.message}); the relay refuses every later connection`));
  }

  /** In process (the Node relay): decide one request, recorded under an id of the service's own. */
  async ask(request: ProxyRequest): Promise<{ readonly id: string; readonly answer: Decision }> {
    const id = String(this.nextId++);
    const p = this.answer(id, request);
    const done = p.then(() => undefined).finally(() => this.pending.delete(done));
    this.pending.add(done);
    return { id, answer: await p };
  }

  /** The upstream connect of an allowed request: null when it succeeded, else the errno's name. */
  upstream(id: string, errno: string | null): void {
    const e = this.open.get(id);
    if (!e) return;
    if (errno === null) this.open.set(id, { ...e, upstream: "ok" });
    else {
      this.open.delete(id);
      this.options.log?.({ ...e, upstream: errno });
    }
  }

  /** A relayed connection ended: the bytes each way. */
  done(id: string, up: number, down: number): void {
    const e = this.open.get(id);
    if (!e) return;
    this.open.delete(id);
    this.options.log?.({ ...e, bytesUp: up, bytesDown: down });
  }

  /** The refused connections so far (for `--explain`). */
  refusals(): readonly NetworkEvent[] {
    return this.refused;
  }

  /**
   * Every answer sent (while the relay can still read them: a lookup still pending when the channel has
   * closed is not waited for), then the connections still open logged as they are (no byte counts).
   */
  async finish(): Promise<void> {
    while (this.pending.size && (!this.channel || (!this.channel.destroyed && this.channel.writable))) await Promise.all([...this.pending]);
    for (const e of this.open.values()) this.options.log?.(e);
    this.open.clear();
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn?.(message);
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.handle(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
    if (this.buffer.length > MAX_LINE) {
      this.buffer = "";
      this.warnOnce("the egress proxy's relay sent a line longer than the protocol allows; it is ignored");
    }
  }

  private handle(line: string): void {
    const m = parseRelayLine(line);
    if (m.type === "error") {
      this.warnOnce(`the egress proxy's relay sent a malformed line (${m.message}); requests the service cannot read are refused`);
      // A request whose id can be read gets its refusal now rather than waiting for the relay's time-out.
      if (line.startsWith("Q ") && m.id !== undefined) this.channel?.write(`A ${m.id} deny 400 sbc: the request could not be read\n`);
      return;
    }
    if (m.type === "Q") {
      const p = this.answer(m.id, m.request)
        .then((d) => {
          if (this.channel?.writable) this.channel.write(answerLine(m.id, d));
        })
        .finally(() => this.pending.delete(p));
      this.pending.add(p);
      return;
    }
    if (m.type === "R") this.upstream(m.id, m.ok ? null : m.errno);
    else this.done(m.id, m.up, m.down);
  }

  /** Decides, and records: a refusal logged at once, an allowed connection kept until it ends. */
  private async answer(id: string, request: ProxyRequest): Promise<Decision> {
    const time = new Date().toISOString();
    let d: Decision;
    try {
      d = this.options.decide ? await this.options.decide(request) : await decide(this.ir, request, this.options.resolver, this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {});
    } catch (e) {
      // Fail closed: an evaluator error refuses the connection.
      d = deny(403, `the egress proxy could not decide: ${(e as Error).message}`, request.host, null);
    }
    // A channel that closed while deciding can carry no answer: nothing was connected, nothing to record.
    if (this.channel && !this.channel.writable) return d;
    const base = {
      time,
      id,
      via: request.kind,
      host: d.host,
      port: request.port,
      ...(request.method !== undefined ? { method: request.method } : {}),
      ...(request.path !== undefined ? { path: request.path } : {}),
      rule: d.rule?.rule ?? null,
      ...(d.rule?.location ? { location: d.rule.location } : {}),
    };
    if (d.decision === "allow") this.open.set(id, { ...base, decision: "allow", address: d.address });
    else {
      const e: NetworkEvent = { ...base, decision: "deny", status: d.status, text: d.text };
      this.refused.push(e);
      this.options.log?.(e);
    }
    return d;
  }
}
