/**
 * `sessiond serve` with one process against two (`--workers 2`), no access log, each on its own
 * database: get, the first list page, create at 10 and 64. workers: SQLite files seeded alike;
 * postgres: a durable cluster, the creates first, then reads of the newest page.
 */
import { TRPC, smoke, smokeCreate } from "../lib/contenders.ts";
import type { LoadSpec } from "../lib/load.ts";
import { durableDatabase } from "../lib/postgres.ts";
import { startServe, type ServerProcess } from "../lib/proc.ts";
import { createLoad, createTimings, over, readLoad, type Figure, type ScenarioContext } from "../lib/scenario.ts";
import { seed, sql } from "../lib/seed.ts";

/** Both servers on databases from `open`, and the loads; IDs to read (none: the newest page's, read after the creates). */
async function oneAgainstTwo({ settings, measure }: ScenarioContext, open: (workers: string) => Promise<{ db: string; ids: string[] }>) {
  const servers: (ServerProcess & { ids: string[]; sync: unknown })[] = [];
  for (const workers of ["1", "2"]) {
    const { db, ids } = await open(workers);
    const server = await startServe(["--db", db, "--workers", workers, "--access-log-sample", "0"]);
    await smokeCreate(server.url);
    servers.push({ ...server, ids, sync: server.listening.sqliteSync });
  }
  const [unit, readsFirst] = servers[0]!.ids.length ? ["workers", true] : ["instances", false];
  const [prefix, of] = unit === "workers" ? ["", `SQLite (${servers[0]!.sync})`] : ["PostgreSQL ", "durable PostgreSQL"];
  const figures: Figure[] = [];
  const compare = async (load: string, spec: (server: ServerProcess & { ids: string[] }) => LoadSpec) => {
    const [one, two] = [`1 ${unit.slice(0, -1)}`, `2 ${unit}`];
    const results = await measure(load, { [one]: spec(servers[0]!), [two]: spec(servers[1]!) });
    figures.push(over(`${prefix}${load}: 2 ${unit} / 1`, results[two]!, results[one]!, `req/s, ${of}, --workers 2 over 1`));
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

export async function scenarioWorkers(context: ScenarioContext) {
  const { readSeedRows, readIds } = context.settings;
  const open = async (workers: string) => {
    const db = context.freshDb(`workers-${workers}`);
    return { db, ids: (await seed(db, readSeedRows, readIds)).sampleIds };
  };
  return {
    figures: await oneAgainstTwo(context, open),
    notes: [`${readSeedRows} sessions stored in each file; get cycles over ${readIds} of their IDs.`],
  };
}

export async function scenarioPostgres(context: ScenarioContext) {
  let db = "";
  const figures = await oneAgainstTwo(context, async () => ({ db: (db = await durableDatabase()), ids: [] }));
  const names = "'fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method'";
  const settings = await sql<{ name: string; setting: string }>(db, `SELECT name, setting FROM pg_settings WHERE name IN (${names})`);
  const cluster = settings.map(({ name, setting }) => `${name} = ${setting}`).join(", ");
  return { figures, notes: [`The cluster: ${cluster}; get cycles over the newest page's 50 IDs.`] };
}
