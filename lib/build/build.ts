// `sbc build`: compile every output the project config lists, compare each with the file on disk by content,
// and write (through the caller's writer) only those that changed, plus their depfiles. A policy with an error
// writes nothing at all; the other policies are built as usual.

import { readFileSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import { compile, type CompileInput } from "../compile.js";
import type { BuildConfig, BuildOutput, BuildPolicy } from "./config.js";
import { depfileText } from "./depfile.js";

/** What happened to one file: written, already up to date, or (with `check`) stale or missing; or not built. */
export type FileAction = "wrote" | "unchanged" | "stale" | "missing" | "not-built";

export interface FileEntry {
  /** Absolute path. */
  readonly path: string;
  /** Relative to the build's base directory. */
  readonly shown: string;
  readonly kind: "output" | "depfile";
  readonly action: FileAction;
}

export interface PolicyBuild {
  readonly policy: BuildPolicy;
  readonly diagnostics: readonly Diagnostic[];
  /** The files the policy's outputs depend on (absolute): the policy, every file it extends, the config. */
  readonly inputs: readonly string[];
  readonly ok: boolean;
}

export interface BuildResult {
  readonly policies: readonly PolicyBuild[];
  readonly files: readonly FileEntry[];
  /** Every file read, for `--watch`: each policy's inputs and the config. */
  readonly inputs: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
  /** No error, and (with `check`) nothing stale or missing. */
  readonly ok: boolean;
}

export interface BuildOptions {
  /** Write nothing; report outputs that differ from what would be written as `stale` or `missing`. */
  readonly check?: boolean;
  /** One depfile for every output (`--depfile`), absolute. */
  readonly depfile?: string;
  /** Where depfile paths and shown names are relative to (the directory make runs in). */
  readonly base: string;
  /** Writes a file atomically (creating its directory); not called with `check`. */
  readonly write: (path: string, data: string | Uint8Array) => void;
}

type OnDisk = { readonly state: "missing" } | { readonly state: "present"; readonly bytes: Uint8Array } | { readonly state: "unreadable" };

function readCurrent(path: string): OnDisk {
  try {
    return { state: "present", bytes: readFileSync(path) };
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? { state: "missing" } : { state: "unreadable" };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A path relative to `base` (with `..` when outside it), as listings and diagnostics show it. */
function shownPath(p: string, base: string): string {
  const rel = relative(base, p);
  return rel === "" || isAbsolute(rel) ? p : rel;
}

const toBytes = (data: string | Uint8Array): Uint8Array => (typeof data === "string" ? Buffer.from(data, "utf8") : data);

/** Compile every output of one policy; all or nothing. */
async function compilePolicyOutputs(config: BuildConfig, policy: BuildPolicy, base: string): Promise<{ build: PolicyBuild; artifacts: { output: BuildOutput; bytes: Uint8Array }[] }> {
  const diagnostics: Diagnostic[] = [];
  const inputs = new Set<string>();
  const artifacts: { output: BuildOutput; bytes: Uint8Array }[] = [];
  // Named relative to the working directory, so that diagnostics show the paths the listing shows.
  const input: CompileInput = policy.input.kind === "file" ? { kind: "file", path: shownPath(policy.input.path, base) } : policy.input;
  for (const output of policy.outputs) {
    const r = await compile(input, {
      target: output.target,
      params: policy.params,
      ...(Object.keys(config.defaultParams).length ? { defaultParams: config.defaultParams } : {}),
      cwd: base,
      ...(output.arch ? { arch: output.arch } : {}),
      ...(output.abi !== undefined ? { abi: output.abi } : {}),
      ...(output.compat ? { compat: output.compat } : {}),
      ...(output.strict ? { strict: true } : {}),
      ...(policy.kernel ? { kernel: policy.kernel } : {}),
    });
    for (const f of r.files) inputs.add(f);
    // The front end's diagnostics repeat for every output of the policy: keep each once.
    for (const d of r.diagnostics) if (!diagnostics.some((x) => sameDiagnostic(x, d))) diagnostics.push(d);
    if (r.ok && r.output !== undefined) artifacts.push({ output, bytes: toBytes(r.output) });
  }
  // A policy file that cannot be read yet is still an input: `--watch` must see it appear.
  if (policy.input.kind === "file") inputs.add(policy.input.path);
  inputs.add(config.file);
  for (const output of policy.outputs) {
    for (const p of [output.path, output.depfile]) {
      if (p !== undefined && inputs.has(p)) diagnostics.push(diag("buildOutputIsInput", `output \`${output.name}\` of \`${policy.name}\` would overwrite \`${p}\`, which the build reads`, { help: "write outputs to a build directory" }));
    }
  }
  const ok = artifacts.length === policy.outputs.length && !diagnostics.some((d) => d.severity === "error");
  return { build: { policy, diagnostics, inputs: [...inputs], ok }, artifacts: ok ? artifacts : [] };
}

function sameDiagnostic(a: Diagnostic, b: Diagnostic): boolean {
  return a.code === b.code && a.message === b.message && a.span?.source.path === b.span?.source.path && a.span?.start === b.span?.start;
}

/** Build (or with `check`, verify) every output of `config`. Throws only what `write` throws. */
export async function runBuild(config: BuildConfig, options: BuildOptions): Promise<BuildResult> {
  const files: FileEntry[] = [];
  const policies: PolicyBuild[] = [];
  const shown = (p: string) => shownPath(p, options.base);
  const put = (path: string, kind: FileEntry["kind"], data: Uint8Array) => {
    const current = readCurrent(path);
    const fresh = current.state === "present" && sameBytes(current.bytes, data);
    let action: FileAction;
    if (fresh) action = "unchanged";
    else if (options.check) action = current.state === "missing" ? "missing" : "stale";
    else {
      options.write(path, data);
      action = "wrote";
    }
    files.push({ path, shown: shown(path), kind, action });
  };
  const depfileErrors: Diagnostic[] = [];
  const putDepfile = (path: string, r: readonly { target: string; deps: readonly string[] }[]) => {
    const text = depfileText(r, options.base);
    if (typeof text === "string") put(path, "depfile", toBytes(text));
    else depfileErrors.push(diag("buildDepfilePath", `depfile \`${shown(path)}\` cannot name \`${JSON.stringify(text.unwritable).slice(1, -1)}\`: make and ninja cannot read a path with a line break`, { help: "rename the file" }));
  };
  const rules: { target: string; deps: string[] }[] = [];
  for (const policy of config.policies) {
    const { build, artifacts } = await compilePolicyOutputs(config, policy, options.base);
    policies.push(build);
    if (!build.ok) {
      for (const o of policy.outputs) files.push({ path: o.path, shown: shown(o.path), kind: "output", action: "not-built" });
      continue;
    }
    for (const { output, bytes } of artifacts) {
      put(output.path, "output", bytes);
      rules.push({ target: output.path, deps: [...build.inputs] });
      // Depfiles are bookkeeping for the build tool, relative to where it runs: `--check` leaves them alone.
      if (output.depfile && !options.check) putDepfile(output.depfile, [{ target: output.path, deps: [...build.inputs] }]);
    }
  }
  const failed = policies.some((p) => !p.ok);
  const inputs = [...new Set([config.file, ...policies.flatMap((p) => p.inputs)])];
  if (options.depfile && !options.check) {
    const d = options.depfile;
    const clash = inputs.includes(d) ? "a file the build reads" : config.policies.some((p) => p.outputs.some((o) => o.path === d || o.depfile === d)) ? "an output of the build" : undefined;
    if (clash) depfileErrors.push(diag(inputs.includes(d) ? "buildOutputIsInput" : "buildDuplicateOutput", `--depfile \`${shown(d)}\` is ${clash}`, { help: "name a file of its own, e.g. `build/sbc.d`" }));
    // A depfile missing a failed policy's outputs would tell make they have no inputs: leave it as it was.
    else if (!failed) putDepfile(d, rules);
  }
  const diagnostics = [...policies.flatMap((p) => p.diagnostics), ...depfileErrors];
  const stale = files.some((f) => f.action === "stale" || f.action === "missing");
  return { policies, files, inputs, diagnostics, ok: !failed && !stale && depfileErrors.length === 0 };
}
