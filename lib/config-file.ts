// The config file of `sbc check`: `sbc.config.json`, `sbc.config.yaml`/`.yml` or an `sbc` key in package.json,
// found upward from each checked file (the nearest wins, as with Prettier and ESLint's per-file lookup). It
// is data, never code (no `.mjs`): reading it executes nothing and costs one small parse.

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { CODES } from "../diagnostics/codes.js";
import { closest, diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Source, span } from "../diagnostics/source.js";
import { parseYaml, type PathSegment, type YamlDocument } from "../language/yaml-source.js";
import { checkGlobComponent } from "../ir/paths.js";

export type RuleSeverity = "error" | "warning" | "off";

export interface CheckConfig {
  /** The config file as shown in messages (relative to the working directory when inside it). */
  readonly path: string;
  /** The directory its `files` and `ignore` patterns are relative to. */
  readonly dir: string;
  /** Severity per lint rule id or per compiler warning name (`dead-rule`). */
  readonly rules: Readonly<Record<string, RuleSeverity>>;
  /** The targets whose fidelity `check` reports (absent: the command's default). */
  readonly targets?: readonly string[];
  /** What `sbc check` with no file arguments checks. */
  readonly files?: readonly string[];
  readonly ignore: readonly string[];
  /** Parameter bindings for every policy that declares the parameter; `--param` wins. */
  readonly params: Readonly<Record<string, string>>;
  readonly maxWarnings?: number;
}

/** The file names looked for in each directory, in this order; `package.json` counts only with an `sbc` key. */
export const CONFIG_FILE_NAMES = ["sbc.config.json", "sbc.config.yaml", "sbc.config.yml", "package.json"] as const;

/** Keys of the config file. `build` is reserved for `sbc build` settings (issue 14) and not checked here. */
const TOP_KEYS = ["$schema", "rules", "targets", "files", "ignore", "params", "maxWarnings", "build"] as const;

/** The targets `check` can report fidelity for (the `targets` key). */
export const CHECK_TARGETS = ["seccomp", "landlock", "sbpl"] as const;

const SEVERITIES: readonly RuleSeverity[] = ["error", "warning", "off"];

export interface ConfigResult {
  readonly config?: CheckConfig;
  readonly diagnostics: Diagnostic[];
}

/**
 * The rule ids a config file may name: every lint rule, plus every compiler diagnostic that is a warning
 * (they can be turned off or made errors; errors always stay errors).
 * (compiler/lint/config.ts validates lint rule ids alone, for library callers; a config file also names warnings.)
 */
export function checkRuleSetting(id: string, lintRuleIds: readonly string[]): { ok: true } | { ok: false; message: string; help?: string } {
  if (lintRuleIds.includes(id)) return { ok: true };
  const code = Object.values(CODES).find((c) => c.name === id || c.code === id);
  if (code?.severity === "warning") return { ok: true };
  if (code) return { ok: false, message: `\`${id}\` is an error and cannot be configured`, help: "only lint rules and warnings have a configurable severity" };
  const guess = closest(id, [...lintRuleIds, ...Object.values(CODES).filter((c) => c.severity === "warning").map((c) => c.name)]);
  return { ok: false, message: `unknown rule \`${id}\``, ...(guess ? { help: `did you mean \`${guess}\`?` } : {}) };
}

function shown(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith("..") ? rel : abs;
}

