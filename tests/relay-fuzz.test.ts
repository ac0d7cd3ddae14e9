// The egress relay's parsers (native/loader/relay.c, decide.c) under AddressSanitizer and UBSan, without a
// fuzzing engine: builds native/fuzz's replay drivers with the system C compiler, replays the committed corpus,
// then a few thousand inputs mutated from it under the run's property seed. Any sanitizer report fails. Skips
// with a printed reason where there is no C compiler or no ASan runtime, unless SBC_REQUIRE_KERNEL=1 (CI).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { propertySeed } from "./support/property-seed.js";

const REPO = join(import.meta.dirname, "..");
const FUZZ = join(REPO, "native", "fuzz");
const LOADER = join(REPO, "native", "loader");
/** The loader units the harnesses link (relay.c itself is #included by relay-fuzz.c); README.md says the same. */
const LOADER_UNITS = ["decide.c", "plan.c", "util.c", "sha256.c"];
const SHARED = ["fuzz-plan.c", "replay.c"];
const FLAGS = ["-O1", "-g", "-pthread", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"];
/** How many mutated inputs each target gets: a few thousand, well under the test's time. */
const MUTANTS = 2500;

const SANITIZER_ENV = {
  ...process.env,
  ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0:exitcode=86",
  UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
};

function findCompiler(): string | undefined {
  const names = process.env.SBC_CC ? [process.env.SBC_CC] : ["cc", "gcc"];
  for (const name of names) {
    for (const c of name.includes("/") ? [name] : (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, name))) {
      try {
        accessSync(c, constants.X_OK);
        return c;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}

type Built = { ok: true; relay: string; decide: string } | { ok: false; reason: string };

/** Both replay drivers, built into the temp directory keyed by every source, the compiler and the flags. */
function buildDrivers(): Built {
  if (process.platform !== "linux") return { ok: false, reason: `the relay is Linux-only, this is ${process.platform}` };
  const cc = findCompiler();
  if (!cc) return { ok: false, reason: process.env.SBC_CC ? `SBC_CC=\`${process.env.SBC_CC}\` is not executable` : "no C compiler (`cc` or `gcc`) on PATH" };
  const dir = join(tmpdir(), "sbc-fuzz");
  mkdirSync(dir, { recursive: true });
  // Whether the compiler can link a sanitized program at all: a missing libasan is a skip, a harness that does
  // not build is a failure.
  const probe = join(dir, `probe-${process.pid}.c`);
  writeFileSync(probe, "int main(void) { return 0; }\n");
  const p = spawnSync(cc, [...FLAGS, "-o", `${probe}.out`, probe], { encoding: "utf8" });
  rmSync(probe, { force: true });
  rmSync(`${probe}.out`, { force: true });
  if (p.status !== 0) return { ok: false, reason: `\`${cc}\` cannot link with -fsanitize=address,undefined (no ASan/UBSan runtime?): ${(p.error?.message ?? p.stderr).trim().split("\n")[0]}` };

  const sources = [
    ...readdirSync(FUZZ).filter((n) => n.endsWith(".c") || n.endsWith(".h")).map((n) => join(FUZZ, n)),
    ...readdirSync(LOADER).filter((n) => n.endsWith(".c") || n.endsWith(".h")).map((n) => join(LOADER, n)),
  ].sort();
  const hash = createHash("sha256");
  for (const s of sources) hash.update(`${s}\0`).update(readFileSync(s));
  const key = hash.update(`\0${cc}\0${FLAGS.join(" ")}`).digest("hex").slice(0, 16);
  const out = (target: string) => join(dir, `${target}-replay-${key}`);
  for (const target of ["relay", "decide"]) {
    const binary = out(target);
    if (existsSync(binary)) continue;
    const partial = `${binary}.${process.pid}.tmp`;
    const units = [join(FUZZ, `${target}-fuzz.c`), ...SHARED.map((n) => join(FUZZ, n)), ...LOADER_UNITS.map((n) => join(LOADER, n))];
    const r = spawnSync(cc, [...FLAGS, "-o", partial, ...units], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`\`${cc}\` failed on native/fuzz/${target}-fuzz.c: ${(r.error?.message ?? `${r.stderr}${r.stdout}`).trim()}`);
    }
    renameSync(partial, binary);
  }
  return { ok: true, relay: out("relay"), decide: out("decide") };
}

/** Runs a driver on files or directories; the sanitizer's report, or undefined when every input ran clean. */
function replay(driver: string, paths: readonly string[]): string | undefined {
  const r = spawnSync(driver, paths, { encoding: "latin1", env: SANITIZER_ENV, timeout: 90_000, maxBuffer: 64 << 20 });
  const report = /Sanitizer|runtime error:/.test(r.stderr);
  if (r.status === 0 && !report) return undefined;
  // The driver names each input before it runs it: the last name before the report is the culprit.
  const lines = r.stderr.split("\n");
  const at = lines.findIndex((l) => /Sanitizer|runtime error:/.test(l));
  const culprit = lines.slice(0, at < 0 ? lines.length : at).reverse().find((l) => l.startsWith("replay: "));
  const rest = lines.filter((l) => !l.startsWith("replay: ")).join("\n");
  return `exit ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ""}; input ${culprit?.slice(8) ?? "unknown"}\n${rest.slice(0, 8000)}`;
}

/** mulberry32: a small seeded generator, so a failing mutant is made again by the same seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tokens the parsers branch on, for insertions (relay.dict holds the same for libFuzzer). */
const TOKENS = ["\r\n", "\r\n\r\n", " ", ":", "[", "]", "@", "#", "?", "/", "\0", "\r", "\n", "CONNECT ", " HTTP/1.1", "http://", "Content-Length: ", "Transfer-Encoding: x", ":41780", ":41781", "open.test", "[::1]", "99999999999999999999", "\x05", "\xff"].map((t) => Buffer.from(t, "latin1"));

function mutate(next: () => number, corpus: readonly Buffer[], limit: number): Buffer {
  const pick = (n: number) => Math.floor(next() * n);
  let b = Buffer.from(corpus[pick(corpus.length)]!);
  for (let k = 1 + pick(4); k > 0; k--) {
    const at = pick(b.length + 1);
    switch (pick(7)) {
      case 0: // flip a byte
        if (b.length) b[pick(b.length)] = pick(256);
        break;
      case 1: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))), b.subarray(at)]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(16))]);
        break;
      case 3: // insert a token
        b = Buffer.concat([b.subarray(0, at), TOKENS[pick(TOKENS.length)]!, b.subarray(at)]);
        break;
      case 4: // cut the input short
        b = b.subarray(0, at);
        break;
      case 5: // repeat a range, to reach the size limits
        b = Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + pick(next() < 0.1 ? 20000 : 300), b.subarray(at, at + 1 + pick(8)).toString("latin1") || "a", "latin1"), b.subarray(at)]);
        break;
      default: {
        // splice: the head of this input, the tail of another
        const o = corpus[pick(corpus.length)]!;
        b = Buffer.concat([b.subarray(0, at), o.subarray(pick(o.length + 1))]);
      }
    }
  }
  return b.subarray(0, limit);
}

