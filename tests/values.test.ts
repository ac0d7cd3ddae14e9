// The small value languages inside policy strings: ports, IP addresses and CIDR blocks, endpoints, syscall
// argument conditions, errno names and actions (ir/values.ts).

import { describe, expect, it } from "vitest";
import {
  cidrContains,
  formatCidr,
  formatIp,
  LOOPBACK_CIDRS,
  mergeRanges,
  parseAction,
  parseCidr,
  parseCondition,
  parseEndpoint,
  parseErrno,
  parseIp,
  parsePort,
  parseValue,
  type Parsed,
  type ValueIssue,
} from "../ir/values.js";

function value<T>(r: Parsed<T>, what = ""): T {
  if (!r.ok) throw new Error(`expected ${what} to parse, got ${r.issue.key}: ${r.issue.message}`);
  return r.value;
}

function issue<T>(r: Parsed<T>, what = ""): ValueIssue {
  if (r.ok) throw new Error(`expected ${what} to fail, got ${JSON.stringify(r.value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`);
  return r.issue;
}

const U64 = (1n << 64n) - 1n;

// ---- ports ----------------------------------------------------------------------------------------------

describe("parsePort", () => {
  it("single ports, as numbers and strings", () => {
    expect(value(parsePort(0))).toEqual([0, 0]);
    expect(value(parsePort(443))).toEqual([443, 443]);
    expect(value(parsePort(65535))).toEqual([65535, 65535]);
    expect(value(parsePort("80"))).toEqual([80, 80]);
    expect(value(parsePort("65535"))).toEqual([65535, 65535]);
  });

  it("inclusive ranges, with optional spaces", () => {
    expect(value(parsePort("8000-8999"))).toEqual([8000, 8999]);
    expect(value(parsePort("8000 - 8999"))).toEqual([8000, 8999]);
    expect(value(parsePort("0-65535"))).toEqual([0, 65535]);
    expect(value(parsePort("22-22"))).toEqual([22, 22]);
  });

  it("out-of-range, fractional and negative ports", () => {
    for (const p of [65536, -1, 1.5, Number.NaN, Infinity]) expect(issue(parsePort(p), String(p)).key).toBe("invalidPort");
    for (const p of ["65536", "0-65536", "70000-80000"]) expect(issue(parsePort(p), p).key).toBe("invalidPort");
  });

  it("malformed strings", () => {
    for (const p of ["", "abc", "80-", "-80", "0x50", "1e3", "80,81", "1234567", "8 0"]) expect(issue(parsePort(p), p).key, p).toBe("invalidPort");
  });

  it("a reversed range is an error whose help gives the right order", () => {
    const i = issue(parsePort("9000-8000"));
    expect(i.key).toBe("invalidPort");
    expect(i.help).toContain("8000-9000");
  });
});

describe("mergeRanges", () => {
  it("sorts, merges overlapping and adjacent ranges, keeps gaps", () => {
    expect(
      mergeRanges([
        [5, 10],
        [1, 3],
        [4, 4],
        [12, 20],
        [11, 11],
        [30, 40],
        [35, 36],
      ]),
    ).toEqual([
      [1, 20],
      [30, 40],
    ]);
    expect(
      mergeRanges([
        [10, 20],
        [22, 30],
      ]),
    ).toEqual([
      [10, 20],
      [22, 30],
    ]);
    expect(mergeRanges([])).toEqual([]);
  });

  it("a range contained in another disappears; duplicates collapse", () => {
    expect(
      mergeRanges([
        [0, 65535],
        [80, 80],
        [443, 443],
      ]),
    ).toEqual([[0, 65535]]);
    expect(
      mergeRanges([
        [80, 80],
        [80, 80],
      ]),
    ).toEqual([[80, 80]]);
  });

  it("does not modify its input", () => {
    const input: [number, number][] = [
      [5, 6],
      [1, 2],
    ];
    mergeRanges(input);
    expect(input).toEqual([
      [5, 6],
      [1, 2],
    ]);
  });

  it("covers exactly the ports of its input (exhaustive over a small universe)", () => {
    const universe = 24;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % universe;
    for (let trial = 0; trial < 200; trial++) {
      const ranges: [number, number][] = [];
      const n = 1 + (trial % 5);
      for (let i = 0; i < n; i++) {
        const a = rnd();
        const b = rnd();
        ranges.push([Math.min(a, b), Math.max(a, b)]);
      }
      const merged = mergeRanges(ranges);
      for (let p = 0; p < universe; p++) {
        const inInput = ranges.some(([lo, hi]) => p >= lo && p <= hi);
        const inMerged = merged.some(([lo, hi]) => p >= lo && p <= hi);
        expect(inMerged, `port ${p} of ${JSON.stringify(ranges)}`).toBe(inInput);
      }
      // Sorted, disjoint and not adjacent.
      for (let i = 1; i < merged.length; i++) expect(merged[i]![0]).toBeGreaterThan(merged[i - 1]![1] + 1);
    }
  });
});

