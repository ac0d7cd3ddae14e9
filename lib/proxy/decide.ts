// The egress proxy's decisions: one request the relay relays (a host as the client named it, a port) in, one
// answer out — connect to this checked address, or refuse with an HTTP status and a line naming the rule. The
// name is matched before it is resolved and every address it resolves to is checked after (no DNS rebinding
// into private ranges); the relay then connects to exactly the address that was checked.

import { lookup } from "node:dns/promises";
import { formatLocation, type Span } from "../../diagnostics/source.js";
import { checkResolvedAddress, evaluateName, evaluateNetwork, type ResolvedVerdict } from "../../ir/evaluator/evaluate.js";
import { formatHost, parseHost } from "../../ir/hosts.js";
import type { DomainRule, IR, NetRule } from "../../ir/types.js";
import { formatIp, parseIp, unmapIpv4 } from "../../ir/values.js";

/** What the relay asks: how the client asked (CONNECT, SOCKS5, a plain-HTTP request), the host and port. */
export interface ProxyRequest {
  readonly kind: "connect" | "socks5" | "http";
  /** As the client gave it (an IPv6 literal without brackets). */
  readonly host: string;
  readonly port: number;
  /** Plain HTTP only: the request's method and path (percent-encoded, as on the wire). */
  readonly method?: string;
  readonly path?: string;
}

/** A rule as a refusal names it: what it says (`deny connect a.example port any`), and its file:line:col. */
export interface RuleRef {
  readonly rule: string;
  readonly location?: string;
}

/** `rule`: the deciding rule (or the special range), null when the default decided; `host`: normalized. */
export type Decision =
  | { readonly decision: "allow"; readonly address: string; readonly port: number; readonly host: string; readonly rule: RuleRef | null }
  | { readonly decision: "deny"; readonly status: 400 | 403 | 502 | 504; readonly text: string; readonly host: string; readonly rule: RuleRef | null };

/** Names to addresses: `--resolve NAME=ADDR[,ADDR]` first, else the system's resolver. */
export type Resolver = (name: string) => Promise<readonly string[]>;

/** How long a name may take to resolve before the request is answered 504. */
export const RESOLVE_TIMEOUT_MS = 10_000;

