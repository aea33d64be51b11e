/**
 * One durable PostgreSQL cluster for the run (fsync, synchronous_commit, full_page_writes on): the
 * test suite's throwaway cluster, which no package exports; started when first needed.
 */
import { migrate } from "./seed.ts";
import { createDatabase, startPostgres, type PostgresCluster } from "../../test/support/postgres.ts";

let cluster: Promise<PostgresCluster> | undefined;

/** A fresh migrated database on the durable cluster; its postgres:// URL. */
export async function durableDatabase(): Promise<string> {
  cluster ??= startPostgres({ durable: true });
  const url = await createDatabase((await cluster).url);
  await migrate(url);
  return url;
}

/** Stops and removes the cluster if one was started. */
export async function destroyCluster(): Promise<void> {
  const started = cluster;
  cluster = undefined;
  await (await started?.catch(() => null))?.destroy();
}
