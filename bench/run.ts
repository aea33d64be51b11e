/**
 * sessiond's benchmarks, every figure in one run: `npm run bench` (full) or `npm run bench:quick`.
 * Each scenario measures its baselines in the same run, in alternating rounds; the figure that
 * counts is the ratio. Flags: --quick; --smoke (a moment per load, to check the harness);
 * --only=<name,…> (writes results/tmp/); --cpu-prof=<dir> (every server under Node's profiler).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compareLoads, type LoadResult } from "./lib/load.ts";
import { destroyCluster } from "./lib/postgres.ts";
import { serverNodeArgs, stopAll } from "./lib/proc.ts";
import { describeMachine, writeReport, type Run, type ScenarioReport } from "./lib/report.ts";
import { settingsOf, type Scenario, type ScenarioContext } from "./lib/scenario.ts";
import { scenarioBatch } from "./scenarios/batch.ts";
import { scenarioCost } from "./scenarios/cost.ts";
import { scenarioCreate } from "./scenarios/create.ts";
import { scenarioEvents } from "./scenarios/events.ts";
import { scenarioGrowth } from "./scenarios/growth.ts";
import { scenarioIds } from "./scenarios/ids.ts";
import { scenarioOwners } from "./scenarios/owners.ts";
import { scenarioPostgres, scenarioWorkers } from "./scenarios/instances.ts";
import { scenarioPlain } from "./scenarios/plain.ts";
import { scenarioRead } from "./scenarios/read.ts";
import { scenarioRest } from "./scenarios/rest.ts";
import { scenarioSync } from "./scenarios/sync.ts";

/** Every scenario, in the order a run takes them (bench/README.md describes each). */
const SCENARIOS: Record<string, { title: string; run: Scenario }> = {
  create: { title: "session.create, one per request: sessiond against the bare handler and the peers", run: scenarioCreate },
  batch: { title: "batched creates (httpBatchLink's wire format): sessiond against stock tRPC", run: scenarioBatch },
  read: { title: "session.get and session.list: sessiond against the bare handler and the peers", run: scenarioRead },
  growth: { title: "list and create latency, and memory, as the table grows", run: scenarioGrowth },
  ids: { title: "session ID generation, ours against opencode's (in process)", run: scenarioIds },
  rest: { title: "create over REST against tRPC, one sessiond", run: scenarioRest },
  plain: { title: "sessiond with its defaults against the plain Hono app a user would write", run: scenarioPlain },
  sync: { title: "`sessiond serve --sqlite-sync full` against `normal`", run: scenarioSync },
  workers: { title: "`sessiond serve --workers 2` against 1 on SQLite", run: scenarioWorkers },
  postgres: { title: "durable PostgreSQL, 2 instances against 1", run: scenarioPostgres },
  events: { title: "live events: fan-out, and what events cost a create", run: scenarioEvents },
  owners: { title: "bearer JWT owners on every call against no authentication", run: scenarioOwners },
  cost: { title: "where a get and a list spend the server's CPU, step by step (issue 20)", run: scenarioCost },
};

const { values: flags } = parseArgs({
  options: { quick: { type: "boolean" }, smoke: { type: "boolean" }, only: { type: "string" }, "cpu-prof": { type: "string" } },
});
const only = flags.only?.split(",").map((name) => name.trim()) ?? Object.keys(SCENARIOS);
const unknown = only.filter((name) => !(name in SCENARIOS));
if (Number(process.versions.node.split(".")[0]) < 24 || unknown.length > 0) {
  console.error(unknown.length ? `bench: unknown ${unknown}; known: ${Object.keys(SCENARIOS)}` : "bench: needs Node 24: npm run bench");
  process.exit(2);
}
const mode = flags.smoke ? "smoke" : flags.quick ? "quick" : "full";
const settings = settingsOf(mode);
if (flags["cpu-prof"]) serverNodeArgs.push("--cpu-prof", `--cpu-prof-dir=${resolve(flags["cpu-prof"])}`);
const t0 = performance.now();
const log = (message: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
const tmp = mkdtempSync(join(tmpdir(), "sessiond-bench-"));
let files = 0;
const cleanup = async () => {
  await stopAll();
  await destroyCluster();
  rmSync(tmp, { recursive: true, force: true });
};
process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));

/** Runs one scenario into its report; what fails it goes to `failed`. */
async function runScenario(name: string, failed: Run["failed"]): Promise<ScenarioReport> {
  const { title, run } = SCENARIOS[name]!;
  log(`${name}: ${title}`);
  const report: ScenarioReport = { name, title, seconds: 0, loads: [], figures: [], notes: [] };
  const context: ScenarioContext = {
    settings,
    freshDb: (label) => join(tmp, `${++files}-${label}.db`),
    async measure(label, specs) {
      const results = await compareLoads(specs, settings.rounds);
      for (const [key, r] of Object.entries<LoadResult>(results)) {
        report.loads.push({ label: `${label} ${key}`, ...r });
        const [rps, { p50, p99 }] = [Math.round(r.rps), r.latencyMs];
        log(`  ${label} ${key}: ${rps} req/s, ${r.cpuUsPerRequest} µs CPU/req, p50 ${p50} ms, p99 ${p99} ms, non-2xx ${r.non2xx}`);
      }
      return results;
    },
  };
  const started = performance.now();
  try {
    const result = await run(context);
    Object.assign(report, { figures: result.figures, notes: result.notes ?? [] });
    // Lost answers or events, and parts that could not run, fail the run; a missed target is a figure.
    for (const error of result.failed ?? []) failed.push({ scenario: name, error });
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${name} FAILED: ${message}`);
    failed.push({ scenario: name, error: message.split("\n").slice(0, 12).join("\n") });
  } finally {
    await stopAll();
    report.seconds = Math.round((performance.now() - started) / 1000);
  }
  for (const figure of report.figures) log(`  ${figure.pass === false ? "MISSED" : "      "} ${figure.name}: ${figure.value}`);
  return report;
}

try {
  const machine = describeMachine();
  log(`${mode} run on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  const failed: Run["failed"] = [];
  const scenarios: ScenarioReport[] = [];
  for (const name of only) scenarios.push(await runScenario(name, failed));
  const failures = scenarios.flatMap((r) => r.loads).reduce((sum, l) => sum + l.non2xx + l.errors, 0);
  if (failures > 0) failed.push({ scenario: "loads", error: `${failures} non-2xx answers, errors or timeouts` });
  const partial = mode === "smoke" || Object.keys(SCENARIOS).some((name) => !only.includes(name));
  const dir = join(dirname(fileURLToPath(import.meta.url)), "results", partial ? "tmp" : "");
  const elapsedS = Math.round((performance.now() - t0) / 1000);
  log(`wrote ${writeReport({ mode, elapsedS, settings, scenarios, failed }, machine, dir).join(", ")}`);
  for (const f of failed) log(`FAILED ${f.scenario}: ${f.error.split("\n")[0]}`);
  if (failed.length > 0) process.exitCode = 1;
} finally {
  await cleanup();
}
