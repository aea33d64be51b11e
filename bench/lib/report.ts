/**
 * Writes a run's results: latest.json (every measured number), latest.md (tables), latest.svg
 * (vega-lite compiled to vega, rendered headless with View.toSVG(), no canvas), and the figures
 * section of bench/README.md between its markers.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { RatiosOver, Results } from "../run.ts";
import { BASELINE_MEANING, BASELINES, targetOf, type Operation } from "./baselines.ts";
import type { LoadResult } from "./load.ts";
import { durableRatioRows, durableSections } from "./report-durable.ts";

const SERVER_ORDER = [...BASELINES, "sessiond"];
const START = "<!-- bench:latest:start -->";
const END = "<!-- bench:latest:end -->";

export const fmt = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value)
    ? "–"
    : value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const table = (header: string[], rows: (string | number)[][]): string =>
  [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

/** The columns every load's row shows, after the columns that say which load it is. */
export const LOAD_HEADER = ["req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "other CPU"];
export const loadCells = (r: LoadResult): (string | number)[] => [
  fmt(r.rps),
  fmt(r.latencyMs.p50, 2),
  fmt(r.latencyMs.p99, 2),
  r.non2xx,
  r.errors + r.timeouts,
  fmt(r.otherCpuCores, 2),
];

export interface RatioRow {
  name: string;
  value: number;
  /** Decimals shown (2 unless given). */
  digits?: number;
  /** A figure (events/s, ms), not a ratio: listed with the ratios, left out of the ratio chart. */
  figure?: true;
  target: string;
  meaning: string;
  /** For a ratio between two alternating loads: the lowest and highest ratio of one round's req/s. */
  rounds?: [number, number];
  /** Only for targets: did the ratio meet it? */
  pass?: boolean;
}

/** sessiond over each baseline, with its target where it has one. */
function baselineRows(operation: Operation, label: string, over: RatiosOver, runs: { server: string; roundRps: number[] }[]): RatioRow[] {
  const roundsOf = (server: string) => runs.find((run) => run.server === server)?.roundRps ?? [];
  return BASELINES.map((baseline) => {
    const target = targetOf(operation, baseline);
    const value = over[baseline];
    const theirs = roundsOf(baseline);
    const perRound = roundsOf("sessiond")
      .map((rps, i) => rps / theirs[i]!)
      .filter(Number.isFinite);
    return {
      name: `${label}: sessiond / ${baseline}`,
      value,
      target: target === null ? "–" : `≥ ${target}`,
      meaning: BASELINE_MEANING[baseline],
      ...(target === null ? {} : { pass: value >= target }),
      ...(perRound.length > 1 ? { rounds: [Math.min(...perRound), Math.max(...perRound)] as [number, number] } : {}),
    };
  });
}

export function ratioRows(results: Results): RatioRow[] {
  const s = results.scenarios;
  const rows: RatioRow[] = [];
  for (const r of s.create?.ratios ?? []) {
    rows.push(
      ...baselineRows(
        "create",
        `create c${r.connections}`,
        r.sessiondOver,
        s.create!.runs.filter((run) => run.connections === r.connections),
      ),
    );
  }
  for (const r of s.read?.ratios ?? [])
    rows.push(
      ...baselineRows(
        r.endpoint,
        r.endpoint,
        r.sessiondOver,
        s.read!.runs.filter((run) => run.endpoint === r.endpoint),
      ),
    );
  for (const r of s.batch?.ratios ?? []) {
    rows.push({ name: `batch ${r.batchSize}: sessiond / stock`, value: r.sessiondOverStock, target: "–", meaning: "creates/s" });
  }
  const g = s.growth?.ratios;
  if (g) {
    const label = `${fmt(g.to)} / ${fmt(g.from)}`;
    rows.push({
      name: `create p50 latency ${label}`,
      value: g.createP50,
      target: "≤ 1.2",
      meaning: "latency with more sessions stored",
      pass: g.createP50 <= 1.2,
    });
    rows.push({
      name: `list p50 latency ${label}`,
      value: g.listP50,
      target: "≤ 1.2",
      meaning: "latency with more sessions stored",
      pass: g.listP50 <= 1.2,
    });
  }
  if (s.ids)
    rows.push({ name: "ID generation: ours / reference", value: s.ids.ratio, target: "≥ 5", meaning: "IDs/s", pass: s.ids.ratio >= 5 });
  if (s.memory?.storedRatio != null) {
    const sizes = s.memory.byStoredSessions;
    rows.push({
      name: `RSS ${fmt(sizes.at(-1)!.rows)} / ${fmt(sizes[0]!.rows)} stored`,
      value: s.memory.storedRatio,
      target: "–",
      meaning: "server RSS after the same load",
    });
  }
  rows.push(...durableRatioRows(results));
  return rows;
}

export function markdown(results: Results, level = 2): string {
  const h = "#".repeat(level);
  const s = results.scenarios;
  const m = results.machine;
  const out: string[] = [];
  out.push(
    `${results.mode} run, ${results.date.slice(0, 16).replace("T", " ")} UTC, ${results.elapsedS} s. Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, SQLite ${m.sqlite}, Linux ${m.kernel}; ${Object.entries(
      m.libraries ?? {},
    )
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}. ` +
      `Each load: ${results.settings.warmupS} s warm-up (${results.settings.rewarmS} s before a second load of the same kind), then ${results.settings.durationS} s measured in ${results.settings.rounds} rounds alternating between the servers compared.`,
  );
  out.push(
    `Time per scenario: ${Object.entries(results.scenarioSeconds ?? {})
      .map(([scenario, seconds]) => `${scenario} ${seconds} s`)
      .join(", ")}.`,
  );
  const noise = results.noise;
  if (noise.maxOtherCpuCores !== null) {
    out.push(
      `${noise.disturbed ? "**Disturbed run:** o" : "O"}ther processes used on average ${fmt(noise.meanOtherCpuCores, 2)} cores during the measured loads ` +
        `(at most ${fmt(noise.maxOtherCpuCores, 2)} in one load; column "other CPU").${noise.disturbed ? " Absolute figures are low; the ratios hold better, since the rounds alternate." : ""}`,
    );
  }
  for (const f of results.failed) {
    out.push(`**Scenario ${f.scenario} failed:**\n\n\`\`\`\n${f.error}\n\`\`\``);
  }
  out.push(
    `${h} Ratios\n\n${table(
      ["ratio", "value", "target", "per round", "of"],
      ratioRows(results).map((r) => [
        r.name,
        `**${fmt(r.value, r.digits ?? 2)}**${r.pass === undefined ? "" : r.pass ? " ✓" : " ✗"}`,
        r.target,
        r.rounds ? `${fmt(r.rounds[0], 2)}–${fmt(r.rounds[1], 2)}` : "–",
        r.meaning,
      ]),
    )}`,
  );

  if (s.create) {
    out.push(
      `${h} 1. session.create, one call per request\n\n${table(
        ["server", "connections", ...LOAD_HEADER],
        s.create.runs.map((r) => [r.server, r.connections, ...loadCells(r)]),
      )}`,
    );
  }
  if (s.batch) {
    const t = s.batch.target;
    out.push(
      `${h} 2. Batched creates (httpBatchLink wire format)\n\n${table(
        ["server", "calls/request", "req/s", "creates/s", "p50 ms", "p99 ms", "non-2xx", "errors", "other CPU"],
        s.batch.runs.map((r) => [
          r.server,
          r.batchSize,
          fmt(r.rps),
          fmt(r.createsPerS),
          fmt(r.latencyMs.p50, 2),
          fmt(r.latencyMs.p99, 2),
          r.non2xx,
          r.errors + r.timeouts,
          fmt(r.otherCpuCores, 2),
        ]),
      )}\n\nTarget: ≥ ${fmt(t.createsPerS)} creates/s at ${t.batchSize} per request; measured ${fmt(t.measured)} (${t.met ? "met" : "not met"}).`,
    );
  }
  if (s.read) {
    out.push(
      `${h} 3. Reads (${fmt(s.read.seededRows)} sessions stored, the same file copied for each server; get cycles over ${fmt(s.read.distinctIds)} IDs; list is one page of 50)\n\n${table(
        ["endpoint", "server", ...LOAD_HEADER],
        s.read.runs.map((r) => [r.endpoint, r.server, ...loadCells(r)]),
      )}`,
    );
  }
  if (s.growth) {
    const skipped = s.growth.skipped.map((k) => `Skipped ${fmt(k.rows)}: ${k.reason}.`).join(" ");
    out.push(
      `${h} 4. Growth (sessiond, ${results.settings.growthConnections} connections)\n\n${table(
        [
          "sessions stored",
          "seed s",
          "seed rows/s",
          "DB MiB",
          "list req/s",
          "list p50 ms",
          "list p99 ms",
          "create req/s",
          "create p50 ms",
          "create p99 ms",
          "RSS MiB",
        ],
        s.growth.sizes.map((g) => [
          fmt(g.rows),
          fmt(g.seed.ms / 1000, 2),
          fmt(g.seed.rowsPerS),
          fmt(g.seed.fileBytes / 2 ** 20, 1),
          fmt(g.list.rps),
          fmt(g.list.latencyMs.p50, 2),
          fmt(g.list.latencyMs.p99, 2),
          fmt(g.create.rps),
          fmt(g.create.latencyMs.p50, 2),
          fmt(g.create.latencyMs.p99, 2),
          fmt(g.memory.afterLoad.rss / 2 ** 20, 1),
        ]),
      )}${skipped ? `\n\n${skipped}` : ""}`,
    );
  }
  if (s.ids) {
    const i = s.ids;
    out.push(
      `${h} 5. ID generation (in process, median of ${i.rounds} rounds of ${fmt(i.idsPerRound)}; bias on ${fmt(i.bias.ids)} IDs × 14 characters)\n\n${table(
        ["generator", "IDs/s", "chi-square (df 61)", "p-value", "most / least common char vs uniform"],
        [
          [
            "ours",
            fmt(i.ours.idsPerS),
            fmt(i.bias.ours.chiSquare, 1),
            String(i.bias.ours.pValue),
            `${fmt(i.bias.ours.maxRelative, 3)} / ${fmt(i.bias.ours.minRelative, 3)}`,
          ],
          [
            "reference (opencode)",
            fmt(i.reference.idsPerS),
            fmt(i.bias.reference.chiSquare, 1),
            String(i.bias.reference.pValue),
            `${fmt(i.bias.reference.maxRelative, 3)} / ${fmt(i.bias.reference.minRelative, 3)}`,
          ],
        ],
      )}`,
    );
  }
  if (s.memory) {
    const mem = s.memory;
    const grows = mem.growsWithStored === null ? "not measured" : mem.growsWithStored ? "**yes** (> 20 % more)" : "no (within 20 %)";
    out.push(
      `${h} 6. Memory (sessiond RSS)\n\n${table(
        ["state", "RSS MiB"],
        [
          ["idle, fresh start", fmt(mem.idleMiB, 1)],
          ["under create load (max, c64)", fmt(mem.underCreateLoadMiB, 1)],
          ["idle after create load", fmt(mem.afterCreateLoadMiB, 1)],
          ...mem.byStoredSessions.flatMap((b): string[][] => [
            [`${fmt(b.rows)} stored, idle after start`, fmt(b.idleMiB, 1)],
            [`${fmt(b.rows)} stored, after list + create load`, fmt(b.afterLoadMiB, 1)],
          ]),
        ],
      )}\n\nRSS grows with stored sessions: ${grows}.`,
    );
  }
  out.push(...durableSections(results, h));
  out.push(
    `${h} Checks\n\n${table(
      ["check", "value", "target", ""],
      results.checks.map((c) => [c.name, String(c.value), c.target, c.pass ? "pass" : "**FAIL**"]),
    )}`,
  );
  return `${out.join("\n\n")}\n`;
}

export async function chartSvg(results: Results): Promise<string> {
  const s = results.scenarios;
  const throughput: { case: string; server: string; value: number }[] = [];
  for (const r of s.create?.runs ?? [])
    throughput.push({ case: `create c${r.connections} (req/s)`, server: r.server, value: Math.round(r.rps) });
  for (const r of s.batch?.runs ?? [])
    throughput.push({ case: `batch ${r.batchSize} (creates/s)`, server: r.server, value: r.createsPerS });
  for (const r of s.read?.runs ?? []) throughput.push({ case: `${r.endpoint} (req/s)`, server: r.server, value: Math.round(r.rps) });
  const ratios = ratioRows(results)
    .filter((r) => !r.figure)
    .map((r) => ({
      name: r.name,
      value: r.value,
      target: r.target === "–" ? null : Number(r.target.replace(/[^\d.]/g, "")),
    }));
  const growth = (s.growth?.sizes ?? []).flatMap((g) => [
    { rows: g.rows, operation: "create", p50: g.create.latencyMs.p50, p99: g.create.latencyMs.p99 },
    { rows: g.rows, operation: "list page", p50: g.list.latencyMs.p50, p99: g.list.latencyMs.p99 },
  ]);

  const panels: unknown[] = [];
  if (throughput.length) {
    panels.push({
      title: "Throughput by scenario (higher is better)",
      data: { values: throughput },
      width: 560,
      encoding: {
        y: { field: "case", type: "nominal", title: null, sort: null, axis: { labelLimit: 320 } },
        yOffset: { field: "server", sort: SERVER_ORDER },
        x: { field: "value", type: "quantitative", title: "per second" },
        color: {
          field: "server",
          type: "nominal",
          sort: SERVER_ORDER,
          scale: { domain: SERVER_ORDER, range: ["#9e9e9e", "#4c78a8", "#54a24b", "#b279a2", "#f58518"] },
        },
      },
      layer: [
        { mark: "bar" },
        {
          mark: { type: "text", align: "left", dx: 3, fontSize: 9 },
          encoding: { text: { field: "value", type: "quantitative", format: "," } },
        },
      ],
    });
  }
  if (ratios.length) {
    panels.push({
      title: "Ratios (bar) and targets (tick); 1 = parity",
      data: { values: ratios },
      width: 560,
      encoding: { y: { field: "name", type: "nominal", title: null, sort: null, axis: { labelLimit: 320 } } },
      layer: [
        // Bars grow from parity (1): a log scale has no zero to start from.
        {
          mark: "bar",
          encoding: {
            x: {
              field: "value",
              type: "quantitative",
              title: "ratio (log scale)",
              scale: { type: "log", domain: [0.05, 20], nice: false },
            },
            x2: { datum: 1 },
            color: { value: "#72b7b2" },
          },
        },
        {
          mark: { type: "text", align: "left", dx: 3, fontSize: 9 },
          encoding: { x: { field: "value", type: "quantitative" }, text: { field: "value", type: "quantitative", format: ".2f" } },
        },
        {
          transform: [{ filter: "datum.target != null" }],
          mark: { type: "tick", color: "#e45756", thickness: 2 },
          encoding: { x: { field: "target", type: "quantitative" } },
        },
        { mark: { type: "rule", strokeDash: [3, 3], color: "#555" }, encoding: { x: { datum: 1, type: "quantitative" } } },
      ],
    });
  }
  if (growth.length) {
    panels.push({
      title: "Growth: sessiond latency vs sessions stored",
      data: { values: growth },
      width: 560,
      height: 160,
      transform: [{ fold: ["p50", "p99"], as: ["percentile", "ms"] }],
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "rows", type: "quantitative", scale: { type: "log" }, title: "sessions stored", axis: { format: "~s" } },
        y: { field: "ms", type: "quantitative", title: "latency ms" },
        color: { field: "operation", type: "nominal" },
        strokeDash: { field: "percentile", type: "nominal" },
      },
    });
  }
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `sessiond bench (${results.mode}, ${results.date.slice(0, 10)})`,
      subtitle: `${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}`,
    },
    background: "white",
    padding: 12,
    vconcat: panels,
    resolve: { scale: { color: "independent" } },
    config: { font: "sans-serif", view: { stroke: null } },
  } as unknown as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Writes the files; returns their paths. */
export async function writeReports(results: Results, outDir: string, readmePath: string | null): Promise<string[]> {
  const written: string[] = [];
  const write = (path: string, text: string) => {
    writeFileSync(path, text);
    written.push(path);
  };
  write(join(outDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  write(join(outDir, "latest.md"), `# sessiond bench: latest results\n\n${markdown(results, 2)}`);
  write(join(outDir, "latest.svg"), await chartSvg(results));
  if (readmePath && existsSync(readmePath)) {
    const readme = readFileSync(readmePath, "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    if (start !== -1 && end > start) {
      write(readmePath, `${readme.slice(0, start + START.length)}\n${markdown(results, 3)}\n${readme.slice(end)}`);
    }
  }
  return written;
}
