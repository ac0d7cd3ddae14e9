// Generates linux-abi/*.generated.ts, so every kernel number the compiler
// emits traces back to a source instead of a hand-typed table: the syscall numbers
// from linux-abi/data/linux-syscalls.tsv (Linux 7.1, every architecture;
// see data/SOURCE.md), the AUDIT_ARCH values, uapi constants and errno values from
// the headers that Debian's linux-libc-dev installs.
//
//   npx tsx scripts/gen-linux-abi.ts           write the generated files
//   npx tsx scripts/gen-linux-abi.ts --check   exit 1 if a committed file is stale
//
// The headers are read through a small C preprocessor (conditionals, object-like
// macros, enums, C integer arithmetic) rather than with regexes, because the
// aarch64 syscall table only exists as `#if`-guarded asm-generic/unistd.h and
// several constants are defined in terms of other macros.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(REPO_ROOT, "linux-abi");
const INCLUDE_ROOT = "/usr/include";
const X86_64_MULTIARCH = "/usr/include/x86_64-linux-gnu";
const SYSCALL_TSV = join(OUT_DIR, "data", "linux-syscalls.tsv");

/**
 * The architectures sbc compiles for: name, the TSV column that holds its numbers, and the
 * AUDIT_ARCH_* macro of linux/audit.h that names it in `seccomp_data.arch`.
 */
const SUPPORTED_ARCHES: readonly { readonly arch: string; readonly column: string; readonly audit: string }[] = [
  { arch: "x86_64", column: "x86_64", audit: "AUDIT_ARCH_X86_64" },
  // x32 runs under AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set in the number.
  { arch: "x32", column: "x32", audit: "AUDIT_ARCH_X86_64" },
  { arch: "i386", column: "i386", audit: "AUDIT_ARCH_I386" },
  { arch: "aarch64", column: "aarch64", audit: "AUDIT_ARCH_AARCH64" },
  { arch: "arm", column: "arm", audit: "AUDIT_ARCH_ARM" },
  { arch: "riscv64", column: "riscv64", audit: "AUDIT_ARCH_RISCV64" },
  { arch: "ppc64le", column: "ppc64", audit: "AUDIT_ARCH_PPC64LE" },
  { arch: "s390x", column: "s390x", audit: "AUDIT_ARCH_S390X" },
  { arch: "loongarch64", column: "loongarch64", audit: "AUDIT_ARCH_LOONGARCH64" },
];

type Arch = "x86_64" | "aarch64";
const ARCHES: readonly Arch[] = ["x86_64", "aarch64"];

// Debian's amd64 linux-libc-dev only ships x86 asm/ headers. arm64 overrides
// just a few asm/ headers and takes asm-generic for the rest (Kbuild generic-y),
// so the handful of directives that matter are transcribed from the Linux 6.1
// tree (arch/arm64/include/uapi/asm/*.h). Anything not listed here resolves to
// asm-generic/<name> exactly as the arm64 build does.
const ARM64_ASM_OVERRIDES: Readonly<Record<string, string>> = {
  // arch/arm64/include/uapi/asm/bitsperlong.h
  "bitsperlong.h": "#define __BITS_PER_LONG 64\n",
  // arch/arm64/include/uapi/asm/unistd.h; __ARCH_WANT_MEMFD_SECRET is there
  // since v5.14 (commit 7bb7f2ac24a0), before the 6.11 switch to unistd_64.h.
  "unistd.h": [
    "#define __ARCH_WANT_RENAMEAT",
    "#define __ARCH_WANT_NEW_STAT",
    "#define __ARCH_WANT_SET_GET_RLIMIT",
    "#define __ARCH_WANT_TIME32_SYSCALLS",
    "#define __ARCH_WANT_SYS_CLONE3",
    "#define __ARCH_WANT_MEMFD_SECRET",
    "#include <asm-generic/unistd.h>",
    "",
  ].join("\n"),
  // arch/arm64/include/uapi/asm/fcntl.h: AArch32-compatible open flags.
  "fcntl.h": [
    "#define O_DIRECTORY 040000",
    "#define O_NOFOLLOW 0100000",
    "#define O_DIRECT 0200000",
    "#define O_LARGEFILE 0400000",
    "#include <asm-generic/fcntl.h>",
    "",
  ].join("\n"),
  // arch/arm64/include/uapi/asm/mman.h (6.1): BTI/MTE protection bits.
  "mman.h": ["#include <asm-generic/mman.h>", "#define PROT_BTI 0x10", "#define PROT_MTE 0x20", ""].join("\n"),
};

// ---------------------------------------------------------------------------
// Header access

class MissingHeaderError extends Error {
  constructor(readonly path: string) {
    super(`missing header ${path}`);
  }
}

function debianPackageFor(path: string): string {
  return path.startsWith(join(X86_64_MULTIARCH, "bits")) ? "libc6-dev" : "linux-libc-dev";
}

interface HeaderText {
  /** Real path on disk, or undefined for transcribed arm64 overrides. */
  readonly path: string | undefined;
  readonly text: string;
}

const fileCache = new Map<string, string>();
function readHeader(path: string): string {
  let text = fileCache.get(path);
  if (text === undefined) {
    if (!existsSync(path)) throw new MissingHeaderError(path);
    text = readFileSync(path, "utf8");
    fileCache.set(path, text);
  }
  return text;
}

function resolveInclude(arch: Arch, name: string): HeaderText {
  if (name.startsWith("asm/")) {
    const base = name.slice("asm/".length);
    if (arch === "x86_64") {
      const path = join(X86_64_MULTIARCH, name);
      return { path, text: readHeader(path) };
    }
    const override = ARM64_ASM_OVERRIDES[base];
    if (override !== undefined) return { path: undefined, text: override };
    return { path: undefined, text: `#include <asm-generic/${base}>\n` };
  }
  // glibc's bits/socket*.h are the generic Linux sysdeps files on both arches
  // (only alpha, hppa, mips and sparc carry their own), so the amd64 copy
  // stands in for arm64 too.
  if (name.startsWith("bits/")) {
    const path = join(X86_64_MULTIARCH, name);
    return { path, text: readHeader(path) };
  }
  const path = join(INCLUDE_ROOT, name);
  return { path, text: readHeader(path) };
}

