#!/usr/bin/env node
// Entry point for `node bin/sbc.js`: the same as bin/sbc.cjs, which the `sbc` command (bin/sbc) runs. It runs
// the one-file bundle dist/sbc.cjs when it is current, else the compiled CLI in dist/ (built by `prepare`).
import { createRequire } from "node:module";

const { run, exitWith } = createRequire(import.meta.url)("./sbc.cjs");
exitWith(await run(process.argv));
