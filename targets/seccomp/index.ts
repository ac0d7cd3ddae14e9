// The seccomp-BPF backend: IR in, one classic-BPF filter out (for one arch or several), with the
// diagnostics that say where Linux enforcement differs from the policy's wording. See
// docs/targets/seccomp.md for the lowering and what the network section implies.

import { diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Implications, NetworkSyscallOptions } from "../../ir/evaluator/network-syscalls.js";
import { numberedEntry, syscallNameAt as tableNameAt } from "../../ir/evaluator/syscall-numbers.js";
import type { IR } from "../../ir/types.js";
import { withDomainRules, type BackendResult } from "../../ir/backend.js";
import { ARCH_INFO, commonEndianness, syscallNumber, type Arch, type Endianness } from "../../linux-abi/index.js";
import { formatAction } from "../../ir/evaluator/evaluate.js";
import { splitBefore, THIRTY_TWO_BIT_ABIS } from "../../ir/arg-widths.js";
import { tooWideConditions } from "../../ir/arg-value-widths.js";
import { BPF_MAXINSNS, type Insn } from "./bpf.js";
import { generate } from "./codegen.js";
import { lowerFilter } from "./lower.js";
import { MULTIPLEXERS, subCallVerdict, type Multiplexer } from "./multiplexers.js";
import { syscallNameAt } from "./semantics.js";

export interface SeccompFilter {
  readonly arches: readonly Arch[];
  /** The byte order of every arch in the filter: what the raw bytes and `seccomp_data` are laid out in. */
  readonly endianness: Endianness;
  readonly program: readonly Insn[];
  readonly comments: ReadonlyMap<number, string>;
  /** Ranges of equal verdict per arch: the size of the dispatch tree. */
  readonly rangeCount: Readonly<Record<string, number>>;
}

export interface SeccompOptions extends NetworkSyscallOptions {
  /** The arches the one filter serves (their byte orders must agree). */
  readonly arches: readonly Arch[];
}

/** The backend's entry point (ir/backend.ts): the filter for `options.arches`. */
export function compile(ir: IR, options: SeccompOptions): BackendResult<SeccompFilter> {
  const { arches, ...rest } = options;
  return withDomainRules(ir, "seccomp", true, (lowered) => {
    const r = compileSeccomp(lowered, arches, rest);
    return { ...(r.filter ? { artifact: r.filter } : {}), diagnostics: r.diagnostics };
  });
}

/**
 * `options.unixPathsByLandlock`: the filter goes with a Landlock table that enforces connecting to unix socket
 * paths (RESOLVE_UNIX, ABI 9), so it need not narrow for them (the `linux` bundle, `sbc exec` on such a kernel).
 */
export function compileSeccomp(ir: IR, arches: readonly Arch[], options: NetworkSyscallOptions = {}): { filter?: SeccompFilter; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const endianness = commonEndianness(arches);
  if (endianness === undefined) {
    const by = (e: Endianness) => arches.filter((a) => ARCH_INFO[a].endianness === e).map((a) => `\`${a}\``).join(", ");
    diagnostics.push(
      diag("seccompMixedByteOrder", `one seccomp filter cannot serve big-endian ${by("big")} and little-endian ${by("little")}: no kernel runs both`, {
        help: "compile one filter per byte order (`--arch s390x` apart from the others)",
      }),
    );
    return { diagnostics };
  }
  const lowered = lowerFilter(ir, arches, syscallNameAt, options);
  const implied = new Set(lowered.implications.rules.filter((r) => r.action.type !== "allow").map((r) => r.syscall));
  for (const rule of ir.syscalls.rules) {
    if (rule.action.type !== "allow" && rule.action.type !== "log") continue;
    // A numbered entry counts as the call it names on an arch this filter serves.
    const named = (e: string) => {
      const n = numberedEntry(e);
      return n ? (arches.includes(n.arch) ? tableNameAt(n.arch, n.nr) : undefined) : e;
    };
    const hit = rule.syscalls.filter((s) => {
      const name = named(s);
      return name !== undefined && implied.has(name);
    });
    if (!hit.length) continue;
    diagnostics.push(
      diag("seccompImpliedDeny", `this rule allows ${hit.map((s) => `\`${s}\``).join(", ")}, which the network section forbids; seccomp keeps the stricter answer`, {
        ...(rule.span ? { span: rule.span } : {}),
        ...(ir.network.span ? { labels: [{ span: ir.network.span, message: "the network section" }] } : {}),
        help: "allow the sockets in `network:` (or set `network: on`) if the program needs them",
      }),
    );
  }
  diagnostics.push(...unixNarrowings(ir, lowered.implications));
  diagnostics.push(...multiplexerNarrowings(ir, arches, lowered.implications));
  diagnostics.push(...argumentDiagnostics(ir, arches));
  const { program, comments, size } = generate(lowered.root, { endianness });
  if (size > BPF_MAXINSNS) {
    diagnostics.push(
      diag("seccompTooLarge", `the seccomp filter would have at least ${size} instructions; the kernel accepts at most ${BPF_MAXINSNS}`, {
        help: "compile one filter per arch (`--arch`), or merge syscall rules with equal conditions",
      }),
    );
    return { diagnostics };
  }
  return { filter: { arches, endianness, program, comments, rangeCount: lowered.rangeCount }, diagnostics };
}

/**
 * SBC2010: where a rule tests arguments of a call that a multiplexer on one of the arches passes behind a
 * pointer, so the multiplexed form gets the strictest action the rule can give. On the first rule with
 * conditions for that call (or the network section, when it implies them).
 */
function multiplexerNarrowings(ir: IR, arches: readonly Arch[], imp: Implications): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const m of ["socketcall", "ipc"] as Multiplexer[]) {
    const on = arches.filter((a) => syscallNumber(a, m) !== undefined);
    if (!on.length) continue;
    for (const [nr, name] of MULTIPLEXERS[m].calls) {
      const v = subCallVerdict(ir, imp, name);
      if (!v.strictest) continue;
      const rule = ir.syscalls.rules.find((r) => r.syscalls.includes(name) && r.conditions.length > 0);
      const span = rule ? rule.span : ir.network.span;
      out.push(
        diag(
          "seccompMultiplexed",
          `on ${on.map((a) => `\`${a}\``).join(", ")}, \`${m}(${MULTIPLEXERS[m].label(nr)})\` gets ${formatAction(v.action)} whatever its arguments: the ${rule ? "rule" : "network section's rule"} on \`${name}\` tests arguments that \`${m}\` passes behind a pointer`,
          {
            ...(span ? { span } : {}),
            help: `programs there must call \`${name}\` directly (a libc built for a kernel that has the direct call does), or the rule must not depend on arguments`,
          },
        ),
      );
    }
  }
  return out;
}

