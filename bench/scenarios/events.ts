/**
 * Live events: fan-out (one writer, one create at a time, to many `GET /event` subscribers; every
 * event must arrive), and what events cost a create: a database that drops its events against one
 * that writes them, with 0, 1 and many subscribers, on SQLite and on PostgreSQL.
 */
import { request, type IncomingMessage } from "node:http";
import { TRPC, postJson, smokeCreate } from "../lib/contenders.ts";
import { durableDatabase } from "../lib/postgres.ts";
import type { LoadSpec } from "../lib/load.ts";
import { startServer } from "../lib/proc.ts";
import { createLoad, figure, over, sleep, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { migrate, sql } from "../lib/seed.ts";

/**
 * The baseline "without events": the same sessiond on a database where a trigger drops every event
 * row (and `next_event_id()` is a bare nextval); the statement, the hub's read and NOTIFY stay.
 */
const DROP_EVENTS = {
  sqlite: "CREATE TRIGGER bench_drop_event BEFORE INSERT ON session_event BEGIN SELECT RAISE(IGNORE); END",
  postgres: `CREATE OR REPLACE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$ SELECT nextval('session_event_id_seq') $$;
    CREATE FUNCTION bench_drop_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
    CREATE TRIGGER bench_drop_event BEFORE INSERT ON session_event FOR EACH ROW EXECUTE FUNCTION bench_drop_event();`,
};

/** Open subscriptions, closed before their server stops (or it would wait for them). */
const streams: IncomingMessage[] = [];
const unsubscribeAll = () => streams.splice(0).map((stream) => stream.destroy());

/** Opens GET /event and hands every chunk of its text to `onText`. */
function subscribe(url: string, onText: (text: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/event`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`a subscriber got HTTP ${res.statusCode}`));
      streams.push(res.setEncoding("utf8").on("data", onText));
      resolve();
    });
    req.on("error", reject).end();
  });
}

async function fanOut({ settings, freshDb }: ScenarioContext) {
  const { url } = await startServer("sessiond", freshDb("fanout"));
  const latencies: number[] = [];
  let delivered = 0;
  for (let i = 0; i < settings.fanoutSubscribers; i++) {
    let buffer = "";
    await subscribe(url, (text) => {
      // Each frame starts with "id: "; most subscribers only count them, the others time them.
      if (i >= settings.fanoutParsingSubscribers)
        return void (delivered += text.split("\nid: ").length - (text.startsWith("id: ") ? 0 : 1));
      const frames = (buffer + text).split("\n\n");
      buffer = frames.pop()!;
      for (const frame of frames) {
        const sent = /"title":"t(\d+\.\d+)"/.exec(frame);
        if (!sent) continue;
        latencies.push(performance.now() - Number(sent[1]));
        delivered++;
      }
    });
  }
  await sleep(500);
  [delivered, latencies.length] = [0, 0];
  let writes = 0;
  const started = performance.now();
  while (performance.now() < started + settings.fanoutS * 1000) {
    const response = await fetch(url + TRPC.create.path, postJson(JSON.stringify({ json: { title: `t${performance.now().toFixed(3)}` } })));
    if (!response.ok) throw new Error(`fan-out writer: HTTP ${response.status}`);
    await response.arrayBuffer();
    writes++;
  }
  const writesPerS = Math.round(writes / ((performance.now() - started) / 1000));
  const expected = writes * settings.fanoutSubscribers;
  for (const until = performance.now() + 10_000; delivered < expected && performance.now() < until; ) await sleep(20);
  const seconds = (performance.now() - started) / 1000;
  unsubscribeAll();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN).toFixed(1));
  const label = `fan-out to ${settings.fanoutSubscribers} subscribers`;
  return {
    figures: [
      figure(`${label}: events delivered / expected`, delivered / expected, "every subscriber gets every event", { min: 1 }),
      figure(`${label}: events/s delivered`, delivered / seconds, "frames received per second, all subscribers"),
      figure(`${label}: p99 delivery ms`, at(0.99), `create sent → frame parsed (p50 ${at(0.5)} ms, max ${at(1)} ms)`),
    ],
    note: `Fan-out: one writer for ${settings.fanoutS} s, ${writesPerS} creates/s; ${delivered} of ${expected} events delivered.`,
    failed: delivered === expected ? [] : [`fan-out: ${delivered} of ${expected} events delivered`],
  };
}

async function eventCost({ settings, freshDb, measure }: ScenarioContext, engine: "sqlite" | "postgres") {
  const many = `${settings.costSubscribers} subscribers`;
  const names = ["without events", "with events", "1 subscriber", many].slice(0, engine === "sqlite" ? 4 : 2);
  const timing = { connections: settings.eventsConnections, durationS: settings.shortDurationS, warmupS: settings.warmupS };
  const loads: Record<string, LoadSpec> = {};
  for (const name of names) {
    const db = engine === "postgres" ? await durableDatabase() : freshDb(`events-${name.replaceAll(" ", "-")}`);
    if (engine === "sqlite") await migrate(db);
    if (name === "without events") await sql(db, DROP_EVENTS[engine]);
    const server = await startServer("sessiond", db);
    await smokeCreate(server.url);
    // The comparison means something only if one server stores no events and the others do.
    const stored = Number((await sql<{ n: number }>(db, "SELECT count(*) AS n FROM session_event"))[0]!.n);
    if ((name === "without events") !== (stored === 0)) throw new Error(`${engine} ${name}: ${stored} events stored after one create`);
    const subscribers = name === "1 subscriber" ? 1 : name === many ? settings.costSubscribers : 0;
    for (let i = 0; i < subscribers; i++) await subscribe(server.url, () => undefined);
    loads[name] = createLoad(server, timing);
  }
  const results = await measure(`create ${engine}`, loads);
  unsubscribeAll();
  return names.slice(1).map((name) => {
    const [label, without] = [`create ${engine} c${timing.connections}: ${name} / without events`, results["without events"]!];
    if (name === "with events") return over(label, results[name]!, without, "creates/s writing each create's event", { min: 0.8 });
    return over(label, results[name]!, without, "creates/s with subscribers reading every event");
  });
}

export const scenarioEvents: Scenario = async (context) => {
  const { figures, note, failed } = await fanOut(context);
  figures.push(...(await eventCost(context, "sqlite")));
  // Apart, so that a machine without PostgreSQL still gets the SQLite figures.
  const postgres = await eventCost(context, "postgres").catch((error: Error) => void failed.push(`PostgreSQL: ${error.message}`));
  unsubscribeAll();
  return { figures: [...figures, ...(postgres ?? [])], notes: [note], failed };
};
