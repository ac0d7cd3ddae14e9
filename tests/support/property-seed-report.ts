// vitest globalSetup: settles the property-test seed once per run (SBC_PROPERTY_SEED=random picks one here, so
// every worker uses the same) and prints it, so that CI logs say how to replay a failure.

import { DEFAULT_PROPERTY_SEED } from "./property-seed.js";

export default function setup(): void {
  let raw = process.env.SBC_PROPERTY_SEED;
  if (raw === "random") raw = String((Math.random() * 2 ** 32) | 0);
  if (raw !== undefined && raw !== "") process.env.SBC_PROPERTY_SEED_RESOLVED = raw;
  const seed = raw ?? String(DEFAULT_PROPERTY_SEED);
  process.stderr.write(`property tests: seed ${seed}${raw === undefined ? " (the default; SBC_PROPERTY_SEED=N or =random varies it)" : ""}\n`);
}
