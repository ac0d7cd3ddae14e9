// Stage `resolve-extends`: load the entry policy and everything it extends (presets by name, files by path
// relative to the extending file), reject cycles and missing files, and linearize: each file after the files
// it extends, in the order they are listed, every file once (the first time it is reached).

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { closest, diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Source } from "../diagnostics/source.js";
import type { PolicyFile, Spanned } from "../language/ast.js";
import { packageRoot } from "../package-root.js";
import { decodeSource, loadSource } from "./load-file.js";

export type PolicyInput =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "preset"; readonly name: string }
  | { readonly kind: "text"; readonly path: string; readonly text: string };

export interface LoadedPolicy {
  /** Files in merge order: bases first, the entry last. Missing when loading failed. */
  readonly files?: readonly PolicyFile[];
  readonly diagnostics: Diagnostic[];
  /** Absolute paths of every file read (for tooling that watches or checks fixture folders). */
  readonly filesRead: readonly string[];
  /**
   * With `partial`: the top-level sections (`filesystem`, `network` …) that lost parts to errors in some
   * file; `*` when an error cannot be placed in one (a file or a base missing, a broken `extends`).
   */
  readonly incomplete?: ReadonlySet<string>;
}

export function presetsDir(): string {
  return join(packageRoot(), "presets");
}

// The package's own presets: listed once per process (a check of many files asks for every `extends:`).
let presetList: string[] | undefined;

export function presetNames(): string[] {
  try {
    return [...(presetList ??= readdirNames(presetsDir()))];
  } catch {
    return [];
  }
}

function readdirNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

function displayPath(abs: string, cwd: string): string {
  const root = packageRoot();
  const inPresets = relative(join(root, "presets"), abs);
  if (!inPresets.startsWith("..") && !isAbsolute(inPresets)) return `presets/${inPresets}`;
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
}

function errnoReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return code ?? String((e as Error).message);
}

export interface LoadOptions {
  readonly cwd?: string;
  /**
   * Keep going past errors: files come back whenever the entry file could be read and parsed, with the
   * parts that are sound (see loadSource), without the files that could not be loaded at all.
   */
  readonly partial?: boolean;
}

/**
 * Extended files (presets, shared bases) as loaded before in this process, by path and name shown: `sbc check`
 * of many policies reads the same bases for each, and loading (YAML, schema, AST) is most of a check's time.
 * An entry is used only while the file's bytes are unchanged; the AST is never modified after loading.
 */
const loadedBases = new Map<string, { readonly bytes: Buffer; readonly loaded: { readonly file: PolicyFile | null; readonly incomplete?: readonly string[]; readonly errors: number }; readonly diagnostics: readonly Diagnostic[] }>();

