// Parsers for the small value languages inside policy strings: ports, hosts and CIDR blocks, `host:port`
// endpoints, syscall argument conditions, errno names and actions. They are shared by every front end and
// report problems as offsets into the string, which the caller maps to a span.

import type { CodeKey } from "../diagnostics/codes.js";
import { closest } from "../diagnostics/diagnostic.js";
import type { Action, ArgCondition, CmpOp } from "../ir/types.js";
import { constantNames, constantValue, errnoNames, errnoValue } from "../linux-abi/index.js";

export interface ValueIssue {
  readonly key: CodeKey;
  readonly message: string;
  /** Offset and length inside the string, when known. */
  readonly index?: number;
  readonly length?: number;
  readonly help?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issue: ValueIssue };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(issue: ValueIssue): Parsed<T> => ({ ok: false, issue });

export const U64_MAX = (1n << 64n) - 1n;

export function hex(v: bigint): string {
  return "0x" + v.toString(16);
}

// ---- ports -----------------------------------------------------------------------------------------------

export function parsePort(spec: number | string): Parsed<[number, number]> {
  if (typeof spec === "number") {
    if (!Number.isInteger(spec) || spec < 0 || spec > 65535) return fail({ key: "invalidPort", message: `port \`${spec}\` is out of 0–65535` });
    return ok([spec, spec]);
  }
  const m = /^\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?$/.exec(spec);
  if (!m) return fail({ key: "invalidPort", message: `\`${spec}\` is not a port or a range \`lo-hi\`` });
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > 65535 || hi > 65535) return fail({ key: "invalidPort", message: `port range \`${spec}\` is out of 0–65535` });
  if (lo > hi) return fail({ key: "invalidPort", message: `port range \`${spec}\` is reversed`, help: `write \`${hi}-${lo}\`` });
  return ok([lo, hi]);
}

/** Sort and merge inclusive ranges. */
export function mergeRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].map((r) => [r[0], r[1]] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

// ---- IP addresses ----------------------------------------------------------------------------------------

export interface IpAddress {
  readonly family: 4 | 6;
  readonly bits: bigint;
}

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return undefined;
  let tail4: bigint | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail4 = parseIpv4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const groups = halves.length === 2 ? head.length + tail.length : head.length;
  if (halves.length === 1 && groups !== 8) return undefined;
  if (halves.length === 2 && groups > 7) return undefined;
  const all = [...head, ...new Array<string>(8 - groups).fill("0"), ...tail];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

export function parseIp(s: string): IpAddress | undefined {
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return { family: 4, bits: v4 };
  const v6 = parseIpv6(s);
  if (v6 !== undefined) return { family: 6, bits: v6 };
  return undefined;
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((sh) => String((ip.bits >> sh) & 0xffn)).join(".");
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.bits >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (ip.bits >> 32n === 0xffffn) return "::ffff:" + formatIp({ family: 4, bits: ip.bits & 0xffffffffn });
  const hexes = groups.map((g) => g.toString(16));
  if (best < 0) return hexes.join(":");
  return hexes.slice(0, best).join(":") + "::" + hexes.slice(best + bestLen).join(":");
}

export interface Cidr {
  readonly family: 4 | 6;
  readonly bits: bigint;
  readonly prefix: number;
}

export function parseCidr(s: string): Parsed<Cidr> {
  const slash = s.indexOf("/");
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) {
    const help =
      s === "localhost" ? "write `loopback` to mean 127.0.0.0/8 and ::1" : /^[*a-z0-9_.-]*[a-z][*a-z0-9_.-]*$/i.test(s) && s.includes(".") ? "a host name goes in `domains:` (a rule by domain), not `hosts:`" : undefined;
    return fail({ key: "invalidHost", message: `\`${s}\` is not an IP address or CIDR block`, ...(help ? { help } : {}) });
  }
  const width = ip.family === 4 ? 32 : 128;
  let prefix = width;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > width) return fail({ key: "invalidHost", message: `\`${s}\` has an invalid prefix length (0–${width})` });
    prefix = Number(p);
  }
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  if ((ip.bits & hostMask) !== 0n) {
    const base = formatIp({ family: ip.family, bits: ip.bits & ~hostMask });
    return fail({ key: "invalidHost", message: `\`${s}\` has bits set after the prefix`, help: `write \`${base}/${prefix}\`` });
  }
  return ok({ family: ip.family, bits: ip.bits, prefix });
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c)}/${c.prefix}`;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), if it is one. */
export function unmapIpv4(ip: IpAddress): IpAddress | undefined {
  return ip.family === 6 && ip.bits >> 32n === 0xffffn ? { family: 4, bits: ip.bits & 0xffffffffn } : undefined;
}

/**
 * Does the block contain the address? An IPv4 block also contains the IPv4-mapped IPv6 form of its
 * addresses: a dual-stack socket connecting to `::ffff:169.254.169.254` reaches the IPv4 host.
 */
export function cidrContains(c: Cidr, address: IpAddress): boolean {
  const ip = c.family === 4 ? (unmapIpv4(address) ?? address) : address;
  if (c.family !== ip.family) return false;
  const width = c.family === 4 ? 32 : 128;
  const shift = BigInt(width - c.prefix);
  return ip.bits >> shift === c.bits >> shift;
}

/** What `loopback` means: IPv4 loopback and IPv6 loopback (and, through cidrContains, IPv4 loopback mapped into IPv6). */
export const LOOPBACK_CIDRS: readonly Cidr[] = ["127.0.0.0/8", "::1/128"].map((s) => {
  const c = parseCidr(s);
  if (!c.ok) throw new Error(s);
  return c.value;
});

/** `host:port`, `[v6]:port` or `localhost:port`. */
export function parseEndpoint(s: string): Parsed<{ host: IpAddress; port: number }> {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  const m = v6 ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return fail({ key: "invalidEndpoint", message: `\`${s}\` is not \`host:port\``, help: "IPv6 addresses are written `[::1]:443`" });
  const hostText = m[1]!;
  const ip = hostText === "localhost" && !v6 ? parseIp("127.0.0.1") : parseIp(hostText);
  if (ip && v6 && ip.family !== 6) return fail({ key: "invalidEndpoint", message: `\`${s}\` puts an IPv4 address in brackets`, help: `write \`${hostText}:${m[2]}\`` });
  if (!ip) return fail({ key: "invalidEndpoint", message: `\`${hostText}\` is not an IP address`, help: "tests name addresses, not host names: the sandbox sees addresses" });
  const port = Number(m[2]);
  if (port > 65535) return fail({ key: "invalidEndpoint", message: `port \`${m[2]}\` is out of 0–65535` });
  return ok({ host: ip, port });
}

