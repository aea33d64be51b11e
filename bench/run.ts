/**
 * sessiond's benchmark suite, every figure of issues 13 and 12 in one run: `npm run bench` (full,
 * about ten minutes by its settings) or `npm run bench:quick` (about five and a half).
 *
 * Every scenario measures its own baselines in the same run, and the figure that counts is the
 * ratio. Servers run in child processes on loopback; the load generator (autocannon) runs here.
 * Results: bench/results/latest.{json,md,svg}; the figures section of bench/README.md is rewritten.
 *
 * Flags: --quick; --only=create,batch,read,growth,ids,rest,sync,workers,postgres,events (a partial run
 * writes results/tmp/ instead; `prototype`, the group-commit designs of bench/prototypes/, runs only
 * when named here);
 * --smoke (a one-second look at every load, to check the harness; writes results/tmp/ only);
 * --profile (CPU-profile sessiond, and the bare handler for list and get, and print where the time
 * goes), --profile-loads=list,get to pick;
 * --wait-quiet=S (first wait up to S seconds for other processes to use less than 0.3 cores).
 * SESSIOND_BENCH_PROFILE=<dir> CPU-profiles the events scenario's fan-out server into that folder.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BASELINES, targetOf, type Baseline, type Operation } from "./lib/baselines.ts";
import { cpuSnapshot, foreignBetween } from "./lib/cpu.ts";
import { benchIds, type IdResult } from "./lib/ids.ts";
import { compareLoads, type LoadResult, type LoadSpec } from "./lib/load.ts";
import { describeMachine, type Machine } from "./lib/machine.ts";
import { destroyCluster } from "./lib/postgres.ts";
import { killAll, startServer, type Memory, type ServerKind, type ServerProcess } from "./lib/proc.ts";
import { profileSessiond } from "./lib/profile.ts";
import { writeReports } from "./lib/report.ts";
import { REQUESTS } from "./lib/requests.ts";
import { createLoad, describeLoad, postJson, ratio, smoke, smokeCreate, type ScenarioContext } from "./lib/scenario.ts";
import { migrate, seed, type SeedResult } from "./lib/seed.ts";
import { eventCostPostgres, scenarioEvents, type EventsScenario } from "./scenarios/events.ts";
import { scenarioPostgres, type PostgresScenario } from "./scenarios/postgres.ts";
import { scenarioPrototype, type PrototypeScenario } from "./scenarios/prototype.ts";
import { scenarioSync, type SyncScenario } from "./scenarios/sync.ts";
import { scenarioWorkers, type WorkersScenario } from "./scenarios/workers.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = ["create", "batch", "read", "growth", "ids", "rest", "sync", "workers", "postgres", "events"] as const;
/** Run only when named in --only (an experiment, not a figure of the issues). */
const OPT_IN = ["prototype"] as const;
type Scenario = (typeof SCENARIOS)[number] | (typeof OPT_IN)[number];

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    only: { type: "string" },
    profile: { type: "boolean", default: false },
    "profile-loads": { type: "string" },
    "wait-quiet": { type: "string" },
  },
});

const [major] = process.versions.node.split(".").map(Number);
if ((major ?? 0) < 24) {
  console.error(`bench: needs Node 24 (this is ${process.version}); run it with npm run bench`);
  process.exit(2);
}

const smokeRun = flags.smoke === true;
const quick = flags.quick === true || smokeRun;
const mode = quick ? "quick" : "full";
const KNOWN: readonly Scenario[] = [...SCENARIOS, ...OPT_IN];
const asked = flags.only?.split(",").map((s) => s.trim()) ?? [];
const unknown = asked.filter((s) => !KNOWN.includes(s as Scenario));
if (unknown.length > 0) {
  console.error(`bench: unknown scenario ${unknown.join(", ")}; known: ${KNOWN.join(", ")}`);
  process.exit(2);
}
const only = new Set<Scenario>(flags.only ? (asked as Scenario[]) : SCENARIOS);

