// `npm run gen` (write) and `npm run gen:check` (fail on drift): every generated file in the repository.
// The Linux ABI tables need Debian's linux-libc-dev headers; the rest needs nothing.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generatedFiles, REPO_ROOT } from "./generators.js";

const check = process.argv.includes("--check");
let stale = 0;
for (const f of generatedFiles()) {
  const abs = join(REPO_ROOT, f.path);
  const current = existsSync(abs) ? readFileSync(abs, "utf8") : undefined;
  if (current === f.content) continue;
  if (check) {
    console.error(`gen --check: ${f.path} is ${current === undefined ? "missing" : "out of date"}; run \`npm run gen\``);
    stale++;
  } else {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, f.content);
    console.log(`wrote ${f.path}`);
  }
}
const abi = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts", "gen-linux-abi.ts"), ...(check ? ["--check"] : [])], { stdio: "inherit" });
if (abi.status !== 0) stale++;
process.exit(stale ? 1 : 0);
