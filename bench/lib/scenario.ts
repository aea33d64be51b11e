/** What a scenario is (a function of the run's context that returns figures), each mode's settings, the shared helpers. */
import type { LoadResult, LoadSpec } from "./load.ts";
import { TRPC, type Wire } from "./contenders.ts";

/** Every knob in full, quick and smoke runs (smoke: a moment per load, to check the harness; its figures mean nothing). */
const TABLE = {
  /** sessiond needs about 4 s under load to reach its steady speed (JIT); a second load of the same kind less (rewarm). */
  warmupS: [5, 3, 0.5],
  rewarmS: [2, 1, 0.5],
  durationS: [10, 3, 1],
  rounds: [5, 3, 1],
  /** The loads of sync, workers, postgres and events (many, so each is shorter). */
  shortDurationS: [6, 3, 1],
  readSeedRows: [10_000, 10_000, 1000],
  readIds: [1000, 1000, 100],
  /** Growth seeds a hundredth, a tenth and all of this many sessions. */
  growthRows: [1_000_000, 1_000_000, 10_000],
  idsPerRound: [500_000, 200_000, 10_000],
  idRounds: [10, 5, 2],
  biasIds: [200_000, 200_000, 10_000],
  /** Fan-out subscribers; of those, how many parse every frame for the latency (the others count frames). */
  fanoutSubscribers: [1000, 1000, 100],
  fanoutParsingSubscribers: [50, 50, 10],
  fanoutS: [8, 4, 1],
  costSubscribers: [100, 100, 10],
};
const FIXED = { createConnections: [10, 64], batchSizes: [10, 100], readConnections: 10, eventsConnections: 64 };
export type Settings = typeof FIXED & { [K in keyof typeof TABLE]: (typeof TABLE)[K][number] };

export function settingsOf(mode: "full" | "quick" | "smoke"): Settings {
  const column = ["full", "quick", "smoke"].indexOf(mode);
  return { ...FIXED, ...Object.fromEntries(Object.entries(TABLE).map(([name, values]) => [name, values[column]])) } as Settings;
}

/** A ratio between two loads of one run, or a measured value, with its target (`min`, `max`) if it has one. */
export interface Figure {
  name: string;
  value: number;
  meaning: string;
  min?: number;
  max?: number;
  pass?: boolean;
  /** The lowest and highest ratio of one round's req/s, for a ratio between two alternating loads. */
  rounds?: [number, number];
}

export interface ScenarioResult {
  figures: Figure[];
  /** Markdown under the scenario's table of loads. */
  notes?: string[];
  /** What went wrong beyond a missed target (lost events, a part that could not run): it fails the run. */
  failed?: string[];
}

export interface ScenarioContext {
  settings: Settings;
  /** A path for a new SQLite file in the run's scratch folder. */
  freshDb(label: string): string;
  /** Alternating loads, recorded in the report as "<label> <key>". */
  measure<K extends string>(label: string, specs: Record<K, LoadSpec>): Promise<Record<K, LoadResult>>;
}

export type Scenario = (context: ScenarioContext) => Promise<ScenarioResult>;

export function figure(name: string, value: number, meaning: string, target: Pick<Figure, "min" | "max"> = {}): Figure {
  const { min, max } = target;
  const pass = min === undefined && max === undefined ? undefined : value >= (min ?? -Infinity) && value <= (max ?? Infinity);
  return { name, value: Number(value.toPrecision(4)), meaning, ...target, ...(pass === undefined ? {} : { pass }) };
}

/** `a`'s req/s over `b`'s, with the per-round spread. */
export function over(name: string, a: LoadResult, b: LoadResult, meaning: string, target: Pick<Figure, "min" | "max"> = {}): Figure {
  const perRound = a.roundRps.map((rps, i) => rps / b.roundRps[i]!).filter(Number.isFinite);
  const rounds: [number, number] | undefined = perRound.length > 1 ? [Math.min(...perRound), Math.max(...perRound)] : undefined;
  return { ...figure(name, a.rps / b.rps, meaning, target), ...(rounds ? { rounds } : {}) };
}

export const mib = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Timing = Pick<LoadSpec, "connections" | "durationS" | "warmupS">;

/** The create loads' timing, one per connection count (a shorter warm-up after the first). */
export function createTimings(settings: Settings, durationS = settings.durationS): Timing[] {
  return settings.createConnections.map((connections, i) => ({ connections, durationS, warmupS: i ? settings.rewarmS : settings.warmupS }));
}

/** A session.create load (server-generated IDs) in `wire`'s format, sessiond's tRPC by default. */
export function createLoad(server: LoadSpec["server"], timing: Timing, wire: Wire = TRPC): LoadSpec {
  return { server, method: "POST", paths: [wire.create.path], body: wire.create.body, ...timing };
}

/** A GET load at the read connections. */
export function readLoad(settings: Settings, server: LoadSpec["server"], paths: string[], durationS = settings.durationS): LoadSpec {
  return { server, method: "GET", paths, connections: settings.readConnections, durationS, warmupS: settings.warmupS };
}
