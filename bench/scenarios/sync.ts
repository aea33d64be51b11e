/**
 * `sessiond serve --sqlite-sync full` against `normal` (no access log), and against the bare
 * handler with `normal` and the store's group commit (issue 20: durable creates at 0.8 of it):
 * creates at 10 and 64, each on a fresh file; and what one fsync costs on the disk under the files
 * (`full` pays one a commit). The bare handler with `full` too: what the fsyncs cost a server that
 * does nothing else, the most sessiond could reach against the bare handler with `normal`.
 */
import { smokeCreate, WIRE } from "../lib/contenders.ts";
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { startServe, startServer, type ServerProcess } from "../lib/proc.ts";
import { createLoad, createTimings, over, type Scenario } from "../lib/scenario.ts";
import { migrate } from "../lib/seed.ts";

export const scenarioSync: Scenario = async ({ settings, freshDb, measure }) => {
  const fsync = probeFsync(freshDb("fsync-probe"));
  const servers = {} as Record<"normal" | "full", ServerProcess>;
  for (const sync of ["normal", "full"] as const) {
    const server = await startServe(["--db", freshDb(`sync-${sync}`), "--sqlite-sync", sync, "--access-log-sample", "0"]);
    if (server.listening.sqliteSync !== sync)
      throw new Error(`--sqlite-sync ${sync}: the server says ${String(server.listening.sqliteSync)}`);
    await smokeCreate(server.url);
    servers[sync] = server;
  }
  const [rawDb, rawFullDb] = [freshDb("sync-raw"), freshDb("sync-raw-full")];
  await migrate(rawDb);
  await migrate(rawFullDb);
  const raw = await startServer("raw", rawDb);
  const rawFull = await startServer("raw", rawFullDb, ["--sqlite-sync", "full"]);
  await smokeCreate(raw.url, WIRE.raw);
  await smokeCreate(rawFull.url, WIRE.raw);
  const figures = [];
  for (const timing of createTimings(settings, settings.shortDurationS)) {
    const label = `create c${timing.connections}`;
    const loads = {
      normal: createLoad(servers.normal, timing),
      full: createLoad(servers.full, timing),
      raw: createLoad(raw, timing, WIRE.raw),
      rawFull: createLoad(rawFull, timing, WIRE.raw),
    };
    const { normal, full, raw: bare, rawFull: bareFull } = await measure(label, loads);
    const meaning = `creates/s with --sqlite-sync full over normal (p99 ${full.latencyMs.p99} ms against ${normal.latencyMs.p99} ms)`;
    figures.push(over(`${label}: sync full / normal`, full, normal, meaning, { min: 0.8 }));
    const overBare = "creates/s of sessiond serve with full (its default) over the bare handler with normal and group commit";
    figures.push(over(`${label}: sync full / bare handler, normal`, full, bare, overBare, { min: 0.8 }));
    const ceiling =
      "creates/s of the bare handler with full over with normal: what the fsyncs cost it (sessiond's ceiling against the line above)";
    figures.push(over(`${label}: bare handler full / bare handler normal`, bareFull, bare, ceiling));
    const bothFull = "creates/s of sessiond serve and of the bare handler, both with full";
    figures.push(over(`${label}: sync full / bare handler, full`, full, bareFull, bothFull));
  }
  return { figures, notes: [`One 4 KiB write + fdatasync on the disk under the files: median ${fsync.median} ms, p90 ${fsync.p90} ms.`] };
};

/** Times 200 writes of 4 KiB, each followed by fdatasync, in a file at `path` (removed after). */
function probeFsync(path: string): { median: number; p90: number } {
  const fd = openSync(path, "w");
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    writeSync(fd, block, 0, block.length, 0);
    fdatasyncSync(fd);
    times.push(performance.now() - started);
  }
  closeSync(fd);
  rmSync(path, { force: true });
  times.sort((a, b) => a - b);
  return { median: Number(times[100]!.toFixed(3)), p90: Number(times[180]!.toFixed(3)) };
}
