/**
 * The run's one report: results/latest.json (the machine, settings and every measured number) and
 * results/latest.md (the figures, then each scenario's loads); a partial run writes results/tmp/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadResult } from "./load.ts";
import type { Figure, Settings } from "./scenario.ts";

export interface ScenarioReport {
  name: string;
  title: string;
  seconds: number;
  loads: (LoadResult & { label: string })[];
  figures: Figure[];
  notes: string[];
}

export interface Run {
  mode: string;
  elapsedS: number;
  settings: Settings;
  scenarios: ScenarioReport[];
  failed: { scenario: string; error: string }[];
}

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const LIBRARIES = ["@trpc/server", "superjson", "zod", "@orpc/server", "hono", "@hono/node-server", "@hono/zod-validator"];
const version = (name: string): string => {
  const manifest = join(ROOT, "node_modules", name, "package.json");
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version : "not installed";
};

export function describeMachine() {
  const [cpu, cores, memoryGiB] = [cpus()[0]?.model ?? "unknown", availableParallelism(), Number((totalmem() / 2 ** 30).toFixed(1))];
  const libraries = Object.fromEntries(LIBRARIES.map((name) => [name, version(name)]));
  return { cpu, cores, memoryGiB, node: process.version, sqlite: process.versions.sqlite, kernel: release(), libraries };
}

const fmt = (value: number | null, digits = 0): string =>
  value === null || Number.isNaN(value)
    ? "–"
    : value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const table = (header: string[], rows: (string | number)[][]): string =>
  [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join("\n");
const target = (f: Figure): string => [f.min === undefined ? "" : `≥ ${f.min}`, f.max === undefined ? "" : `≤ ${f.max}`].join("") || "–";
const figureRow = (f: Figure) => {
  const value = `**${fmt(f.value, Math.abs(f.value) >= 100 ? 0 : Math.abs(f.value) < 0.1 ? 4 : 2)}**${f.pass === undefined ? "" : f.pass ? " ✓" : " ✗"}`;
  return [f.name, value, target(f), f.rounds ? f.rounds.map((v) => fmt(v, 2)).join("–") : "–", f.meaning];
};

type Results = Run & { date: string; machine: ReturnType<typeof describeMachine>; otherCpu: { mean: number; max: number } };

function markdown(results: Results): string {
  const { machine: m, settings: s, otherCpu } = results;
  const libraries = Object.entries(m.libraries).map(([name, version]) => `${name} ${version}`);
  const lines = [
    "# sessiond bench: latest results",
    "",
    `${results.mode} run, ${results.date.slice(0, 16).replace("T", " ")} UTC, ${results.elapsedS} s. Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, SQLite ${m.sqlite}, Linux ${m.kernel}; ${libraries.join(", ")}.`,
    "",
    `Each load: ${s.warmupS} s warm-up (${s.rewarmS} s before a second load of the same kind), then ${s.durationS} s measured (sync, workers, postgres, events: ${s.shortDurationS} s) in ${s.rounds} rounds alternating between the servers compared.`,
    `Time per scenario: ${results.scenarios.map((r) => `${r.name} ${r.seconds} s`).join(", ")}.`,
    `Other processes used on average ${fmt(otherCpu.mean, 2)} cores during the measured loads (at most ${fmt(otherCpu.max, 2)}; column "other CPU")${otherCpu.max > 0.25 ? ": **the absolute figures are disturbed**" : ""}.`,
    ...results.failed.map((f) => `\n**Failed: ${f.scenario}**: ${f.error.split("\n")[0]}`),
    "",
    "## Figures",
    "",
    table(
      ["figure", "value", "target", "per round", "of"],
      results.scenarios.flatMap((r) => r.figures.map(figureRow)),
    ),
  ];
  const header = ["load", "connections", "req/s", "server CPU µs/req", "p50 ms", "p99 ms", "non-2xx", "errors", "other CPU"];
  for (const r of results.scenarios) {
    const loads = r.loads.map((l) => {
      const [p50, p99] = [fmt(l.latencyMs.p50, 2), fmt(l.latencyMs.p99, 2)];
      return [l.label, l.connections, fmt(l.rps), fmt(l.cpuUsPerRequest, 1), p50, p99, l.non2xx, l.errors, fmt(l.otherCpuCores, 2)];
    });
    lines.push("", `## ${r.name}: ${r.title}`, "", ...(loads.length ? [table(header, loads), ""] : []));
    lines.push(...r.notes.flatMap((note) => [note, ""]));
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** Writes latest.json and latest.md into `dir`; returns their paths. */
export function writeReport(run: Run, machine: ReturnType<typeof describeMachine>, dir: string): string[] {
  const other = run.scenarios.flatMap((r) => r.loads.map((l) => l.otherCpuCores ?? 0));
  const otherCpu = { mean: Number((other.reduce((a, b) => a + b, 0) / (other.length || 1)).toFixed(2)), max: Math.max(0, ...other) };
  const results = { date: new Date().toISOString(), machine, otherCpu, ...run };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, "latest.md"), markdown(results));
  return [join(dir, "latest.json"), join(dir, "latest.md")];
}
