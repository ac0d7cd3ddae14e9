// What `sbc check` checks: the file arguments expanded the way linters do it — files as named, directories
// walked, quoted globs matched, `-` for stdin — in a deterministic (sorted) order, each file once.

import { readdirSync, readFileSync, statSync, type Dirent } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { compileGlob, hasWildcard } from "../lib/check.js";
import { checkPattern } from "../lib/config-file.js";
import { UsageError } from "./exit.js";

export type CheckInput =
  | { readonly kind: "file"; readonly path: string; readonly abs: string }
  | { readonly kind: "stdin"; readonly path: string; readonly abs: string; readonly text: string };

export interface ExpandOptions {
  readonly cwd: string;
  readonly errorOnUnmatched: boolean;
  /** `--stdin-filename`: the name stdin's text is shown and configured under. */
  readonly stdinFilename?: string;
  /** Whether a file found by a walk or a pattern (or named) is ignored by the config that applies to it. */
  readonly isIgnored: (abs: string) => boolean;
  readonly readStdin: () => string;
}

/** Directories a walk never enters. */
const SKIPPED_DIRS = new Set(["node_modules", ".git"]);

const POLICY_EXTENSIONS = [".sbc", ".yaml", ".yml"];

export function hasPolicyExtension(name: string): boolean {
  return POLICY_EXTENSIONS.some((e) => name.endsWith(e));
}

/**
 * A YAML file is a policy when its top level has an `sbc:` key (the format version every policy starts
 * with); walks and patterns skip other YAML (CI workflows, compose files). A `.sbc` file is always one.
 */
export function looksLikePolicy(abs: string): boolean {
  if (abs.endsWith(".sbc")) return true;
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch {
    // Unreadable: check it, so the reason is reported instead of the file silently skipped.
    return true;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return /^(?:\{\s*)?["']?sbc["']?[ \t]*:/m.test(text);
}

function shown(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel.split(sep).join("/") : abs;
}

function sortedEntries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

/**
 * Regular files beneath `dir` (symlinks to files included; symlinked directories not entered), sorted, at
 * most `maxDepth` components down.
 */
function walk(dir: string, visit: (abs: string, relParts: readonly string[]) => void, maxDepth = Infinity, prefix: readonly string[] = []): void {
  for (const e of sortedEntries(dir)) {
    const abs = join(dir, e.name);
    const parts = [...prefix, e.name];
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name) && parts.length < maxDepth) walk(abs, visit, maxDepth, parts);
    } else if (e.isFile()) visit(abs, parts);
    else if (e.isSymbolicLink()) {
      try {
        if (statSync(abs).isFile()) visit(abs, parts);
      } catch {
        // a dangling link is not a policy
      }
    }
  }
}

/** A relative or absolute `/`-separated glob: the literal directory to start from and a matcher below it. */
export function splitGlob(pattern: string, cwd: string): { base: string; depth: number; match: (relParts: readonly string[]) => boolean } {
  const parts = pattern.split("/");
  let i = 0;
  while (i < parts.length - 1 && !hasWildcard(parts[i]!)) i++;
  const literal = parts.slice(0, i).join("/");
  const base = literal === "" && pattern.startsWith("/") ? "/" : resolve(cwd, literal || ".");
  const rest = parts.slice(i).filter((p) => p !== "" && p !== ".");
  const matcher = compileGlob(rest);
  return { base, depth: rest.includes("**") ? Infinity : rest.length, match: (relParts) => matcher(relParts) };
}

/** Whether `abs` is matched by a config's ignore pattern (gitignore-like: a name without `/` matches at any depth). */
export function matchesIgnore(patterns: readonly string[], dir: string, abs: string): boolean {
  const rel = relative(dir, abs);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return false;
  const relParts = rel.split(sep);
  for (const p of patterns) {
    const trimmed = p.replace(/\/+$/, "").replace(/^\.\//, "");
    const comps = trimmed.split("/").filter((c) => c !== "");
    const anchored = trimmed.includes("/") ? comps : ["**", ...comps];
    const m = compileGlob(anchored);
    // A pattern that matches a directory ignores everything beneath it.
    for (let n = 1; n <= relParts.length; n++) if (m(relParts.slice(0, n))) return true;
  }
  return false;
}

export function expandInputs(args: readonly string[], options: ExpandOptions): CheckInput[] {
  const { cwd } = options;
  const out: CheckInput[] = [];
  const seen = new Set<string>();
  const add = (abs: string) => {
    if (seen.has(abs)) return;
    seen.add(abs);
    out.push({ kind: "file", path: shown(abs, cwd), abs });
  };
  const unmatched = (arg: string, why: string) => {
    if (options.errorOnUnmatched) throw new UsageError(`${why}: \`${arg}\``, "pass --no-error-on-unmatched-pattern to allow it");
  };
  let stdinUsed = false;
  for (const arg of args) {
    if (arg === "-") {
      if (stdinUsed) throw new UsageError("`-` (stdin) is named twice");
      stdinUsed = true;
      const name = options.stdinFilename ?? "<stdin>";
      out.push({ kind: "stdin", path: name, abs: resolve(cwd, name), text: options.readStdin() });
      continue;
    }
    const abs = resolve(cwd, arg);
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(abs);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      const before = out.length;
      let ignored = 0;
      walk(abs, (file) => {
        if (!hasPolicyExtension(file)) return;
        if (options.isIgnored(file)) return void ignored++;
        if (looksLikePolicy(file)) add(file);
      });
      if (out.length === before) unmatched(arg, ignored ? "every policy file in the directory is ignored" : "no policy files in the directory");
      continue;
    }
    if (st || !/[*?[]/.test(arg)) {
      // A file, or something that is neither file nor pattern: the compiler reports why it cannot be read.
      // A named file is checked even if it is not a policy, but not when the config ignores it.
      if (!options.isIgnored(abs)) add(abs);
      continue;
    }
    const issue = checkPattern(arg);
    if (issue) throw new UsageError(`\`${arg}\` is not a valid pattern: ${issue}`);
    const { base, depth, match } = splitGlob(arg, cwd);
    const found: string[] = [];
    let ignored = 0;
    walk(base, (file, relParts) => {
      if (!match(relParts)) return;
      if (options.isIgnored(file)) return void ignored++;
      if (hasPolicyExtension(file) && !looksLikePolicy(file)) return;
      found.push(file);
    }, depth);
    if (found.length === 0) unmatched(arg, ignored ? "every file matching the pattern is ignored" : "no files match the pattern");
    for (const f of found) add(f);
  }
  return out;
}
