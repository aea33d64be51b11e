/**
 * Durability and workers (issue 13, sections 2 and 3), in about a minute:
 * - sync: `sessiond serve --sqlite-sync normal` vs `full`, session.create at 10 and 64 connections;
 * - workers: `--workers 1` vs `--workers 2` (SQLite, the default sync), session.create at 64
 *   connections, session.get over 1,000 IDs of 10,000 stored and a session.list page of 50, at 10.
 * Every server is the real `sessiond serve` process (the CLI, as users run it), without the access
 * log, on its own fresh SQLite file. The loads alternate between the two servers compared
 * (lib/load.ts), so the ratio is the figure that counts; the absolute numbers move with the machine.
 *
 * - prototype: group commit with the writes on the main thread or on a writer thread, normal and
 *   full, on a bare handler (prototypes/group-commit.ts), session.create at 10 and 64 connections.
 *
 * - postgres (only when asked): a durable PostgreSQL cluster (fsync on), one instance vs two
 *   (--workers 2), session.create at 10 and 64 connections and a list page at 10.
 *
 *   node bench/durability.ts [--only=sync,workers,prototype,postgres] [--seconds=3]   (through npm: npm run bench:durability)
 *
 * Prints a Markdown report and writes bench/results/durability-<parts>.json and .md.
 */
import { spawn } from "node:child_process";
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compareLoads, type LoadResult, type LoadSpec } from "./lib/load.ts";
import { describeMachine } from "./lib/machine.ts";
import { nodeBinary } from "./lib/proc.ts";
import { seed } from "./lib/seed.ts";
import pg from "pg";
import { createDatabase, startPostgres } from "../test/support/postgres.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const CLI = join(ROOT, "cli", "src", "main.ts");

const { values: flags } = parseArgs({ options: { only: { type: "string" }, seconds: { type: "string" } } });
const only = new Set((flags.only ?? "sync,workers,prototype").split(","));
const durationS = Number(flags.seconds ?? 3);
const WARMUP_S = 2;
const ROUNDS = 3;

const CREATE_PATH = "/trpc/session.create";
const CREATE_BODY = '{"json":{}}';
const LIST_PATH = `/trpc/session.list?input=${encodeURIComponent('{"json":{"limit":50}}')}`;
const getPath = (id: string): string => `/trpc/session.get?input=${encodeURIComponent(JSON.stringify({ json: { id } }))}`;

const scratch = mkdtempSync(join(tmpdir(), "sessiond-bench-durability-"));
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Server {
  url: string;
  stop(): Promise<void>;
}
const running = new Set<Server>();

/** `sessiond serve` with these flags on a free port; resolves once it logs "listening". */
function serve(args: string[]): Promise<Server> {
  return start([CLI, "serve", "--host", "127.0.0.1", "--port", "0", "--access-log-sample", "0", ...args]);
}

/** The group-commit prototype (prototypes/group-commit.ts) in one design and sync mode. */
function prototype(design: "main" | "fsync" | "thread", sync: "normal" | "full"): Promise<Server> {
  return start([
    join(BENCH_DIR, "prototypes", "group-commit.ts"),
    "--db",
    join(scratch, `prototype-${design}-${sync}.db`),
    "--design",
    design,
    "--sync",
    sync,
  ]);
}

/** A server process; resolves with its URL once it prints a "listening" log line or a bare {"url"}. */
async function start(args: string[]): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production" };
  for (const name of Object.keys(env)) if (name.startsWith("SESSIOND_") || name === "DATABASE_URL") delete env[name];
  if (!env.NODE_OPTIONS?.includes("--conditions=@sessiond/source"))
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --conditions=@sessiond/source`.trim();
  const child = spawn(nodeBinary(), args, { env, stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sessiond ${args.join(" ")} did not start`)), 30_000);
    // At info without the access log, nothing but start and stop is logged.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if ((entry.msg === "listening" || entry.msg === undefined) && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
    void exited.then(() => reject(new Error(`sessiond ${args.join(" ")} exited before listening`)));
  });
  const server: Server = {
    url,
    async stop() {
      running.delete(server);
      child.kill("SIGTERM");
      await exited;
    },
  };
  running.add(server);
  return server;
}

