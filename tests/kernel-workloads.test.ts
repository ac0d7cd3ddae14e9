// Real workloads under `sbc exec` on this kernel: npm, pip, asyncio, multiprocessing, cc, make, tar, sed -i,
// git — and the escapes a sandbox must refuse — through the real CLI, under every preset, with the workspace
// under a fake $HOME and under /tmp, as root and as uid 65534, in namespace mode and in the Landlock-only
// fallback (simulated where no user namespace can be created, and where seccomp refuses unshare). Each case
// is judged by its exit status and its effect on the host (a file present, absent or unchanged, the errno it
// printed). The expected outcomes (tests/support/workload-cases.ts) are also the "Real workloads" table of
// docs/targets/landlock.md; `npm run test:update` rewrites that table.

import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { ensureBuilt } from "./support/cli.js";
import { describeLoader } from "./support/loader.js";
import { CASES, casesFor, PRESETS, type User } from "./support/workload-cases.js";
import {
  CELLS,
  cellId,
  cellSupport,
  execArgv,
  errnosIn,
  fallbackLines,
  FALLBACK_LINE,
  judge,
  parseRun,
  mismatchSummary,
  selectedByEnv,
  isFallback,
  namespaceSupport,
  prepareShared,
  removeShared,
  renderOutcomeTable,
  runCells,
  spawnAs,
  tableInDoc,
  toolSupport,
  withTable,
  commandPath,
  type Cell,
  type CellResult,
  type Launch,
  type Shared,
  type Support,
} from "./support/workloads.js";

const REPO = join(import.meta.dirname, "..");
const DOC = join(REPO, "docs", "targets", "landlock.md");
const UPDATE = process.env.SBC_UPDATE_GOLDENS === "1";
const REQUIRE = process.env.SBC_REQUIRE_KERNEL === "1";
/** A cell waits for the cells before it in the pool: the timeout covers the whole matrix on a slow machine. */
const CELL_TIMEOUT = 600_000;

describe("the Real workloads table of docs/targets/landlock.md", () => {
  it("is the table of the suite's expected outcomes", () => {
    const doc = readFileSync(DOC, "utf8");
    const table = renderOutcomeTable();
    if (UPDATE) {
      writeFileSync(DOC, withTable(doc, table));
      return;
    }
    const current = tableInDoc(doc);
    expect(current, "docs/targets/landlock.md has no <!-- workloads:begin --> … <!-- workloads:end --> section").toBeDefined();
    expect(current, "the table is stale: run npm run test:update and review the diff").toBe(table);
  });

  it("lists every case once, and full-access outcomes do not depend on the enforcement (it has no mount layer)", () => {
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
    for (const c of CASES.filter((x) => x.policy === undefined))
      for (const placement of ["home", "tmp"] as const)
        for (const user of ["root", "nobody"] as const) {
          const at = (enforcement: "namespace" | "landlock") => c.expect({ preset: "full-access", enforcement, placement, user });
          expect(at("landlock"), c.id).toBe(at("namespace"));
        }
  });
});

const NOT_SELECTED = "not selected by SBC_WORKLOAD_CELLS";
const warned = new Set<string>();
/** `it` when `support` is ok; otherwise a failure under SBC_REQUIRE_KERNEL=1, else a skip with a printed reason. */
function itWith(support: Support, name: string, fn: (ctx: TestContext) => Promise<void> | void, timeout?: number): void {
  if (support.ok) return void it(name, fn, timeout);
  if (REQUIRE && support.reason !== NOT_SELECTED) return void it(name, () => expect.fail(`SBC_REQUIRE_KERNEL=1 but this cannot run here: ${support.reason}`));
  if (!warned.has(support.reason)) {
    warned.add(support.reason);
    console.warn(`workload tests skipped: ${support.reason} (set SBC_REQUIRE_KERNEL=1 to make this a failure)`);
  }
  it.skip(name, fn);
}

const LAUNCH_NAMES: Readonly<Record<Launch, string>> = {
  fast: "bin/sbc",
  node: "bin/sbc, SBC_NO_FAST_PATH=1",
  never: "bin/sbc --namespaces never",
  "fallback-userns": "no user namespaces (max_user_namespaces=0)",
  "fallback-seccomp": "unshare refused by seccomp",
};
const describeCell = (c: Cell) =>
  `${c.preset}, workspace under ${c.placement === "home" ? "~" : "/tmp"}, ${c.user === "root" ? "root" : "uid 65534"}, ${LAUNCH_NAMES[c.launch]}`;

