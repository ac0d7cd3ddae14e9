// Host names and domain patterns for network rules by domain: one normal form (lower case, no trailing dot,
// IDN as punycode), the matching of `*.` / `**.` wildcards, and the address ranges that a name may not
// resolve into unless a rule names them. The egress proxy calls these after resolution; the evaluator before.

import { domainToASCII } from "node:url";
import { cidrContains, formatIp, parseCidr, parseIp, unmapIpv4, type Cidr, type IpAddress, type Parsed } from "./values.js";

/** A host as a connection names it: a DNS name (normalized) or an IP literal. */
export type Host = { readonly kind: "name"; readonly name: string } | { readonly kind: "ip"; readonly ip: IpAddress };

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

function fail<T>(message: string, help?: string): Parsed<T> {
  return { ok: false, issue: { key: "invalidDomain", message, ...(help ? { help } : {}) } as never };
}

/**
 * A host name in its one form: IDN labels to punycode (WHATWG's domain-to-ASCII, which also lower-cases),
 * a trailing dot dropped. A name the URL parser reads as an IPv4 address in another notation (`0x7f.1`,
 * `2130706433`) is that address: it is matched as an address, never as a name.
 */
export function parseHost(raw: string): Parsed<Host> {
  let s = raw.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const literal = parseIp(s);
  if (literal) return { ok: true, value: { kind: "ip", ip: literal } };
  if (s.endsWith(".")) s = s.slice(0, -1);
  if (s === "" || s.endsWith(".")) return fail(`\`${raw}\` is not a host name`);
  const ascii = domainToASCII(s);
  if (!ascii) return fail(`\`${raw}\` is not a valid host name`, "labels are letters, digits and hyphens; international names are accepted");
  const asIp = parseIp(ascii);
  if (asIp) return { ok: true, value: { kind: "ip", ip: asIp } };
  const labels = ascii.split(".");
  if (ascii.length > 253 || labels.some((l) => !LABEL.test(l))) return fail(`\`${raw}\` is not a valid host name`, "each label is 1–63 letters, digits or hyphens, not starting or ending with a hyphen");
  // All-numeric last label: the URL parser would have read an address; anything left is not a name.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return fail(`\`${raw}\` is neither a host name nor an IP address`);
  return { ok: true, value: { kind: "name", name: ascii } };
}

/**
 * A domain pattern in its normal form: `example.com` (that name only), `*.example.com` (exactly one more
 * label), `**.example.com` (one or more labels). The wildcard stands alone in the first label; the suffix has
 * at least two labels, so `*.com` is refused (it would be a whole top-level domain).
 */
export function parseDomainPattern(raw: string): Parsed<string> {
  const m = /^(\*\*?)\.(.*)$/.exec(raw.trim());
  const star = m ? m[1]! : "";
  const rest = m ? m[2]! : raw.trim();
  if (rest.includes("*")) return fail(`\`${raw}\` has a wildcard outside its first label`, "write `*.example.com` (one more label) or `**.example.com` (any depth)");
  const h = parseHost(rest);
  if (!h.ok) return fail(`\`${raw}\` is not a valid domain pattern: ${h.issue.message}`, h.issue.help);
  if (h.value.kind === "ip") return fail(`\`${raw}\` is an IP address, not a domain`, "IP addresses and CIDR blocks go in `hosts:`");
  if (star && h.value.name.split(".").length < 2) return fail(`\`${raw}\` covers a whole top-level domain`, `name the domain: \`${star}.example.${h.value.name}\``);
  return { ok: true, value: star ? `${star}.${h.value.name}` : h.value.name };
}

/** Does a normalized name match a normalized pattern? */
export function domainMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("**.")) {
    const suffix = pattern.slice(2);
    return name.length > suffix.length && name.endsWith(suffix);
  }
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1);
    if (!name.endsWith(suffix)) return false;
    const head = name.slice(0, name.length - suffix.length);
    return head.length > 0 && !head.includes(".");
  }
  return pattern === name;
}

/** `name:port`, `1.2.3.4:port` or `[v6]:port`; the host normalized. */
export function parseHostPort(raw: string): Parsed<{ host: Host; port: number }> {
  const m = /^(\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(raw.trim());
  if (!m) return fail(`\`${raw}\` is not HOST:PORT`, "write `registry.npmjs.org:443`, `10.0.0.1:80` or `[::1]:8080`");
  const port = Number(m[2]);
  if (port > 65535) return fail(`port \`${m[2]}\` is out of 0–65535`);
  const h = parseHost(m[1]!);
  return h.ok ? { ok: true, value: { host: h.value, port } } : h;
}

export function formatHost(h: Host): string {
  return h.kind === "name" ? h.name : formatIp(h.ip);
}

/**
 * Addresses a name must not resolve into unless a rule names them: loopback, private, shared (CGNAT),
 * link-local (with the cloud metadata service at 169.254.169.254 and fd00:ec2::254), unique-local and "this
 * network". An IPv4-mapped IPv6 address is judged as its IPv4 address.
 */
export const SPECIAL_RANGES: readonly { readonly cidr: Cidr; readonly text: string; readonly what: string }[] = (
  [
    ["0.0.0.0/8", "this network"],
    ["10.0.0.0/8", "private"],
    ["100.64.0.0/10", "shared address space (CGNAT)"],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local (cloud metadata)"],
    ["172.16.0.0/12", "private"],
    ["192.168.0.0/16", "private"],
    ["::/128", "unspecified"],
    ["::1/128", "loopback"],
    ["fc00::/7", "unique-local (cloud metadata on fd00::/8)"],
    ["fe80::/10", "link-local"],
  ] as const
).map(([text, what]) => {
  const c = parseCidr(text);
  if (!c.ok) throw new Error(`bad built-in range ${text}`);
  return { cidr: c.value, text, what };
});

/** The special range an address falls in (IPv4-mapped IPv6 judged as IPv4), if any. */
export function specialRange(ip: IpAddress): { text: string; what: string } | undefined {
  const v4 = unmapIpv4(ip) ?? ip;
  const hit = SPECIAL_RANGES.find((r) => cidrContains(r.cidr, v4) || cidrContains(r.cidr, ip));
  return hit && { text: hit.text, what: hit.what };
}
