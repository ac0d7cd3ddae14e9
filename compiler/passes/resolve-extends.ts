// Stage `resolve-extends`: load the entry policy and everything it extends (presets by name, files by path
// relative to the extending file), reject cycles and missing files, and linearize: each file after the files
// it extends, in the order they are listed, every file once (the first time it is reached).

import { existsSync, readdirSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { closest, diag, type Diagnostic } from "../../diagnostics/diagnostic.js";
import { Source } from "../../diagnostics/source.js";
import type { PolicyFile, Spanned } from "../../language/ast.js";
import { packageRoot } from "../package-root.js";
import { decodeSource, loadSource } from "./load-file.js";
import { errnoReason, readInputFile } from "./read-file.js";

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

/** File names `extends:` may name: anything else is refused before it is opened (see extendedNotPolicy). */
const POLICY_FILE = /\.(ya?ml|sbc)$/i;

/**
 * Whether the text of an extended file that failed to load shows it is a policy (a top-level `sbc:` key, or
 * the DSL's `sbc N` header). One that does not is reported without its diagnostics, which would quote it:
 * `extends: ../../etc/passwd` must not print the first line of that file.
 */
function looksLikePolicy(text: string): boolean {
  return /^(?:["']?sbc["']?[ \t]*:|\{[ \t]*["']?sbc["']?[ \t]*:|sbc[ \t]+\d)/m.test(text);
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
  const load = (source: Source, sink: Diagnostic[] = diagnostics): Loaded => {
    const r = loadSource(source, { partial: options.partial === true });
    sink.push(...r.diagnostics);
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
    const read = readInputFile(abs!);
    if (!("bytes" in read)) {
      diagnostics.push(diag(read.tooLarge ? "fileTooLarge" : "fileUnreadable", `cannot read \`${shownAs}\`: ${read.reason}`, ref ? { span: ref.span } : {}));
      cache.set(id, null);
      return null;
    }
    filesRead.push(abs!);
    const bytes = Buffer.from(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength);
    const key = `${options.partial === true ? "partial" : "whole"}\0${abs}\0${shownAs}`;
    const known = ref ? loadedBases.get(key) : undefined;
    if (known && known.bytes.equals(bytes)) {
      diagnostics.push(...known.diagnostics.map((x) => ({ ...x }))); // copies: a caller may change severities
      return use(id, known.loaded);
    }
    // Diagnostics of a file reached through `extends:` are held back until it is known to be a policy: the
    // text of a file that is not one (`extends: ../../etc/passwd`) is never shown.
    const found: Diagnostic[] = [];
    const d = decodeSource(shownAs, bytes);
    found.push(...d.diagnostics);
    let loaded: Loaded = d.source ? load(d.source, found) : { file: null, errors: 0 };
    const held: Diagnostic[] = [];
    if (ref && found.some((x) => x.severity === "error") && !looksLikePolicy(d.source ? d.source.text : bytes.toString("latin1"))) {
      held.push(
        diag("extendsNotPolicy", `extended file \`${ref.value}\` is not a policy`, {
          span: ref.span,
          spanLabel: d.source ? "it has no `sbc:` key" : "it is not UTF-8 text",
          help: "its text is not shown; to see why it does not load, check it on its own with `sbc check`",
        }),
      );
      loaded = { file: null, errors: 0 };
    } else held.push(...found);
    diagnostics.push(...held);
    if (ref) loadedBases.set(key, { bytes, loaded, diagnostics: held.map((x) => ({ ...x })) });
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
      if (!POLICY_FILE.test(v)) {
        diagnostics.push(
          diag("extendsNotPolicy", `extended file \`${v}\` is not a policy file`, {
            span: ref.span,
            help: "`extends:` names presets and policy files (`.yaml`, `.yml`, `.sbc`); other files are not opened",
          }),
        );
        return undefined;
      }
      if (!existsSync(abs)) {
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
