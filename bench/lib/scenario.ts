/**
 * What every scenario gets from the run (bench/run.ts): the settings of this mode, the log, fresh
 * SQLite paths in the run's scratch folder; and the helpers they share.
 */
import type { Settings } from "../run.ts";
import type { LoadResult, LoadSpec } from "./load.ts";
import type { ServerProcess } from "./proc.ts";
import { REQUESTS, type Requests } from "./requests.ts";

export interface ScenarioContext {
  settings: Settings;
  log(message: string): void;
  /** A path for a new SQLite file in the run's scratch folder. */
  freshDb(label: string): string;
}

export const ratio = (a: number, b: number): number => Number((a / b).toFixed(3));

export const postJson = (body: string): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body });

export function describeLoad(label: string, r: LoadResult): string {
  return `${label}: ${r.rps.toFixed(0)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`;
}

/** One request before the load, so a broken endpoint fails loudly instead of as a wall of non-2xx. */
export async function smoke(
  server: Pick<ServerProcess, "kind" | "url">,
  path: string,
  init: RequestInit,
  check: (body: unknown) => boolean,
): Promise<{ text: string; body: unknown }> {
  const response = await fetch(server.url + path, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!response.ok || !check(body)) {
    throw new Error(`${server.kind} ${init.method ?? "GET"} ${path.slice(0, 80)}: HTTP ${response.status} ${text.slice(0, 300)}`);
  }
  return { text, body };
}

/** A session.create load (server-generated IDs) in `wire`'s format; sessiond's by default. */
export function createLoad(
  url: string,
  timing: Pick<LoadSpec, "connections" | "durationS" | "warmupS">,
  wire: Requests = REQUESTS.sessiond,
): LoadSpec {
  return { url, method: "POST", paths: [wire.create.path], body: wire.create.body, ...timing };
}

/** One create before a load: the server must answer with the new session's ID. */
export function smokeCreate(
  server: Pick<ServerProcess, "kind" | "url">,
  wire: Requests = REQUESTS.sessiond,
): Promise<{ text: string; body: unknown }> {
  return smoke(server, wire.create.path, postJson(wire.create.body), (body) => typeof wire.createdId(body) === "string");
}
