// Stage `resolve-extends`: load the entry policy and everything it extends (presets by name, files by path
// relative to the extending file), reject cycles and missing files, and linearize: each file after the files
// it extends, in the order they are listed, every file once (the first time it is reached).

import { existsSync, readdirSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { closest, diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { Source } from "../diagnostics/source.js";
import type { PolicyFile, Spanned } from "../language/ast.js";
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
}

export function presetsDir(): string {
  return join(packageRoot(), "presets");
}

export function presetNames(): string[] {
  try {
    return readdirNames(presetsDir());
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
}

export function loadPolicyTree(input: PolicyInput, options: LoadOptions = {}): LoadedPolicy {
  const cwd = options.cwd ?? process.cwd();
  const diagnostics: Diagnostic[] = [];
  const filesRead: string[] = [];
  const order: PolicyFile[] = [];
  const done = new Set<string>();
  const cache = new Map<string, PolicyFile | null>();

  const loadOne = (id: string, abs: string | undefined, text: string | undefined, shownAs: string, ref: Spanned<string> | undefined): PolicyFile | null => {
    if (cache.has(id)) return cache.get(id)!;
    let source: Source | undefined;
    // Diagnostics of a file reached through `extends:` are held back until it is known to be a policy.
    const found: Diagnostic[] = [];
    let bytes: Uint8Array | undefined;
    if (text !== undefined) source = new Source(shownAs, text);
    else {
      const r = readInputFile(abs!);
      if (!("bytes" in r)) {
        diagnostics.push(diag(r.tooLarge ? "fileTooLarge" : "fileUnreadable", `cannot read \`${shownAs}\`: ${r.reason}`, ref ? { span: ref.span } : {}));
        cache.set(id, null);
        return null;
      }
      filesRead.push(abs!);
      bytes = r.bytes;
      const d = decodeSource(shownAs, r.bytes);
      found.push(...d.diagnostics);
      source = d.source;
    }
    let file: PolicyFile | null = null;
    if (source) {
      const r = loadSource(source);
      found.push(...r.diagnostics);
      file = r.file ?? null;
    }
    if (ref && found.some((d) => d.severity === "error") && !(source ? looksLikePolicy(source.text) : bytes && looksLikePolicy(Buffer.from(bytes).toString("latin1")))) {
      diagnostics.push(
        diag("extendsNotPolicy", `extended file \`${ref.value}\` is not a policy`, {
          span: ref.span,
          spanLabel: source ? "it has no `sbc:` key" : "it is not UTF-8 text",
          help: "its text is not shown; to see why it does not load, check it on its own with `sbc check`",
        }),
      );
    } else diagnostics.push(...found);
    cache.set(id, file);
    return file;
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

  if (input.kind === "text") {
    visit(`text:${input.path}`, resolve(cwd, input.path), input.text, input.path, []);
  } else if (input.kind === "preset") {
    const names = presetNames();
    if (!names.includes(input.name)) {
      const guess = closest(input.name, names);
      diagnostics.push(diag("unknownPreset", `unknown preset \`${input.name}\``, { help: guess ? `did you mean \`${guess}\`?` : `presets: ${names.join(", ")}` }));
    } else visit(`preset:${input.name}`, join(presetsDir(), `${input.name}.yaml`), undefined, `presets/${input.name}.yaml`, []);
  } else {
    const abs = resolve(cwd, input.path);
    let real: string;
    try {
      real = realpathSync(abs);
    } catch (e) {
      diagnostics.push(diag("fileUnreadable", `cannot read \`${input.path}\`: ${errnoReason(e)}`));
      return { diagnostics, filesRead };
    }
    visit(real, real, undefined, input.path, []);
  }
  const failed = diagnostics.some((d) => d.severity === "error");
  return failed ? { diagnostics, filesRead } : { files: order, diagnostics, filesRead };
}
