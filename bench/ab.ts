/**
 * A/B check for server changes: the working tree's sessiond against another checkout's (e.g. a
 * `git worktree` of main with its own `npm ci`), plus the bare handler and Hono, on copies of one
 * seeded file, in alternating rounds. Prints req/s and each server's ratio to the base.
 *
 *   node bench/ab.ts --base /path/to/other/checkout [--loads get,list,create] [--seconds 6] [--rounds 3]
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { compareLoads, runLoad, type LoadSpec } from "./lib/load.ts";
import { REQUESTS } from "./lib/requests.ts";
import { seed } from "./lib/seed.ts";
import { treeCpuSeconds } from "./lib/tree.ts";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    loads: { type: "string", default: "get,list,create" },
    seconds: { type: "string", default: "6" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "10" },
    // Also the server's own CPU time per request (from /proc), which a busy machine disturbs less.
    cpu: { type: "boolean", default: false },
  },
});
const here = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "sessiond-ab-"));
const children: ReturnType<typeof spawn>[] = [];
const pids: Record<string, number> = {};

function start(name: string, tree: string, kind: string, db: string): Promise<string> {
  const child = spawn(process.execPath, ["--conditions=@sessiond/source", join(tree, "bench/servers", `${kind}.ts`), "--db", db], {
    cwd: tree,
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  children.push(child);
  pids[name] = child.pid!;
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${kind} in ${tree} exited ${code}`)));
    child.stdout!.once("data", (chunk: Buffer) => resolve((JSON.parse(chunk.toString().split("\n")[0]!) as { url: string }).url));
  });
}

try {
  const seedDb = join(dir, "seed.db");
  const { sampleIds } = await seed(seedDb, { rows: 10_000, sampleIds: 1_000 });
  const servers: Record<string, { tree: string; kind: "sessiond" | "raw" | "hono" }> = {
    new: { tree: here, kind: "sessiond" },
    raw: { tree: here, kind: "raw" },
    hono: { tree: here, kind: "hono" },
  };
  if (values.base) servers.base = { tree: values.base, kind: "sessiond" };
  const urls: Record<string, string> = {};
  for (const [name, { tree, kind }] of Object.entries(servers)) {
    const db = join(dir, `${name}.db`);
    copyFileSync(seedDb, db);
    urls[name] = await start(name, tree, kind, db);
  }
  for (const load of values.loads.split(",")) {
    const specs = Object.fromEntries(
      Object.entries(servers).map(([name, { kind }]) => {
        const wire = REQUESTS[kind];
        const spec: LoadSpec = {
          url: urls[name]!,
          method: load === "create" ? "POST" : "GET",
          paths: load === "get" ? sampleIds.map(wire.getPath) : load === "list" ? [wire.listPath] : [wire.create.path],
          body: load === "create" ? wire.create.body : undefined,
          connections: Number(values.connections),
          durationS: Number(values.seconds),
          warmupS: 3,
        };
        return [name, spec];
      }),
    );
    const results = await compareLoads(specs, Number(values.rounds));
    const reference = results.base ?? results.raw!;
    const line = Object.entries(results)
      .map(([name, r]) => `${name} ${Math.round(r.rps)} (${(r.rps / reference.rps).toFixed(2)})${r.non2xx ? ` NON2XX ${r.non2xx}` : ""}`)
      .join("  ");
    if (values.cpu) {
      // Each server alone for a few short rounds: its CPU time over the responses it sent.
      const used: Record<string, { cpu: number; responses: number }> = {};
      for (let round = 0; round < Number(values.rounds); round++) {
        for (const [name, spec] of Object.entries(specs)) {
          const before = treeCpuSeconds(pids[name]!) ?? 0;
          const result = await runLoad({ ...spec, warmupS: 0, durationS: 2 });
          const entry = (used[name] ??= { cpu: 0, responses: 0 });
          entry.cpu += (treeCpuSeconds(pids[name]!) ?? 0) - before;
          entry.responses += result.responses;
        }
      }
      const cpu = Object.entries(used).map(([name, { cpu, responses }]) => `${name} ${((cpu * 1e6) / responses).toFixed(1)}`);
      console.log(`${load} CPU µs per request: ${cpu.join("  ")}`);
    }
    console.log(
      `${load}: ${line}  new/raw ${(results.new!.rps / results.raw!.rps).toFixed(2)} new/hono ${(results.new!.rps / results.hono!.rps).toFixed(2)}`,
    );
  }
} finally {
  for (const child of children) child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