// ---- IP addresses and CIDR blocks -----------------------------------------------------------------------

describe("parseIp", () => {
  it("IPv4", () => {
    expect(parseIp("127.0.0.1")).toEqual({ family: 4, bits: 0x7f000001n });
    expect(parseIp("0.0.0.0")).toEqual({ family: 4, bits: 0n });
    expect(parseIp("255.255.255.255")).toEqual({ family: 4, bits: 0xffffffffn });
  });

  it("IPv6, compressed and full", () => {
    expect(parseIp("::")).toEqual({ family: 6, bits: 0n });
    expect(parseIp("::1")).toEqual({ family: 6, bits: 1n });
    expect(parseIp("1:2:3:4:5:6:7:8")).toEqual({ family: 6, bits: 0x00010002000300040005000600070008n });
    expect(parseIp("2001:DB8::1")).toEqual({ family: 6, bits: 0x20010db8000000000000000000000001n });
    expect(parseIp("1::")).toEqual({ family: 6, bits: 1n << 112n });
  });

  it("`::ffff:127.0.0.1` is the IPv4-mapped loopback address, an IPv6 address", () => {
    const ip = parseIp("::ffff:127.0.0.1");
    expect(ip).toEqual({ family: 6, bits: 0xffff7f000001n });
    expect(LOOPBACK_CIDRS.some((c) => cidrContains(c, ip!))).toBe(true);
    // Same address written in hex groups.
    expect(parseIp("::ffff:7f00:1")).toEqual(ip);
  });

  it("rejects malformed addresses", () => {
    for (const s of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.256",
      "1.2.3.-1",
      " 1.2.3.4",
      "1::2::3",
      "12345::",
      ":::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      ":1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:",
      "1.2.3.4::",
      "::g",
      "fe80::1%eth0",
      "::ffff:1.2.3",
      "localhost",
    ]) {
      expect(parseIp(s), JSON.stringify(s)).toBeUndefined();
    }
  });
});

