// Temporary directories for tests that write policy files; removed when the test file finishes.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";

const created: string[] = [];

// Registered when a test file imports this module, so it runs after that file's tests.
afterAll(() => {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, deleted after all tests of the importing file. */
export function tempDir(prefix = "sbc-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

/** Write `files` (relative name → text or bytes) under `dir`; returns `dir`. */
export function writeFiles(dir: string, files: Readonly<Record<string, string | Uint8Array>>): string {
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}
