// The two sides of `sbc diff`: a file, `preset:NAME`, `-` (stdin) or `git:REV:path`. A git input is read
// from the revision, not the working tree, and so is every local file it extends: they are copied out of
// the revision (`git cat-file`) into a temporary directory laid out like the repository, compiled there,
// and their sources renamed `git:REV:path`, so spans and diagnostics name the revision.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Source } from "../../diagnostics/source.js";
import { compilePolicy, type CompileOptions, type CompileResult } from "../../compiler/passes/index.js";
import { decodeSource, loadSource } from "../../compiler/passes/load-file.js";
import { MAX_INPUT_BYTES } from "../../compiler/passes/read-file.js";
import { UsageError } from "../errors.js";
import { throwIfEntryUnreadable } from "../report.js";

/** What one side is, parsed from the command line. */
export type DiffInputSpec =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "preset"; readonly name: string }
  | { readonly kind: "stdin" }
  | { readonly kind: "git"; readonly rev: string; readonly path: string };

export function parseDiffInput(word: string): DiffInputSpec {
  if (word === "-") return { kind: "stdin" };
  if (word.startsWith("preset:")) {
    const name = word.slice("preset:".length);
    if (!name) throw new UsageError("`preset:` needs a preset name", "for example `preset:workspace-write`");
    return { kind: "preset", name };
  }
  if (word.startsWith("git:")) {
    const rest = word.slice("git:".length);
    const colon = rest.indexOf(":");
    const rev = colon < 0 ? "" : rest.slice(0, colon);
    const path = colon < 0 ? "" : rest.slice(colon + 1);
    if (!rev || !path || rev.startsWith("-")) throw new UsageError(`\`${word}\` is not \`git:REV:path\``, "for example `git:HEAD~1:policies/agent.yaml` (the path relative to the repository's root, or to the current directory with `./`)");
    return { kind: "git", rev, path };
  }
  return { kind: "file", path: word };
}

/** A side compiled: the result, and the name the report gives it. */
export interface CompiledSide {
  readonly name: string;
  readonly result: CompileResult;
}

export function compileSide(word: string, options: CompileOptions, cwd: string, stdin: () => string): CompiledSide {
  const spec = parseDiffInput(word);
  if (spec.kind === "stdin") return { name: "<stdin>", result: compilePolicy({ kind: "text", path: "<stdin>", text: stdin() }, { ...options, cwd }) };
  if (spec.kind === "preset") return { name: word, result: compilePolicy({ kind: "preset", name: spec.name }, { ...options, cwd }) };
  if (spec.kind === "file") {
    const result = compilePolicy({ kind: "file", path: spec.path }, { ...options, cwd });
    throwIfEntryUnreadable(result);
    return { name: spec.path, result };
  }
  return compileFromGit(spec, options, cwd);
}

function git(cwd: string, args: readonly string[]): { ok: boolean; out: Buffer; err: string } {
  const r = spawnSync("git", args, { cwd, maxBuffer: 4 * MAX_INPUT_BYTES, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
  if (r.error) throw new UsageError(`cannot run git: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`, "`git:REV:path` inputs need git on PATH");
  return { ok: r.status === 0, out: r.stdout, err: r.stderr.toString("utf8").trim().split("\n")[0] ?? "" };
}

const POLICY_FILE = /\.(ya?ml|sbc)$/i;
/** Files an input may pull out of a revision through `extends:` (a cycle or a runaway chain stops here). */
const MAX_GIT_FILES = 64;

function compileFromGit(spec: { rev: string; path: string }, options: CompileOptions, cwd: string): CompiledSide {
  const shownAs = `git:${spec.rev}:${spec.path}`;
  const top = git(cwd, ["rev-parse", "--show-toplevel"]);
  if (!top.ok) throw new UsageError(`cannot read \`${shownAs}\`: not inside a git repository`);
  const root = top.out.toString("utf8").trim();
  const commit = git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${spec.rev}^{commit}`]);
  if (!commit.ok) throw new UsageError(`cannot read \`${shownAs}\`: unknown revision \`${spec.rev}\``);
  const sha = commit.out.toString("utf8").trim();
  // As git reads `REV:path`: relative to the repository's root, or to the current directory with `./` or `../`.
  let rel = spec.path;
  if (rel.startsWith("./") || rel.startsWith("../")) rel = posix.join(git(cwd, ["rev-parse", "--show-prefix"]).out.toString("utf8").trim(), rel);
  rel = posix.normalize(rel).replace(/^\/+/, "");
  if (rel === "." || rel.startsWith("../")) throw new UsageError(`cannot read \`${shownAs}\`: the path is outside the repository`);
  const show = (p: string): Buffer | undefined => {
    const r = git(root, ["cat-file", "blob", `${sha}:${p}`]);
    return r.ok ? r.out : undefined;
  };
  const entry = show(rel);
  if (!entry) throw new UsageError(`cannot read \`${shownAs}\`: no file \`${rel}\` in revision \`${spec.rev}\``);

  const dir = realpathSync(mkdtempSync(join(tmpdir(), "sbc-diff-")));
  try {
    // The entry and the local files it extends, transitively, as the revision has them.
    const pending: [string, Buffer][] = [[rel, entry]];
    const copied = new Set<string>();
    while (pending.length && copied.size < MAX_GIT_FILES) {
      const [p, bytes] = pending.shift()!;
      if (copied.has(p)) continue;
      copied.add(p);
      mkdirSync(join(dir, dirname(p)), { recursive: true });
      writeFileSync(join(dir, p), bytes);
      const decoded = decodeSource(p, bytes);
      const file = decoded.source ? loadSource(decoded.source).file : undefined;
      for (const ref of file?.extends ?? []) {
        const v = ref.value;
        if (!(v.startsWith("./") || v.startsWith("../")) || !POLICY_FILE.test(v)) continue;
        const next = posix.normalize(posix.join(posix.dirname(p), v));
        if (next.startsWith("../") || copied.has(next)) continue;
        const b = show(next);
        // Missing in the revision: the compiler says so, at the `extends:` entry.
        if (b) pending.push([next, b]);
      }
    }
    const result = compilePolicy({ kind: "file", path: rel }, { ...options, cwd: dir });
    renameSources(result, (path) => (copied.has(path) ? `git:${spec.rev}:${path}` : path));
    return { name: shownAs, result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Rename the sources of a compiled policy in place. The IR's spans and the diagnostics hold the Source objects
 * the loader made, so renaming each once renames it everywhere (a Source is otherwise never changed).
 */
function renameSources(result: CompileResult, rename: (path: string) => string): void {
  const seen = new Set<Source>();
  const visit = (s: Source | undefined) => {
    if (!s || seen.has(s)) return;
    seen.add(s);
    (s as { path: string }).path = rename(s.path);
  };
  for (const f of result.files ?? []) visit(f.source);
  const fromDiagnostic = (d: Diagnostic) => {
    visit(d.span?.source);
    for (const l of d.labels) visit(l.span.source);
  };
  result.diagnostics.forEach(fromDiagnostic);
}

/** Read all of stdin (for `-`), once. */
export function stdinReader(): () => string {
  let text: string | undefined;
  return () => (text ??= readFileSync(0, "utf8"));
}