/** Every knob of the full run, recorded in the JSON; quick mode shortens the loads. */
const fullSettings = {
  /** sessiond needs about 4 s under load to reach its steady speed (JIT); raw needs none. */
  warmupS: 5,
  /** Warm-up before a second load of the same kind (another connection count or batch size). */
  rewarmS: 2,
  durationS: 10,
  rounds: 5,
  createConnections: [10, 64],
  batchSizes: [10, 100],
  batchConnections: 10,
  readConnections: 10,
  readSeedRows: 10_000,
  readIds: 1000,
  growthSizes: [10_000, 100_000, 1_000_000],
  /** Quick mode seeds 1M only if the 100k seed predicts it within this. */
  growthSeedBudgetS: Infinity,
  growthConnections: 10,
  idsPerRound: 500_000,
  idRounds: 10,
  biasIds: 200_000,
  /** The loads of sync, workers, postgres and events (many, so each is shorter than the above). */
  shortDurationS: 6,
  workerSeedRows: 10_000,
  workerReadIds: 1000,
  eventsConnections: 64,
  fanoutSubscribers: 1000,
  /** Of those, how many parse every frame for the latency (the others only count frames). */
  fanoutParsingSubscribers: 50,
  fanoutS: 8,
  costSubscribers: 100,
};
const quickSettings = {
  ...fullSettings,
  warmupS: 3,
  rewarmS: 1,
  durationS: 3,
  rounds: 3,
  growthSeedBudgetS: 20,
  idsPerRound: 200_000,
  idRounds: 5,
  shortDurationS: 3,
  fanoutS: 4,
};
/** --smoke: every load for a moment only, to check the harness itself; its figures mean nothing. */
const smokeSettings = {
  ...quickSettings,
  warmupS: 0.5,
  rewarmS: 0.5,
  durationS: 1,
  rounds: 1,
  readSeedRows: 1000,
  readIds: 100,
  growthSizes: [1000, 10_000],
  idsPerRound: 10_000,
  idRounds: 2,
  biasIds: 10_000,
  shortDurationS: 1,
  workerSeedRows: 1000,
  workerReadIds: 100,
  fanoutSubscribers: 100,
  fanoutParsingSubscribers: 10,
  fanoutS: 1,
  costSubscribers: 10,
};
const settings = smokeRun ? smokeSettings : quick ? quickSettings : fullSettings;
export type Settings = typeof fullSettings;

const CREATE_PATH = "/trpc/session.create";
const CREATE_BODY = '{"json":{}}';
const REST_CREATE_PATH = "/session";
const REST_CREATE_BODY = "{}";
const LIST_PATH = `/trpc/session.list?input=${encodeURIComponent('{"json":{"limit":50}}')}`;
const batchPath = (size: number): string => `/trpc/${Array.from({ length: size }, () => "session.create").join(",")}?batch=1`;
const batchBody = (size: number): string => JSON.stringify(Object.fromEntries(Array.from({ length: size }, (_, i) => [i, { json: {} }])));

