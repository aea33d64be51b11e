/**
 * Scenarios 9 and 10: one `sessiond serve` process against two (`--workers 2`, one port), no access
 * log, each on its own database, loads alternating: session.get over stored IDs, the first list
 * page of 50, session.create at 10 and 64 connections.
 * - workers: SQLite (the default `--sqlite-sync`), each file seeded with the same sessions.
 * - postgres: a durable cluster (fsync, synchronous_commit, full_page_writes on), a pool per
 *   process; the creates run first and fill the tables, the reads then take the newest page.
 */
import { TRPC } from "../lib/contenders.ts";
import type { LoadSpec } from "../lib/load.ts";
import { durableDatabase, sql } from "../lib/postgres.ts";
import { startServe, type ServerProcess } from "../lib/proc.ts";
import { smoke, smokeCreate } from "../lib/check.ts";
import { createLoad, createTimings, over, readLoad, type Figure, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { seed } from "../lib/seed.ts";

interface Setup {
  /** A database for a server with `workers` processes, and IDs to read (none: the newest page's, read after the creates). */
  open(workers: string): Promise<{ db: string; ids: string[] }>;
  readsFirst: boolean;
  /** Figures are named "<prefix><load>: 2 <unit> / 1". */
  prefix: string;
  unit: string;
}

/** Starts both servers and runs the loads on them; returns the figures and the first server's "listening" entry. */
async function oneAgainstTwo({ settings, measure }: ScenarioContext, { open, readsFirst, prefix, unit }: Setup) {
  const servers: (ServerProcess & { ids: string[]; listening: Record<string, unknown> })[] = [];
  for (const workers of ["1", "2"]) {
    const { db, ids } = await open(workers);
    const server = await startServe(["--db", db, "--workers", workers, "--access-log-sample", "0"]);
    await smokeCreate(server.url);
    servers.push({ ...server, ids });
  }
  const of = `req/s, ${unit === "workers" ? `SQLite (${servers[0]!.listening.sqliteSync})` : "durable PostgreSQL"}, --workers 2 over 1`;
  const figures: Figure[] = [];
  const compare = async (load: string, spec: (server: ServerProcess & { ids: string[] }) => LoadSpec) => {
    const [one, two] = [`1 ${unit.replace(/s$/, "")}`, `2 ${unit}`];
    const results = await measure(load, { [one]: spec(servers[0]!), [two]: spec(servers[1]!) });
    figures.push(over(`${prefix}${load}: 2 ${unit} / 1`, results[two]!, results[one]!, of));
  };
  const reads = async () => {
    for (const server of servers) {
      const { body } = await smoke(server.url, TRPC.listPath, (page) => TRPC.pageIds(page)?.length === 50);
      if (server.ids.length === 0) server.ids = TRPC.pageIds(body)!;
    }
    await compare("get", (server) => readLoad(settings, server, server.ids.map(TRPC.getPath), settings.shortDurationS));
    await compare("list", (server) => readLoad(settings, server, [TRPC.listPath], settings.shortDurationS));
  };
  if (readsFirst) await reads();
  for (const timing of createTimings(settings, settings.shortDurationS)) {
    await compare(`create c${timing.connections}`, (server) => createLoad(server, timing));
  }
  if (!readsFirst) await reads();
  return figures;
}

export const scenarioWorkers: Scenario = async (context) => {
  const { readSeedRows, readIds } = context.settings;
  const open = async (workers: string) => {
    const db = context.freshDb(`workers-${workers}`);
    return { db, ids: (await seed(db, readSeedRows, readIds)).sampleIds };
  };
  const figures = await oneAgainstTwo(context, { open, readsFirst: true, prefix: "", unit: "workers" });
  return { figures, notes: [`${readSeedRows} sessions stored in each file; get cycles over ${readIds} of their IDs.`] };
};

export const scenarioPostgres: Scenario = async (context) => {
  let db = "";
  const open = async () => ({ db: (db = await durableDatabase()), ids: [] });
  const figures = await oneAgainstTwo(context, { open, readsFirst: false, prefix: "PostgreSQL ", unit: "instances" });
  const query =
    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method')";
  const settings = await sql<{ name: string; setting: string }>(db, query);
  const cluster = settings.map(({ name, setting }) => `${name} = ${setting}`).join(", ");
  return { figures, notes: [`The cluster: ${cluster}; get cycles over the newest page's 50 IDs.`] };
};