// ---------------------------------------------------------------------------
// C integers: enough of C's typing rules that `1 << 31` or `~0` cannot be
// silently given a value the C compiler would not.

interface CInt {
  readonly v: bigint;
  readonly unsigned: boolean;
  readonly bits: 32 | 64;
}

class EvalError extends Error {}

function fits(v: bigint, unsigned: boolean, bits: 32 | 64): boolean {
  if (unsigned) return v >= 0n && v < 1n << BigInt(bits);
  const half = 1n << BigInt(bits - 1);
  return v >= -half && v < half;
}

function makeInt(v: bigint, unsigned: boolean, bits: 32 | 64): CInt {
  if (unsigned) return { v: BigInt.asUintN(bits, v), unsigned, bits };
  if (!fits(v, false, bits)) throw new EvalError("signed overflow");
  return { v, unsigned, bits };
}

const INT = (v: bigint): CInt => makeInt(v, false, 32);

function parseIntLiteral(text: string, wide: boolean): CInt {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(text);
  if (!m) throw new EvalError(`not an integer literal: ${text}`);
  const digits = m[1]!;
  const suffix = m[2]!.toLowerCase();
  if (!/^(u?(l|ll)?|(l|ll)u)$/.test(suffix)) throw new EvalError(`bad suffix: ${text}`);
  const v =
    digits.length > 1 && digits.startsWith("0") && !/^0x/i.test(digits)
      ? BigInt("0o" + digits.slice(1))
      : BigInt(digits);
  const decimal = !digits.startsWith("0");
  const hasU = suffix.includes("u");
  const hasL = suffix.includes("l");
  // C11 6.4.4.1: the first type in the list that can represent the value.
  const candidates: [boolean, 32 | 64][] = [];
  if (!hasL && !wide) {
    if (!hasU) candidates.push([false, 32]);
    if (hasU || !decimal) candidates.push([true, 32]);
  }
  if (!hasU) candidates.push([false, 64]);
  if (hasU || !decimal) candidates.push([true, 64]);
  for (const [unsigned, bits] of candidates) {
    if (fits(v, unsigned, bits)) return { v, unsigned, bits };
  }
  throw new EvalError(`literal too large: ${text}`);
}

/** The usual arithmetic conversions for two already-promoted operands. */
function commonType(a: CInt, b: CInt): { unsigned: boolean; bits: 32 | 64 } {
  if (a.bits === b.bits) return { unsigned: a.unsigned || b.unsigned, bits: a.bits };
  const wide = a.bits === 64 ? a : b;
  // A 64-bit signed long can hold every 32-bit unsigned value.
  return { unsigned: wide.unsigned, bits: 64 };
}

function convert(x: CInt, to: { unsigned: boolean; bits: 32 | 64 }): CInt {
  if (to.unsigned) return { v: BigInt.asUintN(to.bits, x.v), unsigned: true, bits: to.bits };
  if (!fits(x.v, false, to.bits)) throw new EvalError("narrowing conversion");
  return { v: x.v, unsigned: false, bits: to.bits };
}

function toUint64(x: CInt): bigint {
  return BigInt.asUintN(64, x.v);
}

// ---------------------------------------------------------------------------
// Tokens and expressions

type Token = { kind: "num" | "ident" | "punct" | "other"; text: string };

const PUNCTUATORS = ["<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "##", "(", ")", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "<", ">", "?", ":", ",", "#", "{", "}", "[", "]", ";", "=", "."];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const ident = /^[A-Za-z_]\w*/.exec(rest);
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const num = /^\.?\d(?:[eEpP][+-]|[\w.])*/.exec(rest);
    if (num) {
      tokens.push({ kind: "num", text: num[0] });
      i += num[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const lit = c === "'" ? /^'(?:\\.|[^'\\])*'/.exec(rest) : /^"(?:\\.|[^"\\])*"/.exec(rest);
      const t = lit ? lit[0] : rest;
      tokens.push({ kind: "other", text: t });
      i += t.length;
      continue;
    }
    const p = PUNCTUATORS.find((q) => rest.startsWith(q));
    if (p !== undefined) {
      tokens.push({ kind: "punct", text: p });
      i += p.length;
      continue;
    }
    tokens.push({ kind: "other", text: c });
    i++;
  }
  return tokens;
}

interface Macro {
  readonly name: string;
  readonly functionLike: boolean;
  readonly body: readonly Token[];
  /** The include name (e.g. "asm-generic/fcntl.h") the definition came from. */
  readonly origin: string;
}

/**
 * Expands object-like macros with C's hide-set rule, so `#define X X` (the
 * enum-shadowing idiom in linux/in.h and glibc) terminates.
 */
function expand(tokens: readonly Token[], macros: ReadonlyMap<string, Macro>, hidden: ReadonlySet<string> = new Set()): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const m = t.kind === "ident" && !hidden.has(t.text) ? macros.get(t.text) : undefined;
    if (m === undefined) {
      out.push(t);
    } else if (m.functionLike) {
      if (tokens[i + 1]?.text === "(") throw new EvalError(`function-like macro ${m.name}`);
      out.push(t);
    } else {
      out.push(...expand(m.body, macros, new Set([...hidden, m.name])));
    }
  }
  return out;
}

interface EvalContext {
  /** `#if` arithmetic is done in (u)intmax_t and unknown identifiers are 0. */
  readonly preprocessor: boolean;
  lookupIdentifier(name: string): CInt | undefined;
}

