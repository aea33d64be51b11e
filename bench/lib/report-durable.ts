/**
 * The report's rows and sections for issue 13's sections 2 and 3 (sync, workers, PostgreSQL) and
 * issue 12's events, beside report.ts's for section 1.
 */
import type { Results } from "../run.ts";
import type { LoadResult } from "./load.ts";
import { fmt, LOAD_HEADER, loadCells, table, type RatioRow } from "./report.ts";

/** The lowest and highest ratio of one round's req/s between two alternating loads. */
function perRound(a: LoadResult | undefined, b: LoadResult | undefined): { rounds?: [number, number] } {
  if (!a || !b) return {};
  const values = a.roundRps.map((rps, i) => rps / b.roundRps[i]!).filter(Number.isFinite);
  return values.length > 1 ? { rounds: [Math.min(...values), Math.max(...values)] } : {};
}

const atLeast = (value: number, target: number) => ({ target: `≥ ${target}`, pass: value >= target });

export function durableRatioRows(results: Results): RatioRow[] {
  const s = results.scenarios;
  const rows: RatioRow[] = [];
  for (const r of s.sync?.ratios ?? []) {
    const of = (sync: string) => s.sync!.runs.find((run) => run.sync === sync && run.connections === r.connections);
    rows.push({
      name: `create c${r.connections}: sync full / normal`,
      value: r.fullOverNormal,
      ...atLeast(r.fullOverNormal, 0.8),
      meaning: `creates/s with --sqlite-sync full (p99 ${fmt(r.p99FullMs, 2)} ms) over normal (p99 ${fmt(r.p99NormalMs, 2)} ms)`,
      ...perRound(of("full"), of("normal")),
    });
  }
  for (const r of s.workers?.ratios ?? []) {
    const of = (workers: number) => s.workers!.runs.find((run) => run.workers === workers && run.load === r.load);
    rows.push({
      name: `${r.load}: 2 workers / 1`,
      value: r.twoOverOne,
      target: "–",
      meaning: `req/s, SQLite (${s.workers!.sqliteSync}), --workers 2 over 1`,
      ...perRound(of(2), of(1)),
    });
  }
  for (const r of s.postgres?.ratios ?? []) {
    const of = (instances: number) => s.postgres!.runs.find((run) => run.instances === instances && run.load === r.load);
    rows.push({
      name: `PostgreSQL ${r.load}: 2 instances / 1`,
      value: r.twoOverOne,
      target: "–",
      meaning: "req/s, durable PostgreSQL (fsync on), --workers 2 over 1",
      ...perRound(of(2), of(1)),
    });
  }
  for (const cost of s.events?.cost ?? []) {
    const without = cost.runs.find((run) => run.server === "without events");
    for (const r of cost.overWithout) {
      const run = cost.runs.find((candidate) => candidate.server === r.server);
      const written = r.server === "with events";
      rows.push({
        name: `create ${cost.engine} c${run?.connections}: ${r.server} / without events`,
        value: r.ratio,
        ...(written ? atLeast(r.ratio, 0.8) : { target: "–" }),
        meaning: written ? "creates/s writing each create's event" : "creates/s with subscribers reading every event",
        ...perRound(run, without),
      });
    }
  }
  const f = s.events?.fanOut;
  if (f) {
    const label = `fan-out to ${fmt(f.subscribers)} subscribers`;
    rows.push({
      name: `${label}: events/s delivered`,
      value: f.deliveredPerS,
      digits: 0,
      target: "–",
      meaning: "frames received per second, all subscribers",
      figure: true,
    });
    rows.push({
      name: `${label}: p99 delivery ms`,
      value: f.p99Ms,
      digits: 1,
      target: "–",
      meaning: `create sent → frame parsed (p50 ${fmt(f.p50Ms, 1)} ms)`,
      figure: true,
    });
  }
  return rows;
}

