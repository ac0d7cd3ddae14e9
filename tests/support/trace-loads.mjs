// A Node module-loader hook for tests/startup.test.ts: appends the URL of every module loaded through the ESM
// loader to the file named by SBC_TRACE_LOADS. Used with `node --import <this file>`.
import { appendFileSync } from "node:fs";
import { register } from "node:module";

if (process.env.SBC_TRACE_LOADS && !process.env.SBC_TRACE_LOADS_HOOKED) {
  process.env.SBC_TRACE_LOADS_HOOKED = "1";
  register(import.meta.url, import.meta.url);
}

export async function load(url, context, next) {
  if (process.env.SBC_TRACE_LOADS) appendFileSync(process.env.SBC_TRACE_LOADS, url + "\n");
  return next(url, context);
}
