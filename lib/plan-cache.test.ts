// The plan cache's Node side: where it lives, the cache input bin/sbc must spell the same way, what a safe
// directory is, and that storing keeps the directory bounded.

import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cacheInput, KEEP_PLANS, MAX_PLANS, planCacheDir, storePlan, unsafeCacheDir } from "./plan-cache.js";

const root = mkdtempSync(join(tmpdir(), "sbc-plan-cache-unit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const key = (n: number) => n.toString(16).padStart(64, "0");

describe("the plan cache (Node side)", () => {
  it("lives in SBC_CACHE_DIR, else XDG_CACHE_HOME/sbc/plans, else ~/.cache/sbc/plans; relative values are ignored", () => {
    expect(planCacheDir({ SBC_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe("/c");
    expect(planCacheDir({ SBC_CACHE_DIR: "rel", XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe("/x/sbc/plans");
    expect(planCacheDir({ XDG_CACHE_HOME: "rel", HOME: "/h" })).toBe("/h/.cache/sbc/plans");
    expect(planCacheDir({ HOME: "h" })).toBeUndefined();
  });

  it("spells the cache input as bin/sbc does", () => {
    expect(cacheInput("b1", undefined, { file: "p.yaml" })).toBe("sbc-exec 1 build=b1 namespaces=policy policy=p.yaml");
    expect(cacheInput("b1", "never", { preset: "read-only" })).toBe("sbc-exec 1 build=b1 namespaces=never preset=read-only");
    const sh = readFileSync(join(import.meta.dirname, "..", "bin", "sbc"), "utf8");
    expect(sh).toContain('input="sbc-exec 1 build=$build namespaces=${ns:-policy} $what"');
    expect(sh).toContain('what="preset=$preset"');
    expect(sh).toContain('what="policy=$policy"');
  });

  it("stores only into a directory of the user's own that nobody else can write", () => {
    const dir = join(root, "safe");
    expect(storePlan(dir, key(1), "plan\n")).toBeUndefined();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, `${key(1)}.plan`)).mode & 0o777).toBe(0o600);
    chmodSync(dir, 0o770);
    expect(storePlan(dir, key(2), "plan\n")).toMatch(/not safe for plans: it is writable by others/);
    chmodSync(dir, 0o700);
    const link = join(root, "link");
    symlinkSync(dir, link);
    expect(unsafeCacheDir(link)).toBe("it is a symbolic link");
    writeFileSync(join(root, "file"), "");
    expect(unsafeCacheDir(join(root, "file"))).toBe("it is not a directory");
  });

  it("keeps the directory bounded: past MAX_PLANS the oldest go, down to KEEP_PLANS", () => {
    const dir = join(root, "many");
    mkdirSync(dir, { mode: 0o700 });
    for (let i = 0; i < MAX_PLANS; i++) {
      writeFileSync(join(dir, `${key(i)}.plan`), "x", { mode: 0o600 });
      utimesSync(join(dir, `${key(i)}.plan`), 1000 + i, 1000 + i);
    }
    expect(storePlan(dir, key(MAX_PLANS), "new\n")).toBeUndefined();
    const left = readdirSync(dir).sort();
    expect(left).toHaveLength(KEEP_PLANS);
    expect(left).toContain(`${key(MAX_PLANS)}.plan`);
    expect(left).not.toContain(`${key(0)}.plan`);
    expect(left).toContain(`${key(MAX_PLANS - 1)}.plan`);
  });
});