/** The system resolver (getaddrinfo, through libuv's pool): every address, in the order it gives them. */
export const systemResolver: Resolver = async (name) => (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

/**
 * `--resolve NAME=ADDR[,ADDR]` entries (curl's --resolve, by name only: every port) over a fallback resolver.
 * Names are normalized as the proxy normalizes a request's host, so `Example.COM.` and `example.com` are one.
 */
export function parseResolveEntries(entries: readonly string[]): ResolveMap {
  const pairs: [string, string[]][] = [];
  for (const e of entries) {
    const eq = e.indexOf("=");
    if (eq <= 0) return { ok: false, message: `\`--resolve ${e}\` is not NAME=ADDR[,ADDR]` };
    pairs.push([e.slice(0, eq), e.slice(eq + 1).split(",")]);
  }
  return resolveMap(pairs, (name, addrs) => `\`--resolve ${name}=${addrs.join(",")}\``);
}

type ResolveMap = { ok: true; map: ReadonlyMap<string, readonly string[]> } | { ok: false; message: string };

/**
 * Names and their addresses (`--resolve`, or spawnSandboxed's `resolve` option) as the proxy looks them up:
 * names normalized, addresses in their short form; `what` names an entry in a message.
 */
export function resolveMap(pairs: Iterable<readonly [string, readonly string[]]>, what: (name: string, addrs: readonly string[]) => string = (n) => `\`${n}\``): ResolveMap {
  const map = new Map<string, string[]>();
  for (const [name, raw] of pairs) {
    const h = parseHost(name);
    if (!h.ok || h.value.kind !== "name") return { ok: false, message: `${what(name, raw)}: \`${name}\` is not a host name` };
    const addrs: string[] = [];
    for (const a of raw) {
      const ip = parseIp(a.trim().replace(/^\[(.*)\]$/, "$1"));
      if (!ip) return { ok: false, message: `${what(name, raw)}: \`${a}\` is not an IP address` };
      addrs.push(formatIp(ip));
    }
    map.set(h.value.name, [...(map.get(h.value.name) ?? []), ...addrs]);
  }
  return { ok: true, map };
}

export function resolverWith(map: ReadonlyMap<string, readonly string[]>, fallback: Resolver = systemResolver): Resolver {
  return async (name) => map.get(name) ?? fallback(name);
}

function ref(rule: string, span: Span | undefined): RuleRef {
  return span ? { rule, location: formatLocation(span) } : { rule };
}

/** `the rule `…` at file:line:col`. */
export function ruleText(r: RuleRef): string {
  return `the rule \`${r.rule}\`${r.location ? ` at ${r.location}` : ""}`;
}

function portsText(ports: readonly (readonly [number, number])[]): string {
  return ports.map(([lo, hi]) => (lo === hi ? `${lo}` : lo === 0 && hi === 65535 ? "any" : `${lo}-${hi}`)).join(",");
}

/** A rule as the refusal names it: what it says, and its file:line:col. */
export function describeDomainRule(r: DomainRule): RuleRef {
  const http = r.http ? `${r.http.methods ? ` ${r.http.methods.join(",")}` : ""}${r.http.paths ? ` ${r.http.paths.join(",")}` : ""}` : "";
  return ref(`${r.effect} connect ${r.domains.join(", ")} port ${portsText(r.ports)}${http}`, r.span);
}

export function describeNetRule(r: NetRule): RuleRef {
  const hosts = r.hosts === "any" ? "any" : r.hosts === "loopback" ? "loopback" : r.hosts.join(", ");
  return ref(`${r.effect} ${r.ops.join(",")} ${hosts} port ${portsText(r.ports)}`, r.span);
}

/** One line of plain text for the client: printable ASCII and spaces, never a line break. */
export function oneLine(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

/** A refusal: `text` (after `sbc: `) made one line for the client. */
export function deny(status: 400 | 403 | 502 | 504, text: string, host: string, rule: RuleRef | null): Decision {
  return { decision: "deny", status, text: oneLine(`sbc: ${text}`), host, rule };
}

function afterResolution(v: ResolvedVerdict, what: string, address: string, port: number): { text: string; rule: RuleRef } | undefined {
  if (v.decision === "allow") return undefined;
  if (v.by === "ip") return { text: `${what} resolves to ${address}, which ${ruleText(describeNetRule(v.rule))} denies on port ${port}`, rule: describeNetRule(v.rule) };
  return {
    text: `${what} resolves to ${address}, in the ${v.what} range ${v.range}, which no rule names (name it in \`hosts:\` to allow it)`,
    rule: { rule: `special range ${v.range}` },
  };
}

/** Resolve with a time limit: undefined on time-out. */
async function resolveIn(resolver: Resolver, name: string, ms: number): Promise<readonly string[] | undefined | Error> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      resolver(name).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), ms);
        timer.unref?.();
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * Decide one request on the bound IR the run was compiled from. An IP literal is judged by the IP rules and,
 * like every resolved address, by checkResolvedAddress (special ranges only where a rule names them); a name
 * by the rules by domain (evaluateName, deny wins), then each address it resolves to. Any address refused
 * refuses the request: a name that resolves partly into a private range is not trusted with the rest.
 */
export async function decide(ir: IR, q: ProxyRequest, resolver: Resolver, options: { timeoutMs?: number } = {}): Promise<Decision> {
  const parsed = parseHost(q.host);
  if (!parsed.ok) return deny(400, `\`${q.host}\` is not a host name or an IP address`, q.host, null);
  if (!Number.isInteger(q.port) || q.port < 1 || q.port > 65535) return deny(400, `port \`${q.port}\` is out of 1-65535`, q.host, null);
  const host = formatHost(parsed.value);
  const what = `\`${host}:${q.port}\``;
  if (parsed.value.kind === "ip") {
    // `::ffff:10.0.0.1` is 10.0.0.1: judged and connected to as IPv4.
    const ip = unmapIpv4(parsed.value.ip) ?? parsed.value.ip;
    const address = formatIp(ip);
    const v = evaluateNetwork(ir, { op: "connect", protocol: "tcp", host: address, port: q.port });
    if (v.decision === "deny") {
      const rule = v.rule ? describeNetRule(v.rule) : null;
      return deny(403, `connecting to ${what} is denied by ${rule ? ruleText(rule) : "the policy: no rule allows it (default deny)"}`, host, rule);
    }
    const after = afterResolution(checkResolvedAddress(ir, { address, port: q.port }), what, address, q.port);
    if (after) return deny(403, after.text, host, after.rule);
    return { decision: "allow", address, port: q.port, host, rule: v.rule ? describeNetRule(v.rule) : null };
  }
  const name = parsed.value.name;
  // A plain-HTTP request carries its method and path, which rules with HTTP conditions match; a tunnel none.
  const http = q.kind === "http" && q.method !== undefined && q.path !== undefined ? { method: q.method, path: q.path } : undefined;
  const v = evaluateName(ir, { name, port: q.port, protocol: "tcp", ...(http ? { http } : {}) });
  const rule = v.by === "domain" ? describeDomainRule(v.rule) : v.by === "ip" ? describeNetRule(v.rule) : null;
  if (v.decision === "deny") return deny(403, `connecting to ${what} is denied by ${rule ? ruleText(rule) : "the policy: no rule allows it (default deny)"}`, host, rule);
  return resolveChecked(name, q.port, host, rule, resolver, options.timeoutMs, (address) => {
    const after = afterResolution(checkResolvedAddress(ir, { address, port: q.port }), what, address, q.port);
    return after ? deny(403, after.text, host, after.rule) : undefined;
  });
}