export function durableSections(results: Results, h: string): string[] {
  const s = results.scenarios;
  const out: string[] = [];
  const each = `${fmt(results.settings.shortDurationS)} s measured per load in ${results.settings.rounds} alternating rounds`;
  if (s.sync) {
    const p = s.sync.fsyncProbe;
    out.push(
      `${h} 8. Durability: \`--sqlite-sync normal\` vs \`full\` (session.create, \`sessiond serve\`, fresh SQLite files; ${each})\n\n${table(
        ["sync", "connections", ...LOAD_HEADER],
        s.sync.runs.map((r) => [r.sync, r.connections, ...loadCells(r)]),
      )}\n\nThe disk under the files: one 4 KiB write + \`fdatasync\` takes ${fmt(p.medianMs, 3)} ms (median of ${p.count}, p90 ${fmt(p.p90Ms, 3)} ms); \`full\` pays one per group commit. Target: full ≥ 0.8× normal at every connection count.`,
    );
  }
  if (s.workers) {
    const w = s.workers;
    out.push(
      `${h} 9. Workers on SQLite: \`--workers 1\` vs \`2\` (\`sessiond serve\`, ${w.sqliteSync}, ${fmt(w.seededRows)} sessions stored, get cycles over ${fmt(w.distinctIds)} IDs; ${each})\n\n${table(
        ["load", "workers", ...LOAD_HEADER],
        w.runs.map((r) => [r.load, r.workers, ...loadCells(r)]),
      )}`,
    );
  }
  if (s.postgres) {
    const settings = Object.entries(s.postgres.postgres)
      .map(([name, value]) => `${name} = ${value}`)
      .join(", ");
    out.push(
      `${h} 10. PostgreSQL, durable: 1 instance vs 2 (\`--workers 2\`), one database each (${settings}; get cycles over the newest page's 50 IDs; ${each})\n\n${table(
        ["load", "instances", ...LOAD_HEADER],
        s.postgres.runs.map((r) => [r.load, r.instances, ...loadCells(r)]),
      )}`,
    );
  }
  if (s.events) {
    const f = s.events.fanOut;
    out.push(
      `${h} 11. Live events\n\nFan-out: one writer (one create at a time) for ${fmt(results.settings.fanoutS)} s, ${fmt(f.subscribers)} subscribers on \`GET /event\` of one sessiond (SQLite); latency sampled on ${fmt(f.parsingSubscribers)} subscribers that parse every frame.\n\n${table(
        ["subscribers", "writes/s", "events delivered/s", "delivered / expected", "p50 ms", "p99 ms", "max ms", "other CPU"],
        [
          [
            fmt(f.subscribers),
            fmt(f.writesPerS),
            fmt(f.deliveredPerS),
            `${fmt(f.delivered)} / ${fmt(f.expected)}`,
            fmt(f.p50Ms, 1),
            fmt(f.p99Ms, 1),
            fmt(f.maxMs, 1),
            fmt(f.otherCpuCores, 2),
          ],
        ],
      )}\n\nWhat events cost a create (${each}; "without events" is the same server on a database that drops its event rows, bench/lib/no-events.ts; PostgreSQL is the durable cluster of section 10). Target: with events ≥ 0.8× without, on both engines.\n\n${table(
        ["engine", "server", "connections", ...LOAD_HEADER, "/ without events", "server CPU µs per create"],
        s.events.cost.flatMap((c) =>
          c.runs.map((r) => [
            c.engine,
            r.server,
            r.connections,
            ...loadCells(r),
            r.server === "without events" ? "baseline" : fmt(c.overWithout.find((o) => o.server === r.server)?.ratio, 2),
            fmt(r.serverCpuUsPerCreate, 1),
          ]),
        ),
      )}`,
    );
  }
  if (s.prototype) {
    out.push(
      `${h} Prototype: group-commit designs on a bare create handler (bench/prototypes/group-commit.ts; ${each})\n\n${table(
        ["design", "connections", ...LOAD_HEADER, "/ first"],
        s.prototype.runs.map((r) => [
          r.design,
          r.connections,
          ...loadCells(r),
          fmt(s.prototype!.ratios.find((o) => o.design === r.design && o.connections === r.connections)?.overFirst ?? 1, 2),
        ]),
      )}`,
    );
  }
  return out;
}
