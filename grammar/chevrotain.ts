// Loads chevrotain on first use, synchronously, so that compiling a YAML policy never pays for it. The
// policy loader is synchronous, so this uses `require` of the package's single-file ES module bundle (Node 20
// loads ES modules with `require` since 20.19): about 13 ms, against about 200 ms for its many-file build.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type Chevrotain = typeof import("chevrotain");

let loaded: Chevrotain | undefined;

export function chevrotain(): Chevrotain {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    // The package exports only lib/src/api.js; the bundle beside it is part of the published files (11.2.0).
    const bundle = join(dirname(require.resolve("chevrotain")), "..", "chevrotain.mjs");
    loaded = require(bundle) as Chevrotain;
  }
  return loaded;
}
