/**
 * One durable PostgreSQL cluster (fsync, synchronous_commit and full_page_writes on) for the whole
 * run, started by the first scenario that needs it (the test suite's throwaway cluster,
 * test/support/postgres.ts, with its durability left on) and destroyed at the end. Each server
 * gets a database of its own, migrated by the product.
 */
import pg from "pg";
import { openStore } from "@sessiond/server";
import { createDatabase, startPostgres, type PostgresCluster } from "../../test/support/postgres.ts";

let cluster: Promise<PostgresCluster> | undefined;

/** The cluster's durability settings, as PostgreSQL reports them. */
export type PostgresSettings = Record<string, string>;

function durableCluster(): Promise<PostgresCluster> {
  cluster ??= startPostgres({ durable: true });
  return cluster;
}

/** A fresh migrated database on the durable cluster; its postgres:// URL. */
export async function durableDatabase(): Promise<string> {
  const url = await createDatabase((await durableCluster()).url);
  await (await openStore(url)).close();
  return url;
}

/** Runs SQL on a database (bench setup only, never during a load). */
export async function sql<Row = Record<string, unknown>>(url: string, text: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as Row[];
  } finally {
    await client.end();
  }
}

export async function durabilitySettings(): Promise<PostgresSettings> {
  const rows = await sql<{ name: string; setting: string }>(
    (await durableCluster()).url,
    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method')",
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
}

/** Stops and removes the cluster if one was started. */
export async function destroyCluster(): Promise<void> {
  const started = cluster;
  cluster = undefined;
  if (started) await (await started.catch(() => null))?.destroy();
}
