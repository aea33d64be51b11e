/**
 * Creates on PostgreSQL through the server, with events (this tree) against main before issue 12
 * (no events at all), in one run: the figure issue 12 sets a target for (at least 0.8x), which
 * main's bench (`npm run bench`, scenario events) approximates with a trigger that drops the
 * event rows on the same server; this compares with the real old server. One throwaway cluster
 * (fsync off, or `--durable`), a database per server, 64 connections, 3 s warm-up, 12 s in 4
 * alternating rounds.
 *
 * The old tree, once (2ff3b09^1 is main just before live events were merged; its lockfile does
 * not `npm ci` here, so it borrows this tree's packages and links its own workspaces):
 *
 *   OLD=/tmp/sessiond-noevents; mkdir -p $OLD && git archive 2ff3b09^1 | tar -x -C $OLD
 *   mkdir -p $OLD/node_modules/@sessiond
 *   for e in node_modules/*; do [ "$e" = node_modules/@sessiond ] || ln -s "$PWD/$e" $OLD/$e; done
 *   for p in shared server client cli testing console; do ln -s ../../$p $OLD/node_modules/@sessiond/$p; done
 *
 * Then: npm exec -- node bench/prototypes/pg-without-events.ts --old $OLD [--durable]
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDatabase, startPostgres } from "../../test/support/postgres.ts";
import { compareLoads } from "../lib/load.ts";
import { killAll, nodeBinary, startServer } from "../lib/proc.ts";

const { values: args } = parseArgs({ options: { old: { type: "string" }, durable: { type: "boolean", default: false } } });
if (!args.old) throw new Error("--old <dir>: the tree of main before issue 12 (see the comment at the top)");

/** The old tree's bench server (the same entry as bench/servers/sessiond.ts), on its own sources. */
function startOld(db: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(nodeBinary(), ["--conditions=@sessiond/source", join(args.old!, "bench/servers/sessiond.ts"), "--db", db], {
    cwd: args.old,
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    env: { ...process.env, NODE_OPTIONS: "", NODE_ENV: "production" },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("exit", (code) => reject(new Error(`the old server exited (${code})`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf("\n");
      if (newline !== -1) resolve({ url: (JSON.parse(out.slice(0, newline)) as { url: string }).url, stop: () => child.kill("SIGTERM") });
    });
  });
}

const cluster = await startPostgres({ durable: args.durable });
try {
  const old = await startOld(await createDatabase(cluster.url));
  const now = await startServer("sessiond", await createDatabase(cluster.url));
  try {
    const spec = (url: string) => ({
      url,
      method: "POST" as const,
      paths: ["/trpc/session.create"],
      body: '{"json":{}}',
      connections: 64,
      durationS: 12,
      warmupS: 3,
    });
    const results = await compareLoads({ without: spec(old.url), with: spec(now.url) }, 4);
    process.stdout.write(
      `${JSON.stringify({
        durable: args.durable,
        withoutEventsCreatesPerS: Math.round(results.without.rps),
        withEventsCreatesPerS: Math.round(results.with.rps),
        ratio: Number((results.with.rps / results.without.rps).toFixed(3)),
        p99MsWithout: results.without.latencyMs.p99,
        p99MsWith: results.with.latencyMs.p99,
        roundsWithout: results.without.roundRps.map(Math.round),
        roundsWith: results.with.roundRps.map(Math.round),
        non2xx: results.without.non2xx + results.with.non2xx,
      })}\n`,
    );
  } finally {
    old.stop();
    await now.stop();
  }
} finally {
  killAll();
  await cluster.destroy();
}
