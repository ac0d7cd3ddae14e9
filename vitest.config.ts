import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["diagnostics/**/*.test.ts", "linux-abi/**/*.test.ts", "ir/**/*.test.ts", "language/**/*.test.ts", "compiler/**/*.test.ts", "grammar/**/*.test.ts", "targets/**/*.test.ts", "lib/**/*.test.ts", "cli/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 30000,
    // Property tests run with one fixed seed unless SBC_PROPERTY_SEED says otherwise (tests/support/property-seed.ts).
    setupFiles: ["tests/support/property-seed-setup.ts"],
    globalSetup: ["tests/support/property-seed-report.ts"],
  },
});