/**
 * Resolve NAME and check every address it resolves to (`check`: its refusal, or undefined): the answer is the
 * first refusal, or an allow to the address the relay is to connect to.
 */
async function resolveChecked(name: string, port: number, host: string, rule: RuleRef | null, resolver: Resolver, timeoutMs: number | undefined, check: (address: string) => Decision | undefined): Promise<Decision> {
  const what = `\`${host}:${port}\``;
  const resolved = await resolveIn(resolver, name, timeoutMs ?? RESOLVE_TIMEOUT_MS);
  if (resolved === undefined) return deny(504, `${what} did not resolve in time`, host, rule);
  if (resolved instanceof Error || !resolved.length) return deny(502, `${what} does not resolve${resolved instanceof Error && "code" in resolved ? ` (${String((resolved as { code: unknown }).code)})` : ""}`, host, rule);
  const addresses: string[] = [];
  for (const a of resolved) {
    const ip = parseIp(a);
    if (!ip) return deny(502, `${what} resolved to \`${a}\`, which is not an IP address`, host, rule);
    const address = formatIp(unmapIpv4(ip) ?? ip);
    const refused = check(address);
    if (refused) return refused;
    addresses.push(address);
  }
  // IPv4 first (in the resolver's order otherwise): a host without IPv6 egress still reaches a dual-stack name.
  const first = addresses.find((a) => !a.includes(":")) ?? addresses[0]!;
  return { decision: "allow", address: first, port, host, rule };
}

/**
 * `sbc learn --network-by name`: the command runs unsandboxed while it is learned, so every name and port is
 * allowed, but an address after resolution is still checked as `sbc exec` checks it without a rule naming it
 * (private, loopback, link-local and metadata ranges refused), unless `--resolve` gave the name: `trusted`
 * (the run's own test servers). An IP literal is refused in those ranges too: learning does not reach the
 * host's or the cloud's services by address. The request's kind and host are the caller's to record.
 */
export async function decideLearning(ir: IR, q: ProxyRequest, resolver: Resolver, trusted: ReadonlySet<string>, options: { timeoutMs?: number } = {}): Promise<Decision> {
  const parsed = parseHost(q.host);
  if (!parsed.ok) return deny(400, `\`${q.host}\` is not a host name or an IP address`, q.host, null);
  if (!Number.isInteger(q.port) || q.port < 1 || q.port > 65535) return deny(400, `port \`${q.port}\` is out of 1-65535`, q.host, null);
  const host = formatHost(parsed.value);
  const what = `\`${host}:${q.port}\``;
  // Only the special ranges: none of the base's rules decides while learning, and none names a range.
  const bare: IR = { ...ir, network: { ...ir.network, rules: [] } };
  const checked = (address: string): Decision | undefined => {
    const after = afterResolution(checkResolvedAddress(bare, { address, port: q.port }), what, address, q.port);
    if (!after) return undefined;
    const text = after.text.replace(/ \(name it in `hosts:` to allow it\)$/, "");
    return deny(403, `${text}; learning refuses it unless \`--resolve\` maps the name`, host, after.rule);
  };
  if (parsed.value.kind === "ip") {
    const address = formatIp(unmapIpv4(parsed.value.ip) ?? parsed.value.ip);
    return checked(address) ?? { decision: "allow", address, port: q.port, host, rule: null };
  }
  const name = parsed.value.name;
  return resolveChecked(name, q.port, host, null, resolver, options.timeoutMs, trusted.has(name) ? () => undefined : checked);
}

