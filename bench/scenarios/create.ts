/**
 * session.create at 10 and 64 connections: sessiond against the bare handler (the limit) and the
 * peers, each on a fresh file; and sessiond's memory: idle, under the busiest load, after.
 */
import { BASELINES, WIRE, shapeOf, smokeCreate, type Baseline, type ServerKind } from "../lib/contenders.ts";
import type { LoadResult, LoadSpec } from "../lib/load.ts";
import { startServer, type ServerProcess } from "../lib/proc.ts";
import { createLoad, createTimings, mib, over, sleep, type Figure, type Scenario } from "../lib/scenario.ts";
import { migrate } from "../lib/seed.ts";

/** sessiond first: the others' answers are checked against its own. */
export const KINDS = ["sessiond", ...(Object.keys(BASELINES) as Baseline[])] as const;

/** sessiond's req/s over each baseline's, with the target this operation has against it. */
export function ratiosOver(label: string, operation: "create" | "get" | "list", results: Record<ServerKind, LoadResult>): Figure[] {
  return (Object.keys(BASELINES) as Baseline[]).map((baseline) => {
    const { meaning, [operation]: target } = BASELINES[baseline];
    return over(`${label}: sessiond / ${baseline}`, results.sessiond, results[baseline], meaning, target === null ? {} : { min: target });
  });
}

export const scenarioCreate: Scenario = async ({ settings, freshDb, measure }) => {
  const servers = {} as Record<ServerKind, ServerProcess>;
  const shapes = new Map<ServerKind, string>();
  for (const kind of KINDS) {
    const db = freshDb(`create-${kind}`);
    await migrate(db);
    servers[kind] = await startServer(kind, db);
    shapes.set(kind, shapeOf((await smokeCreate(servers[kind].url, WIRE[kind])).text));
  }
  if (shapes.get("raw") !== shapes.get("sessiond")) throw new Error(`raw answers a create unlike sessiond: ${shapes.get("raw")}`);
  await sleep(300);
  const rss = { idle: servers.sessiond.rss(), underLoad: 0 };
  const sample = () => (rss.underLoad = Math.max(rss.underLoad, servers.sessiond.rss()));
  const figures: Figure[] = [];
  for (const timing of createTimings(settings)) {
    const busiest = timing.connections === Math.max(...settings.createConnections);
    const spec = (kind: ServerKind): LoadSpec => ({
      ...createLoad(servers[kind], timing, WIRE[kind]),
      ...(kind === "sessiond" && busiest ? { onSample: sample } : {}),
    });
    const label = `create c${timing.connections}`;
    figures.push(...ratiosOver(label, "create", await measure(label, Object.fromEntries(KINDS.map((kind) => [kind, spec(kind)])))));
  }
  await sleep(300);
  const memory = `${mib(rss.idle)} MiB idle after start, at most ${mib(rss.underLoad)} MiB under the busiest load, ${mib(servers.sessiond.rss())} MiB idle after`;
  return { figures, notes: [`sessiond RSS: ${memory}.`] };
};
