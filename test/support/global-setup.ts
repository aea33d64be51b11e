/**
 * Once per test run, for the tests through the public surface: one throwaway PostgreSQL cluster,
 * a folder for what the run's test files share (the packed tarballs, see packed.ts), and one
 * check for Chromium. What cannot run here is skipped and said once, loudly, at the end of the
 * run; under CI=true it is a failure instead.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { chromiumMissing } from "./browser.ts";
import { startPostgres, type PostgresCluster } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The cluster's admin URL, or null when PostgreSQL could not be started. */
    postgresUrl: string | null;
    /** A folder for this run, deleted at its end. */
    runDir: string;
  }
}

function banner(skipped: string[]): void {
  const line = "!".repeat(78);
  process.stderr.write(`\n${line}\n${skipped.map((text) => `!! SKIPPED: ${text}`).join("\n")}\n${line}\n\n`);
}

export default async function setup(project: TestProject) {
  const skipped: string[] = [];
  const chromium = chromiumMissing();
  if (chromium) {
    if (process.env.CI) throw new Error(`CI must run the browser tests, but ${chromium}`);
    skipped.push(`the browser tests (${chromium})`);
  }
  if (process.getuid?.() !== 0) {
    // CI runs as root, so these run there.
    skipped.push("the tests that need root: a full or read-only disk (faults.test.ts), the README's several-instances sequence");
  }
  const runDir = mkdtempSync(join(tmpdir(), "sessiond-run-"));
  project.provide("runDir", runDir);

  let cluster: PostgresCluster | undefined;
  try {
    cluster = await startPostgres();
    project.provide("postgresUrl", cluster.url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI) throw new Error(`CI must run the PostgreSQL tests, but PostgreSQL could not be started: ${reason}`);
    skipped.push(`the PostgreSQL tests and targets (no PostgreSQL could be started: ${reason})`);
    project.provide("postgresUrl", null);
  }

  return async () => {
    await cluster?.destroy();
    rmSync(runDir, { recursive: true, force: true });
    if (skipped.length > 0) banner(skipped);
  };
}
