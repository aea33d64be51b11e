/**
 * Issue 12's figures (live events):
 *
 * 1. Fan-out: 1 writer (one create at a time, as fast as it goes) and `fanoutSubscribers`
 *    subscribers on GET /event of one sessiond (SQLite): delivered events/s, and the delivery
 *    latency from sending the create to a subscriber parsing its frame (p50, p99; sampled on
 *    `fanoutParsingSubscribers` subscribers that parse every frame, the others only count). Every
 *    subscriber must get every event.
 * 2. What events cost a create: session.create under load at `eventsConnections` connections on
 *    servers side by side, rounds alternating: on SQLite, one that drops its events
 *    (lib/no-events.ts), one that writes them with no subscriber, one with 1 and one with
 *    `costSubscribers` subscribers reading every event; on PostgreSQL (durable), without and with
 *    events. Target: with events at least 0.8× without, on both engines.
 *
 * SESSIOND_BENCH_PROFILE=<dir> profiles the fan-out server (--cpu-prof) into that folder.
 */
import { request, type IncomingMessage } from "node:http";
import { cpuSnapshot, foreignBetween } from "../lib/cpu.ts";
import { compareLoads, runLoad, type LoadResult, type LoadSpec } from "../lib/load.ts";
import { dropEvents, eventCount } from "../lib/no-events.ts";
import { durableDatabase } from "../lib/postgres.ts";
import { startServer, type ServerProcess } from "../lib/proc.ts";
import { REQUESTS } from "../lib/requests.ts";
import { createLoad, describeLoad, postJson, ratio, smokeCreate, type ScenarioContext } from "../lib/scenario.ts";
import { migrate } from "../lib/seed.ts";
import { treeCpuSeconds } from "../lib/tree.ts";

export interface FanOut {
  subscribers: number;
  parsingSubscribers: number;
  writesPerS: number;
  events: number;
  delivered: number;
  expected: number;
  deliveredPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  otherCpuCores: number | null;
}

/** The servers of the cost comparison: events dropped, written, and written with subscribers. */
export type CostServer = "without events" | "with events" | "1 subscriber" | `${number} subscribers`;

export interface EventCost {
  engine: "sqlite" | "postgres";
  runs: (LoadResult & { server: CostServer; serverCpuUsPerCreate: number | null })[];
  /** Each server's creates/s over the one without events. */
  overWithout: { server: CostServer; ratio: number }[];
}

export interface EventsScenario {
  fanOut: FanOut;
  cost: EventCost[];
}

const { create } = REQUESTS.sessiond;

/** The fan-out and the cost on SQLite; the cost on PostgreSQL is its own step (eventCostPostgres). */
export async function scenarioEvents(context: ScenarioContext): Promise<EventsScenario> {
  context.log(`scenario 11: live events, fan-out to ${context.settings.fanoutSubscribers} subscribers and what events cost a create`);
  const fanOut = await scenarioFanOut(context);
  return { fanOut, cost: [await eventCost(context, "sqlite")] };
}

/** Apart, so that a machine without PostgreSQL still gets the SQLite figures (and reports this as failed). */
export function eventCostPostgres(context: ScenarioContext): Promise<EventCost> {
  return eventCost(context, "postgres");
}

