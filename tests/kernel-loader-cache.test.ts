// The loader's side of the plan cache (--cache-key, --cached, --cached --check), the `dep` lines that make a
// plan stale, the loader's own SHA-256 (standard vectors, and sha256sum on random files), and --probe's fields.
// A cache hit must be a file nobody else could have written: every other case is a miss for --check and a
// refusal (125) for a run.

import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ACCESS_FS } from "../targets/landlock/abi.js";
import { NOBODY, describeLoaderAsRoot, encodePath, loaderPath, planText, probeLoader, runLoader, SETPRIV_NOBODY } from "./support/loader.js";

const READ_EXEC = ACCESS_FS.execute | ACCESS_FS.read_file | ACCESS_FS.read_dir;

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(prefix: string): string {
  const d = realpathSync(mkdtempSync(`/var/tmp/${prefix}`));
  made.push(d);
  return d;
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

interface Env {
  cwd: string;
  home: string;
  tmp: string;
}

function env(e: Env): NodeJS.ProcessEnv {
  const { TMPDIR: _t, TMP: _u, TEMP: _v, ...rest } = process.env;
  return { ...rest, HOME: e.home, TMPDIR: e.tmp };
}

/** Runs the loader with `args` (no plan fd), as root or 65534. */
function loader(args: readonly string[], e: Env, asNobody = false) {
  const argv = [...(asNobody ? SETPRIV_NOBODY : []), loaderPath()!, ...args];
  return spawnSync(argv[0]!, argv.slice(1), { cwd: e.cwd, env: env(e), encoding: "utf8", timeout: 30_000 });
}

/** `--cache-key`, parsed into its fields. */
function cacheKey(input: string, e: Env, params: readonly string[] = []): Record<string, string> {
  const r = loader(["--cache-key", ...params.flatMap((p) => ["--param", p]), "--cache-input", input], e);
  expect(r.status, r.stderr).toBe(0);
  return Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

/** A cached plan for `key`: read and execute everywhere, Landlock alone, with the key and `deps`. */
function cachedPlan(key: string, preamble: readonly string[] = []): string {
  return planText({ namespaces: "never", preamble: [`cache-key ${key}`, ...preamble], fs: [[READ_EXEC, "skip", "/"]] });
}

function setup(): { e: Env; cache: string; input: string; key: string; file: string } {
  const e = { cwd: dir("sbc-cache-ws-"), home: dir("sbc-cache-home-"), tmp: dir("sbc-cache-tmp-") };
  const cache = dir("sbc-cache-");
  chmodSync(cache, 0o700);
  const input = `policy=${e.cwd}/policy.yaml preset=none sbc=0.1.0`;
  const key = cacheKey(input, e).key!;
  const file = join(cache, `${key}.plan`);
  writeFileSync(file, cachedPlan(key), { mode: 0o600 });
  return { e, cache, input, key, file };
}

const cached = (s: ReturnType<typeof setup>, check: boolean, asNobody = false) =>
  loader([...(check ? ["--check"] : []), "--cache-dir", s.cache, "--cache-input", s.input, "--cached", ...(check ? [] : ["--", "sh", "-c", "echo ran"])], s.e, asNobody);

describeLoaderAsRoot("sbc-loader plan cache, dep lines, SHA-256 and --probe", () => {
  it("--cache-key prints the key and the built-in values; the key is SHA-256 of the documented text", () => {
    const e = { cwd: dir("sbc-cache-ws-"), home: dir("sbc-cache-home-"), tmp: dir("sbc-cache-tmp-") };
    const odd = join(e.cwd, "a b");
    mkdirSync(odd);
    const k = cacheKey("input text", { ...e, cwd: odd }, ["zeta=/var/tmp", "alpha=/usr"]);
    const arch = spawnSync("uname", ["-m"], { encoding: "utf8" }).stdout.trim();
    const abi = probeLoader().landlockAbi;
    const builtins = `workspace=${encodePath(odd)}\ncwd=${encodePath(odd)}\nhome=${e.home}\ntmpdir=${e.tmp}\n`;
    const text = `sbc-plan-cache 1\ninput text\n${arch}\nlandlock-abi=${abi}\n${builtins}param alpha=/usr\nparam zeta=/var/tmp\n`;
    expect(k).toEqual({ key: sha256(text), workspace: encodePath(odd), cwd: encodePath(odd), home: e.home, tmpdir: e.tmp });
  });

  it("the key is stable, and changes with the input, the directory, a built-in or a parameter (not their order)", () => {
    const e = { cwd: dir("sbc-cache-ws-"), home: dir("sbc-cache-home-"), tmp: dir("sbc-cache-tmp-") };
    const base = cacheKey("x", e, ["a=/usr", "b=/etc"]).key;
    expect(cacheKey("x", e, ["a=/usr", "b=/etc"]).key).toBe(base);
    expect(cacheKey("x", e, ["b=/etc", "a=/usr"]).key).toBe(base);
    // Values are bound as the loader binds them: resolved through links, the last --param of a name winning.
    const link = join(dir("sbc-cache-link-"), "usr");
    symlinkSync("/usr", link);
    expect(cacheKey("x", e, [`a=${link}`, "b=/etc"]).key).toBe(base);
    expect(cacheKey("x", e, ["a=/lib", "a=/usr", "b=/etc"]).key).toBe(base);
    const others = [
      cacheKey("y", e, ["a=/usr", "b=/etc"]).key,
      cacheKey("x", { ...e, cwd: dir("sbc-cache-ws-") }, ["a=/usr", "b=/etc"]).key,
      cacheKey("x", { ...e, home: dir("sbc-cache-home-") }, ["a=/usr", "b=/etc"]).key,
      cacheKey("x", { ...e, tmp: dir("sbc-cache-tmp-") }, ["a=/usr", "b=/etc"]).key,
      cacheKey("x", e, ["a=/usr"]).key,
      cacheKey("x", e, ["a=/usr", "b=/var"]).key,
    ];
    expect(new Set([base, ...others]).size).toBe(7);
  });

  it("a hit runs, and --cached --check says 0; as 65534 with a cache of its own too", () => {
    const s = setup();
    expect(cached(s, false)).toMatchObject({ status: 0, stdout: "ran\n", stderr: "" });
    expect(cached(s, true)).toMatchObject({ status: 0, stdout: "", stderr: "" });
    spawnSync("chown", ["-R", `${NOBODY}:${NOBODY}`, s.cache, s.e.cwd, s.e.home, s.e.tmp]);
    expect(cached(s, false, true)).toMatchObject({ status: 0, stdout: "ran\n" });
    // ... and the same cache is not root's any more.
    expect(cached(s, true)).toMatchObject({ status: 1, stdout: "", stderr: "" });
  });

  it("a missing entry, or a plan compiled for another key, is a miss", () => {
    const s = setup();
    rmSync(s.file);
    expect(cached(s, true)).toMatchObject({ status: 1, stderr: "" });
    expect(cached(s, false)).toMatchObject({ status: 125, stderr: `sbc-loader: no cached plan ${s.file}\n` });
    writeFileSync(s.file, cachedPlan("0".repeat(64)), { mode: 0o600 });
    expect(cached(s, true)).toMatchObject({ status: 1, stderr: "" });
    expect(cached(s, false)).toMatchObject({ status: 125, stderr: `sbc-loader: the cached plan ${s.key}.plan is stale: it was not compiled for this key\n` });
    writeFileSync(s.file, planText({ namespaces: "never" }), { mode: 0o600 });
    expect(cached(s, true).status).toBe(1);
  });

  const hostile: Array<[string, (s: ReturnType<typeof setup>) => string]> = [
    ["a group-writable cache directory", (s) => (chmodSync(s.cache, 0o770), `cache directory ${s.cache} is writable by group or others`)],
    ["a world-writable cache directory", (s) => (chmodSync(s.cache, 0o1777), `cache directory ${s.cache} is writable by group or others`)],
    ["a cache directory owned by another user", (s) => (spawnSync("chown", [`${NOBODY}`, s.cache]), `cache directory ${s.cache} is owned by uid ${NOBODY}, not by this user (0)`)],
    [
      "a symlinked cache directory",
      (s) => {
        const link = join(dir("sbc-cache-link-"), "cache");
        symlinkSync(s.cache, link);
        s.cache = link;
        return `cache directory ${link} is a symlink`;
      },
    ],
    [
      "a symlinked plan file",
      (s) => {
        const real = join(dir("sbc-cache-real-"), "real.plan");
        writeFileSync(real, readFileSync(s.file), { mode: 0o600 });
        rmSync(s.file);
        symlinkSync(real, s.file);
        return `cached plan ${s.file} is a symlink`;
      },
    ],
    ["a hard-linked plan file", (s) => (linkSync(s.file, join(s.cache, "other")), `cached plan ${s.file} has 2 hard links: another name could change it`)],
    ["a group-writable plan file", (s) => (chmodSync(s.file, 0o620), `cached plan ${s.file} is writable by group or others`)],
    ["a plan file owned by another user", (s) => (spawnSync("chown", [`${NOBODY}`, s.file]), `cached plan ${s.file} is owned by uid ${NOBODY}, not by this user (0)`)],
    ["a FIFO in place of the plan file", (s) => (rmSync(s.file), spawnSync("mkfifo", ["-m", "600", s.file]), `cached plan ${s.file} is not a regular file`)],
    ["a directory in place of the plan file", (s) => (rmSync(s.file), mkdirSync(s.file, { mode: 0o700 }), `cached plan ${s.file} is not a regular file`)],
  ];
  for (const [what, make] of hostile) {
    it(`${what} is a miss for --check and a refusal for a run`, () => {
      const s = setup();
      const message = make(s);
      expect(cached(s, true)).toMatchObject({ status: 1, stdout: "", stderr: "" });
      expect(cached(s, false)).toMatchObject({ status: 125, stdout: "", stderr: `sbc-loader: ${message}\n` });
    });
  }

  it("a plan whose `dep` file changed is stale, whichever way it arrived", () => {
    const s = setup();
    const policy = join(s.e.cwd, "policy.yaml");
    writeFileSync(policy, "sbc: 1\n");
    writeFileSync(s.file, cachedPlan(s.key, [`dep ${encodePath(policy)} ${sha256("sbc: 1\n")}`]), { mode: 0o600 });
    expect(cached(s, false)).toMatchObject({ status: 0, stdout: "ran\n" });
    writeFileSync(policy, "sbc: 1\n# edited\n");
    expect(cached(s, true)).toMatchObject({ status: 1, stderr: "" });
    expect(cached(s, false)).toMatchObject({ status: 125, stdout: "", stderr: `sbc-loader: the plan is stale: ${policy} changed since it was compiled\n` });
    // On a plan fd too; a dep that cannot be read is stale as well.
    const viaFd = runLoader(planText({ namespaces: "never", preamble: [`dep ${encodePath(policy)} ${sha256("sbc: 1\n")}`] }), ["sh", "-c", "echo ran"]);
    expect(viaFd).toMatchObject({ status: 125, stdout: "", stderr: `sbc-loader: the plan is stale: ${policy} changed since it was compiled\n` });
    rmSync(policy);
    const gone = runLoader(planText({ namespaces: "never", preamble: [`dep ${encodePath(policy)} ${sha256("sbc: 1\n")}`] }), ["true"]);
    expect(gone).toMatchObject({ status: 125, stderr: `sbc-loader: the plan is stale: ${policy} changed since it was compiled (cannot read it: No such file or directory)\n` });
  });

  describe("--else: the fast path's one process", () => {
    // The fd plan grants writes in the workspace; the cached one reads only: the write tells which one ran.
    const writes = (s: ReturnType<typeof setup>) =>
      planText({ namespaces: "never", fs: [[READ_EXEC, "skip", "/"], [ACCESS_FS.write_file | ACCESS_FS.make_reg | ACCESS_FS.truncate, "skip", s.e.cwd]] });
    const probe = "if (echo x > f) 2>&-; then echo wrote; else echo read-only; fi";
    // The fallback prints what it was given: `--` and the command.
    const fallback = ["4", "sh", "-c", 'echo "fallback $*"; test -e /proc/self/fd/3 && echo fd3-open; echo x > f && echo wrote', "fb"];
    const run = (s: ReturnType<typeof setup>, plan: string, extra: readonly string[] = []) =>
      runLoader(plan, ["sh", "-c", probe], {
        cwd: s.e.cwd,
        env: env(s.e),
        args: ["--cache-dir", s.cache, "--cache-input", s.input, "--cached", ...extra, "--else", ...fallback],
      });

    it("runs the plan on the fd when it would run, else the cached plan, silently", () => {
      const s = setup();
      expect(run(s, writes(s))).toMatchObject({ status: 0, stdout: "wrote\n", stderr: "" });
      rmSync(join(s.e.cwd, "f"));
      expect(run(s, "sbc-loader-plan 2\nnot a plan\n")).toMatchObject({ status: 0, stdout: "read-only\n", stderr: "" });
      // A plan that fails a later check (a `dep` that changed) is passed over the same way.
      const stale = planText({ namespaces: "never", preamble: [`dep ${encodePath(join(s.e.cwd, "gone"))} ${"0".repeat(64)}`] });
      expect(run(s, stale)).toMatchObject({ status: 0, stdout: "read-only\n", stderr: "" });
    });

    it("when neither would run, execs the fallback with `--` and the command, unconfined, the plan fd closed", () => {
      const s = setup();
      rmSync(s.file);
      expect(run(s, "garbage\n")).toMatchObject({ status: 0, stdout: "fallback -- sh -c " + probe + "\nwrote\n", stderr: "" });
      // A cache that cannot be trusted is a miss too, not a refusal.
      writeFileSync(s.file, cachedPlan(s.key), { mode: 0o600 });
      chmodSync(s.cache, 0o777);
      expect(run(s, "garbage\n")).toMatchObject({ status: 0, stdout: expect.stringMatching(/^fallback -- /), stderr: "" });
    });

    it("a fallback that cannot be started exits 127 like a command; a bad count is a usage error", () => {
      const s = setup();
      rmSync(s.file);
      const r = runLoader("garbage\n", ["true"], { cwd: s.e.cwd, env: env(s.e), args: ["--else", "1", "/nonexistent/sbc"] });
      expect(r).toMatchObject({ status: 127, stderr: "sbc-loader: execvp(/nonexistent/sbc): No such file or directory\n" });
      for (const count of ["0", "9", "x"]) {
        const u = runLoader(planText({}), ["true"], { cwd: s.e.cwd, env: env(s.e), args: ["--else", count, "sh"] });
        expect(u.status).toBe(125);
        expect(u.stderr).toContain(`--else \`${count}\`: expected a count of 1 to 1000 and that many arguments`);
      }
      // With --check a usage error is a silent 1, as any failure: the same check without --else says 0.
      writeFileSync(s.file, cachedPlan(s.key), { mode: 0o600 });
      const check = ["--check", "--cache-dir", s.cache, "--cache-input", s.input, "--cached"];
      expect(loader(check, s.e)).toMatchObject({ status: 0, stderr: "" });
      expect(loader([...check, "--else", "1", "sh"], s.e)).toMatchObject({ status: 1, stdout: "", stderr: "" });
    });
  });

  it("SHA-256 matches the FIPS 180-4 vectors", () => {
    const d = dir("sbc-sha-");
    const vectors: Array<[string, string]> = [
      ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
      ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
      ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
      [
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
      ],
      ["a".repeat(1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
    ];
    const deps = vectors.map(([text, digest], i) => {
      writeFileSync(join(d, `v${i}`), text);
      return `dep ${join(d, `v${i}`)} ${digest}`;
    });
    expect(runLoader(planText({ abi: 0, handledFs: 0, namespaces: "never", preamble: deps }), ["sh", "-c", "echo ran"])).toMatchObject({ status: 0, stdout: "ran\n", stderr: "" });
    for (let i = 0; i < deps.length; i++) {
      const wrong = deps.map((l, j) => (j === i ? l.slice(0, -1) + (l.endsWith("0") ? "1" : "0") : l));
      expect(runLoader(planText({ abi: 0, handledFs: 0, namespaces: "never", preamble: wrong }), ["true"]).stderr).toBe(`sbc-loader: the plan is stale: ${join(d, `v${i}`)} changed since it was compiled\n`);
    }
  });

  it("SHA-256 agrees with sha256sum on random files of every length around the block boundaries", () => {
    const d = dir("sbc-sha-");
    const sizes = [...Array.from({ length: 200 }, (_, i) => i), 447, 448, 511, 512, 513, 4095, 4096, 65535, 65536, 65537, 300_001];
    const files = sizes.map((n) => {
      const f = join(d, `r${n}`);
      writeFileSync(f, randomBytes(n));
      return f;
    });
    const sums = spawnSync("sha256sum", files, { encoding: "utf8" }).stdout.trim().split("\n");
    const deps = sums.map((l) => {
      const [digest, file] = l.split(/ +\*?/);
      return `dep ${file} ${digest}`;
    });
    expect(deps).toHaveLength(sizes.length);
    expect(runLoader(planText({ abi: 0, handledFs: 0, namespaces: "never", preamble: deps }), ["sh", "-c", "echo ran"])).toMatchObject({ status: 0, stdout: "ran\n", stderr: "" });
  });

  it("--probe prints the documented fields in order", () => {
    const root = probeLoader();
    expect(root.line).toMatch(/^landlock-abi=\d+ errata=0x[0-9a-f]+ seccomp=[01] namespaces=\S+ io-uring=\S+$/);
    expect(root.namespaces).toBe("admin");
    expect(probeLoader({ asNobody: true }).namespaces).toBe("user");
    let ioUring = "absent";
    try {
      ioUring = readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim();
    } catch {
      // absent
    }
    expect(root.ioUring).toBe(ioUring);
  });
});
