/**
 * Live events, two figures (issue 12), in about 45 s:
 *
 * 1. Fan-out: 1 writer (one create at a time, as fast as it goes) and 1,000 subscribers on
 *    GET /event of one sessiond process: delivered events/s, and delivery latency from the
 *    moment the create was sent to the moment a subscriber parsed the frame (p50, p99; sampled on
 *    50 subscribers that parse every frame, the other 950 only count).
 * 2. What subscribers cost creates: session.create under load (autocannon, 64 connections) on a
 *    server with no subscriber, one with 1 and one with 100 subscribers reading every event;
 *    rounds alternate between them, and the figures are the ratios (target at least 0.8).
 *
 * Both servers write events (they always do); the baseline is "no one listening".
 *
 * 3. With `--postgres` (instead of 1 and 2, about 40 s): creates on PostgreSQL (a throwaway cluster with the test
 *    settings, fsync off), two sessiond processes on two databases, alternating rounds: one as
 *    built (event IDs drawn without a lock, readers hold back; migration 3), one with migration
 *    2's next_event_id() put back (an advisory lock held until commit: writers commit one at a
 *    time). No subscribers. bench/prototypes/pg-event-ids.ts has the same below the server, with
 *    a baseline that writes no event at all.
 *
 * Run: `node bench/events.ts [--postgres]` with the project's Node 24 (npm run bench:events).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createDatabase, startPostgres } from "../test/support/postgres.ts";
import { DatabaseSync } from "node:sqlite";
import { processTicks } from "./lib/cpu.ts";
import { compareLoads } from "./lib/load.ts";
import { killAll, startServer } from "./lib/proc.ts";

const FANOUT_SUBSCRIBERS = 1000;
const PARSING_SUBSCRIBERS = 50;
const FANOUT_SECONDS = 8;
const COST_SUBSCRIBERS = 100;

const dir = mkdtempSync(join(tmpdir(), "sessiond-bench-events-"));
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Opens GET /event; `onFrame` gets each frame's text when `parse`, else only a count. */
function subscribe(url: string, parse: boolean, onFrame: (frame: string) => void, onCount: (n: number) => void): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/event`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`subscriber got ${res.statusCode}`));
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

async function fanOut(): Promise<Record<string, number>> {
  // SESSIOND_BENCH_PROFILE=<dir> profiles the fan-out server (--cpu-prof) into that folder.
  const profileDir = process.env.SESSIOND_BENCH_PROFILE;
  const server = await startServer("sessiond", join(dir, "fanout.db"), {
    nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  });
  try {
    const latencies: number[] = [];
    let delivered = 0;
    const streams: IncomingMessage[] = [];
    for (let i = 0; i < FANOUT_SUBSCRIBERS; i++) {
      const parse = i < PARSING_SUBSCRIBERS;
      streams.push(
        await subscribe(
          server.url,
          parse,
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
    await new Promise((resolve) => setTimeout(resolve, 500));
    delivered = 0;
    latencies.length = 0;
    let writes = 0;
    const started = performance.now();
    const until = started + FANOUT_SECONDS * 1000;
    while (performance.now() < until) {
      const response = await fetch(`${server.url}/trpc/session.create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { title: `t${performance.now().toFixed(3)}` } }),
      });
      await response.arrayBuffer();
      writes++;
    }
    const writeSeconds = (performance.now() - started) / 1000;
    // Let the last events arrive (bounded), then count.
    const expected = writes * FANOUT_SUBSCRIBERS;
    const drainUntil = performance.now() + 10_000;
    while (delivered < expected && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - started) / 1000;
    for (const stream of streams) stream.destroy();
    latencies.sort((a, b) => a - b);
    return {
      subscribers: FANOUT_SUBSCRIBERS,
      writesPerS: Math.round(writes / writeSeconds),
      events: writes,
      delivered,
      expected,
      deliveredPerS: Math.round(delivered / seconds),
      p50Ms: Number(percentile(latencies, 0.5).toFixed(1)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(1)),
      maxMs: Number((latencies.at(-1) ?? Number.NaN).toFixed(1)),
    };
  } finally {
    await server.stop();
  }
}

