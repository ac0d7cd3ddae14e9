#!/usr/bin/env node
// Entry point of the `sbc` command: runs the compiled CLI from dist/ (built by `npm install` via `prepare`).
import { existsSync } from "node:fs";

const main = new URL("../dist/compiler/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("sbc: the compiler is not built; run `npm run build` in the sbc package\n");
  process.exit(2);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv);
