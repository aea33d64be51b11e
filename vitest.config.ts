import { availableParallelism } from "node:os";
import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "@sessiond/source" export condition),
// so tests need no build; processes the tests start get the same through NODE_OPTIONS (.npmrc).
const conditions = ["@sessiond/source", ...defaultServerConditions];
// Also when vitest is started without npm (which sets NODE_OPTIONS from .npmrc).
if (!process.env.NODE_OPTIONS?.includes("--conditions=@sessiond/source")) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --conditions=@sessiond/source`.trim();
}

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@sessiond/source"] } },
  test: {
    include: [
      "shared/test/**/*.test.ts",
      "shared/src/**/*.test.ts",
      "server/src/**/*.test.ts",
      "client/src/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One file per core: most tests wait on servers and databases, not on the CPU (vitest's default
    // leaves one core free, which on these 2-core machines runs the files one after another).
    maxWorkers: availableParallelism(),
    globalSetup: ["test/support/global-setup.ts"],
    // Every process a test file starts is stopped when the file ends, whatever happened.
    setupFiles: ["test/support/cleanup.ts"],
    // Type-level tests (*.test-d.ts) are checked by tsc and reported as tests.
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results/vitest.json" }]] : ["default"],
  },
});