async function createCost(): Promise<Record<string, number>> {
  const servers = {
    quiet: await startServer("sessiond", join(dir, "quiet.db")),
    one: await startServer("sessiond", join(dir, "one.db")),
    hundred: await startServer("sessiond", join(dir, "hundred.db")),
  };
  const streams: IncomingMessage[] = [];
  let delivered = 0;
  const count = (n: number) => (delivered += n);
  // Chunks the 100 subscribers received (about one per socket write) and the frames in them.
  let hundredChunks = 0;
  let hundredFrames = 0;
  const countHundred = (n: number) => {
    hundredChunks++;
    hundredFrames += n;
    count(n);
  };
  try {
    streams.push(await subscribe(servers.one.url, false, () => undefined, count));
    for (let i = 0; i < COST_SUBSCRIBERS; i++) streams.push(await subscribe(servers.hundred.url, false, () => undefined, countHundred));
    // Each server's own CPU per create (the subscribers' reading is this process's, not the server's).
    const ticksBefore = Object.fromEntries(Object.entries(servers).map(([name, server]) => [name, processTicks(server.pid)]));
    const spec = (url: string) => ({
      url,
      method: "POST" as const,
      paths: ["/trpc/session.create"],
      body: '{"json":{}}',
      connections: 64,
      durationS: 9,
      warmupS: 3,
    });
    const results = await compareLoads(
      { quiet: spec(servers.quiet.url), one: spec(servers.one.url), hundred: spec(servers.hundred.url) },
      3,
    );
    const serverMsPerCreate = (name: keyof typeof servers): number => {
      const db = new DatabaseSync(join(dir, `${name}.db`), { readOnly: true });
      const { creates } = db.prepare("SELECT count(*) AS creates FROM session").get() as { creates: number };
      db.close();
      return Number((((processTicks(servers[name].pid) - ticksBefore[name]!) * 10) / creates).toFixed(4));
    };
    return {
      noSubscriberCreatesPerS: Math.round(results.quiet.rps),
      oneSubscriberCreatesPerS: Math.round(results.one.rps),
      hundredSubscribersCreatesPerS: Math.round(results.hundred.rps),
      ratioOne: Number((results.one.rps / results.quiet.rps).toFixed(3)),
      ratioHundred: Number((results.hundred.rps / results.quiet.rps).toFixed(3)),
      p99Ms: results.quiet.latencyMs.p99,
      p99MsOne: results.one.latencyMs.p99,
      p99MsHundred: results.hundred.latencyMs.p99,
      eventsDelivered: delivered,
      framesPerChunkHundred: Number((hundredFrames / Math.max(1, hundredChunks)).toFixed(1)),
      serverCpuMsPerCreate: serverMsPerCreate("quiet"),
      serverCpuMsPerCreateOne: serverMsPerCreate("one"),
      serverCpuMsPerCreateHundred: serverMsPerCreate("hundred"),
    };
  } finally {
    for (const stream of streams) stream.destroy();
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
}

/** Migration 2's next_event_id(), as it was before migration 3 replaced it. */
const LOCKING_NEXT_EVENT_ID = `CREATE OR REPLACE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
  SELECT pg_advisory_xact_lock(47112028);
  SELECT nextval('session_event_id_seq');
$$`;

async function createCostPostgres(): Promise<Record<string, number>> {
  const cluster = await startPostgres();
  try {
    const now = await startServer("sessiond", await createDatabase(cluster.url));
    const lockedDb = await createDatabase(cluster.url);
    const locked = await startServer("sessiond", lockedDb);
    try {
      // The server has applied every migration; put the lock back on this database only.
      const admin = new pg.Client({ connectionString: lockedDb });
      await admin.connect();
      await admin.query(LOCKING_NEXT_EVENT_ID);
      await admin.end();
      const spec = (url: string) => ({
        url,
        method: "POST" as const,
        paths: ["/trpc/session.create"],
        body: '{"json":{}}',
        connections: 64,
        durationS: 12,
        warmupS: 3,
      });
      const results = await compareLoads({ now: spec(now.url), locked: spec(locked.url) }, 4);
      return {
        lockFreeCreatesPerS: Math.round(results.now.rps),
        eventLockCreatesPerS: Math.round(results.locked.rps),
        ratio: Number((results.now.rps / results.locked.rps).toFixed(3)),
        p99Ms: results.now.latencyMs.p99,
        p99MsEventLock: results.locked.latencyMs.p99,
        non2xx: results.now.non2xx + results.locked.non2xx,
      };
    } finally {
      await Promise.all([now.stop(), locked.stop()]);
    }
  } finally {
    await cluster.destroy();
  }
}

try {
  if (process.argv.includes("--postgres")) {
    log("create cost on PostgreSQL: event IDs without a lock (as built) vs with migration 2's event lock, 64 connections ...");
    log(JSON.stringify(await createCostPostgres()));
  } else {
    log("fan-out: 1 writer, 1,000 subscribers on GET /event ...");
    log(JSON.stringify(await fanOut()));
  }
  // SESSIOND_BENCH_FANOUT_ONLY=1 stops here (with SESSIOND_BENCH_PROFILE, to profile the fan-out alone).
  if (!process.env.SESSIOND_BENCH_FANOUT_ONLY && !process.argv.includes("--postgres")) {
    log(`create cost: no subscriber vs 1 vs ${COST_SUBSCRIBERS} subscribers, 64 connections ...`);
    log(JSON.stringify(await createCost()));
  }
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
