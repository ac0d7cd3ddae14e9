// The `build` section of the project config (sbc.config.yaml/.json, or the `sbc` key of package.json): which
// policies `sbc build` compiles and where each output goes. Validated here with a file:line:col for every
// error; the rest of the file (lint settings) is validated by lib/config-file.ts, which finds it.

import { readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { closest, diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import type { CodeKey } from "../../diagnostics/codes.js";
import { Source, span } from "../../diagnostics/source.js";
import { parseYaml, type PathSegment } from "../../language/yaml-source.js";
import { ARCHES, type Arch } from "../../linux-abi/index.js";
import { checkKernelVersion } from "../../linux-abi/syscall-versions.js";
import { specifiedRules } from "../../compiler/lint/index.js";
import { ConfigFinder } from "../config-file.js";
import { MAX_ABI, TARGETS } from "../targets.js";
import type { CompileInput } from "../compile.js";

/** One file `sbc build` writes. */
export interface BuildOutput {
  /** Absolute path. */
  readonly path: string;
  /** As written in the config (for messages and listings). */
  readonly name: string;
  readonly target: string;
  readonly arch?: readonly Arch[];
  readonly abi?: number;
  readonly compat?: "best-effort" | "soft-requirement" | "hard-requirement";
  readonly strict?: boolean;
  /** Absolute path of this output's own depfile, if it has one. */
  readonly depfile?: string;
}

export interface BuildPolicy {
  /** A file (absolute path) or a preset. */
  readonly input: CompileInput;
  /** As written in the config: the file or `preset NAME`. */
  readonly name: string;
  readonly params: Readonly<Record<string, string>>;
  readonly kernel?: string;
  readonly outputs: readonly BuildOutput[];
}

export interface BuildConfig {
  /** Absolute path of the config file (a dependency of every output). */
  readonly file: string;
  /** Its directory: relative paths in the section are relative to it. */
  readonly dir: string;
  readonly policies: readonly BuildPolicy[];
  /** The config's top-level `params` (shared with `sbc check`): for every policy that declares them. */
  readonly defaultParams: Readonly<Record<string, string>>;
}

export interface BuildConfigResult {
  readonly config?: BuildConfig;
  readonly diagnostics: readonly Diagnostic[];
}

/** Targets that take `arch` (the seccomp filter is per architecture), and those that take `abi`/`compat`/`strict`. */
const ARCH_TARGETS = new Set(["seccomp", "seccomp-c", "seccomp-disasm", "seccomp-json", "oci-seccomp", "linux"]);
const LANDLOCK_TARGETS = new Set(["landlock", "landlock-c", "linux"]);
const POLICY_KEYS = ["policy", "preset", "params", "kernel", "outputs"] as const;
const OUTPUT_KEYS = ["path", "target", "arch", "abi", "compat", "strict", "depfile"] as const;
const COMPAT = ["best-effort", "soft-requirement", "hard-requirement"] as const;

/**
 * The config `sbc build` uses: `explicit` (`--config FILE`) or the nearest one upward from `cwd`. The whole
 * file is validated (its lint settings too: a broken config is broken for every command).
 */
export function loadBuildConfig(cwd: string, explicit?: string): BuildConfigResult {
  const finder = new ConfigFinder(cwd, specifiedRules.map((r) => r.id));
  const found = explicit !== undefined ? finder.load(explicit) : finder.find(cwd);
  if (!found) return { diagnostics: [diag("buildNoConfig", "no config file found from here up to the root", { help: "add an `sbc.config.yaml` with a `build` section, or name one with `--config`" })] };
  if (!found.config) return { diagnostics: found.diagnostics };
  const abs = explicit !== undefined ? resolve(cwd, explicit) : resolve(cwd, found.config.path);
  const r = readBuildSection(abs, found.config.path);
  return r.config ? { ...r, config: { ...r.config, defaultParams: found.config.params } } : r;
}

/**
 * Parse and validate the `build` section of the config file at `abs` (shown in messages as `display`). The
 * top-level `params` are loadBuildConfig's to add, as the rest of the file is validated there.
 */
export function readBuildSection(abs: string, display: string): BuildConfigResult {
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (e) {
    return { diagnostics: [diag("configUnreadable", `cannot read config file \`${display}\`: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`)] };
  }
  const source = new Source(display, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const parsed = parseYaml(source);
  const doc = parsed.doc;
  const base: PathSegment[] = basename(abs) === "package.json" ? ["sbc"] : [];
  const root = (base.length ? (doc?.value as Record<string, unknown> | undefined)?.sbc : doc?.value) as Record<string, unknown> | undefined;
  const dir = dirname(abs);
  const section = root?.build;
  const diagnostics: Diagnostic[] = [];
  const at = (path: readonly PathSegment[], key = false) => {
    if (!doc) return span(source, 0, 0);
    const l = doc.locate([...base, "build", ...path]);
    return key ? (l.key ?? l.value) : l.value;
  };
  const report = (code: CodeKey, path: readonly PathSegment[], message: string, help?: string, key = false) =>
    diagnostics.push(diag(code, message, { span: at(path, key), ...(help ? { help } : {}) }));
  const bad = (path: readonly PathSegment[], message: string, help?: string, key = false) => report("buildInvalid", path, message, help, key);

  if (section === undefined) {
    return { diagnostics: [diag("buildNoConfig", `config file \`${display}\` has no \`build\` section`, { span: span(source, 0, 0), help: "list the policies to build and their outputs under `build:` (docs/build.md)" })] };
  }
  if (!Array.isArray(section) || section.length === 0) {
    bad([], "`build` must be a non-empty list of policies, each with its `outputs`", "for example `- policy: policies/ws.yaml` with `outputs: [{ path: build/ws.bpf, target: seccomp }]`");
    return { diagnostics };
  }
  const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  const unknownKeys = (o: Record<string, unknown>, keys: readonly string[], path: PathSegment[], what: string) => {
    for (const k of Object.keys(o)) {
      if (keys.includes(k)) continue;
      const guess = closest(k, keys);
      bad([...path, k], `unknown key \`${k}\` in ${what}`, guess ? `did you mean \`${guess}\`?` : `keys: ${keys.map((x) => `\`${x}\``).join(", ")}`, true);
    }
  };
  const relPath = (v: unknown, path: PathSegment[], key: string): string | undefined => {
    if (typeof v !== "string" || v === "") {
      bad(path, `\`${key}\` must be a non-empty path`);
      return undefined;
    }
    return resolve(dir, v);
  };

  const policies: BuildPolicy[] = [];
  section.forEach((p: unknown, i: number) => {
    if (!isMapping(p)) {
      bad([i], "each entry of `build` must be a mapping with `policy` (or `preset`) and `outputs`");
      return;
    }
    unknownKeys(p, POLICY_KEYS, [i], "a build entry");
    let input: CompileInput | undefined;
    let name = "";
    if ((p.policy === undefined) === (p.preset === undefined)) {
      bad([i], p.policy === undefined ? "a build entry needs `policy` (a file) or `preset`" : "a build entry takes `policy` or `preset`, not both");
    } else if (p.policy !== undefined) {
      const abs = relPath(p.policy, [i, "policy"], "policy");
      if (abs) {
        input = { kind: "file", path: abs };
        name = p.policy as string;
      }
    } else if (typeof p.preset !== "string" || p.preset === "") bad([i, "preset"], "`preset` must be the name of a preset");
    else {
      input = { kind: "preset", name: p.preset };
      name = `preset ${p.preset}`;
    }
    const params: Record<string, string> = {};
    if (p.params !== undefined) {
      if (!isMapping(p.params)) bad([i, "params"], "`params` must be a mapping of parameter names to paths");
      else
        for (const [k, v] of Object.entries(p.params)) {
          if (typeof v !== "string" || v === "") bad([i, "params", k], `the value of parameter \`${k}\` must be a non-empty path`);
          // Relative to the config's directory, like every path in the section; an absolute path then lands
          // in the outputs, which is why docs/build.md says so.
          else params[k] = isAbsolute(v) || v.startsWith("$") ? v : resolve(dir, v);
        }
    }
    let kernel: string | undefined;
    if (p.kernel !== undefined) {
      // YAML reads `5.10` as the number 5.1: only a string says which kernel was meant.
      if (typeof p.kernel !== "string") bad([i, "kernel"], "`kernel` must be a version string `X.Y`", typeof p.kernel === "number" ? "quote it, e.g. `kernel: \"5.10\"`" : undefined);
      else {
        const issue = checkKernelVersion(p.kernel);
        if (issue) bad([i, "kernel"], `kernel: ${issue.message}`, issue.help);
        else kernel = p.kernel;
      }
    }
    const outputs: BuildOutput[] = [];
    if (!Array.isArray(p.outputs) || p.outputs.length === 0) bad(p.outputs === undefined ? [i] : [i, "outputs"], "a build entry needs `outputs`: a non-empty list of `{ path, target }`");
    else
      p.outputs.forEach((o: unknown, j: number) => {
        const here: PathSegment[] = [i, "outputs", j];
        if (!isMapping(o)) {
          bad(here, "each output must be a mapping with `path` and `target`");
          return;
        }
        unknownKeys(o, OUTPUT_KEYS, here, "an output");
        const path = relPath(o.path, o.path === undefined ? here : [...here, "path"], "path");
        let target: string | undefined;
        if (typeof o.target !== "string") bad(o.target === undefined ? here : [...here, "target"], "an output needs a `target`", `targets: ${Object.keys(TARGETS).join(", ")}`);
        else if (!(o.target in TARGETS)) {
          const guess = closest(o.target, Object.keys(TARGETS));
          report("buildUnknownTarget", [...here, "target"], `unknown target \`${o.target}\``, guess ? `did you mean \`${guess}\`?` : `targets: ${Object.keys(TARGETS).join(", ")}`);
        } else target = o.target;
        const notFor = (key: string, takers: string) => report("buildOptionNotForTarget", [...here, key], `\`${key}\` does not go with target \`${target}\``, `only ${takers} targets take it`, true);
        let arch: Arch[] | undefined;
        if (o.arch !== undefined) {
          const list = typeof o.arch === "string" ? [o.arch] : o.arch;
          if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== "string")) bad([...here, "arch"], "`arch` must be an arch or a non-empty list of arches", `arches: ${ARCHES.join(", ")}`);
          else {
            const u = (list as string[]).findIndex((a) => !(ARCHES as readonly string[]).includes(a));
            if (u >= 0) {
              const unknown = (list as string[])[u]!;
              const guess = closest(unknown, ARCHES);
              bad(typeof o.arch === "string" ? [...here, "arch"] : [...here, "arch", u], `unknown arch \`${unknown}\``, guess ? `did you mean \`${guess}\`?` : `arches: ${ARCHES.join(", ")}`);
            } else arch = [...new Set(list as Arch[])];
          }
          if (target && !ARCH_TARGETS.has(target)) notFor("arch", "seccomp, oci-seccomp and linux");
        }
        let abi: number | undefined;
        if (o.abi !== undefined) {
          if (typeof o.abi !== "number" || !Number.isInteger(o.abi) || o.abi < 1 || o.abi > MAX_ABI) bad([...here, "abi"], `\`abi\` must be a Landlock ABI from 1 to ${MAX_ABI}`);
          else abi = o.abi;
          if (target && !LANDLOCK_TARGETS.has(target)) notFor("abi", "landlock, landlock-c and linux");
        }
        let compat: BuildOutput["compat"];
        if (o.compat !== undefined) {
          if (typeof o.compat !== "string" || !(COMPAT as readonly string[]).includes(o.compat)) bad([...here, "compat"], `\`compat\` must be ${COMPAT.map((c) => `\`${c}\``).join(", ")}`);
          else compat = o.compat as BuildOutput["compat"];
          if (target && !LANDLOCK_TARGETS.has(target)) notFor("compat", "landlock, landlock-c and linux");
        }
        if (o.strict !== undefined) {
          if (typeof o.strict !== "boolean") bad([...here, "strict"], "`strict` must be `true` or `false`");
          if (target && !LANDLOCK_TARGETS.has(target)) notFor("strict", "landlock, landlock-c and linux");
        }
        const depfile = o.depfile === undefined ? undefined : relPath(o.depfile, [...here, "depfile"], "depfile");
        if (path && target)
          outputs.push({
            path,
            name: o.path as string,
            target,
            ...(arch ? { arch } : {}),
            ...(abi !== undefined ? { abi } : {}),
            ...(compat ? { compat } : {}),
            ...(o.strict === true ? { strict: true } : {}),
            ...(depfile ? { depfile } : {}),
          });
      });
    if (input) policies.push({ input, name, params, ...(kernel ? { kernel } : {}), outputs });
  });

  // Every file written must be written by one output only, and never be the config itself.
  const seen = new Map<string, string>();
  section.forEach((p: unknown, i: number) => {
    if (!isMapping(p) || !Array.isArray(p.outputs)) return;
    p.outputs.forEach((o: unknown, j: number) => {
      if (!isMapping(o)) return;
      for (const key of ["path", "depfile"] as const) {
        if (typeof o[key] !== "string" || o[key] === "") continue;
        const file = resolve(dir, o[key] as string);
        if (file === abs) {
          report("buildOutputIsInput", [i, "outputs", j, key], `\`${o[key]}\` is the config file itself`);
          continue;
        }
        const before = seen.get(file);
        if (before !== undefined) report("buildDuplicateOutput", [i, "outputs", j, key], `\`${o[key]}\` is also written as ${before}`, "give each output and depfile its own file");
        else seen.set(file, `the ${key} of output \`${String(o.path)}\``);
      }
    });
  });
  if (diagnostics.length) return { diagnostics };
  return { config: { file: abs, dir, policies, defaultParams: {} }, diagnostics };
}
