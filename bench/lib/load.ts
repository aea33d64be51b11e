/**
 * Load from autocannon, in this process. Each target gets a warm-up whose numbers are dropped;
 * then the measured time is cut into rounds that alternate between the targets compared (the
 * order rotating every round), so that a noisy moment on a shared machine hits every target alike
 * and the ratio stays fair. Latency percentiles come from every response's own time, kept in
 * memory for the run only.
 */
import autocannon from "autocannon";
import { cpuSnapshot, foreignBetween } from "./cpu.ts";

export interface LoadSpec {
  url: string;
  method: "GET" | "POST";
  /** One path, or several that each connection cycles through. */
  paths: string[];
  body?: string;
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
  errors: number;
  timeouts: number;
  /** Average cores other processes used during the measured runs (null where unknown). */
  otherCpuCores: number | null;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

function fire(spec: LoadSpec, duration: number, onResponse?: (ms: number) => void): Promise<autocannon.Result> {
  const headers: Record<string, string> = spec.method === "POST" ? { "content-type": "application/json" } : {};
  const request = { method: spec.method, headers, ...(spec.body === undefined ? {} : { body: spec.body }) };
  return new Promise((resolve, reject) => {
    const options = { url: spec.url, connections: spec.connections, duration, sampleInt: 100, timeout: 20, ...request };
    const instance = autocannon({ ...options, requests: spec.paths.map((path) => ({ path, ...request })) }, (error, result) => {
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
interface Tally {
  samples: number[];
  seconds: number;
  roundRps: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  foreignTicks: number;
  wallTicks: number;
}

function summarize(connections: number, t: Tally): LoadResult {
  const sorted = Float64Array.from(t.samples).sort();
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  const { roundRps, non2xx, errors, timeouts } = t;
  const otherCpuCores = t.wallTicks > 0 ? round(t.foreignTicks / t.wallTicks, 2) : null;
  const latencyMs = { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
  const [durationS, responses, rps] = [round(t.seconds, 2), sorted.length, round(sorted.length / t.seconds, 1)];
  return { connections, durationS, responses, rps, roundRps, latencyMs, non2xx, errors, timeouts, otherCpuCores };
}

/** Several loads against each other: a warm-up each, then `rounds` rounds of durationS / rounds seconds each. */
export async function compareLoads<K extends string>(specs: Record<K, LoadSpec>, rounds: number): Promise<Record<K, LoadResult>> {
  const keys = Object.keys(specs) as K[];
  const tallies = new Map<K, Tally>();
  for (const key of keys) {
    tallies.set(key, { samples: [], seconds: 0, roundRps: [], non2xx: 0, errors: 0, timeouts: 0, foreignTicks: 0, wallTicks: 0 });
    if (specs[key].warmupS > 0) await fire(specs[key], specs[key].warmupS);
  }
  for (let r = 0; r < rounds; r++) {
    for (const key of keys.map((_, i) => keys[(i + r) % keys.length]!)) {
      const [spec, tally] = [specs[key], tallies.get(key)!];
      const before = tally.samples.length;
      const sampler = spec.onSample ? setInterval(spec.onSample, 250) : undefined;
      const cpuBefore = cpuSnapshot();
      const result = await fire(spec, spec.durationS / rounds, (ms) => void tally.samples.push(ms)).finally(() => clearInterval(sampler));
      const cpu = foreignBetween(cpuBefore, cpuSnapshot());
      tally.foreignTicks += cpu?.foreign ?? 0;
      tally.wallTicks += cpu?.wall ?? 0;
      tally.seconds += result.duration;
      tally.roundRps.push(round((tally.samples.length - before) / result.duration, 0));
      tally.non2xx += result.non2xx;
      tally.errors += result.errors;
      tally.timeouts += result.timeouts;
    }
  }
  return Object.fromEntries(keys.map((key) => [key, summarize(specs[key].connections, tallies.get(key)!)])) as Record<K, LoadResult>;
}

/** One load on its own: warm-up, then the measured run. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return (await compareLoads({ only: spec }, 1)).only;
}