// ---- numbers, constants and argument conditions -----------------------------------------------------------

interface Token {
  readonly text: string;
  readonly index: number;
}

function tokenize(s: string): Token[] | ValueIssue {
  const tokens: Token[] = [];
  const re = /\s*(==|!=|<=|>=|<|>|&|\||-?0[xX][0-9A-Fa-f_]+|-?0[oO][0-7_]+|-?0[bB][01_]+|-?\d[\d_]*|[A-Za-z_][A-Za-z0-9_]*)\s*/y;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || m[0].length === 0) {
      return { key: "invalidCondition", message: `unexpected \`${s[i]}\` in condition \`${s}\``, index: i, length: 1 };
    }
    tokens.push({ text: m[1]!, index: i + m[0].indexOf(m[1]!) });
    i += m[0].length;
  }
  return tokens;
}

function numberValue(text: string): bigint | undefined {
  const neg = text.startsWith("-");
  const body = (neg ? text.slice(1) : text).replace(/_/g, "");
  // `0755` would be octal in C and decimal here: refuse to guess.
  if (/^0\d/.test(body)) return undefined;
  let v: bigint;
  try {
    if (/^0[oO]/.test(body)) v = BigInt("0o" + body.slice(2));
    else v = BigInt(body);
  } catch {
    return undefined;
  }
  if (neg) {
    if (v > 1n << 63n) return undefined;
    return (U64_MAX + 1n - v) & U64_MAX;
  }
  return v > U64_MAX ? undefined : v;
}

/** A value: numbers and constants joined with `|`. */
function parseValueTokens(tokens: readonly Token[], whole: string): Parsed<bigint> {
  if (tokens.length === 0) return fail({ key: "invalidCondition", message: `missing value in condition \`${whole}\``, index: whole.length, length: 0 });
  let v = 0n;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (i % 2 === 1) {
      if (t.text !== "|") return fail({ key: "invalidCondition", message: `expected \`|\` or the end of the value, found \`${t.text}\``, index: t.index, length: t.text.length });
      continue;
    }
    if (/^-?\d/.test(t.text)) {
      if (/^-?0\d/.test(t.text.replace(/_/g, ""))) {
        return fail({
          key: "invalidCondition",
          message: `\`${t.text}\` has a leading zero`,
          index: t.index,
          length: t.text.length,
          help: `write \`0o${t.text.replace(/^-?0+/, "")}\` for octal or \`${t.text.replace(/^(-?)0+(?=\d)/, "$1")}\` for decimal`,
        });
      }
      const n = numberValue(t.text);
      if (n === undefined) return fail({ key: "valueOutOfRange", message: `\`${t.text}\` does not fit in 64 bits`, index: t.index, length: t.text.length });
      v |= n;
    } else if (/^[A-Za-z_]/.test(t.text)) {
      const c = constantValue(t.text);
      if (c === undefined) {
        const guess = closest(t.text, constantNames());
        return fail({
          key: "unknownConstant",
          message: `unknown constant \`${t.text}\``,
          index: t.index,
          length: t.text.length,
          ...(guess ? { help: `did you mean \`${guess}\`?` } : {}),
        });
      }
      v |= c;
    } else {
      return fail({ key: "invalidCondition", message: `expected a number or a constant, found \`${t.text}\``, index: t.index, length: t.text.length });
    }
  }
  if (tokens.length % 2 === 0) {
    const t = tokens[tokens.length - 1]!;
    return fail({ key: "invalidCondition", message: `a value cannot end with \`|\``, index: t.index, length: 1 });
  }
  return ok(v);
}

