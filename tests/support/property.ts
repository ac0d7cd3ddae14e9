// How property tests pick their runs: a fixed seed and run count by default, so that a failure reproduces;
// `SBC_PROPERTY_SEED` and `SBC_PROPERTY_RUNS` vary them (fast-check prints the seed and the shrunk
// counterexample of any failure, and `propertyOptions` prints the seed of a run that was asked for one).

export function propertyOptions(defaultRuns: number, defaultSeed: number): { numRuns: number; seed: number } {
  const seed = process.env.SBC_PROPERTY_SEED !== undefined ? Number(process.env.SBC_PROPERTY_SEED) : defaultSeed;
  const numRuns = Number(process.env.SBC_PROPERTY_RUNS ?? defaultRuns);
  if (!Number.isInteger(seed) || !Number.isInteger(numRuns) || numRuns < 1) throw new Error(`bad SBC_PROPERTY_SEED / SBC_PROPERTY_RUNS: ${process.env.SBC_PROPERTY_SEED} / ${process.env.SBC_PROPERTY_RUNS}`);
  if (process.env.SBC_PROPERTY_SEED !== undefined) console.log(`property seed ${seed}, ${numRuns} runs`);
  return { numRuns, seed };
}