const built = buildDrivers();
const require = process.env.SBC_REQUIRE_KERNEL === "1";
const work = mkdtempSync(join(tmpdir(), "sbc-fuzz-run-"));
let keep = false; // a failing run leaves its mutants for a look
afterAll(() => {
  if (!keep) rmSync(work, { recursive: true, force: true });
});

if (!built.ok && !require) console.warn(`relay fuzz replay skipped: ${built.reason} (set SBC_REQUIRE_KERNEL=1 to make this a failure)`);

describe.skipIf(!built.ok && !require)("the relay's parsers under ASan and UBSan (native/fuzz)", () => {
  const drivers = () => {
    if (!built.ok) throw new Error(`SBC_REQUIRE_KERNEL=1 but the fuzz replay cannot run: ${built.reason}`);
    return built;
  };
  const targets = [
    { name: "relay", limit: 64 << 10 },
    { name: "decide", limit: 300 },
  ] as const;

  // Found while writing the seeds: these were forwarded, and a lenient server could read a header the relay
  // did not (`Transfer-Encoding : chunked` frames the body as chunks, smuggling a second request past the
  // decision on the first). The driver's FUZZ_SHOW prints the status line the client got.
  it("refuses a header line whose field name is not a token right before its colon (400)", () => {
    const driver = drivers().relay;
    for (const file of ["header-ws-before-colon-te", "header-obs-fold", "header-no-colon", "header-empty-name"]) {
      const r = spawnSync(driver, [join(FUZZ, "corpus", "relay", file)], { encoding: "latin1", env: { ...SANITIZER_ENV, FUZZ_SHOW: "1" } });
      expect(r.stderr, file).toContain("bytes back: HTTP/1.1 400 Bad Request");
    }
    const ok = spawnSync(driver, [join(FUZZ, "corpus", "relay", "header-ok-tab-value")], { encoding: "latin1", env: { ...SANITIZER_ENV, FUZZ_SHOW: "1" } });
    expect(ok.stderr).toContain("bytes back: HTTP/1.1 200 OK");
  });

  for (const { name, limit } of targets) {
    const corpusDir = join(FUZZ, "corpus", name);

    it(`replays every file of native/fuzz/corpus/${name} clean`, () => {
      const driver = drivers()[name];
      expect(readdirSync(corpusDir).length).toBeGreaterThan(10);
      expect(replay(driver, [corpusDir])).toBeUndefined();
    }, 60_000);

    it(`replays ${MUTANTS} inputs mutated from native/fuzz/corpus/${name} under the property seed clean`, () => {
      const driver = drivers()[name];
      const corpus = readdirSync(corpusDir).map((f) => readFileSync(join(corpusDir, f)));
      const seed = propertySeed();
      const next = rng(seed ^ (name === "relay" ? 0x5e1a : 0xdec1));
      const dir = join(work, name);
      mkdirSync(dir);
      for (let i = 0; i < MUTANTS; i++) writeFileSync(join(dir, `m${String(i).padStart(5, "0")}`), mutate(next, corpus, limit));
      const failure = replay(driver, [dir]);
      // A failure keeps the inputs for a look (the directory is named); the seed makes them again anyway.
      keep ||= failure !== undefined;
      if (failure) throw new Error(`a mutated input (seed ${seed}, in ${dir}) made a sanitizer report:\n${failure}`);
    }, 90_000);
  }
});
