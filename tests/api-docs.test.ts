// The examples of docs/api.md run as a user would run them: each ```ts block is written to a module inside
// the package that imports "sbc" (the package's self-reference: dist/lib/index.js and its .d.ts), all are
// type-checked with tsc, each is run with tsx, and what it prints must equal the ```text block after it.
// ```typescript blocks are signatures, not examples. A block whose first line is `// needs: a sandbox` runs
// only where commands can be sandboxed (else it is skipped with a printed reason, or fails under
// SBC_REQUIRE_KERNEL=1).

import { execSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "./support/cli.js";
import { kernelSupport } from "./support/kernel.js";

const DOC = "docs/api.md";
const TSX = join(REPO, "node_modules", ".bin", "tsx");
const TSC = join(REPO, "node_modules", ".bin", "tsc");
/** Inside the package (so "sbc" resolves to it) and ignored by git (`.sbc-tmp-*`). */
const WORK = join(REPO, `.sbc-tmp-api-docs-${process.pid}`);
const MIN_EXAMPLES = 6;

interface Example {
  readonly line: number;
  readonly code: string;
  readonly expected: string | undefined;
  readonly needsSandbox: boolean;
}

function examples(markdown: string): Example[] {
  const lines = markdown.split("\n");
  const out: Example[] = [];
  const block = (from: number): { body: string; end: number } => {
    const body: string[] = [];
    let i = from + 1;
    for (; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${DOC}:${from + 1}: unclosed block`);
    return { body: body.join("\n") + "\n", end: i };
  };
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```ts") continue;
    const start = i;
    const code = block(i);
    i = code.end;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === "") j++;
    let expected: string | undefined;
    if (lines[j] === "```text") {
      const text = block(j);
      expected = text.body;
      i = text.end;
    }
    out.push({ line: start + 1, code: code.body, expected, needsSandbox: code.body.startsWith("// needs: a sandbox") });
  }
  return out;
}

const all = examples(readFileSync(join(REPO, DOC), "utf8"));
const file = (e: Example) => join(WORK, `example-line-${e.line}.mts`);

/** Where spawnSandboxed can run: macOS, or Linux with seccomp, the loader and Landlock. */
function sandboxSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform === "darwin") return { ok: true };
  const k = kernelSupport();
  if (!k.ok) return k;
  const loader = join(REPO, "native", "build", "sbc-loader");
  if (!existsSync(loader)) spawnSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { stdio: "inherit" });
  if (!existsSync(loader)) return { ok: false, reason: "the native loader could not be built" };
  const probe = spawnSync(loader, ["--probe"], { encoding: "utf8" });
  return /landlock-abi=[1-9]/.test(probe.stdout ?? "") ? { ok: true } : { ok: false, reason: `no Landlock here (${(probe.stdout ?? "").trim()})` };
}

beforeAll(() => {
  // The examples import the built package (npm test builds it first; a bare vitest run builds it when missing).
  if (!existsSync(join(REPO, "dist", "lib", "spawn.js"))) execSync("npm run build", { cwd: REPO, stdio: "pipe", timeout: 300_000 });
  mkdirSync(WORK, { recursive: true });
  for (const e of all) writeFileSync(file(e), e.code);
  writeFileSync(
    join(WORK, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023"], types: ["node"], strict: true, noEmit: true, skipLibCheck: true },
      include: ["*.mts"],
    }),
  );
}, 300_000);
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe(`the examples of ${DOC}`, () => {
  it(`there are at least ${MIN_EXAMPLES}, each followed by the output it prints`, () => {
    expect(all.length).toBeGreaterThanOrEqual(MIN_EXAMPLES);
    for (const e of all) expect(e.expected, `${DOC}:${e.line} has no \`\`\`text block after it`).toBeDefined();
    for (const e of all) expect(e.code, `${DOC}:${e.line}`).toMatch(/from "sbc";/);
  });

  it("type-check against the package's declarations", () => {
    const r = spawnSync(TSC, ["-p", join(WORK, "tsconfig.json")], { cwd: WORK, encoding: "utf8", timeout: 120_000 });
    const shown = (r.stdout + r.stderr).replaceAll(WORK + "/", "").replace(/example-line-(\d+)\.mts/g, `${DOC} example at line $1`);
    expect(r.status, shown).toBe(0);
  }, 120_000);

  const sandbox = all.some((e) => e.needsSandbox) ? sandboxSupport() : { ok: true as const };
  for (const e of all) {
    const name = `${DOC}:${e.line} prints what the page shows`;
    if (e.needsSandbox && !sandbox.ok) {
      if (process.env.SBC_REQUIRE_KERNEL === "1") {
        it(name, () => {
          throw new Error(`SBC_REQUIRE_KERNEL=1 but the example cannot run: ${sandbox.reason}`);
        });
      } else {
        console.warn(`${DOC}:${e.line} skipped: ${sandbox.reason}`);
        it.skip(name, () => undefined);
      }
      continue;
    }
    it(name, () => {
      const r = spawnSync(TSX, [file(e)], { cwd: WORK, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(e.expected);
    }, 60_000);
  }
});
