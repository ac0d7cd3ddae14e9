// The libseccomp baseline: the IR's `syscalls` section, with x86_64 numbers added, handed to
// bench/seccomp/libseccomp-gen.py (Debian's python3-seccomp, libseccomp 2.5.4), which writes the BPF that
// libseccomp would load.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Action, IR } from "../../lib/index.js";
import { argBits, narrowCondition } from "../../ir/arg-widths.js";
import { decode, type Insn } from "../../targets/seccomp/bpf.js";
import { REPO, SYSTEM_PYTHON } from "./setup.js";

const GENERATOR = join(REPO, "bench", "seccomp", "libseccomp-gen.py");

/**
 * The rules as libseccomp-gen.py reads them. sbc's precedence looks at layers first; libseccomp has none, so
 * only single-layer rule sets are accepted (all bench inputs are one file).
 */
export function libseccompRules(ir: IR, numbers: Readonly<Record<string, number>>): unknown {
  const layers = new Set(ir.syscalls.rules.map((r) => r.layer));
  if (layers.size > 1) throw new Error(`the syscall rules come from ${layers.size} files; libseccomp has no layers, so the benchmark takes one-file policies only`);
  // `foreignArchAction` is new in the IR; read it without requiring it, so this file compiles either way.
  const foreign = (ir.syscalls as { readonly foreignArchAction?: Action }).foreignArchAction ?? { type: "kill-process" };
  return {
    defaultAction: ir.syscalls.defaultAction,
    foreignArchAction: foreign,
    // libseccomp compares 64 bits; sbc, like the kernel, the bits of each argument's declared type. Each rule
    // is given per syscall with its values reduced to those bits, so that libseccomp run on the arguments as
    // the kernel reads them (kernelReads below) means what sbc means.
    rules: ir.syscalls.rules.flatMap((r) =>
      r.syscalls.flatMap((name) =>
        numbers[name] === undefined
          ? []
          : [
              {
                syscalls: [{ name, nr: numbers[name] }],
                action: r.action,
                conditions: r.conditions.map((c) => {
                  const n = narrowCondition(c, argBits("x86_64", name, c.arg));
                  return { arg: c.arg, op: c.op, value: `0x${n.value.toString(16)}`, ...(n.mask !== undefined ? { mask: `0x${n.mask.toString(16)}` } : {}) };
                }),
              },
            ],
      ),
    ),
  };
}

/** The arguments of syscall `name` as the kernel reads them: each cut to its declared width (zero-extended). */
export function kernelReads(name: string | undefined, args: readonly bigint[]): bigint[] {
  return args.map((a, i) => (name === undefined ? a : a & ((1n << BigInt(argBits("x86_64", name, i))) - 1n)));
}

/** Run the generator at one optimization level; the rules JSON and the BPF are kept in `dir` for inspection. */
export function compileLibseccomp(rules: unknown, dir: string, input: string, optimize: 1 | 2): Insn[] {
  const rulesFile = join(dir, `${input}.libseccomp-rules.json`);
  const out = join(dir, `${input}.libseccomp-o${optimize}.bpf`);
  writeFileSync(rulesFile, JSON.stringify(rules, null, 2) + "\n");
  execFileSync(SYSTEM_PYTHON, [GENERATOR, rulesFile, out, "--optimize", String(optimize)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return decode(new Uint8Array(readFileSync(out)));
}