/**
 * What the 64-bit check (SBC0830, ir/arg-value-widths.ts) cannot see: on a 32-bit ABI every
 * argument is one 32-bit register, so a value can be too wide there only (SBC0830 again, naming the arch), and a
 * 64-bit parameter takes two registers at positions of that ABI's own choosing (i386 in order, arm on an even
 * pair), after which argN no longer names the parameter the policy means (SBC2015).
 */
export function argumentDiagnostics(ir: IR, arches: readonly string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const arch of arches) {
    if (!THIRTY_TWO_BIT_ABIS.has(arch)) continue;
    for (const rule of ir.syscalls.rules) {
      out.push(...tooWideConditions(rule, arch));
      for (const c of rule.conditions) {
        const split = rule.syscalls.flatMap((s) => {
          const p = splitBefore(arch, s, c.arg);
          return p ? [{ s, p }] : [];
        });
        if (!split.length) continue;
        const { s, p } = split[0]!;
        out.push(
          diag("seccompSplitArgument", `on ${arch}, \`${s}\` passes \`${p}\` in two registers, so arg${c.arg} is not the argument it is on 64-bit ABIs${split.length > 1 ? ` (nor for ${split.slice(1).map((x) => `\`${x.s}\``).join(", ")})` : ""}`, {
            ...(c.span ? { span: c.span } : rule.span ? { span: rule.span } : {}),
            help: `compile this rule for 64-bit ABIs only, or condition only arguments before \`${p}\``,
          }),
        );
      }
    }
  }
  return out;
}

/** SBC2003: where the filter refuses more than the unix section, because Linux cannot tell paths apart. */
function unixNarrowings(ir: IR, imp: Implications): Diagnostic[] {
  const u = ir.network.unix;
  return imp.unixNarrowings.map((n) => {
    const rule = u.paths.find((r) => r.effect === "allow" && r.ops.includes(n.op)) ?? u.paths.find((r) => r.effect === "allow");
    const span = rule?.span ?? u.span;
    const instead =
      n.refuses === "socket"
        ? "the seccomp filter refuses socket(AF_UNIX), so only socket pairs remain"
        : `the seccomp filter refuses ${n.refuses}(2) outright${n.refuses === "connect" ? ", so no socket in the sandbox can connect" : ", so no socket in the sandbox can bind"}`;
    const why =
      n.op === "connect"
        ? "Linux cannot limit connecting to named unix sockets by path (Landlock learns it in ABI 9)"
        : "Linux sees binding a unix socket only as creating a socket file (`create-special`), which the filesystem allows where the unix rules do not allow binding";
    return diag("seccompUnixPaths", `${why}: ${instead}`, {
      ...(span ? { span } : {}),
      help:
        n.op === "connect"
          ? "allow `connect` at `/` if programs in the sandbox must connect to unix sockets on Linux"
          : "allow `bind` wherever the filesystem allows `create-special`, or deny `create-special` where binding is not allowed",
    });
  });
}
