// Where `sbc exec` may take its loader from (lib/loader.ts): only from a directory nobody else can change — not
// a link, the user's own, no group or other write bit, and every directory above it safe too (sticky /tmp is).
// And the cache directory's name uses the same source hash as scripts/build-native.mjs, or a build would never
// be found again. The build has no -Werror (it runs on users' compilers), so warnings are caught here.

import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loaderCacheDir, loaderSourceHash, unsafeLoaderDir } from "../lib/loader.js";

const REPO = join(import.meta.dirname, "..");
const base = mkdtempSync(join(tmpdir(), "sbc-loader-dir-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function dir(name: string, mode = 0o700): string {
  const d = join(base, name);
  mkdirSync(d, { recursive: true });
  chmodSync(d, mode);
  return d;
}

describe("unsafeLoaderDir", () => {
  it("accepts a directory of the user's own, under the sticky /tmp", () => {
    expect(unsafeLoaderDir(dir("ok"))).toBeUndefined();
  });

  it("refuses a directory writable by the group or others", () => {
    expect(unsafeLoaderDir(dir("g", 0o770))).toBe("it is writable by others");
    expect(unsafeLoaderDir(dir("o", 0o703))).toBe("it is writable by others");
  });

  it("refuses a link, even to a safe directory", () => {
    const link = join(base, "link");
    symlinkSync(dir("target"), link);
    expect(unsafeLoaderDir(link)).toBe("it is a symbolic link");
  });

  it("refuses a directory below one others can write, unless that one is sticky", () => {
    dir("open", 0o777);
    const inner = dir("open/inner");
    expect(unsafeLoaderDir(inner)).toBe(`\`${join(base, "open")}\` above it is writable by others`);
    chmodSync(join(base, "open"), 0o1777);
    expect(unsafeLoaderDir(inner)).toBeUndefined();
  });

  it.runIf(process.geteuid?.() === 0)("refuses a directory of another user, and one below another user's", () => {
    const theirs = dir("theirs");
    chownSync(theirs, 65534, 65534);
    expect(unsafeLoaderDir(theirs)).toBe("it belongs to uid 65534, not to you");
    const mine = dir("theirs/mine");
    expect(unsafeLoaderDir(mine)).toBe(`\`${theirs}\` above it belongs to uid 65534`);
  });

  it("says a missing directory does not exist", () => {
    expect(unsafeLoaderDir(join(base, "missing"))).toBe("it does not exist");
  });
});

describe("loaderCacheDir", () => {
  const hash = "ab".repeat(32);
  it("is under XDG_CACHE_HOME, else HOME/.cache, named by version and hash", () => {
    expect(loaderCacheDir(hash, { XDG_CACHE_HOME: "/c", HOME: "/h" }, "1.2.3")).toBe(`/c/sbc/loader/1.2.3-${"ab".repeat(8)}`);
    expect(loaderCacheDir(hash, { XDG_CACHE_HOME: "rel", HOME: "/h" }, "1.2.3")).toBe(`/h/.cache/sbc/loader/1.2.3-${"ab".repeat(8)}`);
    expect(loaderCacheDir(hash, {}, "1.2.3")).toBeUndefined();
  });
});

describe("loaderSourceHash", () => {
  it("is the hash scripts/build-native.mjs writes beside the loader it builds", async (ctx) => {
    const script = pathToFileURL(join(REPO, "scripts", "build-native.mjs")).href;
    const { buildLoader } = (await import(script)) as { buildLoader: (out?: string) => { ok: boolean; path?: string; reason?: string } };
    const out = join(base, "build");
    const r = buildLoader(out);
    if (!r.ok) return ctx.skip(`the loader cannot be built here: ${r.reason}`);
    expect(readFileSync(join(out, "sbc-loader.sha256"), "utf8").trim()).toBe(loaderSourceHash(REPO));
  }, 120_000);
});

describe("the loader's sources", () => {
  it("compile without a warning under -Wall -Wextra (users' builds do not stop on warnings; this does)", (ctx) => {
    const dir = join(REPO, "native", "loader");
    const units = readdirSync(dir).filter((n) => n.endsWith(".c")).map((n) => join(dir, n));
    const cc = process.env.SBC_CC || "cc";
    const r = spawnSync(cc, ["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pthread", ...units], { encoding: "utf8" });
    if (r.error) {
      if (process.env.SBC_REQUIRE_KERNEL === "1") throw r.error;
      return ctx.skip(`no C compiler: ${r.error.message}`);
    }
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  }, 60_000);
});