/** Opens GET /event; each frame's text goes to `onFrame` when `parse`, else only a count to `onCount`. */
function subscribe(url: string, parse: boolean, onFrame: (frame: string) => void, onCount: (n: number) => void): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/event`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`a subscriber got HTTP ${res.statusCode}`));
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        if (!parse) {
          // Each frame starts with "id: "; counting them is all these subscribers do.
          let n = chunk.startsWith("id: ") ? 1 : 0;
          for (let at = chunk.indexOf("\nid: "); at !== -1; at = chunk.indexOf("\nid: ", at + 1)) n++;
          return onCount(n);
        }
        buffer += chunk;
        for (let cut = buffer.indexOf("\n\n"); cut !== -1; cut = buffer.indexOf("\n\n")) {
          onFrame(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      });
      resolve(res);
    });
    req.on("error", reject);
    req.end();
  });
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function scenarioFanOut({ settings, log, freshDb }: ScenarioContext): Promise<FanOut> {
  const profileDir = process.env.SESSIOND_BENCH_PROFILE;
  const server = await startServer("sessiond", freshDb("fanout"), {
    nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  });
  const streams: IncomingMessage[] = [];
  try {
    const latencies: number[] = [];
    let delivered = 0;
    for (let i = 0; i < settings.fanoutSubscribers; i++) {
      streams.push(
        await subscribe(
          server.url,
          i < settings.fanoutParsingSubscribers,
          (frame) => {
            const sent = /"title":"t(\d+\.\d+)"/.exec(frame);
            if (!sent) return;
            delivered++;
            latencies.push(performance.now() - Number(sent[1]));
          },
          (n) => (delivered += n),
        ),
      );
    }
    await sleep(500);
    delivered = 0;
    latencies.length = 0;
    let writes = 0;
    const cpuBefore = cpuSnapshot();
    const started = performance.now();
    const until = started + settings.fanoutS * 1000;
    while (performance.now() < until) {
      const response = await fetch(
        server.url + create.path,
        postJson(JSON.stringify({ json: { title: `t${performance.now().toFixed(3)}` } })),
      );
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`fan-out writer: HTTP ${response.status}`);
      writes++;
    }
    const writeSeconds = (performance.now() - started) / 1000;
    // Let the last events arrive (bounded), then count.
    const expected = writes * settings.fanoutSubscribers;
    const drainUntil = performance.now() + 10_000;
    while (delivered < expected && performance.now() < drainUntil) await sleep(20);
    const seconds = (performance.now() - started) / 1000;
    const cpu = foreignBetween(cpuBefore, cpuSnapshot());
    latencies.sort((a, b) => a - b);
    const result: FanOut = {
      subscribers: settings.fanoutSubscribers,
      parsingSubscribers: settings.fanoutParsingSubscribers,
      writesPerS: Math.round(writes / writeSeconds),
      events: writes,
      delivered,
      expected,
      deliveredPerS: Math.round(delivered / seconds),
      p50Ms: Number(percentile(latencies, 0.5).toFixed(1)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(1)),
      maxMs: Number((latencies.at(-1) ?? Number.NaN).toFixed(1)),
      otherCpuCores: cpu && cpu.wallTicks > 0 ? Number((cpu.foreignTicks / cpu.wallTicks).toFixed(2)) : null,
    };
    log(
      `  fan-out: ${result.writesPerS} writes/s, ${result.deliveredPerS} events/s delivered (${delivered} of ${expected}), p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`,
    );
    return result;
  } finally {
    for (const stream of streams) stream.destroy();
    await server.stop();
  }
}

async function eventCost({ settings, log, freshDb }: ScenarioContext, engine: EventCost["engine"]): Promise<EventCost> {
  const many: CostServer = `${settings.costSubscribers} subscribers`;
  const names: CostServer[] =
    engine === "sqlite" ? ["without events", "with events", "1 subscriber", many] : ["without events", "with events"];
  const subscribersOf = (name: CostServer): number => (name === "1 subscriber" ? 1 : name === many ? settings.costSubscribers : 0);
  const servers = new Map<CostServer, { server: ServerProcess; db: string }>();
  const streams: IncomingMessage[] = [];
  try {
    for (const name of names) {
      let db: string;
      if (engine === "postgres") {
        db = await durableDatabase();
      } else {
        db = freshDb(`events-${name.replaceAll(" ", "-")}`);
        await migrate(db);
      }
      if (name === "without events") await dropEvents(db);
      const server = await startServer("sessiond", db);
      servers.set(name, { server, db });
      await smokeCreate(server);
      // The comparison means something only if one server stores no events and the others do.
      const stored = await eventCount(db);
      if ((name === "without events") !== (stored === 0)) throw new Error(`${engine} ${name}: ${stored} events stored after one create`);
      for (let i = 0; i < subscribersOf(name); i++)
        streams.push(
          await subscribe(
            server.url,
            false,
            () => undefined,
            () => undefined,
          ),
        );
    }
    const spec = (name: CostServer): LoadSpec =>
      createLoad(servers.get(name)!.server.url, {
        connections: settings.eventsConnections,
        durationS: settings.shortDurationS,
        warmupS: settings.warmupS,
      });
    const results = await compareLoads(
      Object.fromEntries(names.map((name) => [name, spec(name)])) as Record<CostServer, LoadSpec>,
      settings.rounds,
    );
    // The server's own CPU per create, each server alone for a short load: the subscribers here
    // are this process's, on the same cores as the load generator, so req/s also carries their
    // reading; this is what the server itself spends.
    const cpuPerCreate = new Map<CostServer, number | null>();
    for (const name of names) {
      const pid = servers.get(name)!.server.pid;
      const before = treeCpuSeconds(pid);
      const probe = await runLoad({ ...spec(name), warmupS: 0, durationS: Math.min(3, settings.shortDurationS) });
      const after = treeCpuSeconds(pid);
      cpuPerCreate.set(
        name,
        before === null || after === null || probe.responses === 0 ? null : ((after - before) * 1e6) / probe.responses,
      );
    }
    const runs = names.map((name) => ({ server: name, ...results[name]!, serverCpuUsPerCreate: cpuPerCreate.get(name) ?? null }));
    for (const run of runs)
      log(
        `${describeLoad(`  ${engine} ${run.server} c${run.connections}`, run)}, server CPU ${run.serverCpuUsPerCreate?.toFixed(1)} µs/create`,
      );
    const rpsOf = (name: CostServer): number => runs.find((run) => run.server === name)!.rps;
    return {
      engine,
      runs,
      overWithout: names.slice(1).map((name) => ({ server: name, ratio: ratio(rpsOf(name), rpsOf("without events")) })),
    };
  } finally {
    for (const stream of streams) stream.destroy();
    for (const { server } of servers.values()) await server.stop();
  }
}