describeLoader("real workloads through `sbc exec`", () => {
  let shared: Shared | undefined;
  let results = new Map<string, Promise<CellResult>>();
  const runnable = CELLS.filter((c) => cellSupport(c).ok && selectedByEnv(c));

  beforeAll(() => {
    if (!toolSupport().ok) return;
    ensureBuilt();
    shared = prepareShared();
    results = runCells(shared, runnable);
  }, 180_000);

  afterAll(async () => {
    const settled = await Promise.allSettled(results.values());
    const done = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    if (done.length) {
      const total = Math.max(...done.map((r) => r.doneAt ?? r.ms));
      const slowest = [...done].sort((a, b) => b.ms - a.ms).slice(0, 3);
      console.log(
        `workloads: ${done.length} cells, ${done.reduce((n, r) => n + r.cases.size, 0)} case runs; slowest cells: ${slowest.map((r) => `${cellId(r.cell)} ${(r.ms / 1000).toFixed(1)} s`).join(", ")}; all done ${(total / 1000).toFixed(1)} s after the first started`,
      );
    }
    const mismatches = mismatchSummary(done);
    if (mismatches.length) console.log(`workloads: outcomes that differ from the expected ones\n  ${mismatches.join("\n  ")}`);
    if (shared) removeShared(shared);
  }, 120_000);

  const result = async (c: Cell): Promise<CellResult> => {
    const p = results.get(cellId(c));
    if (!p) throw new Error(`cell ${cellId(c)} was not started (set-up failed?)`);
    return p;
  };

  for (const cell of CELLS) {
    const support: Support = selectedByEnv(cell) ? cellSupport(cell) : { ok: false, reason: NOT_SELECTED };
    describe(describeCell(cell), () => {
      const fallback = isFallback(cell.launch);
      itWith(
        support,
        fallback ? "prints the fallback line exactly once per launch, and nothing else" : "prints nothing of its own",
        async () => {
          const r = await result(cell);
          for (const run of r.runs) {
            if (!fallback) {
              expect(run.stderr, `${run.label}: stderr`).toBe("");
              continue;
            }
            const lines = run.stderr.split("\n").filter((l) => l !== "");
            expect(lines, `${run.label}: stderr`).toHaveLength(1);
            expect(fallbackLines(run.stderr), `${run.label}: stderr`).toHaveLength(1);
            // The step and errno: ENOSPC from the exhausted user namespace limit, EPERM from seccomp.
            expect(FALLBACK_LINE.exec(lines[0]!)![1], run.label).toMatch(cell.launch === "fallback-userns" ? /ENOSPC/ : /EPERM/);
          }
        },
        CELL_TIMEOUT,
      );

      if (cell.preset !== "full-access") {
        itWith(
          support,
          "leaves no protected name or mount point behind (.git, .codex, .agents)",
          async () => {
            const r = await result(cell);
            const left = (Object.entries(r.paths.workspaces) as [string, string][]).flatMap(([kind, ws]) =>
              [".codex", ".agents", ...(kind === "plain" ? [".git"] : [])].filter((n) => existsSync(join(ws, n))).map((n) => `${kind}/${n}`),
            );
            expect(left).toEqual([]);
          },
          CELL_TIMEOUT,
        );
      }

      for (const c of casesFor(cell.preset, cell.heavy)) {
        itWith(
          support,
          c.id,
          async (ctx) => {
            const rec = (await result(cell)).cases.get(c.id);
            if (!rec) throw new Error(`no record of ${c.id}`);
            if (rec.skipped !== undefined) {
              console.warn(`${cellId(cell)} › ${c.id} skipped: ${rec.skipped}`);
              ctx.skip(rec.skipped);
              return;
            }
            expect(rec.observed, rec.detail).toBe(rec.expected);
          },
          CELL_TIMEOUT,
        );
      }
    });
  }

  describe("where no mount namespace can be created", () => {
    interface Place {
      ws: string;
      env: NodeJS.ProcessEnv;
    }
    let n = 0;
    /** A small workspace with a fake home and temp dir, owned by `user`. */
    const place = (user: User): Place => {
      const dir = join(shared!.root, `light-${n++}`);
      const [ws, home, tmp] = ["ws", "home", "tmp"].map((d) => join(dir, d)) as [string, string, string];
      for (const d of [ws, home, tmp]) mkdirSync(d, { recursive: true });
      if (user === "nobody") for (const d of [ws, home, tmp]) chownSync(d, 65534, 65534);
      return { ws, env: { PATH: commandPath(), HOME: home, TMPDIR: tmp, LC_ALL: "C" } };
    };
    const ways: readonly { user: User; launch: Launch }[] = [
      { user: "root", launch: "fallback-seccomp" },
      { user: "nobody", launch: "fallback-userns" },
      { user: "nobody", launch: "fallback-seccomp" },
    ];
    const supportOf = (launch: Launch): Support => (toolSupport().ok ? (launch === "fallback-userns" ? namespaceSupport() : { ok: true }) : toolSupport());

    for (const { user, launch } of ways) {
      const who = `${user === "root" ? "root" : "uid 65534"}, ${LAUNCH_NAMES[launch]}`;
      itWith(supportOf(launch), `--namespaces require refuses with 125 and runs nothing (${who})`, async () => {
        const p = place(user);
        const argv = execArgv(shared!, launch, ["--preset", "workspace-write"], ["sh", "-c", "echo ran > marker"], { namespaces: "require", outer: "sbc exec" });
        const r = await spawnAs(user, argv, { cwd: p.ws, env: p.env, userns: launch === "fallback-userns", timeoutMs: 60_000 });
        expect(r.status, r.stderr).toBe(125);
        expect(existsSync(join(p.ws, "marker"))).toBe(false);
        // One line says why (a hint may follow); it is a refusal, not the fallback.
        expect(r.stderr.split("\n")[0], r.stderr).toMatch(/mount namespace/);
        expect(fallbackLines(r.stderr), r.stderr).toEqual([]);
      });
      itWith(supportOf(launch), `full-access needs no namespace: it runs and prints nothing (${who})`, async () => {
        const p = place(user);
        const r = await spawnAs(user, execArgv(shared!, launch, ["--preset", "full-access"], ["sh", "-c", "echo ran > marker"], { outer: "sbc exec" }), { cwd: p.ws, env: p.env, userns: launch === "fallback-userns", timeoutMs: 60_000 });
        expect([r.status, r.stderr]).toEqual([0, ""]);
        expect(existsSync(join(p.ws, "marker"))).toBe(true);
      });
    }

    itWith(supportOf("fallback-userns"), "the Node CLI (SBC_NO_FAST_PATH=1) prints the fallback line exactly once too", async () => {
      const p = place("nobody");
      const r = await spawnAs("nobody", execArgv(shared!, "fallback-userns", ["--preset", "workspace-write"], ["true"]), { cwd: p.ws, env: { ...p.env, SBC_NO_FAST_PATH: "1" }, userns: true, timeoutMs: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
      expect(fallbackLines(r.stderr)).toHaveLength(1);
    });
  });
});

describe("the workload harness", () => {
  it("splits a run at the markers, with each case's status, output and duration; a case cut short has no record", () => {
    const parsed = parseRun(["@@case a 10.000000", "one", "two", "@@status a 0 10.250000", "@@case b 11.0", "x", "@@status b 2 11.5", "@@case c 12.0", "hung"].join("\n"));
    expect([...parsed.keys()]).toEqual(["a", "b"]);
    expect(parsed.get("a")).toEqual({ status: 0, output: "one\ntwo", ms: 250 });
    expect(parsed.get("b")).toMatchObject({ status: 2, output: "x" });
  });

  it("names the errnos a tool printed, first seen first, from strerror texts or errno names", () => {
    expect(errnosIn("sed: couldn't open temporary file ./sedX: Permission denied")).toEqual(["EACCES"]);
    expect(errnosIn("npm error code EROFS\nnpm error syscall mkdir\n... Permission denied")).toEqual(["EROFS", "EACCES"]);
    expect(errnosIn("ln: failed to create hard link 'a' => 'b': Invalid cross-device link")).toEqual(["EXDEV"]);
    expect(errnosIn("x: error while loading shared libraries: x: failed to map segment from shared object")).toEqual(["noexec"]);
    expect(errnosIn("all fine")).toEqual([]);
  });

  it("judges by exit status and effect together, preferring the expected errno when several are named", () => {
    const c = CASES.find((x) => x.id === "edit-subdir")!;
    const base = { ws: "/nonexistent", cell: {} as never, user: "root" as const, before: undefined };
    const judged = (status: number, output: string, happened: boolean, expected = "ok") => judge({ ...c, happened: () => happened }, { ...base, status, output }, expected);
    expect(judged(0, "", true)).toBe("ok");
    expect(judged(1, "Permission denied ... Read-only file system", false, "EROFS")).toBe("EROFS");
    expect(judged(1, "Permission denied ... Read-only file system", false, "ok")).toBe("EACCES");
    expect(judged(3, "no errno here", false)).toBe("failed (exit 3)");
    expect(judged(0, "", false)).toBe("exit 0, but nothing happened");
    expect(judged(1, "", true)).toBe("happened, but exit 1");
    expect(judged(124, "", false)).toMatch(/timed out/);
  });

  it("renders an outcome that depends on the placement or the user as such", () => {
    const table = renderOutcomeTable();
    expect(table).toMatch(/\| EROFS under ~, ok under \/tmp \|/);
    expect(table).toMatch(/\| ok as root, EPERM as uid 65534 \|/);
  });
});

// Keep the preset list and the matrix in step: every preset has cells in both placements and for both users.
describe("the workload matrix", () => {
  it("covers every preset × placement × user through bin/sbc, and both fallbacks", () => {
    for (const preset of PRESETS)
      for (const placement of ["home", "tmp"])
        for (const user of ["root", "nobody"]) expect(CELLS.some((c) => c.preset === preset && c.placement === placement && c.user === user && c.launch === "fast")).toBe(true);
    // The slow cases meet every preset, in each enforcement it has, in both placements and as both users.
    for (const preset of PRESETS)
      for (const fallback of preset === "full-access" ? [false] : [false, true]) {
        const heavy = CELLS.filter((c) => c.heavy && c.preset === preset && isFallback(c.launch) === fallback);
        expect(new Set(heavy.map((c) => c.placement)).size, preset).toBe(2);
        expect(new Set(heavy.map((c) => c.user)).size, preset).toBe(2);
      }
    expect(CELLS.some((c) => c.launch === "fallback-userns")).toBe(true);
    expect(CELLS.some((c) => c.launch === "fallback-seccomp")).toBe(true);
    expect(CELLS.some((c) => c.launch === "node")).toBe(true);
  });
});
