// How many runs a property test makes: its own default, or SBC_PROPERTY_RUNS for all. The seed is the run's
// (tests/support/property-seed.ts: fixed by default, SBC_PROPERTY_SEED=N or =random varies it, printed once).

import { propertySeed } from "./property-seed.js";

export function propertyOptions(defaultRuns: number): { numRuns: number; seed: number } {
  const numRuns = Number(process.env.SBC_PROPERTY_RUNS ?? defaultRuns);
  if (!Number.isInteger(numRuns) || numRuns < 1) throw new Error(`bad SBC_PROPERTY_RUNS: ${process.env.SBC_PROPERTY_RUNS}`);
  return { numRuns, seed: propertySeed() };
}
