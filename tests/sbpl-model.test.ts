// Unit tests of the SBPL reader and the Seatbelt model (targets/sbpl/reader.ts, model.ts): the syntax they
// accept and refuse, each documented semantic rule, and a real hand-written profile (Codex's base policy,
// fixtures/data/sbpl/) read and queried.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CODES } from "../diagnostics/codes.js";
import { evaluateFileOp, evaluateNetworkOp, evaluateOp, PRECEDENCES, SbplEvalError, type EvalOptions, type SbplInput } from "../targets/sbpl/model.js";
import { readSbpl, sbplRegexToJs, type SbplProfile } from "../targets/sbpl/reader.js";

function read(text: string): SbplProfile {
  const r = readSbpl(text, "test.sb");
  expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return r.profile!;
}

/** The one diagnostic reading `text` gives: its code, and the text its span covers. */
function readError(text: string): { code: string; at: string; message: string } {
  const r = readSbpl(text, "test.sb");
  expect(r.profile).toBeUndefined();
  expect(r.diagnostics.length).toBe(1);
  const d = r.diagnostics[0]!;
  return { code: d.code, at: d.span ? text.slice(d.span.start, d.span.end) : "", message: d.message };
}

const file = (p: SbplProfile, op: string, path: string, defines = new Map<string, string>(), o: EvalOptions = {}) => evaluateFileOp(p, op, path, defines, o).decision;

