/**
 * Issue 13, section 3 on SQLite: `sessiond serve --workers 1` vs `--workers 2` (the default
 * `--sqlite-sync`), each on its own file seeded with the same number of sessions: session.get over
 * stored IDs and the first list page of 50 at the read connections, session.create at 10 and 64.
 */
import { compareLoads, type LoadResult, type LoadSpec } from "../lib/load.ts";
import { startServe, type ServerProcess } from "../lib/proc.ts";
import { REQUESTS } from "../lib/requests.ts";
import { createLoad, describeLoad, ratio, smoke, smokeCreate, type ScenarioContext } from "../lib/scenario.ts";
import { seed } from "../lib/seed.ts";

export const WORKER_COUNTS = [1, 2] as const;
export type WorkerCount = (typeof WORKER_COUNTS)[number];
export type WorkersLoad = "get" | "list" | `create c${number}`;

export interface WorkersScenario {
  seededRows: number;
  distinctIds: number;
  /** The SQLite synchronous setting the servers ran with (the default), as they reported it. */
  sqliteSync: string;
  runs: (LoadResult & { workers: WorkerCount; load: WorkersLoad })[];
  ratios: { load: WorkersLoad; twoOverOne: number }[];
}

const wire = REQUESTS.sessiond;

export async function scenarioWorkers({ settings, log, freshDb }: ScenarioContext): Promise<WorkersScenario> {
  log(`scenario 9: --workers 1 vs 2 on SQLite, ${settings.workerSeedRows} sessions stored`);
  const servers = new Map<WorkerCount, { server: ServerProcess; ids: string[] }>();
  try {
    let sqliteSync = "";
    for (const workers of WORKER_COUNTS) {
      const db = freshDb(`workers-${workers}`);
      const { sampleIds } = await seed(db, { rows: settings.workerSeedRows, sampleIds: settings.workerReadIds });
      const server = await startServe(["--db", db, "--workers", String(workers)]);
      servers.set(workers, { server, ids: sampleIds });
      sqliteSync = String(server.listening.sqliteSync);
      await smoke(server, wire.getPath(sampleIds[0]!), {}, (body) => wire.createdId(body) === sampleIds[0]);
      await smoke(server, wire.listPath, {}, (body) => wire.pageIds(body)?.length === 50);
      await smokeCreate(server);
    }
    const runs: WorkersScenario["runs"] = [];
    const measure = async (load: WorkersLoad, spec: (workers: WorkerCount) => LoadSpec): Promise<void> => {
      const results = await compareLoads({ one: spec(1), two: spec(2) }, settings.rounds);
      for (const workers of WORKER_COUNTS) {
        const result = results[workers === 1 ? "one" : "two"];
        runs.push({ workers, load, ...result });
        log(describeLoad(`  ${workers} worker${workers > 1 ? "s" : ""} ${load}`, result));
      }
    };
    const read = (workers: WorkerCount, paths: string[]): LoadSpec => ({
      url: servers.get(workers)!.server.url,
      method: "GET",
      paths,
      connections: settings.readConnections,
      durationS: settings.shortDurationS,
      warmupS: settings.warmupS,
    });
    await measure("get", (workers) => read(workers, servers.get(workers)!.ids.map(wire.getPath)));
    await measure("list", (workers) => read(workers, [wire.listPath]));
    for (const [level, connections] of settings.createConnections.entries()) {
      await measure(`create c${connections}`, (workers) =>
        createLoad(servers.get(workers)!.server.url, {
          connections,
          durationS: settings.shortDurationS,
          warmupS: level === 0 ? settings.warmupS : settings.rewarmS,
        }),
      );
    }
    const loads = [...new Set(runs.map((r) => r.load))];
    const rpsOf = (workers: WorkerCount, load: WorkersLoad) => runs.find((r) => r.workers === workers && r.load === load)!.rps;
    return {
      seededRows: settings.workerSeedRows,
      distinctIds: settings.workerReadIds,
      sqliteSync,
      runs,
      ratios: loads.map((load) => ({ load, twoOverOne: ratio(rpsOf(2, load), rpsOf(1, load)) })),
    };
  } finally {
    for (const { server } of servers.values()) await server.stop();
  }
}
