/**
 * Load from autocannon, in this process. A warm-up per target, whose numbers are dropped; then the
 * measured time in rounds alternating between the targets (the order rotating), so that a noisy
 * moment on a shared machine hits every target alike. Latency percentiles come from every
 * response's own time; the server's CPU from /proc, over the measured rounds only.
 */
import autocannon from "autocannon";
import { cpuSnapshot, foreignBetween, treeCpuSeconds } from "./cpu.ts";

export interface LoadSpec {
  /** The server under load: its process tree's CPU is measured. */
  server: { url: string; pid: number };
  method: "GET" | "POST";
  /** One path, or several that each connection cycles through. */
  paths: string[];
  body?: string;
  /** Headers on every request (e.g. a bearer token). */
  headers?: Record<string, string>;
  /** Headers of each path's request, beside `paths` (e.g. a token of its own for each). */
  headersByPath?: Record<string, string>[];
  connections: number;
  /** Measured seconds in total, split over the rounds. */
  durationS: number;
  warmupS: number;
  /** Called every 250 ms during the measured runs (e.g. to read the server's RSS). */
  onSample?: () => void;
}

export interface LoadResult {
  connections: number;
  durationS: number;
  responses: number;
  rps: number;
  /** req/s of each round: the spread shows how noisy the run was. */
  roundRps: number[];
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  /** Errors and timeouts. */
  errors: number;
  /** The server's CPU time per response in µs (its process tree; null where unknown). */
  cpuUsPerRequest: number | null;
  /** Average cores other processes used during the measured runs (null where unknown). */
  otherCpuCores: number | null;
  /** The measured rounds, [from, to] in µs of process.hrtime's clock (a CPU profile's clock). */
  windows: [number, number][];
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
const micros = (): number => Number(process.hrtime.bigint() / 1000n);

function fire(spec: LoadSpec, duration: number, onResponse?: (ms: number) => void): Promise<autocannon.Result> {
  const headers: Record<string, string> = { ...spec.headers, ...(spec.method === "POST" ? { "content-type": "application/json" } : {}) };
  const request = { method: spec.method, headers, ...(spec.body === undefined ? {} : { body: spec.body }) };
  return new Promise((resolve, reject) => {
    const options = { url: spec.server.url, connections: spec.connections, duration, sampleInt: 100, timeout: 20, ...request };
    const requests = spec.paths.map((path, i) => ({ path, ...request, headers: { ...headers, ...spec.headersByPath?.[i] } }));
    const instance = autocannon({ ...options, requests }, (error, result) => {
      clearTimeout(guard);
      if (error) reject(error);
      else resolve(result);
    });
    if (onResponse) instance.on("response", (_client, _status, _bytes, ms) => onResponse(ms));
    // autocannon stops by itself after `duration`; this only guards against a hang.
    const guard = setTimeout(() => instance.stop(), (duration + 30) * 1000);
  });
}

/** What one target's rounds add up to. */
const COUNTERS = { seconds: 0, non2xx: 0, errors: 0, cpu: 0, foreign: 0, wall: 0 };
const newTally = () => ({ samples: [] as number[], roundRps: [] as number[], windows: [] as [number, number][], ...COUNTERS });

function summarize(connections: number, t: ReturnType<typeof newTally>): LoadResult {
  const sorted = Float64Array.from(t.samples).sort();
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  const [responses, { roundRps, non2xx, errors, windows }] = [sorted.length, t];
  const cpu = (t.cpu * 1e6) / responses;
  return {
    ...{ connections, durationS: round(t.seconds, 2), responses, rps: round(responses / t.seconds, 1), roundRps },
    ...{ latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) }, non2xx, errors },
    cpuUsPerRequest: Number.isFinite(cpu) ? round(cpu, 1) : null,
    otherCpuCores: t.wall > 0 ? round(t.foreign / t.wall, 2) : null,
    windows,
  };
}

/** Several loads against each other: a warm-up each, then `rounds` rounds of durationS / rounds seconds each. */
export async function compareLoads<K extends string>(specs: Record<K, LoadSpec>, rounds: number): Promise<Record<K, LoadResult>> {
  const keys = Object.keys(specs) as K[];
  const tallies = new Map(keys.map((key) => [key, newTally()]));
  for (const key of keys) if (specs[key].warmupS > 0) await fire(specs[key], specs[key].warmupS);
  for (let r = 0; r < rounds; r++) {
    for (const key of keys.map((_, i) => keys[(i + r) % keys.length]!)) {
      const [spec, tally] = [specs[key], tallies.get(key)!];
      const before = { responses: tally.samples.length, cpu: cpuSnapshot(), server: treeCpuSeconds(spec.server.pid) ?? Number.NaN };
      const sampler = spec.onSample ? setInterval(spec.onSample, 250) : undefined;
      const from = micros();
      const result = await fire(spec, spec.durationS / rounds, (ms) => void tally.samples.push(ms)).finally(() => clearInterval(sampler));
      tally.windows.push([from, micros()]);
      tally.cpu += (treeCpuSeconds(spec.server.pid) ?? Number.NaN) - before.server;
      const cpu = foreignBetween(before.cpu, cpuSnapshot());
      tally.foreign += cpu?.foreign ?? 0;
      tally.wall += cpu?.wall ?? 0;
      tally.seconds += result.duration;
      tally.roundRps.push(round((tally.samples.length - before.responses) / result.duration, 0));
      tally.non2xx += result.non2xx;
      tally.errors += result.errors + result.timeouts;
    }
  }
  return Object.fromEntries(keys.map((key) => [key, summarize(specs[key].connections, tallies.get(key)!)])) as Record<K, LoadResult>;
}

/** One load on its own: warm-up, then the measured run. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return (await compareLoads({ only: spec }, 1)).only;
}