const tmp = mkdtempSync(join(tmpdir(), "sessiond-bench-"));
let dbCount = 0;
const freshDb = (label: string): string => join(tmp, `${++dbCount}-${label}.db`);
function removeDb(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

async function cleanup(): Promise<void> {
  killAll();
  await destroyCluster();
  rmSync(tmp, { recursive: true, force: true });
}
process.once("SIGINT", () => {
  void cleanup().finally(() => process.exit(130));
});

const log = (message: string): void => {
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
};
const t0 = performance.now();
const mib = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** sessiond's figure over each baseline's. */
const ratiosOver = (rps: (kind: ServerKind) => number): RatiosOver =>
  Object.fromEntries(BASELINES.map((baseline) => [baseline, ratio(rps("sessiond"), rps(baseline))])) as RatiosOver;
/** A create's answer: tRPC's envelope, or a REST answer (the session itself). */
const createdOk = (body: unknown): boolean => typeof (REQUESTS.sessiond.createdId(body) ?? (body as { id?: unknown }).id) === "string";

/** Reads the server's memory every `sampleMs` during a load; keeps the maximum. */
function memoryTracker(server: ServerProcess): { onSample: () => void; max: () => Memory | null } {
  let max: Memory | null = null;
  return {
    onSample() {
      server.memory().then(
        (m) => {
          if (!max || m.rss > max.rss) max = m;
        },
        () => {},
      );
    },
    max: () => max,
  };
}

async function idleMemory(server: ServerProcess): Promise<Memory> {
  await sleep(300);
  return server.memory();
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: one create per request, sessiond vs raw (the limit) and the peers (stock tRPC, oRPC, Hono).

interface CreateRun extends LoadResult {
  server: ServerKind;
}
/** sessiond's req/s over each baseline's. */
export type RatiosOver = Record<Baseline, number>;
const ALL_KINDS: ServerKind[] = [...BASELINES, "sessiond"];

interface CreateScenario {
  runs: CreateRun[];
  ratios: { connections: number; sessiondOver: RatiosOver; p50SessiondOverStock: number }[];
  memory: { idle: Memory; underLoad: Memory | null; afterLoad: Memory };
}

async function scenarioCreate(): Promise<CreateScenario> {
  log("scenario 1: session.create, one per request");
  const kinds = ALL_KINDS;
  const servers = new Map<ServerKind, ServerProcess>();
  try {
    // The answer with its ID and times blanked: the bare handler's must be sessiond's.
    const shapes = new Map<ServerKind, string>();
    for (const kind of kinds) {
      const server = await startServer(kind, freshDb(`create-${kind}`));
      servers.set(kind, server);
      const { text } = await smokeCreate(server, REQUESTS[kind]);
      shapes.set(
        kind,
        text.replace(/ses_[0-9a-f]{12}[0-9A-Za-z]{14}/g, "<id>").replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>"),
      );
    }
    if (shapes.get("raw") !== shapes.get("sessiond")) {
      throw new Error(`raw does not answer a create as sessiond does:\n${shapes.get("raw")}\n${shapes.get("sessiond")}`);
    }
    const sessiond = servers.get("sessiond")!;
    const idle = await idleMemory(sessiond);
    const runs: CreateRun[] = [];
    const tracker = memoryTracker(sessiond);
    const busiest = Math.max(...settings.createConnections);
    for (const [level, connections] of settings.createConnections.entries()) {
      const spec = (kind: ServerKind): LoadSpec => ({
        ...createLoad(
          servers.get(kind)!.url,
          { connections, durationS: settings.durationS, warmupS: level === 0 ? settings.warmupS : settings.rewarmS },
          REQUESTS[kind],
        ),
        ...(kind === "sessiond" && connections === busiest ? { onSample: tracker.onSample, sampleMs: 250 } : {}),
      });
      const results = await compareLoads(
        Object.fromEntries(kinds.map((kind) => [kind, spec(kind)])) as Record<ServerKind, LoadSpec>,
        settings.rounds,
      );
      for (const kind of kinds) {
        runs.push({ server: kind, ...results[kind] });
        log(describeLoad(`  ${kind} c${connections}`, results[kind]));
      }
    }
    const afterLoad = await idleMemory(sessiond);
    const pick = (kind: ServerKind, connections: number) => runs.find((r) => r.server === kind && r.connections === connections)!;
    return {
      runs,
      ratios: settings.createConnections.map((connections) => ({
        connections,
        sessiondOver: ratiosOver((kind) => pick(kind, connections).rps),
        p50SessiondOverStock: ratio(pick("sessiond", connections).latencyMs.p50, pick("stock", connections).latencyMs.p50),
      })),
      memory: { idle, underLoad: tracker.max(), afterLoad },
    };
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 7: create over REST (POST /session, plain JSON) vs over tRPC, on one sessiond.

interface RestScenario {
  runs: (LoadResult & { route: "rest" | "trpc" })[];
  ratios: { connections: number; restOverTrpc: number; p50RestOverTrpc: number }[];
}

async function scenarioRest(): Promise<RestScenario> {
  log("scenario 7: create over REST vs over tRPC, one sessiond");
  const server = await startServer("sessiond", freshDb("rest"));
  try {
    await smoke(server, REST_CREATE_PATH, postJson(REST_CREATE_BODY), createdOk);
    await smoke(server, CREATE_PATH, postJson(CREATE_BODY), createdOk);
    const runs: RestScenario["runs"] = [];
    for (const [level, connections] of settings.createConnections.entries()) {
      const spec = (path: string, body: string): LoadSpec => ({
        url: server.url,
        method: "POST",
        paths: [path],
        body,
        connections,
        durationS: settings.durationS,
        warmupS: level === 0 ? settings.warmupS : settings.rewarmS,
      });
      const results = await compareLoads(
        { trpc: spec(CREATE_PATH, CREATE_BODY), rest: spec(REST_CREATE_PATH, REST_CREATE_BODY) },
        settings.rounds,
      );
      for (const route of ["trpc", "rest"] as const) {
        runs.push({ route, ...results[route] });
        log(describeLoad(`  ${route} c${connections}`, results[route]));
      }
    }
    const pick = (route: "rest" | "trpc", connections: number) => runs.find((r) => r.route === route && r.connections === connections)!;
    return {
      runs,
      ratios: settings.createConnections.map((connections) => ({
        connections,
        restOverTrpc: ratio(pick("rest", connections).rps, pick("trpc", connections).rps),
        p50RestOverTrpc: ratio(pick("rest", connections).latencyMs.p50, pick("trpc", connections).latencyMs.p50),
      })),
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: batched creates in httpBatchLink's wire format, sessiond vs stock.

interface BatchRun extends LoadResult {
  server: ServerKind;
  batchSize: number;
  createsPerS: number;
}
interface BatchScenario {
  runs: BatchRun[];
  ratios: { batchSize: number; sessiondOverStock: number }[];
  target: { batchSize: number; createsPerS: number; measured: number; met: boolean };
}

async function scenarioBatch(): Promise<BatchScenario> {
  log("scenario 2: batched session.create");
  const kinds: ServerKind[] = ["stock", "sessiond"];
  const servers = new Map<ServerKind, ServerProcess>();
  try {
    for (const kind of kinds) {
      const server = await startServer(kind, freshDb(`batch-${kind}`));
      servers.set(kind, server);
      for (const size of settings.batchSizes) {
        await smoke(
          server,
          batchPath(size),
          postJson(batchBody(size)),
          (body) => Array.isArray(body) && body.length === size && body.every(createdOk),
        );
      }
    }
    const runs: BatchRun[] = [];
    for (const [level, batchSize] of settings.batchSizes.entries()) {
      const spec = (kind: ServerKind): LoadSpec => ({
        url: servers.get(kind)!.url,
        method: "POST",
        paths: [batchPath(batchSize)],
        body: batchBody(batchSize),
        connections: settings.batchConnections,
        durationS: settings.durationS,
        warmupS: level === 0 ? settings.warmupS : settings.rewarmS,
      });
      const results = await compareLoads({ stock: spec("stock"), sessiond: spec("sessiond") }, settings.rounds);
      for (const kind of kinds) {
        const result = results[kind as "stock" | "sessiond"];
        const run = { server: kind, batchSize, createsPerS: Math.round(result.rps * batchSize), ...result };
        runs.push(run);
        log(`${describeLoad(`  ${kind} batch ${batchSize}`, result)} → ${run.createsPerS} creates/s`);
      }
    }
    const pick = (kind: ServerKind, size: number) => runs.find((r) => r.server === kind && r.batchSize === size)!;
    const largest = Math.max(...settings.batchSizes);
    const measured = pick("sessiond", largest).createsPerS;
    return {
      runs,
      ratios: settings.batchSizes.map((batchSize) => ({
        batchSize,
        sessiondOverStock: ratio(pick("sessiond", batchSize).createsPerS, pick("stock", batchSize).createsPerS),
      })),
      target: { batchSize: largest, createsPerS: 30_000, measured, met: measured >= 30_000 },
    };
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: reads, session.get over existing IDs and a session.list page, sessiond vs the
// bare handler and the peers, each server on its own copy of one seeded file.

interface ReadRun extends LoadResult {
  server: ServerKind;
  endpoint: "get" | "list";
}
interface ReadScenario {
  seededRows: number;
  distinctIds: number;
  runs: ReadRun[];
  ratios: { endpoint: "get" | "list"; sessiondOver: RatiosOver; p50SessiondOverStock: number }[];
}

async function scenarioRead(): Promise<ReadScenario> {
  log(`scenario 3: session.get and session.list on ${settings.readSeedRows} sessions`);
  // sessiond first: the others' answers are checked against its own.
  const kinds: ServerKind[] = ["sessiond", ...BASELINES];
  const servers = new Map<ServerKind, ServerProcess>();
  const seedDb = freshDb("read-seed");
  const seeded = await seed(seedDb, { rows: settings.readSeedRows, sampleIds: settings.readIds });
  const sampleId = seeded.sampleIds[0]!;
  try {
    let reference: { get: string; list: string; pageIds: string[] } | undefined;
    for (const kind of kinds) {
      // The same rows in the same order for every server, in a file of its own.
      const db = freshDb(`read-${kind}`);
      copyFileSync(seedDb, db);
      const server = await startServer(kind, db);
      servers.set(kind, server);
      const wire = REQUESTS[kind];
      const get = await smoke(server, wire.getPath(sampleId), {}, (body) => wire.createdId(body) === sampleId);
      const list = await smoke(server, wire.listPath, {}, (body) => wire.pageIds(body)?.length === 50);
      const pageIds = wire.pageIds(list.body)!;
      if (!reference) {
        reference = { get: get.text, list: list.text, pageIds };
      } else if (
        kind === "raw" ? get.text !== reference.get || list.text !== reference.list : pageIds.join() !== reference.pageIds.join()
      ) {
        throw new Error(`${kind} does not answer what sessiond answers (${kind === "raw" ? "byte for byte" : "the same page"})`);
      }
    }
    const runs: ReadRun[] = [];
    for (const endpoint of ["get", "list"] as const) {
      const spec = (kind: ServerKind): LoadSpec => ({
        url: servers.get(kind)!.url,
        method: "GET",
        paths: endpoint === "get" ? seeded.sampleIds.map(REQUESTS[kind].getPath) : [REQUESTS[kind].listPath],
        connections: settings.readConnections,
        durationS: settings.durationS,
        warmupS: settings.warmupS,
      });
      const results = await compareLoads(
        Object.fromEntries(kinds.map((kind) => [kind, spec(kind)])) as Record<ServerKind, LoadSpec>,
        settings.rounds,
      );
      for (const kind of kinds) {
        runs.push({ server: kind, endpoint, ...results[kind] });
        log(describeLoad(`  ${kind} ${endpoint}`, results[kind]));
      }
    }
    const pick = (kind: ServerKind, endpoint: string) => runs.find((r) => r.server === kind && r.endpoint === endpoint)!;
    return {
      seededRows: settings.readSeedRows,
      distinctIds: settings.readIds,
      runs,
      ratios: (["get", "list"] as const).map((endpoint) => ({
        endpoint,
        sessiondOver: ratiosOver((kind) => pick(kind, endpoint).rps),
        p50SessiondOverStock: ratio(pick("sessiond", endpoint).latencyMs.p50, pick("stock", endpoint).latencyMs.p50),
      })),
    };
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 4 (and the stored-sessions half of 6): latency as the table grows.

interface GrowthSize {
  rows: number;
  seed: Omit<SeedResult, "sampleIds">;
  list: LoadResult;
  create: LoadResult;
  memory: { idle: Memory; afterLoad: Memory };
}
interface GrowthScenario {
  sizes: GrowthSize[];
  skipped: { rows: number; reason: string }[];
  /** largest / smallest, p50 latency and req/s. */
  ratios: { from: number; to: number; createP50: number; listP50: number; createRps: number; listRps: number } | null;
}

async function scenarioGrowth(): Promise<GrowthScenario> {
  log("scenario 4: growth");
  const seeded: { rows: number; db: string; seed: Omit<SeedResult, "sampleIds"> }[] = [];
  const skipped: { rows: number; reason: string }[] = [];
  for (const rows of settings.growthSizes) {
    const previous = seeded.at(-1);
    if (previous && Number.isFinite(settings.growthSeedBudgetS)) {
      // Seeding cost grows a little faster than linearly (deeper B-trees): allow 30 % extra.
      const predictedS = (rows / previous.seed.rowsPerS) * 1.3;
      if (predictedS > settings.growthSeedBudgetS) {
        skipped.push({ rows, reason: `seeding predicted ${predictedS.toFixed(1)} s > ${settings.growthSeedBudgetS} s budget` });
        log(`  skip ${rows}: ${skipped.at(-1)!.reason}`);
        continue;
      }
    }
    const db = freshDb(`growth-${rows}`);
    const { sampleIds: _ids, ...result } = await seed(db, { rows });
    seeded.push({ rows, db, seed: result });
    log(`  seeded ${rows} rows in ${(result.ms / 1000).toFixed(2)} s (${result.rowsPerS} rows/s, ${mib(result.fileBytes)} MiB)`);
  }
  // One sessiond per size, all up at once, so the loads can alternate between them.
  const servers: ServerProcess[] = [];
  const sizes: GrowthSize[] = [];
  try {
    for (const { db } of seeded) {
      const server = await startServer("sessiond", db);
      servers.push(server);
      await smoke(server, LIST_PATH, {}, (body) => (body as { result?: unknown }).result !== undefined);
    }
    const idle = await Promise.all(servers.map((server) => idleMemory(server)));
    const specs = (extra: Pick<LoadSpec, "method" | "paths" | "body">): Record<string, LoadSpec> =>
      Object.fromEntries(
        seeded.map(({ rows }, i) => [
          String(rows),
          {
            url: servers[i]!.url,
            connections: settings.growthConnections,
            durationS: settings.durationS,
            warmupS: settings.warmupS,
            ...extra,
          },
        ]),
      );
    // The list first: the creates below put new sessions at the head of the list.
    const lists = await compareLoads(specs({ method: "GET", paths: [LIST_PATH] }), settings.rounds);
    const creates = await compareLoads(specs({ method: "POST", paths: [CREATE_PATH], body: CREATE_BODY }), settings.rounds);
    const after = await Promise.all(servers.map((server) => idleMemory(server)));
    seeded.forEach(({ rows, seed: seedResult }, i) => {
      const list = lists[String(rows)]!;
      const create = creates[String(rows)]!;
      log(describeLoad(`  ${rows} list`, list));
      log(describeLoad(`  ${rows} create`, create));
      sizes.push({ rows, seed: seedResult, list, create, memory: { idle: idle[i]!, afterLoad: after[i]! } });
    });
  } finally {
    for (const server of servers) await server.stop();
    for (const { db } of seeded) removeDb(db);
  }
  const first = sizes[0];
  const last = sizes.at(-1);
  return {
    sizes,
    skipped,
    ratios:
      first && last && last !== first
        ? {
            from: first.rows,
            to: last.rows,
            createP50: ratio(last.create.latencyMs.p50, first.create.latencyMs.p50),
            listP50: ratio(last.list.latencyMs.p50, first.list.latencyMs.p50),
            createRps: ratio(last.create.rps, first.create.rps),
            listRps: ratio(last.list.rps, first.list.rps),
          }
        : null,
  };
}

// ---------------------------------------------------------------------------------------------

export interface Check {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

export interface Results {
  schema: 1;
  mode: "quick" | "full";
  date: string;
  elapsedS: number;
  /** Wall time of each scenario that ran (the run's budget: quick about 6 minutes, full about 12). */
  scenarioSeconds: Partial<Record<string, number>>;
  machine: Machine;
  settings: typeof settings;
  scenarios: {
    create?: CreateScenario;
    batch?: BatchScenario;
    read?: ReadScenario;
    growth?: GrowthScenario;
    ids?: IdResult;
    rest?: RestScenario;
    sync?: SyncScenario;
    workers?: WorkersScenario;
    postgres?: PostgresScenario;
    events?: EventsScenario;
    prototype?: PrototypeScenario;
    memory?: {
      idleMiB: number | null;
      underCreateLoadMiB: number | null;
      afterCreateLoadMiB: number | null;
      byStoredSessions: { rows: number; idleMiB: number; afterLoadMiB: number }[];
      /** RSS after load with the most sessions stored / with the fewest. */
      storedRatio: number | null;
      growsWithStored: boolean | null;
    };
  };
  /** CPU other processes used during the measured loads, in cores (this machine may be shared). */
  noise: { meanOtherCpuCores: number | null; maxOtherCpuCores: number | null; disturbed: boolean | null };
  /** Scenarios that could not run, with the error. */
  failed: { scenario: string; error: string }[];
  checks: Check[];
}

function memorySummary(create?: CreateScenario, growth?: GrowthScenario): Results["scenarios"]["memory"] {
  const bySize = (growth?.sizes ?? []).map((s) => ({
    rows: s.rows,
    idleMiB: mib(s.memory.idle.rss),
    afterLoadMiB: mib(s.memory.afterLoad.rss),
  }));
  const first = bySize[0];
  const last = bySize.at(-1);
  const storedRatio = first && last && last !== first ? ratio(last.afterLoadMiB, first.afterLoadMiB) : null;
  return {
    idleMiB: create ? mib(create.memory.idle.rss) : null,
    underCreateLoadMiB: create?.memory.underLoad ? mib(create.memory.underLoad.rss) : null,
    afterCreateLoadMiB: create ? mib(create.memory.afterLoad.rss) : null,
    byStoredSessions: bySize,
    storedRatio,
    // "Grows" means more than 20 % more RSS with the most sessions stored than with the fewest.
    growsWithStored: storedRatio === null ? null : storedRatio > 1.2,
  };
}

function allLoads(scenarios: Results["scenarios"]): [string, LoadResult][] {
  return [
    ...(scenarios.create?.runs ?? []).map((r): [string, LoadResult] => [`create ${r.server} c${r.connections}`, r]),
    ...(scenarios.batch?.runs ?? []).map((r): [string, LoadResult] => [`batch ${r.batchSize} ${r.server}`, r]),
    ...(scenarios.read?.runs ?? []).map((r): [string, LoadResult] => [`${r.endpoint} ${r.server}`, r]),
    ...(scenarios.rest?.runs ?? []).map((r): [string, LoadResult] => [`create ${r.route} c${r.connections} (rest scenario)`, r]),
    ...(scenarios.growth?.sizes ?? []).flatMap((s): [string, LoadResult][] => [
      [`growth ${s.rows} list`, s.list],
      [`growth ${s.rows} create`, s.create],
    ]),
    ...(scenarios.sync?.runs ?? []).map((r): [string, LoadResult] => [`create sync ${r.sync} c${r.connections}`, r]),
    ...(scenarios.workers?.runs ?? []).map((r): [string, LoadResult] => [`${r.load} ${r.workers} workers`, r]),
    ...(scenarios.postgres?.runs ?? []).map((r): [string, LoadResult] => [`postgres ${r.load} ${r.instances} instances`, r]),
    ...(scenarios.events?.cost ?? []).flatMap((c) => c.runs.map((r): [string, LoadResult] => [`create ${c.engine} ${r.server}`, r])),
    ...(scenarios.prototype?.runs ?? []).map((r): [string, LoadResult] => [`prototype ${r.design} c${r.connections}`, r]),
  ];
}

/** How much CPU other processes took while we measured: a disturbed run's ratios are less sure. */
function noiseOf(scenarios: Results["scenarios"], idsOtherCpu: number | null): Results["noise"] {
  const values = [
    ...allLoads(scenarios).map(([, r]) => r.otherCpuCores),
    idsOtherCpu,
    scenarios.events?.fanOut.otherCpuCores ?? null,
  ].filter((v): v is number => v !== null);
  if (values.length === 0) return { meanOtherCpuCores: null, maxOtherCpuCores: null, disturbed: null };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const max = Math.max(...values);
  return { meanOtherCpuCores: Number(mean.toFixed(2)), maxOtherCpuCores: max, disturbed: max > 0.25 };
}

/** One check per baseline that has a target for this operation. */
function ratioChecks(operation: Operation, label: string, over: RatiosOver): Check[] {
  return BASELINES.flatMap((baseline) => {
    const target = targetOf(operation, baseline);
    return target === null
      ? []
      : [{ name: `${label}: sessiond/${baseline}`, value: over[baseline], target: `≥ ${target}`, pass: over[baseline] >= target }];
  });
}

function checksOf(scenarios: Results["scenarios"]): Check[] {
  const checks: Check[] = [];
  const loads = allLoads(scenarios);
  const failures = loads.reduce((sum, [, r]) => sum + r.non2xx + r.errors + r.timeouts, 0);
  checks.push({ name: "non-2xx, errors and timeouts over all loads", value: failures, target: "= 0", pass: failures === 0 });
  if (scenarios.create) {
    for (const r of scenarios.create.ratios) checks.push(...ratioChecks("create", `create c${r.connections}`, r.sessiondOver));
  }
  for (const r of scenarios.read?.ratios ?? []) checks.push(...ratioChecks(r.endpoint, r.endpoint, r.sessiondOver));
  if (scenarios.batch) {
    const t = scenarios.batch.target;
    checks.push({ name: `sessiond creates/s at ${t.batchSize} per request`, value: t.measured, target: "≥ 30000", pass: t.met });
  }
  if (scenarios.growth?.ratios) {
    const g = scenarios.growth.ratios;
    const label = `${g.to.toLocaleString("en")}/${g.from.toLocaleString("en")}`;
    checks.push({ name: `create p50 latency ${label}`, value: g.createP50, target: "≤ 1.2", pass: g.createP50 <= 1.2 });
    checks.push({ name: `list p50 latency ${label}`, value: g.listP50, target: "≤ 1.2", pass: g.listP50 <= 1.2 });
  }
  if (scenarios.rest) {
    for (const r of scenarios.rest.ratios) {
      checks.push({ name: `create c${r.connections}: REST/tRPC`, value: r.restOverTrpc, target: "≥ 0.9", pass: r.restOverTrpc >= 0.9 });
    }
  }
  for (const r of scenarios.sync?.ratios ?? []) {
    checks.push({
      name: `create c${r.connections}: sync full/normal`,
      value: r.fullOverNormal,
      target: "≥ 0.8",
      pass: r.fullOverNormal >= 0.8,
    });
  }
  for (const cost of scenarios.events?.cost ?? []) {
    const written = cost.overWithout.find((r) => r.server === "with events")!.ratio;
    checks.push({ name: `create ${cost.engine}: with events/without`, value: written, target: "≥ 0.8", pass: written >= 0.8 });
  }
  if (scenarios.events) {
    const f = scenarios.events.fanOut;
    checks.push({
      name: "fan-out: events delivered/expected",
      value: ratio(f.delivered, f.expected),
      target: "= 1",
      pass: f.delivered === f.expected,
    });
  }
  if (scenarios.ids) {
    checks.push({ name: "ID generation ours/reference", value: scenarios.ids.ratio, target: "≥ 5", pass: scenarios.ids.ratio >= 5 });
    const p = scenarios.ids.bias.ours.pValue;
    checks.push({ name: "ours: chi-square p-value (uniform characters)", value: p, target: "≥ 0.001", pass: p >= 0.001 });
  }
  return checks;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  log(`${mode} run on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
  const waitS = Number(flags["wait-quiet"] ?? 0);
  if (waitS > 0) {
    const deadline = performance.now() + waitS * 1000;
    for (;;) {
      const before = cpuSnapshot();
      await sleep(1000);
      const cpu = foreignBetween(before, cpuSnapshot());
      const cores = cpu && cpu.wallTicks > 0 ? cpu.foreignTicks / cpu.wallTicks : 0;
      if (cores < 0.3) break;
      if (performance.now() > deadline) {
        log(`other processes still use ${cores.toFixed(2)} cores; starting anyway`);
        break;
      }
      log(`waiting for a quiet machine: other processes use ${cores.toFixed(2)} cores`);
    }
  }
  if (flags.profile) {
    const db = freshDb("profile");
    await migrate(db);
    const loads = flags["profile-loads"]?.split(",").map((name) => name.trim());
    await profileSessiond(db, join(BENCH_DIR, "results", "tmp"), { durationS: settings.durationS * 2, warmupS: settings.warmupS }, loads);
    return;
  }
  const scenarios: Results["scenarios"] = {};
  const context: ScenarioContext = { settings, log, freshDb };
  let idsOtherCpu: number | null = null;
  const failed: { scenario: Scenario; error: string }[] = [];
  const scenarioSeconds: Results["scenarioSeconds"] = {};
  /** A scenario that fails (e.g. a server that no longer starts) is reported, and the others still run. */
  async function attempt<T>(scenario: Scenario, run: () => Promise<T>): Promise<T | undefined> {
    if (!only.has(scenario)) return undefined;
    const started = performance.now();
    try {
      return await run();
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`scenario ${scenario} FAILED: ${message}`);
      failed.push({ scenario, error: message.split("\n").slice(0, 12).join("\n") });
      killAll();
      return undefined;
    } finally {
      scenarioSeconds[scenario] = (scenarioSeconds[scenario] ?? 0) + Math.round((performance.now() - started) / 1000);
    }
  }
  scenarios.create = await attempt("create", scenarioCreate);
  scenarios.batch = await attempt("batch", scenarioBatch);
  scenarios.read = await attempt("read", scenarioRead);
  scenarios.growth = await attempt("growth", scenarioGrowth);
  scenarios.rest = await attempt("rest", scenarioRest);
  scenarios.sync = await attempt("sync", () => scenarioSync(context));
  scenarios.workers = await attempt("workers", () => scenarioWorkers(context));
  scenarios.postgres = await attempt("postgres", () => scenarioPostgres(context));
  scenarios.events = await attempt("events", () => scenarioEvents(context));
  const postgresEventCost = await attempt("events", () => eventCostPostgres(context));
  if (postgresEventCost) scenarios.events?.cost.push(postgresEventCost);
  scenarios.prototype = await attempt("prototype", () => scenarioPrototype(context));
  if (only.has("ids")) {
    const started = performance.now();
    log("scenario 5: ID generation");
    const before = cpuSnapshot();
    scenarios.ids = benchIds({ idsPerRound: settings.idsPerRound, rounds: settings.idRounds, biasIds: settings.biasIds });
    const cpu = foreignBetween(before, cpuSnapshot());
    idsOtherCpu = cpu && cpu.wallTicks > 0 ? Number((cpu.foreignTicks / cpu.wallTicks).toFixed(2)) : null;
    log(`  ours ${scenarios.ids.ours.idsPerS} IDs/s, reference ${scenarios.ids.reference.idsPerS} IDs/s, ratio ${scenarios.ids.ratio}`);
    scenarioSeconds.ids = Math.round((performance.now() - started) / 1000);
  }
  if (scenarios.create || scenarios.growth) scenarios.memory = memorySummary(scenarios.create, scenarios.growth);

  const results: Results = {
    schema: 1,
    mode,
    date: new Date().toISOString(),
    elapsedS: Math.round((performance.now() - t0) / 1000),
    scenarioSeconds,
    machine,
    settings,
    scenarios,
    noise: noiseOf(scenarios, idsOtherCpu),
    failed,
    checks: checksOf(scenarios),
  };
  const partial = !SCENARIOS.every((scenario) => only.has(scenario)) || smokeRun;
  const outDir = join(BENCH_DIR, "results", partial ? "tmp" : "");
  mkdirSync(outDir, { recursive: true });
  const written = await writeReports(results, outDir, partial ? null : join(BENCH_DIR, "README.md"));
  log(`wrote ${written.join(", ")}`);
  if (results.noise.disturbed) {
    log(
      `WARNING: other processes used up to ${results.noise.maxOtherCpuCores} cores during the loads (mean ${results.noise.meanOtherCpuCores}); the figures are disturbed`,
    );
  }
  for (const check of results.checks) log(`${check.pass ? "PASS" : "FAIL"} ${check.name}: ${check.value} (target ${check.target})`);
  // Lost answers or lost events are failures of the run, not figures.
  const broken = results.checks.filter((c) => (c.name.startsWith("non-2xx") || c.name.startsWith("fan-out:")) && !c.pass);
  if (broken.length > 0 || failed.length > 0) process.exitCode = 1;
}

try {
  await main();
} finally {
  await cleanup();
}