/** Precedence-climbing parser/evaluator over fully expanded tokens. */
function evaluate(tokens: readonly Token[], ctx: EvalContext): CInt {
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const take = (text: string): boolean => {
    if (tokens[pos]?.text === text) {
      pos++;
      return true;
    }
    return false;
  };
  const expect = (text: string): void => {
    if (!take(text)) throw new EvalError(`expected ${text}`);
  };
  const bool = (b: boolean): CInt => (ctx.preprocessor ? makeInt(b ? 1n : 0n, false, 64) : INT(b ? 1n : 0n));

  const BINARY: readonly (readonly string[])[] = [
    ["||"],
    ["&&"],
    ["|"],
    ["^"],
    ["&"],
    ["==", "!="],
    ["<", ">", "<=", ">="],
    ["<<", ">>"],
    ["+", "-"],
    ["*", "/", "%"],
  ];

  function binary(op: string, a: CInt, b: CInt): CInt {
    if (op === "<<" || op === ">>") {
      const n = b.v;
      if (n < 0n || n >= BigInt(a.bits)) throw new EvalError("shift out of range");
      if (op === ">>") {
        if (!a.unsigned && a.v < 0n) throw new EvalError("right shift of negative value");
        return { v: a.v >> n, unsigned: a.unsigned, bits: a.bits };
      }
      if (!a.unsigned && a.v < 0n) throw new EvalError("left shift of negative value");
      return makeInt(a.v << n, a.unsigned, a.bits);
    }
    const t = commonType(a, b);
    const x = convert(a, t).v;
    const y = convert(b, t).v;
    switch (op) {
      case "|":
        return makeInt(x | y, t.unsigned, t.bits);
      case "^":
        return makeInt(x ^ y, t.unsigned, t.bits);
      case "&":
        return makeInt(x & y, t.unsigned, t.bits);
      case "==":
        return bool(x === y);
      case "!=":
        return bool(x !== y);
      case "<":
        return bool(x < y);
      case ">":
        return bool(x > y);
      case "<=":
        return bool(x <= y);
      case ">=":
        return bool(x >= y);
      case "+":
        return makeInt(x + y, t.unsigned, t.bits);
      case "-":
        return makeInt(x - y, t.unsigned, t.bits);
      case "*":
        return makeInt(x * y, t.unsigned, t.bits);
      case "/":
      case "%":
        if (y === 0n) throw new EvalError("division by zero");
        return makeInt(op === "/" ? x / y : x % y, t.unsigned, t.bits);
    }
    throw new EvalError(`unknown operator ${op}`);
  }

  function conditional(): CInt {
    const c = level(0);
    if (!take("?")) return c;
    const a = conditional();
    expect(":");
    const b = conditional();
    const t = commonType(a, b);
    return convert(c.v !== 0n ? a : b, t);
  }

  function level(n: number): CInt {
    if (n === BINARY.length) return unary();
    let left = level(n + 1);
    for (;;) {
      const op = peek()?.text;
      if (op === undefined || peek()!.kind !== "punct" || !BINARY[n]!.includes(op)) return left;
      pos++;
      if (op === "&&" || op === "||") {
        const right = level(n + 1);
        left = bool(op === "&&" ? left.v !== 0n && right.v !== 0n : left.v !== 0n || right.v !== 0n);
      } else {
        left = binary(op, left, level(n + 1));
      }
    }
  }

  function unary(): CInt {
    if (take("+")) return unary();
    if (take("-")) {
      const x = unary();
      return makeInt(-x.v, x.unsigned, x.bits);
    }
    if (take("~")) {
      const x = unary();
      return x.unsigned ? makeInt(~x.v, true, x.bits) : makeInt(-x.v - 1n, false, x.bits);
    }
    if (take("!")) return bool(unary().v === 0n);
    return primary();
  }

  function primary(): CInt {
    const t = peek();
    if (t === undefined) throw new EvalError("unexpected end of expression");
    pos++;
    if (t.kind === "num") return parseIntLiteral(t.text, ctx.preprocessor);
    if (t.text === "(") {
      const v = conditional();
      expect(")");
      return v;
    }
    if (t.kind === "ident") {
      const v = ctx.lookupIdentifier(t.text);
      if (v !== undefined) return v;
      if (ctx.preprocessor) return makeInt(0n, false, 64);
      throw new EvalError(`cannot evaluate identifier ${t.text}`);
    }
    throw new EvalError(`unexpected token ${t.text}`);
  }

  const result = conditional();
  if (pos !== tokens.length) throw new EvalError(`trailing tokens after expression`);
  return result;
}

// ---------------------------------------------------------------------------
// Preprocessor

/** Splices continued lines and replaces comments with a space (phases 2-3). */
function stripComments(source: string): string {
  const text = source.replace(/\\\r?\n/g, "");
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new Error("unterminated comment");
      out += " ";
      i = end + 2;
    } else if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

interface EnumConstant {
  readonly value: CInt | undefined;
  readonly origin: string;
}

interface TranslationUnit {
  readonly macros: ReadonlyMap<string, Macro>;
  readonly enums: ReadonlyMap<string, EnumConstant>;
  /** Active non-directive source, in order, with the include name it came from. */
  readonly code: readonly { readonly origin: string; readonly line: string }[];
  evaluateMacro(name: string): CInt | undefined;
}

interface TranslationUnitSpec {
  readonly roots: readonly string[];
  /** Includes to follow; every other `#include` is irrelevant to the constants. */
  readonly follow: readonly string[];
  readonly predefined?: Readonly<Record<string, string>>;
}