export function loadPolicyTree(input: PolicyInput, options: LoadOptions = {}): LoadedPolicy {
  const cwd = options.cwd ?? process.cwd();
  const diagnostics: Diagnostic[] = [];
  const filesRead: string[] = [];
  const order: PolicyFile[] = [];
  const done = new Set<string>();
  const cache = new Map<string, PolicyFile | null>();
  const incomplete = new Set<string>();
  /** Errors placed in a section of a file that loaded; any other error makes the whole policy incomplete. */
  let placedErrors = 0;

  interface Loaded {
    readonly file: PolicyFile | null;
    /** With `partial`: the sections of `file` that lost a part, and how many errors were placed in them. */
    readonly incomplete?: readonly string[];
    readonly errors: number;
  }
  const load = (source: Source): Loaded => {
    const r = loadSource(source, { partial: options.partial === true });
    diagnostics.push(...r.diagnostics);
    const file = r.file ?? null;
    return { file, ...(file && r.incomplete ? { incomplete: r.incomplete } : {}), errors: r.diagnostics.filter((d) => d.severity === "error").length };
  };
  const use = (id: string, l: Loaded): PolicyFile | null => {
    if (l.incomplete) {
      for (const s of l.incomplete) incomplete.add(s);
      placedErrors += l.errors;
    }
    cache.set(id, l.file);
    return l.file;
  };

  const loadOne = (id: string, abs: string | undefined, text: string | undefined, shownAs: string, ref: Spanned<string> | undefined): PolicyFile | null => {
    if (cache.has(id)) return cache.get(id)!;
    if (text !== undefined) return use(id, load(new Source(shownAs, text)));
    let bytes: Buffer;
    try {
      bytes = readFileSync(abs!);
    } catch (e) {
      diagnostics.push(diag("fileUnreadable", `cannot read \`${shownAs}\`: ${errnoReason(e)}`, ref ? { span: ref.span } : {}));
      cache.set(id, null);
      return null;
    }
    filesRead.push(abs!);
    const key = `${options.partial === true ? "partial" : "whole"}\0${abs}\0${shownAs}`;
    const known = ref ? loadedBases.get(key) : undefined;
    if (known && known.bytes.equals(bytes)) {
      diagnostics.push(...known.diagnostics.map((x) => ({ ...x }))); // copies: a caller may change severities
      return use(id, known.loaded);
    }
    const before = diagnostics.length;
    const d = decodeSource(shownAs, bytes);
    diagnostics.push(...d.diagnostics);
    const loaded: Loaded = d.source ? load(d.source) : { file: null, errors: 0 };
    if (ref) loadedBases.set(key, { bytes, loaded, diagnostics: diagnostics.slice(before).map((x) => ({ ...x })) });
    return use(id, loaded);
  };

  /** Resolve an `extends:` entry to an identity and a path, or report why it cannot be. */
  const resolveRef = (ref: Spanned<string>, from: PolicyFile, fromDir: string | undefined): { id: string; abs: string } | undefined => {
    const v = ref.value;
    if (v.startsWith("./") || v.startsWith("../")) {
      if (fromDir === undefined) {
        diagnostics.push(diag("extendsNotFound", `cannot resolve \`${v}\` from a preset`, { span: ref.span }));
        return undefined;
      }
      const abs = resolve(fromDir, v);
      if (!existsSync(abs) || !statSync(abs).isFile()) {
        diagnostics.push(
          diag("extendsNotFound", `extended file \`${v}\` does not exist`, {
            span: ref.span,
            spanLabel: `looked for ${displayPath(abs, cwd)}`,
            help: "paths in `extends:` are relative to the file that contains them",
          }),
        );
        return undefined;
      }
      const real = realpathSync(abs);
      return { id: real, abs: real };
    }
    if (isAbsolute(v)) {
      diagnostics.push(diag("extendsAbsolute", `\`extends:\` names the absolute path \`${v}\``, { span: ref.span, help: "write it relative to this file, starting with `./` or `../`, so the policy can move" }));
      return undefined;
    }
    const names = presetNames();
    if (!names.includes(v)) {
      const guess = closest(v, names);
      diagnostics.push(
        diag("unknownPreset", `unknown preset \`${v}\``, {
          span: ref.span,
          help: guess ? `did you mean \`${guess}\`?` : `presets: ${names.join(", ")}; a file must start with \`./\` or \`../\``,
        }),
      );
      return undefined;
    }
    void from;
    return { id: `preset:${v}`, abs: join(presetsDir(), `${v}.yaml`) };
  };

  const visit = (id: string, abs: string | undefined, text: string | undefined, shownAs: string, stack: { id: string; ref?: Spanned<string> }[]): void => {
    if (done.has(id)) return;
    const file = loadOne(id, abs, text, shownAs, stack[stack.length - 1]?.ref);
    if (!file) return;
    const dir = id.startsWith("preset:") ? join(presetsDir()) : abs ? dirname(abs) : cwd;
    for (const ref of file.extends) {
      const target = resolveRef(ref, file, id.startsWith("preset:") && (ref.value.startsWith("./") || ref.value.startsWith("../")) ? undefined : dir);
      if (!target) continue;
      const at = stack.findIndex((s) => s.id === target.id);
      if (at >= 0 || target.id === id) {
        const chain = [...stack.slice(Math.max(at, 0)).map((s) => s.id), id, target.id].map((x) => (x.startsWith("preset:") ? x.slice(7) : displayPath(x, cwd)));
        const dedup = chain.filter((c, i) => i === 0 || c !== chain[i - 1]);
        diagnostics.push(diag("extendsCycle", `policies extend each other in a cycle: ${dedup.join(" → ")}`, { span: ref.span, help: "remove one of the `extends:` entries in the cycle" }));
        continue;
      }
      visit(target.id, target.abs, undefined, target.id.startsWith("preset:") ? `presets/${target.id.slice(7)}.yaml` : displayPath(target.abs, cwd), [...stack, { id, ref }]);
    }
    if (!done.has(id)) {
      done.add(id);
      order.push(file);
    }
  };

  let entryId = "";
  if (input.kind === "text") {
    entryId = `text:${input.path}`;
    visit(`text:${input.path}`, resolve(cwd, input.path), input.text, input.path, []);
  } else if (input.kind === "preset") {
    const names = presetNames();
    if (!names.includes(input.name)) {
      const guess = closest(input.name, names);
      diagnostics.push(diag("unknownPreset", `unknown preset \`${input.name}\``, { help: guess ? `did you mean \`${guess}\`?` : `presets: ${names.join(", ")}` }));
    } else visit((entryId = `preset:${input.name}`), join(presetsDir(), `${input.name}.yaml`), undefined, `presets/${input.name}.yaml`, []);
  } else {
    const abs = resolve(cwd, input.path);
    let real: string;
    try {
      real = realpathSync(abs);
      if (!statSync(real).isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
    } catch (e) {
      diagnostics.push(diag("fileUnreadable", `cannot read \`${input.path}\`: ${errnoReason(e)}`));
      return { diagnostics, filesRead };
    }
    entryId = real;
    visit(real, real, undefined, input.path, []);
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (errors > placedErrors) incomplete.add("*");
  const entryLoaded = order.length > 0 && cache.get(entryId) === order[order.length - 1];
  if (errors && !(options.partial && entryLoaded)) return { diagnostics, filesRead };
  return { files: order, diagnostics, filesRead, ...(options.partial ? { incomplete } : {}) };
}