/** A constant expression used as a syscall argument value in a test (`AF_INET`, `0x10`, `-1`, `A|B`). */
export function parseValue(s: string | number): Parsed<bigint> {
  if (typeof s === "number") {
    if (!Number.isSafeInteger(s)) return fail({ key: "valueOutOfRange", message: `\`${s}\` is not an exact integer; write it as a string` });
    return s < 0 ? ok((U64_MAX + 1n + BigInt(s)) & U64_MAX) : ok(BigInt(s));
  }
  const tokens = tokenize(s);
  if (!Array.isArray(tokens)) return fail(tokens);
  return parseValueTokens(tokens, s);
}

const OPS: readonly CmpOp[] = ["==", "!=", "<", "<=", ">", ">="];

/** `argN OP value` or `argN & mask == value`. */
export function parseCondition(s: string): Parsed<ArgCondition> {
  const tokens = tokenize(s);
  if (!Array.isArray(tokens)) return fail(tokens);
  const help = "conditions look like `arg0 == AF_UNIX`, `arg2 <= 0x10` or `arg1 & CLONE_NEWUSER == 0`";
  const first = tokens[0];
  const m = first ? /^arg(0|[1-9]\d*)$/.exec(first.text) : null;
  if (!first || !m) {
    return fail({ key: "invalidCondition", message: `a condition starts with \`arg0\` … \`arg5\`, found \`${first?.text ?? ""}\``, index: first?.index ?? 0, length: first?.text.length ?? 0, help });
  }
  const arg = Number(m[1]);
  if (arg > 5) return fail({ key: "argIndexOutOfRange", message: `\`${first.text}\` does not exist; syscalls have arguments arg0 to arg5`, index: first.index, length: first.text.length });
  const opTok = tokens[1];
  if (!opTok) return fail({ key: "invalidCondition", message: `missing comparison after \`${first.text}\``, index: s.length, length: 0, help });
  if (opTok.text === "&") {
    if (tokens.length < 3 || tokens[2]!.text === "==") {
      return fail({ key: "invalidCondition", message: "a masked comparison needs a mask after `&`", index: opTok.index, length: 1, help: "write `argN & MASK == VALUE`" });
    }
    const eq = tokens.findIndex((t, i) => i > 2 && t.text === "==");
    if (eq < 0) {
      const bad = tokens.find((t, i) => i > 2 && OPS.includes(t.text as CmpOp));
      return fail({
        key: "invalidCondition",
        message: bad ? `a masked comparison only supports \`==\`, found \`${bad.text}\`` : `a masked comparison needs \`== value\``,
        index: bad?.index ?? s.length,
        length: bad?.text.length ?? 0,
        help: "write `argN & MASK == VALUE`; for `!= 0` use two rules or `== 0` with the opposite action",
      });
    }
    const mask = parseValueTokens(tokens.slice(2, eq), s);
    if (!mask.ok) return mask;
    const value = parseValueTokens(tokens.slice(eq + 1), s);
    if (!value.ok) return value;
    return ok({ arg, op: "&==", mask: hex(mask.value), value: hex(value.value) });
  }
  if (!OPS.includes(opTok.text as CmpOp)) {
    return fail({ key: "invalidCondition", message: `expected a comparison (\`==\`, \`!=\`, \`<\`, \`<=\`, \`>\`, \`>=\` or \`&\`), found \`${opTok.text}\``, index: opTok.index, length: opTok.text.length, help });
  }
  const value = parseValueTokens(tokens.slice(2), s);
  if (!value.ok) return value;
  return ok({ arg, op: opTok.text as CmpOp, value: hex(value.value) });
}

// ---- syscalls named by number ------------------------------------------------------------------------------

/**
 * A syscall entry `arch:number` (`x86_64:335`, `aarch64:0x1f`, `x86_64:-1`): the number on that arch only.
 * The number is decimal or `0x` hex, 0 to 0xffffffff; `-1` is 0xffffffff, what a tracer writes to skip a
 * call. `arches` is the list of supported architectures. An x86_64 number with bit 30 set is an x32 call,
 * which an x86_64 filter gives the foreign-arch action: refused, so that a rule never reopens it unnoticed.
 */
