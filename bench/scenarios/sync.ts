/**
 * Issue 13, section 2: `sessiond serve --sqlite-sync normal` vs `full`, session.create at 10 and 64
 * connections, each server on its own fresh SQLite file, loads alternating between the two. Also
 * what one fsync costs on the disk under the files, since that is what `full` pays per commit.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { compareLoads, type LoadResult, type LoadSpec } from "../lib/load.ts";
import { startServe, type ServerProcess } from "../lib/proc.ts";
import { createLoad, describeLoad, ratio, smokeCreate, type ScenarioContext } from "../lib/scenario.ts";

export const SYNC_MODES = ["normal", "full"] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export interface FsyncProbe {
  count: number;
  medianMs: number;
  p90Ms: number;
}

export interface SyncScenario {
  fsyncProbe: FsyncProbe;
  runs: (LoadResult & { sync: SyncMode })[];
  ratios: { connections: number; fullOverNormal: number; p99NormalMs: number; p99FullMs: number }[];
}

export async function scenarioSync({ settings, log, freshDb }: ScenarioContext): Promise<SyncScenario> {
  log("scenario 8: --sqlite-sync normal vs full, session.create");
  const fsyncProbe = probeFsync(freshDb("fsync-probe"));
  log(`  one 4 KiB write + fdatasync: median ${fsyncProbe.medianMs} ms, p90 ${fsyncProbe.p90Ms} ms`);
  const servers = new Map<SyncMode, ServerProcess>();
  try {
    for (const sync of SYNC_MODES) {
      const server = await startServe(["--db", freshDb(`sync-${sync}`), "--sqlite-sync", sync]);
      servers.set(sync, server);
      if (server.listening.sqliteSync !== sync)
        throw new Error(`--sqlite-sync ${sync}: the server says ${String(server.listening.sqliteSync)}`);
      await smokeCreate(server);
    }
    const runs: SyncScenario["runs"] = [];
    for (const [level, connections] of settings.createConnections.entries()) {
      const spec = (sync: SyncMode): LoadSpec =>
        createLoad(servers.get(sync)!.url, {
          connections,
          durationS: settings.shortDurationS,
          warmupS: level === 0 ? settings.warmupS : settings.rewarmS,
        });
      const results = await compareLoads({ normal: spec("normal"), full: spec("full") }, settings.rounds);
      for (const sync of SYNC_MODES) {
        runs.push({ sync, ...results[sync] });
        log(describeLoad(`  ${sync} c${connections}`, results[sync]));
      }
    }
    const pick = (sync: SyncMode, connections: number) => runs.find((r) => r.sync === sync && r.connections === connections)!;
    return {
      fsyncProbe,
      runs,
      ratios: settings.createConnections.map((connections) => ({
        connections,
        fullOverNormal: ratio(pick("full", connections).rps, pick("normal", connections).rps),
        p99NormalMs: pick("normal", connections).latencyMs.p99,
        p99FullMs: pick("full", connections).latencyMs.p99,
      })),
    };
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

/** Times `count` 4 KiB writes, each followed by fdatasync, in one file at `path` (removed after). */
function probeFsync(path: string, count = 200): FsyncProbe {
  const fd = openSync(path, "w");
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      writeSync(fd, block, 0, block.length, 0);
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Number(times[Math.floor(q * times.length)]!.toFixed(3));
  return { count, medianMs: at(0.5), p90Ms: at(0.9) };
}
