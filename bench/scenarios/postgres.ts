/**
 * Issue 13, section 3 on PostgreSQL with durable commits (fsync, synchronous_commit and
 * full_page_writes on): one `sessiond serve` instance vs two (`--workers 2`: two processes, each
 * with its own pool, on one port), each on its own database of one cluster. session.create at 10
 * and 64 connections first (they fill the table), then session.get over the IDs of the first page
 * and that list page of 50, at the read connections.
 */
import { compareLoads, type LoadResult, type LoadSpec } from "../lib/load.ts";
import { durabilitySettings, durableDatabase, type PostgresSettings } from "../lib/postgres.ts";
import { startServe, type ServerProcess } from "../lib/proc.ts";
import { REQUESTS } from "../lib/requests.ts";
import { createLoad, describeLoad, ratio, smoke, smokeCreate, type ScenarioContext } from "../lib/scenario.ts";

export type InstanceCount = 1 | 2;
export type PostgresLoad = "get" | "list" | `create c${number}`;

export interface PostgresScenario {
  postgres: PostgresSettings;
  runs: (LoadResult & { instances: InstanceCount; load: PostgresLoad })[];
  ratios: { load: PostgresLoad; twoOverOne: number }[];
}

const wire = REQUESTS.sessiond;

export async function scenarioPostgres({ settings, log }: ScenarioContext): Promise<PostgresScenario> {
  log("scenario 10: PostgreSQL, durable commits, 1 instance vs 2 (--workers 2)");
  const postgres = await durabilitySettings();
  log(`  ${JSON.stringify(postgres)}`);
  const servers = new Map<InstanceCount, ServerProcess>();
  try {
    for (const instances of [1, 2] as const) {
      const server = await startServe(["--db", await durableDatabase(), "--workers", String(instances)]);
      servers.set(instances, server);
      await smokeCreate(server);
    }
    const runs: PostgresScenario["runs"] = [];
    const measure = async (load: PostgresLoad, spec: (instances: InstanceCount) => LoadSpec): Promise<void> => {
      const results = await compareLoads({ one: spec(1), two: spec(2) }, settings.rounds);
      for (const instances of [1, 2] as const) {
        const result = results[instances === 1 ? "one" : "two"];
        runs.push({ instances, load, ...result });
        log(describeLoad(`  ${instances} instance${instances > 1 ? "s" : ""} ${load}`, result));
      }
    };
    for (const [level, connections] of settings.createConnections.entries()) {
      await measure(`create c${connections}`, (instances) =>
        createLoad(servers.get(instances)!.url, {
          connections,
          durationS: settings.shortDurationS,
          warmupS: level === 0 ? settings.warmupS : settings.rewarmS,
        }),
      );
    }
    // The creates above stored thousands of sessions: read the newest.
    const ids = new Map<InstanceCount, string[]>();
    for (const [instances, server] of servers) {
      const { body } = await smoke(server, wire.listPath, {}, (page) => wire.pageIds(page)?.length === 50);
      ids.set(instances, wire.pageIds(body)!);
    }
    const read = (instances: InstanceCount, paths: string[]): LoadSpec => ({
      url: servers.get(instances)!.url,
      method: "GET",
      paths,
      connections: settings.readConnections,
      durationS: settings.shortDurationS,
      warmupS: settings.warmupS,
    });
    await measure("get", (instances) => read(instances, ids.get(instances)!.map(wire.getPath)));
    await measure("list", (instances) => read(instances, [wire.listPath]));
    const loads = [...new Set(runs.map((r) => r.load))];
    const rpsOf = (instances: InstanceCount, load: PostgresLoad) => runs.find((r) => r.instances === instances && r.load === load)!.rps;
    return { postgres, runs, ratios: loads.map((load) => ({ load, twoOverOne: ratio(rpsOf(2, load), rpsOf(1, load)) })) };
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}
