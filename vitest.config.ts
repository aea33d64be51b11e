import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "@sessiond/source" export condition),
// so tests need no build; processes the tests start get the same through NODE_OPTIONS (.npmrc).
const conditions = ["@sessiond/source", ...defaultServerConditions];
// Also when vitest is started without npm (which sets NODE_OPTIONS from .npmrc).
if (!process.env.NODE_OPTIONS?.includes("--conditions=@sessiond/source")) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --conditions=@sessiond/source`.trim();
}
// The tests start hundreds of Node processes (servers, the CLI, workers): each reuses the code the
// others compiled instead of compiling the sources again (a third of the CLI tests' CPU time).
process.env.NODE_COMPILE_CACHE ??= fileURLToPath(new URL("node_modules/.cache/node-compile", import.meta.url));

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@sessiond/source"] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // A worker runs file after file instead of starting afresh for each: the files share its loaded
    // modules (a fifth of the suite's CPU time was each file loading vitest and the sources again).
    // Each file still has the processes it started killed when it ends (support/cleanup.ts) and
    // closes its servers; no test changes globals; shuffled runs (--sequence.shuffle) pass.
    isolate: false,
    // One file more than there are cores: many tests also wait (timeouts, child processes, npm), and
    // the extra file keeps the cores busy meanwhile (vitest's default leaves one core free, which on
    // these 2-core machines runs the files one after another). On 2 cores, 3 workers took the
    // whole npm test from 157 s to 116 s (its CPU time the same, 173-176 s).
    maxWorkers: availableParallelism() + 1,
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results/vitest.json" }]] : ["default"],
    projects: [
      {
        // The unit tests beside the code: no database, no processes, no global setup
        // (`npm run test:unit`, a few seconds).
        extends: true,
        test: {
          name: "unit",
          include: ["shared/test/**/*.test.ts", "shared/src/**/*.test.ts", "server/src/**/*.test.ts", "client/src/**/*.test.ts"],
        },
      },
      {
        // The tests through the public surface: real servers, PostgreSQL, Chromium, packed installs.
        extends: true,
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          // Every process a test file starts is stopped when the file ends, whatever happened.
          setupFiles: ["test/support/cleanup.ts"],
          // Type-level tests (*.test-d.ts) are checked by tsc and reported as tests.
          typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
        },
      },
    ],
  },
});