/** Read and validate one config file. `packageJson`: the settings are the `sbc` key. */
export function readConfigFile(abs: string, options: { cwd: string; lintRuleIds: readonly string[] }): ConfigResult {
  const display = shown(abs, options.cwd);
  let text: string;
  try {
    if (!statSync(abs).isFile()) throw Object.assign(new Error(), { code: "not a regular file" });
    text = readFileSync(abs, "utf8");
  } catch (e) {
    return { diagnostics: [diag("configUnreadable", `cannot read config file \`${display}\`: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`)] };
  }
  const source = new Source(display, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  // JSON is YAML 1.2, so one parser gives both formats exact positions for every key.
  const parsed = source.text.trim() === "" ? { doc: undefined, diagnostics: [] } : parseYaml(source);
  if (parsed.diagnostics.some((d) => d.severity === "error")) {
    return { diagnostics: parsed.diagnostics.map((d) => diag("configUnreadable", `config file: ${d.message}`, d.span ? { span: d.span } : {})) };
  }
  const isPackage = basename(abs) === "package.json";
  const base: PathSegment[] = isPackage ? ["sbc"] : [];
  const root = isPackage ? (parsed.doc?.value as Record<string, unknown> | undefined)?.sbc : (parsed.doc?.value ?? {});
  return validateConfig(root, base, parsed.doc, source, dirname(abs), options.lintRuleIds);
}

function validateConfig(root: unknown, base: PathSegment[], doc: YamlDocument | undefined, source: Source, dir: string, lintRuleIds: readonly string[]): ConfigResult {
  const diagnostics: Diagnostic[] = [];
  const at = (path: readonly PathSegment[], key = false) => {
    if (!doc) return span(source, 0, 0);
    const l = doc.locate([...base, ...path]);
    return key ? (l.key ?? l.value) : l.value;
  };
  const bad = (path: readonly PathSegment[], message: string, help?: string, key = false) =>
    diagnostics.push(diag("configInvalid", message, { span: at(path, key), ...(help ? { help } : {}) }));
  if (root === null || typeof root !== "object" || Array.isArray(root)) {
    bad([], "the config must be a mapping", `keys: ${TOP_KEYS.filter((k) => k !== "build").map((k) => `\`${k}\``).join(", ")}`);
    return { diagnostics };
  }
  const o = root as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(TOP_KEYS as readonly string[]).includes(k)) {
      const guess = closest(k, TOP_KEYS);
      bad([k], `unknown key \`${k}\` in the config`, guess ? `did you mean \`${guess}\`?` : undefined, true);
    }
  }
  const stringList = (k: string, check?: (v: string, i: number) => void): string[] | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      bad([k], `\`${k}\` must be a list of strings`);
      return undefined;
    }
    (v as string[]).forEach((x, i) => check?.(x, i));
    return v as string[];
  };
  const pattern = (k: string) => (p: string, i: number) => {
    const issue = checkPattern(p);
    if (issue) bad([k, i], `\`${p}\` is not a valid pattern: ${issue}`);
  };

  const rules: Record<string, RuleSeverity> = {};
  if (o.rules !== undefined) {
    if (o.rules === null || typeof o.rules !== "object" || Array.isArray(o.rules)) bad(["rules"], "`rules` must be a mapping of rule ids to `error`, `warning` or `off`");
    else {
      for (const [id, sev] of Object.entries(o.rules as Record<string, unknown>)) {
        const known = checkRuleSetting(id, lintRuleIds);
        if (!known.ok) diagnostics.push(diag("configUnknownRule", known.message, { span: at(["rules", id], true), ...(known.help ? { help: known.help } : {}) }));
        if (typeof sev !== "string" || !(SEVERITIES as readonly string[]).includes(sev)) {
          const guess = typeof sev === "string" ? closest(sev, SEVERITIES) : undefined;
          bad(["rules", id], `the severity of \`${id}\` must be \`error\`, \`warning\` or \`off\``, guess ? `did you mean \`${guess}\`?` : undefined);
        } else if (known.ok) rules[id] = sev as RuleSeverity;
      }
    }
  }
  const targets = stringList("targets", (t, i) => {
    if (!(CHECK_TARGETS as readonly string[]).includes(t)) {
      const guess = closest(t, CHECK_TARGETS);
      bad(["targets", i], `unknown target \`${t}\``, guess ? `did you mean \`${guess}\`?` : `targets: ${CHECK_TARGETS.join(", ")}`);
    }
  });
  const files = stringList("files", pattern("files"));
  const ignore = stringList("ignore", pattern("ignore")) ?? [];
  const params: Record<string, string> = {};
  if (o.params !== undefined) {
    if (o.params === null || typeof o.params !== "object" || Array.isArray(o.params)) bad(["params"], "`params` must be a mapping of parameter names to paths");
    else
      for (const [k, v] of Object.entries(o.params as Record<string, unknown>)) {
        if (typeof v !== "string") bad(["params", k], `the value of parameter \`${k}\` must be a string`);
        else params[k] = v;
      }
  }
  let maxWarnings: number | undefined;
  if (o.maxWarnings !== undefined) {
    if (typeof o.maxWarnings !== "number" || !Number.isInteger(o.maxWarnings)) bad(["maxWarnings"], "`maxWarnings` must be a whole number");
    else maxWarnings = o.maxWarnings;
  }
  if (diagnostics.length) return { diagnostics };
  return {
    config: {
      path: source.path,
      dir,
      rules,
      ...(targets ? { targets } : {}),
      ...(files ? { files } : {}),
      ignore,
      params,
      ...(maxWarnings !== undefined ? { maxWarnings } : {}),
    },
    diagnostics,
  };
}

