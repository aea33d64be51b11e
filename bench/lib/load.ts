/**
 * Load from autocannon, in this process. Each target gets a warm-up run whose numbers are dropped;
 * then the measured time is cut into rounds that alternate between the targets being compared, so
 * that a noisy moment on a shared machine hits every target alike and the ratio stays fair.
 * Latency percentiles come from every response's own time (sub-millisecond), kept in memory only
 * for the run; nothing raw is written.
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
  /** Measured seconds in total (split over the rounds). */
  durationS: number;
  warmupS: number;
  /** Called every `sampleMs` during the measured runs (e.g. to read the server's RSS). */
  onSample?: () => void;
  sampleMs?: number;
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

export interface LoadResult {
  connections: number;
  /** Measured seconds, over all rounds. */
  durationS: number;
  rounds: number;
  /** Responses received in the measured runs (any status). */
  responses: number;
  rps: number;
  /** req/s of each round: the spread shows how noisy the run was. */
  roundRps: number[];
  latencyMs: Latency;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Average cores other processes used during the measured runs (null where unknown). */
  otherCpuCores: number | null;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function fire(options: autocannon.Options, onResponse?: (responseTime: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ sampleInt: 100, ...options }, (error, result) => {
      clearTimeout(guard);
      if (error) reject(error);
      else resolve(result);
    });
    if (onResponse) instance.on("response", (_client, _status, _bytes, responseTime) => onResponse(responseTime));
    // autocannon stops by itself after `duration`; this only guards against a hang.
    const guard = setTimeout(() => instance.stop(), ((options.duration ?? 10) + 30) * 1000);
  });
}

function optionsOf(spec: LoadSpec): autocannon.Options {
  const headers: Record<string, string> = spec.method === "POST" ? { "content-type": "application/json" } : {};
  const body = spec.body === undefined ? {} : { body: spec.body };
  return {
    url: spec.url,
    connections: spec.connections,
    method: spec.method,
    headers,
    timeout: 20,
    ...body,
    requests: spec.paths.map((path) => ({ path, method: spec.method, headers, ...body })),
  };
}

class Collector {
  samples = new Float64Array(1 << 16);
  count = 0;
  seconds = 0;
  roundRps: number[] = [];
  non2xx = 0;
  errors = 0;
  timeouts = 0;
  foreignTicks = 0;
  wallTicks = 0;
  cpuKnown = true;

  add = (responseTime: number): void => {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = responseTime;
  };

  result(connections: number): LoadResult {
    const sorted = this.samples.subarray(0, this.count).sort();
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      connections,
      durationS: round(this.seconds, 2),
      rounds: this.roundRps.length,
      responses: this.count,
      rps: round(this.count / this.seconds, 1),
      roundRps: this.roundRps,
      latencyMs: {
        p50: round(percentile(sorted, 0.5)),
        p90: round(percentile(sorted, 0.9)),
        p99: round(percentile(sorted, 0.99)),
        mean: round(this.count ? sum / this.count : Number.NaN),
        max: round(this.count ? sorted[this.count - 1]! : Number.NaN),
      },
      non2xx: this.non2xx,
      errors: this.errors,
      timeouts: this.timeouts,
      otherCpuCores: this.cpuKnown && this.wallTicks > 0 ? round(this.foreignTicks / this.wallTicks, 2) : null,
    };
  }
}

/**
 * Runs several loads against each other: warm-up each, then `rounds` rounds in which each load
 * runs durationS / rounds seconds, in an order that rotates every round.
 */
export async function compareLoads<K extends string>(specs: Record<K, LoadSpec>, rounds: number): Promise<Record<K, LoadResult>> {
  const keys = Object.keys(specs) as K[];
  const collectors = new Map<K, Collector>(keys.map((key) => [key, new Collector()]));
  for (const key of keys) {
    const spec = specs[key];
    if (spec.warmupS > 0) await fire({ ...optionsOf(spec), duration: spec.warmupS });
  }
  for (let r = 0; r < rounds; r++) {
    const order = keys.map((_, i) => keys[(i + r) % keys.length]!);
    for (const key of order) {
      const spec = specs[key];
      const collector = collectors.get(key)!;
      const before = collector.count;
      const timer = spec.onSample ? setInterval(spec.onSample, spec.sampleMs ?? 500) : undefined;
      const cpuBefore = cpuSnapshot();
      try {
        const result = await fire({ ...optionsOf(spec), duration: spec.durationS / rounds }, collector.add);
        const cpu = foreignBetween(cpuBefore, cpuSnapshot());
        if (cpu) {
          collector.foreignTicks += cpu.foreignTicks;
          collector.wallTicks += cpu.wallTicks;
        } else {
          collector.cpuKnown = false;
        }
        collector.seconds += result.duration;
        collector.roundRps.push(round((collector.count - before) / result.duration, 0));
        collector.non2xx += result.non2xx;
        collector.errors += result.errors;
        collector.timeouts += result.timeouts;
      } finally {
        if (timer) clearInterval(timer);
      }
    }
  }
  return Object.fromEntries(keys.map((key) => [key, collectors.get(key)!.result(specs[key].connections)])) as Record<K, LoadResult>;
}

/** One load on its own: warm-up, then the measured run (in `rounds` pieces). */
export async function runLoad(spec: LoadSpec, rounds = 1): Promise<LoadResult> {
  return (await compareLoads({ only: spec }, rounds)).only;
}
