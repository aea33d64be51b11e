/**
 * Starts one throwaway PostgreSQL cluster for the whole run. Where none can be started, the
 * PostgreSQL tests are skipped, loudly; under CI=true that is a failure instead.
 */
import type { TestProject } from "vitest/node";
import { startPostgres, type PostgresCluster } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The cluster's admin URL, or null when PostgreSQL could not be started. */
    postgresUrl: string | null;
  }
}

function banner(reason: string): void {
  const line = "!".repeat(78);
  process.stderr.write(`\n${line}\n!! PostgreSQL tests SKIPPED: no PostgreSQL could be started.\n!! ${reason}\n${line}\n\n`);
}

export default async function setup(project: TestProject) {
  let cluster: PostgresCluster | undefined;
  try {
    cluster = await startPostgres();
    project.provide("postgresUrl", cluster.url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI) throw new Error(`CI must run the PostgreSQL tests, but PostgreSQL could not be started: ${reason}`);
    banner(reason);
    project.provide("postgresUrl", null);
    return () => banner(reason);
  }
  return () => cluster?.destroy();
}