/** Why a file pattern is malformed, or undefined. Patterns are relative, `/`-separated globs. */
export function checkPattern(p: string): string | undefined {
  if (p === "") return "it is empty";
  for (const part of p.split("/")) {
    const issue = checkGlobComponent(part);
    if (issue) return issue;
  }
  return undefined;
}

function hasSbcKey(abs: string): boolean {
  try {
    const v = JSON.parse(readFileSync(abs, "utf8")) as unknown;
    return v !== null && typeof v === "object" && "sbc" in v;
  } catch {
    // Not ours to judge: a package.json that does not parse is npm's business.
    return false;
  }
}

/** Config files found in one directory (several is an error). */
function configFilesIn(dir: string): string[] {
  const out: string[] = [];
  for (const name of CONFIG_FILE_NAMES) {
    const abs = join(dir, name);
    if (!existsSync(abs)) continue;
    if (name === "package.json" && !hasSbcKey(abs)) continue;
    out.push(abs);
  }
  return out;
}

/**
 * Finds the nearest config file upward from a directory, caching per directory, so checking 200 files in
 * one folder reads the config once.
 */
export class ConfigFinder {
  private readonly byDir = new Map<string, ConfigResult | null>();
  private readonly byFile = new Map<string, ConfigResult>();

  constructor(
    private readonly cwd: string,
    private readonly lintRuleIds: readonly string[],
  ) {}

  /** The config that applies to files in `dir`, or null when there is none up to the root. */
  find(dir: string): ConfigResult | null {
    const start = resolve(this.cwd, dir);
    const walked: string[] = [];
    let found: ConfigResult | null = null;
    for (let d = start; ; d = dirname(d)) {
      const cached = this.byDir.get(d);
      if (cached !== undefined) {
        found = cached;
        break;
      }
      walked.push(d);
      const files = configFilesIn(d);
      if (files.length > 1) {
        const names = files.map((f) => `\`${basename(f)}\``).join(" and ");
        found = { diagnostics: [diag("configAmbiguous", `\`${shown(d, this.cwd)}\` holds more than one config file: ${names}`, { help: "keep one of them" })] };
        break;
      }
      if (files.length === 1) {
        found = this.load(files[0]!);
        break;
      }
      if (dirname(d) === d) break;
    }
    for (const d of walked) this.byDir.set(d, found);
    return found;
  }

  /** A config file named with `--config`. */
  load(abs: string): ConfigResult {
    const key = resolve(this.cwd, abs);
    let r = this.byFile.get(key);
    if (!r) {
      r = readConfigFile(key, { cwd: this.cwd, lintRuleIds: this.lintRuleIds });
      this.byFile.set(key, r);
    }
    return r;
  }
}
