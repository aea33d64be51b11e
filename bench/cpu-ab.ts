/**
 * Server CPU per request, A against B: each contender in its own process on its own copy of one
 * seeded file, loads in alternating rounds, CPU from /proc. Less disturbed by other processes than
 * requests per second.
 *
 *   node --conditions=@sessiond/source bench/cpu-ab.ts <name>=<kind>[:<flags>] ... [--loads get,list,create] [--seconds 3] [--rounds 4]
 *   kind: serve (sessiond serve over REST, with flags), serve-trpc (the same over tRPC), plain, raw
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { REST, TRPC } from "./lib/contenders.ts";
import { treeCpuSeconds } from "./lib/cpu.ts";
import { startServe, startServer, stopAll, type ServerProcess } from "./lib/proc.ts";
import { seed } from "./lib/seed.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    loads: { type: "string", default: "get,list" },
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "4" },
  },
});
const dir = mkdtempSync(join(tmpdir(), "sessiond-cpu-ab-"));
const seeded = join(dir, "seed.db");
const { sampleIds: ids } = await seed(seeded, 2000, 500);
const contenders: { name: string; server: ServerProcess; wire: typeof REST }[] = [];
try {
  for (const spec of positionals) {
    const [name, rest] = spec.split("=") as [string, string];
    const [kind, flags] = rest.split(":") as [string, string | undefined];
    const db = join(dir, `${name}.db`);
    copyFileSync(seeded, db);
    const serve = kind.startsWith("serve");
    const server = serve ? await startServe(["--db", db, ...(flags ? flags.split(" ") : [])]) : await startServer(kind, db);
    contenders.push({ name, server, wire: kind === "serve-trpc" || kind === "raw" ? TRPC : REST });
  }
  const loads: Record<string, (wire: typeof REST) => { method: "GET" | "POST"; paths: string[]; body?: string }> = {
    get: (wire) => ({ method: "GET", paths: ids.map(wire.getPath) }),
    list: (wire) => ({ method: "GET", paths: [wire.listPath] }),
  };
  for (const load of values.loads.split(",")) {
    const totals = new Map<string, { cpu: number; requests: number }>();
    for (let round = 0; round <= Number(values.rounds); round++) {
      for (const { name, server, wire } of round % 2 ? [...contenders].reverse() : contenders) {
        const spec = loads[load]!(wire);
        const before = treeCpuSeconds(server.pid)!;
        const result = await new Promise<autocannon.Result>((resolve, reject) =>
          autocannon(
            {
              url: server.url,
              connections: 10,
              duration: Number(values.seconds),
              requests: spec.paths.map((path) => ({ path, method: spec.method })),
            },
            (error, done) => (error ? reject(error) : resolve(done)),
          ),
        );
        const cpu = treeCpuSeconds(server.pid)! - before;
        if (round === 0) continue; // warm-up
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name} ${load}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        const total = totals.get(name) ?? { cpu: 0, requests: 0 };
        totals.set(name, { cpu: total.cpu + cpu, requests: total.requests + result.requests.total });
      }
    }
    const line = [...totals].map(
      ([name, t]) =>
        `${name} ${((t.cpu / t.requests) * 1e6).toFixed(1)} µs/req (${Math.round(t.requests / (Number(values.seconds) * Number(values.rounds)))} req/s)`,
    );
    console.log(`${load}: ${line.join("  |  ")}`);
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