function preprocess(arch: Arch, spec: TranslationUnitSpec, readPaths: Set<string>): TranslationUnit {
  const macros = new Map<string, Macro>();
  const code: { origin: string; line: string }[] = [];
  for (const [name, body] of Object.entries(spec.predefined ?? {})) {
    macros.set(name, { name, functionLike: false, body: tokenize(body), origin: "<predefined>" });
  }
  const follow = new Set(spec.follow);

  const ifContext: EvalContext = {
    preprocessor: true,
    lookupIdentifier: () => undefined,
  };

  function evalCondition(expr: string): boolean {
    // `defined` is resolved before macro expansion, as in C.
    const raw = tokenize(expr);
    const resolved: Token[] = [];
    for (let i = 0; i < raw.length; i++) {
      const t = raw[i]!;
      if (t.text !== "defined") {
        resolved.push(t);
        continue;
      }
      let name: string | undefined;
      if (raw[i + 1]?.text === "(" && raw[i + 3]?.text === ")") {
        name = raw[i + 2]?.text;
        i += 3;
      } else {
        name = raw[i + 1]?.text;
        i += 1;
      }
      if (name === undefined) throw new Error(`malformed defined() in #if ${expr}`);
      resolved.push({ kind: "num", text: macros.has(name) ? "1" : "0" });
    }
    try {
      return evaluate(expand(resolved, macros), ifContext).v !== 0n;
    } catch (e) {
      // An undecidable #if would silently pick a branch; refuse instead.
      throw new Error(`cannot evaluate #if ${expr.trim()}: ${(e as Error).message}`);
    }
  }

  function processFile(includeName: string, depth: number): void {
    if (depth > 20) throw new Error(`#include nesting too deep at ${includeName}`);
    const header = resolveInclude(arch, includeName);
    if (header.path !== undefined) readPaths.add(header.path);
    const stack: { active: boolean; taken: boolean; parentActive: boolean }[] = [];
    const active = (): boolean => stack.length === 0 || stack[stack.length - 1]!.active;
    for (const line of stripComments(header.text).split("\n")) {
      const d = /^\s*#\s*(\w*)\s*(.*)$/.exec(line);
      if (!d) {
        if (active() && line.trim() !== "") code.push({ origin: includeName, line });
        continue;
      }
      const directive = d[1]!;
      const rest = d[2]!.trim();
      switch (directive) {
        case "if":
        case "ifdef":
        case "ifndef": {
          const parentActive = active();
          let cond = false;
          if (parentActive) {
            if (directive === "if") cond = evalCondition(rest);
            else cond = macros.has(rest.split(/\s+/)[0]!) === (directive === "ifdef");
          }
          stack.push({ active: parentActive && cond, taken: cond, parentActive });
          continue;
        }
        case "elif": {
          const top = stack[stack.length - 1];
          if (!top) throw new Error(`#elif without #if in ${includeName}`);
          const cond = top.parentActive && !top.taken && evalCondition(rest);
          top.active = cond;
          top.taken ||= cond;
          continue;
        }
        case "else": {
          const top = stack[stack.length - 1];
          if (!top) throw new Error(`#else without #if in ${includeName}`);
          top.active = top.parentActive && !top.taken;
          top.taken = true;
          continue;
        }
        case "endif":
          if (!stack.pop()) throw new Error(`#endif without #if in ${includeName}`);
          continue;
      }
      if (!active()) continue;
      switch (directive) {
        case "define": {
          const m = /^([A-Za-z_]\w*)(\()?(.*)$/.exec(rest);
          if (!m) throw new Error(`malformed #define in ${includeName}: ${rest}`);
          const name = m[1]!;
          const functionLike = m[2] !== undefined;
          const body = functionLike ? m[3]!.slice(m[3]!.indexOf(")") + 1) : m[3]!;
          macros.set(name, { name, functionLike, body: tokenize(body), origin: includeName });
          break;
        }
        case "undef":
          macros.delete(rest.split(/\s+/)[0]!);
          break;
        case "include": {
          const inc = /^[<"]([^>"]+)[>"]/.exec(rest);
          if (!inc) throw new Error(`malformed #include in ${includeName}: ${rest}`);
          if (follow.has(inc[1]!)) processFile(inc[1]!, depth + 1);
          break;
        }
        case "error":
          throw new Error(`#error reached in ${includeName}: ${rest}`);
        case "":
        case "warning":
        case "pragma":
        case "ident":
        case "line":
          break;
        default:
          throw new Error(`unsupported directive #${directive} in ${includeName}`);
      }
    }
    if (stack.length !== 0) throw new Error(`unterminated #if in ${includeName}`);
  }

  for (const root of spec.roots) processFile(root, 0);

  // Enumerators: evaluated in declaration order so implicit values follow C.
  const enums = new Map<string, EnumConstant>();
  const valueContext: EvalContext = {
    preprocessor: false,
    lookupIdentifier: (name) => enums.get(name)?.value,
  };
  const byOrigin = new Map<string, string[]>();
  for (const { origin, line } of code) {
    const lines = byOrigin.get(origin) ?? [];
    lines.push(line);
    byOrigin.set(origin, lines);
  }
  for (const [origin, lines] of byOrigin) {
    for (const m of lines.join("\n").matchAll(/\benum\b\s*\w*\s*\{([^}]*)\}/g)) {
      let next: CInt | undefined = INT(0n);
      for (const item of m[1]!.split(",")) {
        const e = /^\s*([A-Za-z_]\w*)\s*(?:=([\s\S]*))?$/.exec(item);
        if (!e) {
          if (item.trim() !== "") next = undefined;
          continue;
        }
        let value: CInt | undefined;
        try {
          if (e[2] !== undefined) value = evaluate(expand(tokenize(e[2]), macros), valueContext);
          else if (next !== undefined) value = next;
          // An enumerator has type int when its value fits (C11 6.7.2.2).
          if (value !== undefined && fits(value.v, false, 32)) value = INT(value.v);
        } catch (err) {
          if (!(err instanceof EvalError)) throw err;
          value = undefined;
        }
        enums.set(e[1]!, { value, origin });
        next = value === undefined ? undefined : makeInt(value.v + 1n, value.unsigned, value.bits);
      }
    }
  }

  return {
    macros,
    enums,
    code,
    evaluateMacro(name: string): CInt | undefined {
      const m = macros.get(name);
      if (m === undefined || m.functionLike) return undefined;
      try {
        return evaluate(expand([{ kind: "ident", text: name }], macros), valueContext);
      } catch (err) {
        if (err instanceof EvalError) return undefined;
        throw err;
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Syscall tables

const SYSCALL_TABLE_MACROS = new Set(["__SYSCALL", "__SC_COMP", "__SC_3264", "__SC_COMP_3264"]);

function x86_64Syscalls(readPaths: Set<string>): Map<string, number> {
  const tu = preprocess("x86_64", { roots: ["asm/unistd_64.h"], follow: [] }, readPaths);
  const table = new Map<string, number>();
  for (const name of tu.macros.keys()) {
    if (!name.startsWith("__NR_")) continue;
    const v = tu.evaluateMacro(name);
    if (v === undefined) throw new Error(`cannot evaluate ${name} in asm/unistd_64.h`);
    table.set(name.slice("__NR_".length), Number(v.v));
  }
  return table;
}

/**
 * A `__NR_*` macro counts as a syscall only if its number is a slot that an
 * active __SYSCALL/__SC_* line fills; that drops bookkeeping macros such as
 * __NR_syscalls and __NR_arch_specific_syscall without a hand-kept list, and
 * picks up the 64-bit names that __NR3264_* slots are aliased to.
 */
function aarch64Syscalls(readPaths: Set<string>): { table: Map<string, number>; dropped: string[] } {
  const tu = preprocess(
    "aarch64",
    { roots: ["asm/unistd.h"], follow: ["asm/bitsperlong.h", "asm-generic/unistd.h"] },
    readPaths,
  );
  // The header pulls bitsperlong.h in itself; guard against a silent 32-bit read.
  if (tu.evaluateMacro("__BITS_PER_LONG")?.v !== 64n) throw new Error("aarch64: __BITS_PER_LONG is not 64");
  const slots = new Set<number>();
  for (const { line } of tu.code) {
    for (const m of line.matchAll(/\b(\w+)\s*\(\s*(\w+)\s*,/g)) {
      if (!SYSCALL_TABLE_MACROS.has(m[1]!)) continue;
      const v = tu.evaluateMacro(m[2]!);
      if (v === undefined) throw new Error(`aarch64: cannot evaluate syscall slot ${m[2]}`);
      slots.add(Number(v.v));
    }
  }
  const table = new Map<string, number>();
  const dropped: string[] = [];
  for (const name of tu.macros.keys()) {
    if (!name.startsWith("__NR_")) continue;
    const v = tu.evaluateMacro(name);
    if (v === undefined) throw new Error(`aarch64: cannot evaluate ${name}`);
    if (slots.has(Number(v.v))) table.set(name.slice("__NR_".length), Number(v.v));
    else dropped.push(name);
  }
  const named = new Set(table.values());
  const unnamed = [...slots].filter((s) => !named.has(s));
  if (unnamed.length > 0) throw new Error(`aarch64: table slots without a __NR_ name: ${unnamed.join(", ")}`);
  return { table, dropped: dropped.sort() };
}

// Facts about the arm64 table that exercise every kind of conditional in
// asm-generic/unistd.h; if one fails the preprocessor model is wrong.
const AARCH64_FACTS: Readonly<Record<string, number | null>> = {
  fstat: 80,
  newfstatat: 79,
  mmap: 222,
  fcntl: 25,
  statfs: 43,
  fstatfs: 44,
  lseek: 62,
  sendfile: 71,
  truncate: 45,
  ftruncate: 46,
  fadvise64: 223,
  renameat: 38,
  getrlimit: 163,
  sync_file_range: 84,
  clone3: 435,
  memfd_secret: 447,
  io_getevents: 4,
  open: null,
  fork: null,
  stat: null,
  fcntl64: null,
  mmap2: null,
  sync_file_range2: null,
  clock_gettime64: null,
  syscalls: null,
  arch_specific_syscall: null,
};

const X86_64_FACTS: Readonly<Record<string, number | null>> = {
  read: 0,
  write: 1,
  open: 2,
  ptrace: 101,
  socket: 41,
  clone3: 435,
};

// Spot checks of the TSV per arch, against the kernel's syscall .tbl files: a shifted column fails here.
const TSV_FACTS: Readonly<Record<string, Readonly<Record<string, number | null>>>> = {
  x86_64: { read: 0, uretprobe: 335, fchmodat2: 452, listns: 470, rseq_slice_yield: 471, socketcall: null },
  x32: { read: 0, ioctl: 514, rt_sigaction: 512, pwritev2: 547, uretprobe: 335, _sysctl: null },
  i386: { exit: 1, socketcall: 102, ipc: 117, socket: 359, mmap2: 192, set_thread_area: 243, mseal: 462 },
  aarch64: { io_setup: 0, openat: 56, mseal: 462, open: null },
  arm: { restart_syscall: 0, socket: 281, breakpoint: 0xf0001, set_tls: 0xf0005, get_tls: 0xf0006, socketcall: null },
  riscv64: { io_setup: 0, riscv_flush_icache: 259, riscv_hwprobe: 258 },
  ppc64le: { socketcall: 102, ipc: 117, socket: 326, switch_endian: 363 },
  s390x: { exit: 1, socketcall: 102, ipc: 117, socket: 359, s390_guarded_storage: 378 },
  loongarch64: { io_setup: 0, openat: 56, fstat: 80, open: null },
};

function checkFacts(arch: string, table: ReadonlyMap<string, number>, facts: Readonly<Record<string, number | null>>): void {
  for (const [name, expected] of Object.entries(facts)) {
    const actual = table.get(name) ?? null;
    if (actual !== expected) {
      throw new Error(`${arch}: expected ${name} = ${expected ?? "absent"}, generated ${actual ?? "absent"}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Constants

interface Family {
  readonly label: string;
  readonly unit: TranslationUnitSpec;
  /** Include names whose definitions belong to the family. */
  readonly files: readonly string[];
  readonly pattern: RegExp;
  /** Only `#define NAME <literal>` counts (prctl.h mixes options with argument encodings). */
  readonly literalOnly?: boolean;
  readonly exclude?: RegExp;
}

const FCNTL_UNIT: TranslationUnitSpec = { roots: ["linux/fcntl.h"], follow: ["asm/fcntl.h", "asm-generic/fcntl.h"] };
const MMAN_UNIT: TranslationUnitSpec = {
  roots: ["linux/mman.h"],
  follow: ["asm/mman.h", "asm-generic/mman.h", "asm-generic/mman-common.h", "asm-generic/hugetlb_encode.h"],
};
// Address families and socket types are not in the uapi headers (they live in
// the kernel-internal linux/socket.h and linux/net.h), so glibc's copies are
// used; _SYS_SOCKET_H stands in for the <sys/socket.h> they insist on.
const SOCKET_UNIT: TranslationUnitSpec = {
  roots: ["bits/socket.h"],
  follow: ["bits/socket_type.h"],
  predefined: { _SYS_SOCKET_H: "1" },
};

const FAMILIES: readonly Family[] = [
  { label: "AF_*", unit: SOCKET_UNIT, files: ["bits/socket.h"], pattern: /^AF_\w+$/ },
  { label: "SOCK_*", unit: SOCKET_UNIT, files: ["bits/socket_type.h"], pattern: /^SOCK_\w+$/ },
  {
    label: "CLONE_*",
    unit: { roots: ["linux/sched.h"], follow: [] },
    files: ["linux/sched.h"],
    pattern: /^CLONE_\w+$/,
    // struct clone_args sizes, not flags.
    exclude: /^CLONE_ARGS_SIZE_/,
  },
  { label: "O_*", unit: FCNTL_UNIT, files: ["asm/fcntl.h", "asm-generic/fcntl.h", "linux/fcntl.h"], pattern: /^O_\w+$/ },
  { label: "F_*", unit: FCNTL_UNIT, files: ["asm/fcntl.h", "asm-generic/fcntl.h", "linux/fcntl.h"], pattern: /^F_\w+$/ },
  { label: "PROT_*", unit: MMAN_UNIT, files: ["asm/mman.h", "asm-generic/mman.h", "asm-generic/mman-common.h", "linux/mman.h"], pattern: /^PROT_\w+$/ },
  { label: "MAP_*", unit: MMAN_UNIT, files: ["asm/mman.h", "asm-generic/mman.h", "asm-generic/mman-common.h", "linux/mman.h"], pattern: /^MAP_\w+$/ },
  { label: "PR_*", unit: { roots: ["linux/prctl.h"], follow: [] }, files: ["linux/prctl.h"], pattern: /^PR_\w+$/, literalOnly: true },
  {
    label: "IPPROTO_*",
    unit: { roots: ["linux/in.h"], follow: ["linux/libc-compat.h"] },
    files: ["linux/in.h"],
    pattern: /^IPPROTO_\w+$/,
  },
  {
    label: "tty ioctls",
    unit: { roots: ["asm/ioctls.h"], follow: ["asm-generic/ioctls.h"] },
    files: ["asm/ioctls.h", "asm-generic/ioctls.h"],
    pattern: /^(TC|TIOC|FIO)\w+$/,
  },
];

interface FamilyResult {
  readonly values: Map<string, bigint>;
  readonly archDependent: Map<string, Partial<Record<Arch, bigint>>>;
  readonly unevaluable: string[];
}

function collectFamily(family: Family, readPaths: Set<string>, units: Map<string, TranslationUnit>): FamilyResult {
  const perArch = new Map<Arch, Map<string, bigint | undefined>>();
  for (const arch of ARCHES) {
    const key = `${arch}:${JSON.stringify(family.unit)}`;
    let tu = units.get(key);
    if (tu === undefined) {
      tu = preprocess(arch, family.unit, readPaths);
      units.set(key, tu);
    }
    const found = new Map<string, bigint | undefined>();
    const accept = (name: string, origin: string): boolean =>
      family.pattern.test(name) && family.files.includes(origin) && !(family.exclude?.test(name) ?? false);
    for (const [name, m] of tu.macros) {
      if (!accept(name, m.origin)) continue;
      const literal = m.body.length === 1 && m.body[0]!.kind === "num";
      if (family.literalOnly && !literal) {
        found.set(name, undefined);
        continue;
      }
      const v = tu.evaluateMacro(name);
      found.set(name, v === undefined ? undefined : toUint64(v));
    }
    for (const [name, e] of tu.enums) {
      if (!accept(name, e.origin) || found.has(name)) continue;
      found.set(name, e.value === undefined ? undefined : toUint64(e.value));
    }
    perArch.set(arch, found);
  }
  const names = new Set<string>();
  for (const found of perArch.values()) for (const n of found.keys()) names.add(n);
  const result: FamilyResult = { values: new Map(), archDependent: new Map(), unevaluable: [] };
  for (const name of names) {
    const vals = ARCHES.map((a) => perArch.get(a)!.get(name));
    const definedEverywhere = ARCHES.every((a) => perArch.get(a)!.has(name));
    if (definedEverywhere && vals.every((v) => v === undefined)) {
      result.unevaluable.push(name);
    } else if (definedEverywhere && vals.every((v) => v !== undefined && v === vals[0])) {
      result.values.set(name, vals[0]!);
    } else {
      const byArch: Partial<Record<Arch, bigint>> = {};
      ARCHES.forEach((a, i) => {
        if (vals[i] !== undefined) byArch[a] = vals[i];
      });
      result.archDependent.set(name, byArch);
    }
  }
  result.unevaluable.sort(compareStrings);
  return result;
}

// ---------------------------------------------------------------------------
// errno

interface ErrnoTable {
  readonly values: Map<string, number>;
  /** alias → canonical name, for `#define EWOULDBLOCK EAGAIN`-style entries. */
  readonly aliases: Map<string, string>;
}

function collectErrno(readPaths: Set<string>): ErrnoTable {
  const spec: TranslationUnitSpec = { roots: ["asm/errno.h"], follow: ["asm-generic/errno.h", "asm-generic/errno-base.h"] };
  const files = ["asm-generic/errno.h", "asm-generic/errno-base.h"];
  const tables = ARCHES.map((arch) => {
    const tu = preprocess(arch, spec, readPaths);
    const values = new Map<string, number>();
    const aliases = new Map<string, string>();
    for (const [name, m] of tu.macros) {
      if (!/^E[A-Z0-9]+$/.test(name) || !files.includes(m.origin)) continue;
      const v = tu.evaluateMacro(name);
      if (v === undefined) throw new Error(`${arch}: cannot evaluate errno ${name}`);
      values.set(name, Number(v.v));
      if (m.body.length === 1 && m.body[0]!.kind === "ident") {
        let target = m.body[0]!.text;
        while (tu.macros.get(target)?.body.length === 1 && tu.macros.get(target)!.body[0]!.kind === "ident") {
          target = tu.macros.get(target)!.body[0]!.text;
        }
        aliases.set(name, target);
      }
    }
    return { values, aliases };
  });
  const [first, ...rest] = tables;
  for (const other of rest) {
    if (JSON.stringify([...other.values].sort()) !== JSON.stringify([...first!.values].sort())) {
      throw new Error("errno values differ between x86_64 and aarch64; the generated table assumes they do not");
    }
  }
  return first!;
}

// ---------------------------------------------------------------------------
// Output

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hex(v: bigint): string {
  return "0x" + v.toString(16);
}

function banner(sources: Iterable<string>, version: string): string {
  const list = [...new Set(sources)].sort(compareStrings).join(", ");
  return `// Code generated by scripts/gen-linux-abi.ts from ${list} (Debian linux-libc-dev ${version}). DO NOT EDIT; regenerate with \`npm run gen\`.\n`;
}

function wrapList(prefix: string, items: readonly string[]): string {
  const lines: string[] = [];
  let line = prefix;
  for (const item of items) {
    if (line.length + item.length + 1 > 100 && line !== prefix) {
      lines.push(line.trimEnd());
      line = "//   ";
    }
    line += item + " ";
  }
  lines.push(line.trimEnd());
  return lines.join("\n") + "\n";
}

interface SyscallTsv {
  readonly sha256: string;
  /** The header comment lines, without `# `. */
  readonly notes: readonly string[];
  /** sbc arch → name → number. */
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** Parse the TSV strictly: one header row, a number or `-` in every cell, each number once per column. */
function readSyscallTsv(): SyscallTsv {
  if (!existsSync(SYSCALL_TSV)) throw new Error(`missing ${relative(REPO_ROOT, SYSCALL_TSV)}`);
  const text = readFileSync(SYSCALL_TSV, "utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const notes = lines.filter((l) => l.startsWith("#")).map((l) => l.replace(/^#\s?/, ""));
  const rows = lines.filter((l) => !l.startsWith("#"));
  const header = rows.shift()?.split("\t") ?? [];
  if (header[0] !== "name") throw new Error("linux-syscalls.tsv: the first row must start with `name`");
  const tables = new Map<string, Map<string, number>>();
  for (const { arch, column } of SUPPORTED_ARCHES) {
    const col = header.indexOf(column);
    if (col < 0) throw new Error(`linux-syscalls.tsv: no column \`${column}\` (for ${arch})`);
    const table = new Map<string, number>();
    const seen = new Map<number, string>();
    for (const row of rows) {
      const cells = row.split("\t");
      if (cells.length !== header.length) throw new Error(`linux-syscalls.tsv: row \`${cells[0]}\` has ${cells.length} cells, the header ${header.length}`);
      const name = cells[0]!;
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`linux-syscalls.tsv: bad name \`${name}\``);
      const cell = cells[col]!;
      if (cell === "-") continue;
      if (!/^(0|[1-9][0-9]*)$/.test(cell)) throw new Error(`linux-syscalls.tsv: ${name} on ${column}: \`${cell}\` is not a number`);
      const nr = Number(cell);
      if (nr >= 0x40000000) throw new Error(`linux-syscalls.tsv: ${name} on ${column}: ${nr} is out of range`);
      const other = seen.get(nr);
      if (other !== undefined) throw new Error(`linux-syscalls.tsv: ${column} ${nr} is both ${other} and ${name}`);
      if (table.has(name)) throw new Error(`linux-syscalls.tsv: ${name} listed twice`);
      seen.set(nr, name);
      table.set(name, nr);
    }
    tables.set(arch, table);
  }
  return { sha256: createHash("sha256").update(text).digest("hex"), notes, tables };
}

/**
 * The headers describe Linux 6.1, the TSV 7.1: every number the headers define must be in the TSV with the
 * same value (calls are never renumbered), so a misread column or a wrong TSV fails here.
 */
function crossCheck(arch: string, fromHeaders: ReadonlyMap<string, number>, tsv: ReadonlyMap<string, number>): void {
  for (const [name, nr] of fromHeaders) {
    if (tsv.get(name) !== nr) throw new Error(`${arch}: the headers say ${name} = ${nr}, linux-syscalls.tsv says ${tsv.get(name) ?? "absent"}`);
  }
}

function auditArches(readPaths: Set<string>): Map<string, number> {
  const tu = preprocess("x86_64", { roots: ["linux/audit.h"], follow: ["linux/elf-em.h"] }, readPaths);
  const out = new Map<string, number>();
  for (const { arch, audit } of SUPPORTED_ARCHES) {
    const v = tu.evaluateMacro(audit);
    if (v === undefined) throw new Error(`cannot evaluate ${audit} in linux/audit.h`);
    out.set(arch, Number(v.v));
  }
  for (const flag of ["__AUDIT_ARCH_64BIT", "__AUDIT_ARCH_LE"]) {
    const v = tu.evaluateMacro(flag);
    if (v === undefined) throw new Error(`cannot evaluate ${flag} in linux/audit.h`);
    out.set(flag, Number(v.v));
  }
  return out;
}

function constName(arch: string): string {
  return `SYSCALLS_${arch.toUpperCase()}`;
}

function renderSyscalls(tsv: SyscallTsv, audit: ReadonlyMap<string, number>, auditSources: Set<string>, version: string): string {
  const entries = (t: ReadonlyMap<string, number>): string =>
    [...t]
      .sort(([an, av], [bn, bv]) => av - bv || compareStrings(an, bn))
      .map(([n, v]) => `  ${n}: ${v},\n`)
      .join("");
  let out =
    `// Code generated by scripts/gen-linux-abi.ts from linux-abi/data/linux-syscalls.tsv (sha256 ${tsv.sha256})\n` +
    `// and ${[...auditSources].sort(compareStrings).join(", ")} (Debian linux-libc-dev ${version}). DO NOT EDIT; regenerate with \`npm run gen\`.\n` +
    "// The TSV's own notes:\n" +
    tsv.notes.map((n) => `//   ${n}\n`).join("") +
    "// ppc64le takes the TSV's ppc64 column.\n\n";
  out += "/** `AUDIT_ARCH_*` of linux/audit.h, per sbc arch (x32 shares x86_64's), and the two flag bits. */\n";
  out += "export const AUDIT_ARCH_VALUES = Object.freeze({\n";
  for (const { arch, audit: macro } of SUPPORTED_ARCHES) out += `  ${arch}: 0x${audit.get(arch)!.toString(16)}, // ${macro}\n`;
  out += "} as const);\n";
  out += `export const AUDIT_ARCH_64BIT = 0x${audit.get("__AUDIT_ARCH_64BIT")!.toString(16)};\n`;
  out += `export const AUDIT_ARCH_LE = 0x${audit.get("__AUDIT_ARCH_LE")!.toString(16)};\n`;
  for (const { arch, column } of SUPPORTED_ARCHES) {
    out += `\n/** ${arch} syscall numbers (name → number), in number order${column !== arch ? ` (the TSV's ${column} column)` : ""}. */\n`;
    out += `export const ${constName(arch)}: Readonly<Record<string, number>> = Object.freeze({\n${entries(tsv.tables.get(arch)!)}});\n`;
  }
  return out;
}

function renderConstants(results: ReadonlyMap<Family, FamilyResult>, sources: Set<string>, version: string, libcVersion: string): string {
  const all = new Map<string, bigint>();
  const archDependent: string[] = [];
  const unevaluable: string[] = [];
  for (const [family, r] of results) {
    for (const [n, v] of r.values) {
      if (all.has(n) && all.get(n) !== v) throw new Error(`constant ${n} defined twice with different values`);
      all.set(n, v);
    }
    for (const [n, byArch] of [...r.archDependent].sort(([a], [b]) => compareStrings(a, b))) {
      const parts = ARCHES.map((a) => `${a}=${byArch[a] === undefined ? "absent" : hex(byArch[a])}`);
      archDependent.push(`${n} (${parts.join(", ")})`);
    }
    if (r.unevaluable.length > 0) unevaluable.push(`${family.label}: ${r.unevaluable.join(" ")}`);
  }
  let out = banner(sources, version);
  out += `// AF_* and SOCK_* come from glibc's bits/socket.h and bits/socket_type.h (Debian libc6-dev ${libcVersion}).\n`;
  out += `// Families: ${results.size === 0 ? "" : [...results.keys()].map((f) => f.label).join(", ")}.\n`;
  out += "//\n";
  out += "// Left out because x86_64 and aarch64 disagree (one table must serve both):\n";
  for (const line of archDependent) out += `//   ${line}\n`;
  out += "//\n";
  out += "// Left out because they are not plain integer expressions (function-like macros\n";
  out += "// such as _IOR(), casts) or, for PR_*, not bare literals (argument encodings):\n";
  for (const line of unevaluable) out += wrapList("//   ", line.split(" "));
  out += "\n";
  out += "/** Kernel constant name → value as a 64-bit unsigned lowercase hex string. */\n";
  out += "export const CONSTANTS: Readonly<Record<string, string>> = Object.freeze({\n";
  for (const [n, v] of [...all].sort(([a], [b]) => compareStrings(a, b))) out += `  ${n}: "${hex(v)}",\n`;
  out += "});\n";
  return out;
}

function renderErrno(errno: ErrnoTable, sources: Set<string>, version: string): string {
  const rows = [...errno.values].sort(
    ([an, av], [bn, bv]) => av - bv || Number(errno.aliases.has(an)) - Number(errno.aliases.has(bn)) || compareStrings(an, bn),
  );
  let out = banner(sources, version);
  out += "\n";
  out += "/** errno name → value; canonical names precede their aliases for each value. */\n";
  out += "export const ERRNO: Readonly<Record<string, number>> = Object.freeze({\n";
  for (const [n, v] of rows) out += `  ${n}: ${v},\n`;
  out += "});\n";
  out += "\n";
  out += "/** Alternative spellings (alias → canonical name), e.g. EWOULDBLOCK → EAGAIN. */\n";
  out += "export const ERRNO_ALIASES: Readonly<Record<string, string>> = Object.freeze({\n";
  for (const [a, c] of [...errno.aliases].sort(([x], [y]) => compareStrings(x, y))) out += `  ${a}: "${c}",\n`;
  out += "});\n";
  return out;
}

function packageVersion(pkg: string): string {
  try {
    const v = execFileSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    if (v !== "") return v;
  } catch {
    // fall through to the error below
  }
  throw new Error(`cannot read the installed version of ${pkg} with dpkg-query; install it with: apt-get install ${pkg}`);
}

function generate(): Map<string, string> {
  const version = packageVersion("linux-libc-dev");

  const tsv = readSyscallTsv();
  const headerSources = new Set<string>();
  const x86 = x86_64Syscalls(headerSources);
  const { table: arm } = aarch64Syscalls(headerSources);
  checkFacts("x86_64", x86, X86_64_FACTS);
  checkFacts("aarch64", arm, AARCH64_FACTS);
  crossCheck("x86_64", x86, tsv.tables.get("x86_64")!);
  crossCheck("aarch64", arm, tsv.tables.get("aarch64")!);
  for (const { arch } of SUPPORTED_ARCHES) checkFacts(arch, tsv.tables.get(arch)!, TSV_FACTS[arch] ?? {});
  const auditSources = new Set<string>();
  const audit = auditArches(auditSources);

  const constantSources = new Set<string>();
  const units = new Map<string, TranslationUnit>();
  const results = new Map<Family, FamilyResult>();
  for (const family of FAMILIES) results.set(family, collectFamily(family, constantSources, units));
  const libcVersion = packageVersion("libc6-dev");

  const errnoSources = new Set<string>();
  const errno = collectErrno(errnoSources);

  return new Map([
    ["syscalls.generated.ts", renderSyscalls(tsv, audit, auditSources, version)],
    ["constants.generated.ts", renderConstants(results, constantSources, version, libcVersion)],
    ["errno.generated.ts", renderErrno(errno, errnoSources, version)],
  ]);
}

function main(argv: readonly string[]): number {
  const check = argv.includes("--check");
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`gen-linux-abi: unknown argument(s): ${unknown.join(" ")}\nusage: tsx scripts/gen-linux-abi.ts [--check]`);
    return 2;
  }
  let files: Map<string, string>;
  try {
    files = generate();
  } catch (err) {
    if (err instanceof MissingHeaderError) {
      const pkg = debianPackageFor(err.path);
      console.error(`gen-linux-abi: ${err.path} not found; install the Debian package ${pkg} (apt-get install ${pkg})`);
      return 1;
    }
    console.error(`gen-linux-abi: ${(err as Error).message}`);
    return 1;
  }
  let stale = 0;
  for (const [name, content] of files) {
    const path = join(OUT_DIR, name);
    const shown = relative(REPO_ROOT, path);
    if (check) {
      const current = existsSync(path) ? readFileSync(path, "utf8") : undefined;
      if (current !== content) {
        console.error(`gen-linux-abi --check: ${shown} is ${current === undefined ? "missing" : "out of date"}; run \`npx tsx scripts/gen-linux-abi.ts\``);
        stale++;
      }
    } else {
      mkdirSync(OUT_DIR, { recursive: true });
      writeFileSync(path, content);
      console.log(`gen-linux-abi: wrote ${shown}`);
    }
  }
  if (check && stale === 0) console.log("gen-linux-abi --check: generated files are up to date");
  return stale > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
