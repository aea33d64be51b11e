/**
 * Observing requests: one access log line per request (sampled) and the request metrics, both
 * labelled by what the request asked for, from a fixed set of labels so no caller can grow them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPC_PATH } from "@sessiond/shared";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";

const FIXED_ROUTES = new Set(["/healthz", "/metrics", "/openapi.json", "/doc", "/event", "/"]);

/**
 * What a request asked for, as a label from a fixed set (for the access log and metrics): a tRPC
 * procedure (also for a batch of calls to one procedure; "batch:mixed" for several), a REST route
 * template, a fixed route, or "other".
 */
export function routeLabel(method: string | undefined, url: string, procedures: Record<string, unknown>): string {
  const path = url.split("?")[0]!;
  if (path.startsWith(`${TRPC_PATH}/`)) {
    const names = new Set(path.slice(TRPC_PATH.length + 1).split(","));
    if (names.size > 1) return "batch:mixed";
    const [name] = names;
    return name !== undefined && Object.hasOwn(procedures, name) ? name : "unknown";
  }
  if (path === "/session") return `${method} /session`;
  if (/^\/session\/[^/]+$/.test(path)) return `${method} /session/{id}`;
  if (/^\/session\/[^/]+\/children$/.test(path)) return `${method} /session/{id}/children`;
  return FIXED_ROUTES.has(path) ? path : "other";
}

/** Counts, times and (for a `sample` share of requests) logs each request when its answer ends. */
export function createAccessObserver(options: { metrics: Metrics; log: Logger; sample: number; procedures: Record<string, unknown> }) {
  const { metrics, log, sample, procedures } = options;
  return function observe(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    const started = performance.now();
    res.once("close", () => {
      const seconds = (performance.now() - started) / 1000;
      const route = routeLabel(req.method, req.url ?? "/", procedures);
      // An answer cut before it was sent counts as status 0.
      const status = res.writableFinished ? res.statusCode : 0;
      metrics.request(route, status, seconds);
      if (sample > 0 && (sample >= 1 || Math.random() < sample)) {
        log.info({ requestId, method: req.method, route, status, ms: Math.round(seconds * 10_000) / 10 }, "request");
      }
    });
  };
}
