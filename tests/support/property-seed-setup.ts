// vitest setupFiles: every test file's property tests run with the run's seed (property-seed.ts).

import fc from "fast-check";
import { propertySeed } from "./property-seed.js";

fc.configureGlobal({ seed: propertySeed() });