describe("formatIp (RFC 5952)", () => {
  const canon = (s: string): string => {
    const ip = parseIp(s);
    expect(ip, s).toBeDefined();
    return formatIp(ip!);
  };

  it("lowercase, no leading zeros", () => {
    expect(canon("2001:0DB8:0000:0000:0000:0000:0000:0001")).toBe("2001:db8::1");
    expect(canon("ABCD::EF")).toBe("abcd::ef");
  });

  it("compresses the longest run of zero groups, the first one on a tie", () => {
    expect(canon("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
    expect(canon("0:0:1:0:0:1:0:0")).toBe("::1:0:0:1:0:0");
    expect(canon("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1");
    expect(canon("1:0:0:0:0:0:0:8")).toBe("1::8");
    expect(canon("0:0:0:0:0:0:0:0")).toBe("::");
    expect(canon("0:0:0:0:0:0:0:1")).toBe("::1");
  });

  it("never compresses a single zero group", () => {
    expect(canon("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
    expect(canon("1:2:3:4:5:6:7::")).toBe("1:2:3:4:5:6:7:0");
  });

  it("IPv4 as dotted decimal", () => {
    expect(canon("10.0.0.1")).toBe("10.0.0.1");
  });

  it("IPv4-mapped addresses keep the dotted quad (§5)", () => {
    expect(canon("::ffff:127.0.0.1")).toBe("::ffff:127.0.0.1");
    expect(canon("::ffff:7f00:1")).toBe("::ffff:127.0.0.1");
    expect(canon("0:0:0:0:0:ffff:a00:1")).toBe("::ffff:10.0.0.1");
  });
});

describe("parseCidr", () => {
  const norm = (s: string) => formatCidr(value(parseCidr(s), s));

  it("IPv4 blocks and single addresses", () => {
    expect(norm("10.0.0.0/8")).toBe("10.0.0.0/8");
    expect(norm("0.0.0.0/0")).toBe("0.0.0.0/0");
    expect(norm("1.2.3.4")).toBe("1.2.3.4/32");
    expect(norm("1.2.3.4/32")).toBe("1.2.3.4/32");
  });

  it("IPv6 blocks are normalized per RFC 5952", () => {
    expect(norm("2001:0db8:0000::/32")).toBe("2001:db8::/32");
    expect(norm("2001:0db8:0000:0000:0000:0000:0000:0001")).toBe("2001:db8::1/128");
    expect(norm("::/0")).toBe("::/0");
    expect(norm("::1")).toBe("::1/128");
    expect(norm("FE80::/10")).toBe("fe80::/10");
  });

  it("host bits set after the prefix are an error whose help gives the network", () => {
    const v4 = issue(parseCidr("10.0.0.1/8"));
    expect(v4.key).toBe("invalidHost");
    expect(v4.help).toContain("10.0.0.0/8");
    const v6 = issue(parseCidr("2001:db8::1/64"));
    expect(v6.key).toBe("invalidHost");
    expect(v6.help).toContain("2001:db8::/64");
    expect(issue(parseCidr("0.0.0.1/0")).help).toContain("0.0.0.0/0");
  });

  it("prefix bounds: 0..32 for IPv4, 0..128 for IPv6", () => {
    expect(value(parseCidr("10.0.0.0/0".replace("10.0.0.0", "0.0.0.0"))).prefix).toBe(0);
    expect(value(parseCidr("1.2.3.4/32")).prefix).toBe(32);
    expect(value(parseCidr("::1/128")).prefix).toBe(128);
    for (const s of ["10.0.0.0/33", "::1/129", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8/8", "::/1000"]) {
      expect(issue(parseCidr(s), s).key, s).toBe("invalidHost");
    }
  });

  it("not an address at all; `localhost` gets a help pointing at `loopback`", () => {
    expect(issue(parseCidr("example.com")).key).toBe("invalidHost");
    const l = issue(parseCidr("localhost"));
    expect(l.key).toBe("invalidHost");
    expect(l.help).toContain("loopback");
  });

  it("containment follows the prefix", () => {
    const block = value(parseCidr("10.1.0.0/16"));
    expect(cidrContains(block, parseIp("10.1.255.255")!)).toBe(true);
    expect(cidrContains(block, parseIp("10.2.0.0")!)).toBe(false);
    // The families never mix, even for ::/0.
    expect(cidrContains(value(parseCidr("::/0")), parseIp("1.2.3.4")!)).toBe(false);
    expect(cidrContains(value(parseCidr("0.0.0.0/0")), parseIp("::1")!)).toBe(false);
  });
});

describe("parseEndpoint", () => {
  it("IPv4, bracketed IPv6 and localhost", () => {
    expect(value(parseEndpoint("1.2.3.4:443"))).toEqual({ host: { family: 4, bits: 0x01020304n }, port: 443 });
    expect(value(parseEndpoint("[::1]:443"))).toEqual({ host: { family: 6, bits: 1n }, port: 443 });
    expect(value(parseEndpoint("localhost:80"))).toEqual({ host: { family: 4, bits: 0x7f000001n }, port: 80 });
    expect(value(parseEndpoint("[2001:db8::1]:0")).port).toBe(0);
    expect(value(parseEndpoint("1.2.3.4:65535")).port).toBe(65535);
  });

  it("malformed endpoints", () => {
    for (const s of ["::1:443", "[::1]", "1.2.3.4", "1.2.3.4:", ":80", "1.2.3.4:-1", "[::1]:443x", "1.2.3.4:80:80", "", "[::1:443"]) {
      expect(issue(parseEndpoint(s), s).key, s).toBe("invalidEndpoint");
    }
    // An unbracketed IPv6 endpoint gets the bracket hint.
    expect(issue(parseEndpoint("::1:443")).help).toContain("[::1]:443");
  });

  it("host names are not addresses; ports beyond 65535 are rejected", () => {
    const h = issue(parseEndpoint("example.com:80"));
    expect(h.key).toBe("invalidEndpoint");
    expect(h.message).toContain("example.com");
    expect(issue(parseEndpoint("1.2.3.4:65536")).key).toBe("invalidEndpoint");
    expect(issue(parseEndpoint("1.2.3.4:99999999999999999999")).key).toBe("invalidEndpoint");
  });
});

// ---- conditions -----------------------------------------------------------------------------------------

describe("parseCondition", () => {
  it("each comparison operator, on each argument", () => {
    const ops = ["==", "!=", "<", "<=", ">", ">="] as const;
    ops.forEach((op, i) => {
      expect(value(parseCondition(`arg${i} ${op} ${i + 1}`))).toEqual({ arg: i, op, value: `0x${i + 1}` });
    });
  });

  it("spaces around operators are optional", () => {
    expect(value(parseCondition("arg0==1"))).toEqual(value(parseCondition("  arg0   ==   1  ")));
    expect(value(parseCondition("arg2<=0x10"))).toEqual({ arg: 2, op: "<=", value: "0x10" });
  });

  it("symbolic constants", () => {
    expect(value(parseCondition("arg0 == AF_UNIX"))).toEqual({ arg: 0, op: "==", value: "0x1" });
    expect(value(parseCondition("arg0 == AF_INET"))).toEqual({ arg: 0, op: "==", value: "0x2" });
  });

  it("constants and numbers OR'd together with `|`", () => {
    expect(value(parseCondition("arg0 == AF_UNIX|AF_INET"))).toEqual({ arg: 0, op: "==", value: "0x3" });
    expect(value(parseCondition("arg0 == AF_UNIX | AF_INET"))).toEqual({ arg: 0, op: "==", value: "0x3" });
    expect(value(parseCondition("arg0 == 0x10 | 1 | 0b100"))).toEqual({ arg: 0, op: "==", value: "0x15" });
  });

  it("masked comparisons `argN & MASK == VALUE`", () => {
    expect(value(parseCondition("arg1 & CLONE_NEWUSER == 0"))).toEqual({ arg: 1, op: "&==", mask: "0x10000000", value: "0x0" });
    expect(value(parseCondition("arg0 & 0xff == 0x10 | 0x01"))).toEqual({ arg: 0, op: "&==", mask: "0xff", value: "0x11" });
    expect(value(parseCondition("arg3 & 1|2 == 2"))).toEqual({ arg: 3, op: "&==", mask: "0x3", value: "0x2" });
  });

  it("numbers: decimal, hex, octal, binary, underscores", () => {
    const v = (s: string) => value(parseCondition(`arg0 == ${s}`), s).value;
    expect(v("42")).toBe("0x2a");
    expect(v("0x2A")).toBe("0x2a");
    expect(v("0X2a")).toBe("0x2a");
    expect(v("0o52")).toBe("0x2a");
    expect(v("0O52")).toBe("0x2a");
    expect(v("0b101010")).toBe("0x2a");
    expect(v("1_000_000")).toBe("0xf4240");
    expect(v("0xFFFF_FFFF")).toBe("0xffffffff");
    expect(v("0")).toBe("0x0");
    expect(v("18446744073709551615")).toBe("0xffffffffffffffff");
    expect(v("0xffff_ffff_ffff_ffff")).toBe("0xffffffffffffffff");
  });

  it("negative numbers are 64-bit two's complement", () => {
    const v = (s: string) => BigInt(value(parseCondition(`arg0 == ${s}`), s).value);
    expect(v("-1")).toBe(U64);
    expect(v("-2")).toBe(U64 - 1n);
    expect(v("-0x10")).toBe((1n << 64n) - 16n);
    expect(v("-9223372036854775808")).toBe(1n << 63n);
    expect(v("-0")).toBe(0n);
    // What -100 means for a signed 64-bit register.
    expect(BigInt.asIntN(64, v("-100"))).toBe(-100n);
  });

  it("numbers that do not fit in 64 bits", () => {
    for (const s of ["18446744073709551616", "0x1_0000_0000_0000_0000", "-9223372036854775809", "0b1" + "0".repeat(64)]) {
      const i = issue(parseCondition(`arg0 == ${s}`), s);
      expect(i.key, s).toBe("valueOutOfRange");
      expect(i.index, s).toBe(8);
      expect(i.length, s).toBe(s.length);
    }
  });

  it("`arg6` (and beyond) does not exist", () => {
    const i = issue(parseCondition("arg6 == 1"));
    expect(i.key).toBe("argIndexOutOfRange");
    expect(i.index).toBe(0);
    expect(i.length).toBe(4);
    expect(issue(parseCondition("arg10 == 1")).key).toBe("argIndexOutOfRange");
  });

  it("a condition must start with argN", () => {
    for (const s of ["", "x == 1", "ARG0 == 1", "1 == arg0", "== 1"]) expect(issue(parseCondition(s), s).key, s).toBe("invalidCondition");
  });

  it("a missing comparison or value", () => {
    const noOp = issue(parseCondition("arg0"));
    expect(noOp.key).toBe("invalidCondition");
    expect(noOp.index).toBe(4);
    const noValue = issue(parseCondition("arg0 =="));
    expect(noValue.key).toBe("invalidCondition");
    expect(noValue.message).toContain("missing value");
    expect(noValue.index).toBe(7);
  });

  it("a trailing or leading `|`", () => {
    const trailing = issue(parseCondition("arg0 == 1|"));
    expect(trailing.key).toBe("invalidCondition");
    expect(trailing.index).toBe(9);
    expect(issue(parseCondition("arg0 == 1 | AF_UNIX |")).key).toBe("invalidCondition");
    expect(issue(parseCondition("arg0 == |1")).key).toBe("invalidCondition");
    expect(issue(parseCondition("arg0 == 1 || 2")).key).toBe("invalidCondition");
  });

  it("two values without `|`, and characters outside the language", () => {
    expect(issue(parseCondition("arg0 == 1 2"))).toMatchObject({ key: "invalidCondition", index: 10 });
    expect(issue(parseCondition("arg0 == 1 + 2"))).toMatchObject({ key: "invalidCondition", index: 10 });
    expect(issue(parseCondition("arg0 === 1")).key).toBe("invalidCondition");
    expect(issue(parseCondition("arg0 = 1")).key).toBe("invalidCondition");
    expect(issue(parseCondition("arg0 == 0x")).key).toBe("invalidCondition");
  });

  it("an unknown constant, with a did-you-mean help and its position", () => {
    const i = issue(parseCondition("arg0 == AF_UNIZ"));
    expect(i.key).toBe("unknownConstant");
    expect(i.index).toBe(8);
    expect(i.length).toBe(7);
    expect(i.help).toContain("AF_UNIX");
    // In an OR'd value, the unknown one is pointed at.
    expect(issue(parseCondition("arg0 == AF_UNIX|AF_INETT"))).toMatchObject({ key: "unknownConstant", index: 16 });
    // Object prototype names are not constants.
    expect(issue(parseCondition("arg0 == constructor")).key).toBe("unknownConstant");
    expect(issue(parseCondition("arg0 == toString")).key).toBe("unknownConstant");
  });

  it("a masked comparison only supports `==`", () => {
    const i = issue(parseCondition("arg0 & 1 <= 2"));
    expect(i.key).toBe("invalidCondition");
    expect(i.message).toContain("<=");
    expect(i.index).toBe(9);
    expect(issue(parseCondition("arg0 & 1 != 0")).key).toBe("invalidCondition");
    expect(issue(parseCondition("arg0 & 1")).key).toBe("invalidCondition");
    expect(issue(parseCondition("arg0 & 1 == 1 == 2")).key).toBe("invalidCondition");
  });
});

describe("parseValue (test arguments)", () => {
  it("numbers, negative numbers and constants", () => {
    expect(value(parseValue(5))).toBe(5n);
    expect(value(parseValue(-1))).toBe(U64);
    expect(value(parseValue("-1"))).toBe(U64);
    expect(value(parseValue("AF_UNIX|AF_INET"))).toBe(3n);
    expect(value(parseValue("0x10"))).toBe(16n);
  });

  it("numbers that are not exact in JavaScript must be strings", () => {
    expect(issue(parseValue(2 ** 60)).key).toBe("valueOutOfRange");
    expect(issue(parseValue(1.5)).key).toBe("valueOutOfRange");
  });
});

// ---- errno and actions ----------------------------------------------------------------------------------

describe("parseErrno", () => {
  it("names and aliases", () => {
    expect(value(parseErrno("EPERM"))).toBe(1);
    expect(value(parseErrno("ENOENT"))).toBe(2);
    expect(value(parseErrno("EACCES"))).toBe(13);
    expect(value(parseErrno("EWOULDBLOCK"))).toBe(value(parseErrno("EAGAIN")));
  });

  it("numbers 0..4095", () => {
    expect(value(parseErrno(0))).toBe(0);
    expect(value(parseErrno(4095))).toBe(4095);
    for (const n of [4096, -1, 1.5]) expect(issue(parseErrno(n), String(n)).key).toBe("unknownErrno");
  });

  it("unknown names, with a did-you-mean help", () => {
    const i = issue(parseErrno("EPREM"));
    expect(i.key).toBe("unknownErrno");
    expect(i.help).toContain("EPERM");
    expect(issue(parseErrno("constructor")).key).toBe("unknownErrno");
    expect(issue(parseErrno("")).key).toBe("unknownErrno");
  });
});

describe("parseAction", () => {
  it("every action word", () => {
    for (const w of ["allow", "log", "trap", "user-notif", "kill-thread", "kill-process"] as const) expect(value(parseAction(w))).toEqual({ type: w });
  });

  it("`errno` alone means EPERM", () => {
    expect(value(parseAction("errno"))).toEqual({ type: "errno", errno: 1 });
  });

  it("`{errno: NAME}` and `{errno: number}`", () => {
    expect(value(parseAction({ errno: "EACCES" }))).toEqual({ type: "errno", errno: 13 });
    expect(value(parseAction({ errno: 38 }))).toEqual({ type: "errno", errno: 38 });
    expect(issue(parseAction({ errno: "EBAD" })).key).toBe("unknownErrno");
    expect(issue(parseAction({ errno: 5000 })).key).toBe("unknownErrno");
  });

  it("anything else is not an action", () => {
    expect(issue(parseAction("deny")).key).toBe("invalidValue");
    expect(issue(parseAction("ALLOW")).key).toBe("invalidValue");
    for (const v of [null, undefined, 5, {}, ["allow"], true]) expect(issue(parseAction(v), JSON.stringify(v)).key).toBe("wrongType");
  });
});
