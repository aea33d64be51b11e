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
import { startServe } from "../lib/proc.ts";
import {
  createLoad,
  createTimings,
  over,
  readLoad,
  smoke,
  smokeCreate,
  type Figure,
  type Scenario,
  type ScenarioContext,
} from "../lib/scenario.ts";
import { seed } from "../lib/seed.ts";

type Server = { url: string; ids: string[] };

/** The loads on both servers; figures named "<prefix><load>: 2 <unit> / 1". */
async function oneAgainstTwo(context: ScenarioContext, servers: Server[], readsFirst: boolean, prefix: string, unit: string, of: string) {
  const { settings, measure } = context;
  const figures: Figure[] = [];
  const compare = async (load: string, spec: (server: Server) => LoadSpec) => {
    const [one, two] = [`1 ${unit.replace(/s$/, "")}`, `2 ${unit}`];
    const results = await measure(load, { [one]: spec(servers[0]!), [two]: spec(servers[1]!) });
    figures.push(over(`${prefix}${load}: 2 ${unit} / 1`, results[two]!, results[one]!, `req/s, ${of}, --workers 2 over 1`));
  };
  const reads = async () => {
    for (const server of servers) {
      const { body } = await smoke(server.url, TRPC.listPath, {}, (page) => TRPC.pageIds(page)?.length === 50);
      if (server.ids.length === 0) server.ids = TRPC.pageIds(body)!;
    }
    await compare("get", ({ url, ids }) => readLoad(settings, url, ids.map(TRPC.getPath), settings.shortDurationS));
    await compare("list", ({ url }) => readLoad(settings, url, [TRPC.listPath], settings.shortDurationS));
  };
  if (readsFirst) await reads();
  for (const timing of createTimings(settings, settings.shortDurationS)) {
    await compare(`create c${timing.connections}`, ({ url }) => createLoad(url, timing));
  }
  if (!readsFirst) await reads();
  return figures;
}

export const scenarioWorkers: Scenario = async (context) => {
  const { settings, freshDb } = context;
  const servers: Server[] = [];
  let sqliteSync = "";
  for (const workers of ["1", "2"]) {
    const db = freshDb(`workers-${workers}`);
    const { sampleIds: ids } = await seed(db, settings.readSeedRows, settings.readIds);
    const server = await startServe(["--db", db, "--workers", workers, "--access-log-sample", "0"]);
    sqliteSync = String(server.listening.sqliteSync);
    await smokeCreate(server.url);
    servers.push({ url: server.url, ids });
  }
  const figures = await oneAgainstTwo(context, servers, true, "", "workers", `SQLite (${sqliteSync})`);
  return { figures, notes: [`${settings.readSeedRows} sessions stored in each file; get cycles over ${settings.readIds} of their IDs.`] };
};

export const scenarioPostgres: Scenario = async (context) => {
  const servers: Server[] = [];
  let db = "";
  for (const workers of ["1", "2"]) {
    db = await durableDatabase();
    const server = await startServe(["--db", db, "--workers", workers, "--access-log-sample", "0"]);
    await smokeCreate(server.url);
    servers.push({ url: server.url, ids: [] });
  }
  const settings = await sql<{ name: string; setting: string }>(
    db,
    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method')",
  );
  const figures = await oneAgainstTwo(context, servers, false, "PostgreSQL ", "instances", "durable PostgreSQL");
  return {
    figures,
    notes: [`The cluster: ${settings.map(({ name, setting }) => `${name} = ${setting}`).join(", ")}; get cycles over the newest 50 IDs.`],
  };
};