export function parseNumberedSyscall(s: string, arches: readonly string[]): Parsed<{ arch: string; nr: number }> {
  const at = s.indexOf(":");
  const arch = s.slice(0, at);
  const num = s.slice(at + 1);
  if (!arches.includes(arch)) {
    const guess = closest(arch, arches);
    return fail({
      key: "unknownSyscallArch",
      message: `unknown architecture \`${arch}\` in \`${s}\``,
      index: 0,
      length: arch.length,
      help: guess ? `did you mean \`${guess}\`? (supported: ${arches.join(", ")})` : `supported: ${arches.join(", ")}`,
    });
  }
  let nr: bigint | undefined;
  if (num === "-1") nr = 0xffffffffn;
  else if (/^(0|[1-9][0-9]*)$/.test(num) || /^0x[0-9a-fA-F]+$/.test(num)) nr = BigInt(num);
  const where = { index: at + 1, length: num.length };
  if (nr === undefined)
    return fail({ key: "invalidSyscallNumber", message: `\`${num}\` is not a syscall number`, ...where, help: "write a decimal number, a `0x` hex number, or `-1` (what a tracer writes to skip a call)" });
  if (nr > 0xffffffffn) return fail({ key: "invalidSyscallNumber", message: `syscall number \`${num}\` does not fit in 32 bits`, ...where, help: "the kernel passes the number as a u32; -1 is 0xffffffff" });
  const n = Number(nr);
  if (arch === "x86_64" && n >= 0x40000000 && n !== 0xffffffff)
    return fail({
      key: "x32SyscallNumber",
      message: `\`${s}\` has bit 30 set: it is an x32 call, not an x86_64 one`,
      ...where,
      help: arches.includes("x32") ? `write \`x32:${n - 0x40000000}\` for the x32 call, or set \`foreign-arch\`` : "x86_64 filters give x32 calls the `foreign-arch` action; set that instead",
    });
  return ok({ arch, nr: n });
}

// ---- errno and actions -----------------------------------------------------------------------------------

export function parseErrno(v: string | number): Parsed<number> {
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 4095) return fail({ key: "unknownErrno", message: `errno \`${v}\` is out of 0–4095` });
    return ok(v);
  }
  const n = errnoValue(v);
  if (n === undefined) {
    const guess = closest(v, errnoNames());
    return fail({ key: "unknownErrno", message: `unknown errno \`${v}\``, ...(guess ? { help: `did you mean \`${guess}\`?` } : {}) });
  }
  return ok(n);
}

export const DEFAULT_ERRNO = 1; // EPERM

/** An action as written: a word, or `{errno: NAME|number}`. */
export function parseAction(v: unknown): Parsed<Action> {
  if (typeof v === "string") {
    if (v === "errno") return ok({ type: "errno", errno: DEFAULT_ERRNO });
    if (v === "trace") return ok({ type: "trace", data: 0 });
    if (["allow", "log", "trap", "user-notif", "kill-thread", "kill-process"].includes(v)) return ok({ type: v as Exclude<Action["type"], "errno" | "trace"> });
    return fail({ key: "invalidValue", message: `\`${v}\` is not an action` });
  }
  if (v && typeof v === "object" && "errno" in v) {
    const e = parseErrno((v as { errno: string | number }).errno);
    if (!e.ok) return e;
    return ok({ type: "errno", errno: e.value });
  }
  if (v && typeof v === "object" && "trace" in v) {
    const d = (v as { trace: unknown }).trace;
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > 0xffff)
      return fail({ key: "invalidTraceData", message: `trace data \`${String(d)}\` is out of 0–65535`, help: "the tracer reads 16 bits of data with PTRACE_GETEVENTMSG" });
    return ok({ type: "trace", data: d });
  }
  return fail({ key: "wrongType", message: "expected an action" });
}

// ---- words --------------------------------------------------------------------------------------------------

/**
 * Split a command line into words the way a POSIX shell would for plain text: whitespace separates, single
 * quotes keep everything, double quotes keep everything but `\"` and `\\`, a backslash escapes the next
 * character. No expansion of any kind happens.
 */
export function splitWords(s: string): Parsed<string[]> {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return fail({ key: "invalidValue", message: "unclosed `'` in a command line", index: i, length: 1 });
      cur += s.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === "\\" && (s[j + 1] === '"' || s[j + 1] === "\\")) j++;
        cur += s[j];
      }
      if (j >= s.length) return fail({ key: "invalidValue", message: 'unclosed `"` in a command line', index: i, length: 1 });
      inWord = true;
      i = j;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return ok(words);
}
