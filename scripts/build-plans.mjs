// Precompiles the presets into loader plans (dist/plans/<preset>.<arch>.plan), so that `sbc exec --preset NAME
// -- CMD` can run without starting Node: bin/sbc hands the plan straight to native/build/sbc-loader. Each plan
// is exactly what `sbc compile --preset NAME -t linux --arch ARCH` prints: Landlock's newest ABI (handling only
// what ABI 7 has, so it runs on ABI 7 kernels; native/README.md "ABI negotiation"), with the parameters
// left symbolic, so the loader substitutes the workspace, home and temp dir, and refuses (bin/sbc then falls
// back to the full CLI) when they lie where the table was not computed for. Run by `npm run build`, after tsc.
//
//   node scripts/build-plans.mjs [--check]   --check: exit 1 if a plan on disk differs from a fresh one

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(REPO, "dist", "plans");
const ARCHES = ["x86_64", "aarch64"];

const load = (p) => import(pathToFileURL(join(REPO, "dist", p)).href);
const { compilePolicy, presetNames } = await load("lib/index.js");
const { TARGETS } = await load("lib/targets.js");

/** The plan text for one preset and arch, the way `sbc compile -t linux` makes it; throws on an error. */
async function presetPlan(name, arch) {
  const r = compilePolicy({ kind: "preset", name });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.ir || errors.length) throw new Error(`preset ${name}: ${errors.map((d) => d.message).join("; ")}`);
  const out = await TARGETS.linux.emit(r.ir, { arches: [arch], withSpans: false });
  if (typeof out.output !== "string") throw new Error(`preset ${name} (${arch}): ${out.diagnostics.map((d) => d.message).join("; ")}`);
  // The fast path runs these plans without Node, so nothing would say a warning: a preset must compile clean.
  const said = [...r.diagnostics, ...out.diagnostics];
  if (said.length) throw new Error(`preset ${name} (${arch}) compiles with diagnostics, which the fast path would not show: ${said.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return out.output;
}

const check = process.argv.includes("--check");
let stale = 0;
mkdirSync(OUT, { recursive: true });
for (const name of presetNames()) {
  for (const arch of ARCHES) {
    const file = join(OUT, `${name}.${arch}.plan`);
    const text = await presetPlan(name, arch);
    if (check) {
      if (!existsSync(file) || readFileSync(file, "utf8") !== text) {
        process.stderr.write(`build-plans: ${file} is stale\n`);
        stale++;
      }
      continue;
    }
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }
}

// dist/build-id: a hash of everything that decides what a compiled plan holds (the compiler's JavaScript, the
// presets, the version). The plan cache keys on it (lib/plan-cache.ts, bin/sbc), so a plan compiled
// by another build is never reused.
function buildId() {
  const h = createHash("sha256");
  h.update(`sbc ${JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version}\n`);
  const files = [];
  const walk = (dir, rel) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (e.name.endsWith(".js")) files.push(`dist/${rel}${e.name}`);
    }
  };
  walk(join(REPO, "dist"), "");
  for (const f of readdirSync(join(REPO, "presets"))) if (f.endsWith(".yaml")) files.push(`presets/${f}`);
  for (const f of files.sort()) h.update(`${f}\0`).update(readFileSync(join(REPO, f))).update("\0");
  return h.digest("hex");
}
const id = buildId();
const idFile = join(REPO, "dist", "build-id");
if (check) {
  if (!existsSync(idFile) || readFileSync(idFile, "utf8") !== `${id}\n`) {
    process.stderr.write(`build-plans: ${idFile} is stale\n`);
    stale++;
  }
} else {
  writeFileSync(`${idFile}.tmp`, `${id}\n`);
  renameSync(`${idFile}.tmp`, idFile);
}
process.exit(stale ? 1 : 0);
