/**
 * Load from autocannon, in this process: a warm-up per target (its numbers dropped), then the
 * measured time in rounds alternating between the targets, the order rotating, so that a noisy
 * moment on a shared machine hits every target alike. Latencies come from every response's own
 * time; the server's CPU per request from /proc, over the measured rounds only.
 */
import autocannon from "autocannon";
import { cpuSnapshot, foreignBetween, treeCpuSeconds } from "./cpu.ts";

export interface LoadSpec {
  server: { url: string; pid: number };
  method: "GET" | "POST";
  /**
   * One path, or several that each connection cycles through; with `headersByPath`, the paths go in
   * turn across all connections instead (each request the next path, with `headersByPath[i]`), so
   * that no two connections send the same one at once.
   */
  paths: string[];
  headersByPath?: Record<string, string>[];
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  /** Measured seconds in total, split over the rounds; and the warm-up's. */
  durationS: number;
  warmupS: number;
  /** Called every 250 ms during the measured rounds (e.g. to read the server's RSS). */
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
  /** The server's CPU time per response in µs (its process tree; null where unknown). */
  cpuUsPerRequest: number | null;
  /** Average cores other processes used during the measured rounds (null where unknown). */
  otherCpuCores: number | null;
  /** The measured rounds, [from, to] in µs of process.hrtime's clock (a CPU profile's clock). */
  windows: [number, number][];
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
const micros = (): number => Number(process.hrtime.bigint() / 1000n);

function fire(spec: LoadSpec, duration: number, onResponse?: (ms: number) => void): Promise<autocannon.Result> {
  const headers = { ...spec.headers, ...(spec.method === "POST" ? { "content-type": "application/json" } : {}) };
  const request = { method: spec.method, headers, ...(spec.body === undefined ? {} : { body: spec.body }) };
  let next = 0;
  const nextPath = (built: autocannon.Request) => {
    const i = next++ % spec.paths.length;
    return { ...built, path: spec.paths[i], headers: { ...headers, ...spec.headersByPath?.[i] } };
  };
  const requests = spec.headersByPath ? [{ ...request, setupRequest: nextPath }] : spec.paths.map((path) => ({ path, ...request }));
  return new Promise((resolve, reject) => {
    const options = { url: spec.server.url, connections: spec.connections, duration, sampleInt: 100, timeout: 20, ...request, requests };
    const instance = autocannon(options, (error, result) => {
      clearTimeout(guard);
      if (error) reject(error);
      else resolve(result);
    });
    if (onResponse) instance.on("response", (_client, _status, _bytes, ms) => onResponse(ms));
    const guard = setTimeout(() => instance.stop(), (duration + 30) * 1000); // autocannon stops by itself; this guards against a hang
  });
}

type Round = { responses: number; seconds: number; non2xx: number; errors: number; cpu: number; foreign: number; wall: number };

/** Several loads against each other: a warm-up each, then `rounds` rounds of durationS / rounds seconds each. */
export async function compareLoads<K extends string>(specs: Record<K, LoadSpec>, rounds: number): Promise<Record<K, LoadResult>> {
  const keys = Object.keys(specs) as K[];
  const tallies = new Map(keys.map((key) => [key, { samples: [] as number[], rounds: [] as Round[], windows: [] as [number, number][] }]));
  for (const key of keys) if (specs[key].warmupS > 0) await fire(specs[key], specs[key].warmupS);
  for (let r = 0; r < rounds; r++) {
    for (const key of keys.map((_, i) => keys[(i + r) % keys.length]!)) {
      const [{ server, durationS, onSample }, t] = [specs[key], tallies.get(key)!];
      const [responses, machine, cpu] = [t.samples.length, cpuSnapshot(), treeCpuSeconds(server.pid) ?? Number.NaN];
      const sampler = onSample ? setInterval(onSample, 250) : undefined;
      const from = micros();
      const result = await fire(specs[key], durationS / rounds, (ms) => void t.samples.push(ms)).finally(() => clearInterval(sampler));
      t.windows.push([from, micros()]);
      const { foreign = 0, wall = 0 } = foreignBetween(machine, cpuSnapshot()) ?? {};
      const [seconds, errors, serverCpu] = [
        result.duration,
        result.errors + result.timeouts,
        (treeCpuSeconds(server.pid) ?? Number.NaN) - cpu,
      ];
      t.rounds.push({ responses: t.samples.length - responses, seconds, non2xx: result.non2xx, errors, cpu: serverCpu, foreign, wall });
    }
  }
  const summarize = (key: K): LoadResult => {
    const { samples, rounds, windows } = tallies.get(key)!;
    const sum = (field: keyof Round) => rounds.reduce((total, r) => total + r[field], 0);
    const sorted = Float64Array.from(samples).sort();
    const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
    const [responses, seconds, cpu] = [sorted.length, sum("seconds"), (sum("cpu") * 1e6) / sorted.length];
    return {
      connections: specs[key].connections,
      durationS: round(seconds, 2),
      responses,
      rps: round(responses / seconds, 1),
      roundRps: rounds.map((r) => round(r.responses / r.seconds, 0)),
      latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
      non2xx: sum("non2xx"),
      errors: sum("errors"),
      cpuUsPerRequest: Number.isFinite(cpu) ? round(cpu, 1) : null,
      otherCpuCores: sum("wall") > 0 ? round(sum("foreign") / sum("wall"), 2) : null,
      windows,
    };
  };
  return Object.fromEntries(keys.map((key) => [key, summarize(key)])) as Record<K, LoadResult>;
}
