// A CommonJS preload for tests/dsl-parse.test.ts: appends every request passed to `require` (including the
// `createRequire` that loads chevrotain's bundle, which ESM loader hooks do not see) to the file named by
// SBC_TRACE_REQUIRES. Used with `node --require <this file>`.
const Module = require("node:module");
const { appendFileSync } = require("node:fs");

const original = Module._load;
Module._load = function traced(request, ...rest) {
  if (process.env.SBC_TRACE_REQUIRES) appendFileSync(process.env.SBC_TRACE_REQUIRES, `${request}\n`);
  return original.call(this, request, ...rest);
};
