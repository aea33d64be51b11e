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
    include: ["shared/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results/vitest.json" }]] : ["default"],
  },
});
