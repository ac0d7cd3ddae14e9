import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["compiler/**/*.test.ts", "grammar/**/*.test.ts", "targets/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 30000,
  },
});
