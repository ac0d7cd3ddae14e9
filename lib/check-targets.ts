// The CLI side of `sbc check --target/--arch/--abi`: parse the options once, and give check a function that
// runs the target fidelity checks (target-fidelity.ts) on one compiled policy — none when it has errors, as
// `compile` emits nothing then. Kept apart from check-command.ts so that the two merge without conflict.

import { MAX_ABI } from "../targets/landlock/abi.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { IR } from "../ir/types.js";
import { UsageError } from "./errors.js";
import { parseArches } from "./targets.js";
import { checkTargetFidelity, parseTargetList, type FidelityOptions } from "./target-fidelity.js";

export interface CheckTargetOptions {
  /** `--target`, as given (comma-separated, repeatable); absent or empty: every target. */
  target?: string[];
  arch?: string;
  abi?: string;
}

export function fidelityOptions(opts: CheckTargetOptions): (r: { ir?: IR; diagnostics: readonly Diagnostic[] }) => Promise<Diagnostic[]> {
  const parsed = parseTargetList(opts.target ?? []);
  if ("error" in parsed) throw new UsageError(parsed.error, parsed.help);
  const arches = parseArches(opts.arch);
  let abi: number | undefined;
  if (opts.abi !== undefined) {
    if (!/^[1-9]\d*$/.test(opts.abi) || Number(opts.abi) > MAX_ABI) throw new UsageError(`--abi takes a Landlock ABI from 1 to ${MAX_ABI}, found \`${opts.abi}\``);
    abi = Number(opts.abi);
  }
  const options: FidelityOptions = { targets: parsed.targets, ...(arches ? { arches } : {}), ...(abi !== undefined ? { abi } : {}) };
  return async (r) => (!parsed.targets.length || !r.ir || r.diagnostics.some((d) => d.severity === "error") ? [] : checkTargetFidelity(r.ir, options));
}
