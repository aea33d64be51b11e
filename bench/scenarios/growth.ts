/** List and create latency, and memory, with 10k, 100k and 1M sessions stored: one sessiond per size, loads alternating. */
import { TRPC } from "../lib/contenders.ts";
import type { LoadSpec } from "../lib/load.ts";
import { startServer, type ServerProcess } from "../lib/proc.ts";
import { createLoad, figure, mib, readLoad, sleep, type Scenario } from "../lib/scenario.ts";
import { seed, type SeedResult } from "../lib/seed.ts";

export const scenarioGrowth: Scenario = async ({ settings, freshDb, measure }) => {
  const sizes: (SeedResult & { server: ServerProcess; idle: number })[] = [];
  for (const rows of [settings.growthRows / 100, settings.growthRows / 10, settings.growthRows]) {
    const db = freshDb(`growth-${rows}`);
    const seeded = await seed(db, rows);
    const server = await startServer("sessiond", db);
    await sleep(300);
    sizes.push({ ...seeded, server, idle: server.rss() });
  }
  const loads = (spec: (server: ServerProcess) => LoadSpec) => Object.fromEntries(sizes.map((s) => [`${s.rows} stored`, spec(s.server)]));
  const timing = { connections: settings.readConnections, durationS: settings.durationS, warmupS: settings.warmupS };
  const listLoads = loads((server) => readLoad(settings, server, [TRPC.listPath]));
  const createLoads = loads((server) => createLoad(server, timing));
  // The list first: the creates put new sessions at the head of the list.
  const [lists, creates] = [await measure("list", listLoads), await measure("create", createLoads)];
  const notes = sizes.map(({ rows, ms, fileBytes, server, idle }) => {
    const rss = `${mib(idle)} MiB idle after start, ${mib(server.rss())} MiB after the loads`;
    return `${rows} sessions: seeded in ${(ms / 1000).toFixed(2)} s, ${mib(fileBytes)} MiB; sessiond RSS ${rss}.`;
  });
  const [first, last] = [sizes[0]!, sizes[2]!];
  const [a, b] = [`${last.rows} stored`, `${first.rows} stored`];
  const label = `${last.rows.toLocaleString("en")} / ${first.rows.toLocaleString("en")}`;
  const p50 = "p50 latency with more sessions stored";
  const figures = [
    figure(`create p50 latency ${label}`, creates[a]!.latencyMs.p50 / creates[b]!.latencyMs.p50, p50, { max: 1.2 }),
    figure(`list p50 latency ${label}`, lists[a]!.latencyMs.p50 / lists[b]!.latencyMs.p50, p50, { max: 1.2 }),
    figure(`RSS ${label} stored`, last.server.rss() / first.server.rss(), "server RSS after the same loads"),
  ];
  return { figures, notes };
};