describe("SBPL reader: syntax", () => {
  it("reads version, default and rules with several operations and filters, with spans", () => {
    const text = '(version 1)\n(deny default)\n(allow file-read* file-write-data (subpath "/usr") (literal "/etc/hosts"))\n';
    const p = read(text);
    expect(p.version).toBe(1);
    expect(p.rules.map((r) => [r.effect, r.operations])).toEqual([
      ["deny", ["default"]],
      ["allow", ["file-read*", "file-write-data"]],
    ]);
    const r = p.rules[1]!;
    expect(text.slice(r.span.start, r.span.end)).toBe('(allow file-read* file-write-data (subpath "/usr") (literal "/etc/hosts"))');
    expect(r.filters.map((f) => text.slice(f.span.start, f.span.end))).toEqual(['(subpath "/usr")', '(literal "/etc/hosts")']);
    expect(r.filters[0]).toMatchObject({ kind: "path", match: "subpath", value: { kind: "text", value: "/usr" } });
  });

  it("skips `;` line comments, `#| |#` block comments and `#;` datum comments", () => {
    const p = read('; head\n(version 1) #| a\n(allow default)\n|# (deny default) ; tail\n#;(allow file-read*)\n');
    expect(p.rules.map((r) => r.effect)).toEqual(["deny"]);
  });

  it("reads TinyScheme string escapes: \\n \\t \\r \\\" \\\\ \\xHH, and any other \\c as c (no \\u)", () => {
    const p = read('(version 1)(allow file-read* (literal "/a\\x41\\"\\\\\\n\\t\\r\\.\\u0001"))');
    expect(p.rules[0]!.filters[0]).toMatchObject({ value: { kind: "text", value: '/aA"\\\n\t\r.u0001' } });
  });

  it("keeps backslashes in #\"…\" regex literals, where \\\" does not end the literal", () => {
    const p = read('(version 1)(deny file-read* (regex #"^/x/\\.env\\"$"))');
    expect(p.rules[0]!.filters[0]).toMatchObject({ match: "regex", value: { kind: "text", value: '^/x/\\.env\\"$' } });
  });

  it("reads (param …), string-append and (define NAME \"text\") constants", () => {
    const p = read('(version 1)(define home "/Users/u")(allow file-read* (subpath (string-append home "/" (param "WS"))))');
    expect(p.params).toEqual(["WS"]);
    expect(p.rules[0]!.filters[0]).toMatchObject({ value: { kind: "append", parts: [{ kind: "text", value: "/Users/u" }, { kind: "text", value: "/" }, { kind: "param", name: "WS" }] } });
  });

  it("reads modifiers after the filters", () => {
    const p = read('(version 1)(deny file-read* (subpath "/s") (with message "no"))(allow process-exec (literal "/bin/ps") (with no-sandbox))');
    expect(p.rules.map((r) => r.modifiers.map((m) => m.name))).toEqual([["message"], ["no-sandbox"]]);
  });

  it("reads network, name and token filters", () => {
    const p = read(
      '(version 1)(allow network-outbound (remote ip "localhost:3128") (remote tcp "*:443") (remote unix-socket) (remote unix-socket (path-literal "/private/var/run/x")))' +
        '(allow mach-lookup (global-name "a") (global-name-prefix "b.") (local-name-regex #"^c$"))(allow file-read-metadata (vnode-type DIRECTORY))',
    );
    expect(p.rules[0]!.filters.map((f) => f.kind)).toEqual(["ip", "ip", "unix", "unix"]);
    expect(p.rules[0]!.filters[0]).toMatchObject({ side: "remote", protocol: "ip", host: "localhost", port: 3128 });
    expect(p.rules[1]!.filters).toMatchObject([{ key: "global-name", match: "literal" }, { key: "global-name", match: "prefix" }, { key: "local-name", match: "regex" }]);
    expect(p.rules[2]!.filters[0]).toMatchObject({ kind: "token", key: "vnode-type", values: ["DIRECTORY"] });
  });

  it.each([
    ["(version 1)(allow file-read*", CODES.sbplSyntax.code, "("],
    ['(version 1)(allow file-read* (literal "/a")))', CODES.sbplSyntax.code, ")"],
    ['(version 1)(allow file-read* (literal "/a))', CODES.sbplSyntax.code, '"'],
    ["(version 1) #| never closed", CODES.sbplSyntax.code, "#|"],
    ['(version 1)(allow file-read* (literal "/a\\x4"))', CODES.sbplSyntax.code, '\\x4"'],
    ['(version 1)(allow file-read* (literal "/a\\101"))', CODES.sbplUnsupported.code, "\\1"],
    ['(version 1)(import "system.sb")', CODES.sbplUnsupported.code, '(import "system.sb")'],
    ['(version 1)(if (param "X") (allow default))', CODES.sbplUnsupported.code, '(if (param "X") (allow default))'],
    ["(version 1)(define (f x) x)", CODES.sbplUnsupported.code, "(define (f x) x)"],
    ['(version 1)(allow file-read* (mount-relative-path "/a"))', CODES.sbplUnsupported.code, '(mount-relative-path "/a")'],
    ['(version 1)(allow file-read* (regex #"(?i)^/a"))', CODES.sbplUnsupported.code, '#"(?i)^/a"'],
    ['(version 1)(allow file-read* (regex #"/a^b"))', CODES.sbplUnsupported.code, '#"/a^b"'],
    ['(version 1)(allow file-read* (regex #"^/a\\d"))', CODES.sbplUnsupported.code, '#"^/a\\d"'],
    ['(version 1)(allow file-read* (regex #"^/a[[:alpha:]]"))', CODES.sbplUnsupported.code, '#"^/a[[:alpha:]]"'],
    ['(version 1)(allow file-read* (regex #"^/a$b"))', CODES.sbplUnsupported.code, '#"^/a$b"'],
    ["(version 2)", CODES.sbplUnsupported.code, "2"],
    ['(version 1)(allow (literal "/a"))', CODES.sbplInvalidRule.code, '(allow (literal "/a"))'],
    ['(version 1)(allow file-read* (literal "/a") file-write*)', CODES.sbplInvalidRule.code, "file-write*"],
    ['(version 1)(allow network-outbound (remote ip "127.0.0.1:80"))', CODES.sbplInvalidRule.code, '"127.0.0.1:80"'],
    ['(version 1)(allow network-outbound (remote ip "localhost:70000"))', CODES.sbplInvalidRule.code, '"localhost:70000"'],
    ['(version 1)(allow file-read* (literal "/a" "/b"))', CODES.sbplInvalidRule.code, '(literal "/a" "/b")'],
    ['(version 1)(allow file-read* (subpath undefined-name))', CODES.sbplInvalidRule.code, "undefined-name"],
    ['(allow default)(version 1)', CODES.sbplInvalidRule.code, "(version 1)"],
  ])("refuses %s with %s", (text, code, at) => {
    const e = readError(text);
    expect(e.code).toBe(code);
    expect(e.at).toBe(at);
    expect(e.message).toMatch(/^[a-z`(]/);
  });

  it("reports every malformed form, each with its own span", () => {
    const r = readSbpl('(version 1)(allow)(deny file-read* (bogus))(allow default)', "t.sb");
    expect(r.profile).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual([CODES.sbplInvalidRule.code, CODES.sbplUnsupported.code]);
  });
});

describe("SBPL regexes", () => {
  it.each([
    ["^/dev/ttys[0-9]+", "/dev/ttys003", true],
    ["^/dev/ttys[0-9]+", "/dev/ttys003x", true], // unanchored at the end: a search, as regexec
    ["^/dev/ttys[0-9]+", "/x/dev/ttys003", false],
    ["ttys", "/dev/ttys0", true],
    ["^/Users/[^/]+/\\.docker/run/", "/Users/bob/.docker/run/d.sock", true],
    ["^/Users/[^/]+/\\.docker/run/", "/Users/bob/xdocker/run/d.sock", false],
    ["^/w/(.*/)?[^/]*\\.env(/.*)?$", "/w/a/b/.env", true],
    ["^/w/(.*/)?[^/]*\\.env(/.*)?$", "/w/x.env/y", true],
    ["^/w/(.*/)?[^/]*\\.env(/.*)?$", "/w/x.envy", false],
    ["^/a|^/b$", "/bb", false],
    ["^/a|^/b$", "/ax", true],
    ["^/[]a]$", "/]", true],
    ["^/[^]a]$", "/]", false],
    ["^/x{2,3}$", "/xxx", true],
    ["^/x{2,3}$", "/xxxx", false],
    ["^/a.b$", "/a\nb", true], // `.` matches every character, as POSIX without REG_NEWLINE
    ["^/p/a\\.b\\+c\\(1\\)$", "/p/a.b+c(1)", true],
    ["^/p/a\\.b\\+c\\(1\\)$", "/p/aXb+c(1)", false],
  ])("%s on %s is %s", (re, path, want) => {
    expect(sbplRegexToJs(re).test(path)).toBe(want);
  });

  it.each(["(?i)a", "a\\w", "a[\\]]", "a(", "a)", "*a", "a{2", "a{3,2}", "a\\", "a^", "a$b", "a+?", "[z-a]", "\\1"])("refuses %s", (re) => {
    expect(() => sbplRegexToJs(re)).toThrow();
  });
});

describe("Seatbelt model: semantics", () => {
  it("falls back to `(deny default)` / `(allow default)`", () => {
    expect(file(read("(version 1)(deny default)"), "file-read-data", "/a")).toBe("deny");
    expect(file(read("(version 1)(allow default)"), "file-read-data", "/a")).toBe("allow");
  });

  it("refuses to guess when no rule decides and there is no default", () => {
    expect(() => file(read('(version 1)(allow file-read* (subpath "/a"))'), "file-read-data", "/b")).toThrow(SbplEvalError);
  });

  it("a wildcard covers the operations it prefixes, and nothing else", () => {
    const p = read("(version 1)(deny default)(allow file-write*)");
    for (const op of ["file-write-data", "file-write-create", "file-write-unlink", "file-write-xattr"]) expect(file(p, op, "/a"), op).toBe("allow");
    for (const op of ["file-read-data", "file-ioctl", "process-exec"]) expect(file(p, op, "/a"), op).toBe("deny");
    const q = read("(version 1)(deny default)(allow file*)");
    for (const op of ["file-read-data", "file-ioctl", "file-write-mode"]) expect(file(q, op, "/a"), op).toBe("allow");
    expect(file(q, "process-exec", "/a")).toBe("deny");
  });

  it("asks about concrete operations only", () => {
    const p = read("(version 1)(deny default)");
    expect(() => file(p, "file-write*", "/a")).toThrow(SbplEvalError);
    expect(() => file(p, "default", "/a")).toThrow(SbplEvalError);
  });

  it("the last matching rule wins, and names the rule that decided", () => {
    const text = '(version 1)(deny default)(allow file-read* (subpath "/u"))(deny file-read* (subpath "/u/.ssh"))(allow file-read-data (literal "/u/.ssh/config"))';
    const p = read(text);
    expect(file(p, "file-read-data", "/u/a")).toBe("allow");
    expect(file(p, "file-read-data", "/u/.ssh/id")).toBe("deny");
    expect(file(p, "file-read-metadata", "/u/.ssh/config")).toBe("deny");
    const v = evaluateFileOp(p, "file-read-data", "/u/.ssh/config");
    expect(v.decision).toBe("allow");
    expect(v.ruleIndex).toBe(3);
    expect(text.slice(v.span.start, v.span.end)).toBe('(allow file-read-data (literal "/u/.ssh/config"))');
    expect(evaluateFileOp(p, "file-read-data", "/x").ruleIndex).toBe(0);
  });

  it("under `last-match` an unfiltered rule matches everything; the precedence readings differ as documented", () => {
    // A filtered deny followed by an unfiltered allow: last-match lets the allow win; mxc's measurement
    // (filtered-first) keeps the deny.
    const p = read('(version 1)(deny default)(deny file-read* (subpath "/s"))(allow file-read*)');
    expect(file(p, "file-read-data", "/s/x", undefined, { precedence: "last-match" })).toBe("allow");
    expect(file(p, "file-read-data", "/s/x", undefined, { precedence: "filtered-first" })).toBe("deny");
    expect(file(p, "file-read-data", "/t", undefined, { precedence: "filtered-first" })).toBe("allow");
    // A specific operation's deny followed by a wildcard allow: sandbox-runtime reports the deny holds.
    const q = read('(version 1)(deny default)(deny file-write-unlink (subpath "/w"))(allow file-write* (subpath "/w"))');
    expect(file(q, "file-write-unlink", "/w/x", undefined, { precedence: "last-match" })).toBe("allow");
    expect(file(q, "file-write-unlink", "/w/x", undefined, { precedence: "specific-first" })).toBe("deny");
    expect(file(q, "file-write-data", "/w/x", undefined, { precedence: "specific-first" })).toBe("allow");
    // An order-independent profile means the same under every reading.
    const r = read('(version 1)(deny default)(allow file-read* (require-all (subpath "/u") (require-not (subpath "/u/s"))))');
    for (const precedence of PRECEDENCES) {
      expect(file(r, "file-read-data", "/u/a", undefined, { precedence })).toBe("allow");
      expect(file(r, "file-read-data", "/u/s/a", undefined, { precedence })).toBe("deny");
    }
  });

  it("literal, subpath and prefix compare strings; a subpath is component-aware", () => {
    const p = read('(version 1)(deny default)(allow file-read-data (literal "/l") (subpath "/s") (prefix "/p"))');
    const cases: [string, string][] = [
      ["/l", "allow"],
      ["/l/x", "deny"],
      ["/s", "allow"],
      ["/s/x/y", "allow"],
      ["/sx", "deny"],
      ["/p", "allow"],
      ["/px/y", "allow"],
      ["/q", "deny"],
    ];
    for (const [path, want] of cases) expect(file(p, "file-read-data", path), path).toBe(want);
  });

  it("`(subpath \"/\")` covers every path; a filter spelled non-canonically never matches", () => {
    expect(file(read('(version 1)(deny default)(allow file-read* (subpath "/"))'), "file-read-data", "/any/where")).toBe("allow");
    for (const spelled of ["/s/", "//s", "/tmp/s"]) {
      const p = read(`(version 1)(allow default)(deny file-read* (subpath "${spelled}"))`);
      expect(file(p, "file-read-data", "/s/x"), spelled).toBe("allow");
      expect(file(p, "file-read-data", "/private/tmp/s/x"), spelled).toBe("allow");
    }
  });

  it("takes canonical macOS paths only: nothing beneath the /tmp, /var and /etc symlinks, no `//`, `.`, `..` or trailing `/`", () => {
    const p = read("(version 1)(allow default)");
    for (const bad of ["/tmp/x", "/var/folders/x", "/etc/hosts", "/a//b", "/a/./b", "/a/../b", "/a/", "a"]) expect(() => file(p, "file-read-data", bad), bad).toThrow(SbplEvalError);
    for (const good of ["/tmp", "/private/tmp/x", "/", "/etcetera/x"]) expect(file(p, "file-read-data", good), good).toBe("allow");
  });

  it("require-all, require-any and require-not combine filters", () => {
    const p = read('(version 1)(deny default)(allow file-read* (require-all (subpath "/w") (require-not (subpath "/w/.git")) (require-any (prefix "/w/a") (prefix "/w/b"))))');
    expect(file(p, "file-read-data", "/w/a1")).toBe("allow");
    expect(file(p, "file-read-data", "/w/b/x")).toBe("allow");
    expect(file(p, "file-read-data", "/w/c")).toBe("deny");
    expect(file(p, "file-read-data", "/w/.git/a")).toBe("deny");
  });

  it("regex filters search the canonical path", () => {
    const p = read('(version 1)(allow default)(deny file-read* (regex #"^/w/(.*/)?[^/]*\\.env(/.*)?$"))');
    expect(file(p, "file-read-data", "/w/a/.env")).toBe("deny");
    expect(file(p, "file-read-data", "/w/x.env/inner")).toBe("deny");
    expect(file(p, "file-read-data", "/w/x.envy")).toBe("allow");
  });

  it("takes `-D` defines for params; a profile referring to an undefined one is an error", () => {
    const p = read('(version 1)(deny default)(allow file-write* (subpath (param "ROOT")) (literal (string-append (param "ROOT") ".lock")))');
    const d = new Map([["ROOT", "/w"]]);
    expect(file(p, "file-write-data", "/w/a", d)).toBe("allow");
    expect(file(p, "file-write-data", "/w.lock", d)).toBe("allow");
    expect(file(p, "file-write-data", "/x", d)).toBe("deny");
    expect(() => file(p, "file-write-data", "/w/a")).toThrow(/ROOT/);
    // Even when the rule that uses it is not consulted: Seatbelt would not compile the profile.
    expect(() => file(p, "file-read-data", "/w/a")).toThrow(/ROOT/);
    // A define makes regex text at evaluation time; it is checked then.
    const q = read('(version 1)(deny default)(allow file-read* (regex (param "RE")))');
    expect(file(q, "file-read-data", "/a/b", new Map([["RE", "^/a/"]]))).toBe("allow");
    expect(() => file(q, "file-read-data", "/a/b", new Map([["RE", "(?i)a"]]))).toThrow(SbplEvalError);
  });

  it("an input a filter needs and the query lacks is an error only when it could change the verdict", () => {
    const p = read('(version 1)(deny default)(allow file-read* (subpath "/a"))(allow file-read-metadata (vnode-type DIRECTORY))');
    expect(() => file(p, "file-read-metadata", "/b")).toThrow(/vnode-type/);
    expect(evaluateOp(p, "file-read-metadata", { path: "/b", attrs: { "vnode-type": "DIRECTORY" } }).decision).toBe("allow");
    expect(evaluateOp(p, "file-read-metadata", { path: "/b", attrs: { "vnode-type": "REGULAR-FILE" } }).decision).toBe("deny");
    // Both outcomes allow: the verdict is certain.
    expect(file(p, "file-read-metadata", "/a/x")).toBe("allow");
    // A later rule that surely matches decides before the undecided one is consulted.
    const q = read('(version 1)(deny default)(allow file-read* (vnode-type DIRECTORY))(deny file-read* (subpath "/s"))');
    expect(file(q, "file-read-data", "/s/x")).toBe("deny");
  });
});

describe("Seatbelt model: network", () => {
  const p = read(
    '(version 1)(deny default)(allow network-outbound (remote ip "localhost:3128") (remote tcp "*:443") (remote unix-socket (subpath "/private/var/run/ok")))' +
      '(allow network-bind (local ip "localhost:*"))(deny network-outbound (remote ip "*:25"))',
  );
  const out = (host: string, port: number, protocol?: "tcp" | "udp") => evaluateNetworkOp(p, "network-outbound", { kind: "ip", host, port, ...(protocol ? { protocol } : {}) }).decision;

  it("`localhost` is 127.0.0.1 and ::1, not the IPv4-mapped form nor other hosts", () => {
    expect(out("127.0.0.1", 3128)).toBe("allow");
    expect(out("::1", 3128)).toBe("allow");
    expect(out("localhost", 3128)).toBe("allow");
    expect(out("::ffff:127.0.0.1", 3128)).toBe("deny");
    expect(out("10.0.0.1", 3128)).toBe("deny");
    expect(out("127.0.0.1", 3129)).toBe("deny");
  });

  it("refuses to guess whether `localhost` covers the rest of 127.0.0.0/8", () => {
    expect(() => out("127.0.0.2", 3128)).toThrow(SbplEvalError);
  });

  it("a protocol-specific filter needs the query's protocol", () => {
    expect(out("8.8.8.8", 443, "tcp")).toBe("allow");
    expect(out("8.8.8.8", 443, "udp")).toBe("deny");
    expect(() => out("8.8.8.8", 443)).toThrow(/protocol/);
  });

  it("the last matching rule wins for addresses too", () => {
    expect(out("8.8.8.8", 25, "tcp")).toBe("deny");
  });

  it("bind and inbound ask about the local address", () => {
    expect(evaluateNetworkOp(p, "network-bind", { kind: "ip", host: "127.0.0.1", port: 8080 }).decision).toBe("allow");
    expect(evaluateNetworkOp(p, "network-bind", { kind: "ip", host: "0.0.0.0", port: 8080 }).decision).toBe("deny");
    // A remote filter on a bind needs the remote end, which a bind does not have.
    const q = read('(version 1)(deny default)(allow network-bind (remote ip "*:*"))');
    expect(() => evaluateNetworkOp(q, "network-bind", { kind: "ip", host: "127.0.0.1", port: 1 })).toThrow(SbplEvalError);
  });

  it("unix sockets match unix-socket filters only, by path", () => {
    expect(evaluateNetworkOp(p, "network-outbound", { kind: "unix", path: "/private/var/run/ok/s" }).decision).toBe("allow");
    expect(evaluateNetworkOp(p, "network-outbound", { kind: "unix", path: "/private/var/run/other" }).decision).toBe("deny");
    expect(() => evaluateNetworkOp(p, "network-outbound", { kind: "unix" })).toThrow(SbplEvalError);
    const any = read("(version 1)(deny default)(allow network-outbound (remote unix-socket))");
    expect(evaluateNetworkOp(any, "network-outbound", { kind: "unix" }).decision).toBe("allow");
    expect(evaluateNetworkOp(any, "network-outbound", { kind: "ip", host: "127.0.0.1", port: 1 }).decision).toBe("deny");
  });
});

describe("Codex's base policy (fixtures/data/sbpl/codex-base-policy.sbpl)", () => {
  const text = readFileSync(join(import.meta.dirname, "..", "fixtures", "data", "sbpl", "codex-base-policy.sbpl"), "utf8");
  const p = read(text);
  const op = (operation: string, input: SbplInput, o: EvalOptions = {}) => evaluateOp(p, operation, input, undefined, o).decision;

  it("reads every form", () => {
    expect(p.version).toBe(1);
    expect(p.rules.length).toBe(25);
    expect(p.params).toEqual([]);
  });

  it("denies what `(deny default)` leaves closed", () => {
    expect(file(p, "file-read-data", "/Users/u/notes.txt")).toBe("deny");
    expect(file(p, "file-write-data", "/private/tmp/x")).toBe("deny");
    expect(evaluateFileOp(p, "file-read-data", "/Users/u/notes.txt").ruleIndex).toBe(0);
  });

  it("denies the Docker socket in its canonical spelling (the /var spelling is a dead rule)", () => {
    const v = evaluateFileOp(p, "file-read-data", "/private/var/run/docker.sock");
    expect(v.decision).toBe("deny");
    expect(v.ruleIndex).toBe(2);
    expect(evaluateNetworkOp(p, "network-outbound", { kind: "unix", path: "/Users/bob/.docker/run/docker-cli-api.sock" }).decision).toBe("deny");
  });

  it("its Docker exec denial holds only if an unfiltered allow cannot override a filtered deny (mxc's reading)", () => {
    // `(deny process-exec (literal "/usr/bin/docker") …)` is followed by an unfiltered `(allow process-exec)`.
    expect(op("process-exec", { path: "/usr/bin/docker" }, { precedence: "last-match" })).toBe("allow");
    expect(op("process-exec", { path: "/usr/bin/docker" }, { precedence: "filtered-first" })).toBe("deny");
    for (const precedence of PRECEDENCES) expect(op("process-exec", { path: "/bin/ls" }, { precedence })).toBe("allow");
  });

  it("writes /dev/null only as a character device, which the query must say", () => {
    expect(op("file-write-data", { path: "/dev/null", attrs: { "vnode-type": "CHARACTER-DEVICE" } })).toBe("allow");
    expect(op("file-write-data", { path: "/dev/null", attrs: { "vnode-type": "REGULAR-FILE" } })).toBe("deny");
    expect(() => op("file-write-data", { path: "/dev/null" })).toThrow(/vnode-type/);
    expect(op("file-write-unlink", { path: "/dev/null", attrs: { "vnode-type": "CHARACTER-DEVICE" } })).toBe("deny");
  });

  it("opens PTYs: /dev/ptmx, ttys with the pty extension, ioctl on ttys without it", () => {
    expect(file(p, "file-ioctl", "/dev/ptmx")).toBe("allow");
    expect(op("file-read-data", { path: "/dev/ttys003", attrs: { extension: ["com.apple.sandbox.pty"] } })).toBe("allow");
    expect(op("file-read-data", { path: "/dev/ttys003", attrs: { extension: [] } })).toBe("deny");
    expect(file(p, "file-ioctl", "/dev/ttys003")).toBe("allow");
  });

  it("reads only the listed sysctls", () => {
    for (const name of ["kern.hostname", "hw.optional.arm.FEAT_AES", "kern.proc.pid.42", "hw.perflevel0.cpusperl2"]) expect(op("sysctl-read", { attrs: { "sysctl-name": name } }), name).toBe("allow");
    for (const name of ["kern.securelevel", "hw.optional.x86"]) expect(op("sysctl-read", { attrs: { "sysctl-name": name } }), name).toBe("deny");
    expect(op("sysctl-write", { attrs: { "sysctl-name": "kern.grade_cputype" } })).toBe("allow");
    expect(op("sysctl-write", { attrs: { "sysctl-name": "kern.hostname" } })).toBe("deny");
  });

  it("looks up only the listed Mach services", () => {
    const global = (name: string) => op("mach-lookup", { attrs: { "global-name": name, "local-name": null, "xpc-service-name": null } });
    expect(global("com.apple.cfprefsd.daemon")).toBe("allow");
    expect(global("com.apple.system.opendirectoryd.libinfo")).toBe("allow");
    expect(global("com.apple.windowserver")).toBe("deny");
    expect(() => op("mach-lookup", { attrs: { "global-name": "com.apple.windowserver" } })).toThrow(/local-name/);
  });

  it("signals and inspects processes of its own sandbox only", () => {
    expect(op("signal", { attrs: { target: "same-sandbox" } })).toBe("allow");
    expect(op("signal", { attrs: { target: "others" } })).toBe("deny");
    expect(op("process-info-pidinfo", { attrs: { target: "same-sandbox" } })).toBe("allow");
    expect(op("user-preference-read", {})).toBe("allow");
    expect(op("ipc-posix-shm-read-data", { attrs: { "ipc-posix-name": "/__KMP_REGISTERED_LIB_123" } })).toBe("allow");
    expect(op("ipc-posix-shm-read-data", { attrs: { "ipc-posix-name": "docker.x" } })).toBe("deny");
  });
});
