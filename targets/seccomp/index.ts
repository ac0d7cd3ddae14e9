// The seccomp-BPF backend: IR in, one classic-BPF filter out (for one arch or several), with the
// diagnostics that say where Linux enforcement differs from the policy's wording. See
// docs/targets/seccomp.md for the lowering and what the network section implies.

import { diag, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { Implications, NetworkSyscallOptions } from "../../compiler/evaluator/network-syscalls.js";
import type { IR } from "../../compiler/ir/types.js";
import type { Arch } from "../../compiler/linux-abi/index.js";
import { BPF_MAXINSNS, type Insn } from "./bpf.js";
import { generate } from "./codegen.js";
import { lowerFilter } from "./lower.js";
import { syscallName } from "./semantics.js";

export interface SeccompFilter {
  readonly arches: readonly Arch[];
  readonly program: readonly Insn[];
  readonly comments: ReadonlyMap<number, string>;
  /** Ranges of equal verdict per arch: the size of the dispatch tree. */
  readonly rangeCount: Readonly<Record<string, number>>;
}

/**
 * `options.unixPathsByLandlock`: the filter goes with a Landlock table that enforces connecting to unix socket
 * paths (RESOLVE_UNIX, ABI 9), so it need not narrow for them (the `linux` bundle, `sbc exec` on such a kernel).
 */
export function compileSeccomp(ir: IR, arches: readonly Arch[], options: NetworkSyscallOptions = {}): { filter?: SeccompFilter; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const lowered = lowerFilter(ir, arches, syscallName, options);
  const implied = new Set(lowered.implications.rules.filter((r) => r.action.type !== "allow").map((r) => r.syscall));
  for (const rule of ir.syscalls.rules) {
    if (rule.action.type !== "allow" && rule.action.type !== "log") continue;
    const hit = rule.syscalls.filter((s) => implied.has(s));
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
  const { program, comments, size } = generate(lowered.root);
  if (size > BPF_MAXINSNS) {
    diagnostics.push(
      diag("seccompTooLarge", `the seccomp filter would have at least ${size} instructions; the kernel accepts at most ${BPF_MAXINSNS}`, {
        help: "compile one filter per arch (`--arch`), or merge syscall rules with equal conditions",
      }),
    );
    return { diagnostics };
  }
  return { filter: { arches, program, comments, rangeCount: lowered.rangeCount }, diagnostics };
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
