// One seed for every property test of a run, so a run is repeatable: fixed by default, varied with
// SBC_PROPERTY_SEED=N (any 32-bit integer) or SBC_PROPERTY_SEED=random. Each test file gets it through vitest's
// setupFiles (property-seed-setup.ts); property-seed-report.ts settles `random` and prints the seed once per
// run, so a failure in CI can be replayed. A counterexample a run finds becomes a named regression test,
// whatever seed found it.

export const DEFAULT_PROPERTY_SEED = 20261206;

/** The seed of this run: SBC_PROPERTY_SEED, `random` for a fresh one (chosen once, by the run's setup), else the default. */
export function propertySeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SBC_PROPERTY_SEED_RESOLVED ?? env.SBC_PROPERTY_SEED;
  if (raw === undefined || raw === "") return DEFAULT_PROPERTY_SEED;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 32) throw new Error(`SBC_PROPERTY_SEED must be an integer or \`random\`, not \`${raw}\``);
  return n | 0;
}