async function stopAll(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));

function spec(url: string, connections: number, method: "GET" | "POST", paths: string[], body?: string): LoadSpec {
  return { url, method, paths, body, connections, durationS, warmupS: WARMUP_S };
}

interface Comparison {
  scenario: string;
  connections: number;
  baseline: string;
  results: Record<string, LoadResult>;
  /** Each server's req/s over the baseline's. */
  ratios: Record<string, number>;
}
const comparisons: Comparison[] = [];

/** Loads that alternate between the servers; the first is the baseline of the ratios. */
async function compare(scenario: string, servers: [string, LoadSpec][]): Promise<void> {
  const baseline = servers[0]![0];
  log(`${scenario}: ${servers.map(([name]) => name).join(" vs ")} at ${servers[0]![1].connections} connections`);
  const results = await compareLoads(Object.fromEntries(servers), ROUNDS);
  for (const [name, result] of Object.entries(results)) {
    if (result.non2xx || result.errors || result.timeouts)
      throw new Error(`${scenario} ${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  const ratios = Object.fromEntries(
    Object.entries(results).map(([name, result]) => [name, Number((result.rps / results[baseline]!.rps).toFixed(2))]),
  );
  comparisons.push({ scenario, connections: servers[0]![1].connections, baseline, results, ratios });
}

async function syncScenario(): Promise<void> {
  const normal = await serve(["--db", join(scratch, "sync-normal.db"), "--sqlite-sync", "normal"]);
  const full = await serve(["--db", join(scratch, "sync-full.db"), "--sqlite-sync", "full"]);
  try {
    for (const connections of [10, 64]) {
      await compare("session.create", [
        ["sync normal", spec(normal.url, connections, "POST", [CREATE_PATH], CREATE_BODY)],
        ["sync full", spec(full.url, connections, "POST", [CREATE_PATH], CREATE_BODY)],
      ]);
    }
  } finally {
    await Promise.all([normal.stop(), full.stop()]);
  }
}

async function workersScenario(): Promise<void> {
  const dbs = { one: join(scratch, "workers-1.db"), two: join(scratch, "workers-2.db") };
  const ids = (await seed(dbs.one, { rows: 10_000, sampleIds: 1000 })).sampleIds;
  const idsTwo = (await seed(dbs.two, { rows: 10_000, sampleIds: 1000 })).sampleIds;
  const one = await serve(["--db", dbs.one, "--workers", "1"]);
  const two = await serve(["--db", dbs.two, "--workers", "2"]);
  try {
    await compare("session.get", [
      ["1 worker", spec(one.url, 10, "GET", ids.map(getPath))],
      ["2 workers", spec(two.url, 10, "GET", idsTwo.map(getPath))],
    ]);
    await compare("session.list (50)", [
      ["1 worker", spec(one.url, 10, "GET", [LIST_PATH])],
      ["2 workers", spec(two.url, 10, "GET", [LIST_PATH])],
    ]);
    for (const connections of [10, 64]) {
      await compare("session.create", [
        ["1 worker", spec(one.url, connections, "POST", [CREATE_PATH], CREATE_BODY)],
        ["2 workers", spec(two.url, connections, "POST", [CREATE_PATH], CREATE_BODY)],
      ]);
    }
  } finally {
    await Promise.all([one.stop(), two.stop()]);
  }
}

async function prototypeScenario(): Promise<void> {
  const servers = {
    "bare, main thread, normal": await prototype("main", "normal"),
    "bare, main thread, full": await prototype("main", "full"),
    "bare, writer thread, full": await prototype("thread", "full"),
    "bare, normal + async WAL fdatasync": await prototype("fsync", "full"),
  };
  try {
    for (const connections of [10, 64]) {
      await compare(
        "create (prototype)",
        Object.entries(servers).map(([name, server]) => [name, spec(server.url, connections, "POST", [CREATE_PATH], CREATE_BODY)]),
      );
    }
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
}

/** A durable PostgreSQL cluster (fsync and synchronous commit on), one database per server. */
async function postgresScenario(): Promise<void> {
  const cluster = await startPostgres({ durable: true });
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  const shown = await admin.query(
    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')",
  );
  await admin.end();
  postgresSettings = Object.fromEntries(shown.rows.map((row: { name: string; setting: string }) => [row.name, row.setting]));
  const one = await serve(["--db", await createDatabase(cluster.url), "--workers", "1"]);
  const two = await serve(["--db", await createDatabase(cluster.url), "--workers", "2"]);
  try {
    for (const connections of [10, 64]) {
      await compare("session.create (PostgreSQL, durable)", [
        ["1 instance", spec(one.url, connections, "POST", [CREATE_PATH], CREATE_BODY)],
        ["2 instances (--workers 2)", spec(two.url, connections, "POST", [CREATE_PATH], CREATE_BODY)],
      ]);
    }
    await compare("session.list (50) (PostgreSQL, durable)", [
      ["1 instance", spec(one.url, 10, "GET", [LIST_PATH])],
      ["2 instances (--workers 2)", spec(two.url, 10, "GET", [LIST_PATH])],
    ]);
  } finally {
    await Promise.all([one.stop(), two.stop()]);
    await cluster.destroy();
  }
}
let postgresSettings: Record<string, string> | undefined;

function markdown(): string {
  const machine = describeMachine();
  const lines = [
    `Run ${new Date().toISOString()} on ${JSON.stringify(machine)}; ${WARMUP_S} s warm-up per server, then ${durationS} s per server in ${ROUNDS} alternating rounds.`,
    "",
    ...(postgresSettings ? [`PostgreSQL: ${JSON.stringify(postgresSettings)}.`, ""] : []),
    `The disk under the SQLite files: one 4 KiB write + fdatasync takes ${fsyncProbe.medianMs} ms (median of ${fsyncProbe.count}, p90 ${fsyncProbe.p90Ms} ms). Load average before the run: ${loadBefore.join(", ")}.`,
    "",
    "| scenario | connections | server | req/s | p50 ms | p99 ms | req/s ratio to the first |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const comparison of comparisons) {
    for (const [name, result] of Object.entries(comparison.results)) {
      const ratio = name === comparison.baseline ? "baseline" : `**${comparison.ratios[name]}×**`;
      lines.push(
        `| ${comparison.scenario} | ${comparison.connections} | ${name} | ${Math.round(result.rps).toLocaleString("en-US")} | ${result.latencyMs.p50} | ${result.latencyMs.p99} | ${ratio} |`,
      );
    }
  }
  return lines.join("\n");
}

/** What one fsync costs on the disk the SQLite files live on: what `full` pays per commit. */
function probeFsync(count = 200): { count: number; medianMs: number; p90Ms: number } {
  const fd = openSync(join(scratch, "fsync-probe"), "w");
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
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Number(times[Math.floor(q * times.length)]!.toFixed(3));
  return { count, medianMs: at(0.5), p90Ms: at(0.9) };
}

const loadBefore = loadavg().map((value) => Number(value.toFixed(2)));
const fsyncProbe = probeFsync();
try {
  if (only.has("sync")) await syncScenario();
  if (only.has("workers")) await workersScenario();
  if (only.has("prototype")) await prototypeScenario();
  if (only.has("postgres")) await postgresScenario();
  const report = markdown();
  process.stdout.write(`${report}\n`);
  // One file per set of parts (each part alone fits in a minute); a run with other seconds is a trial.
  const out = join(BENCH_DIR, "results", flags.seconds ? "tmp" : "");
  const name = `durability-${[...only].sort().join("-")}`;
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `${name}.json`),
    `${JSON.stringify({ machine: describeMachine(), date: new Date().toISOString(), loadBefore, fsyncProbe, durationS, comparisons }, null, 2)}\n`,
  );
  writeFileSync(join(out, `${name}.md`), `${report}\n`);
} finally {
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
}
