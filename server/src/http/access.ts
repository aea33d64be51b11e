/**
 * Observing requests: one access log line per request (sampled) and the request metrics, both
 * labelled by the route the request took (`Exchange.label`, from the route table's fixed set, so no
 * caller can grow them).
 */
import { accessLineWriter, type AccessFields, type Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";

/** Counts, times and (for a `sample` share of requests) logs each request when its answer ends. */
export function createAccessObserver(options: { metrics: Metrics; log: Logger; sample: number }) {
  const { metrics, log, sample } = options;
  const writeLine = accessLineWriter(log) ?? ((fields: AccessFields) => log.info(fields, "request"));
  /** Call when a request arrives; the returned function when its answer ended (status 0: cut before it was sent). */
  return function observe(method: string, requestId: string): (label: string, status: number) => void {
    const started = performance.now();
    return (label, status) => {
      const seconds = (performance.now() - started) / 1000;
      metrics.request(label, status, seconds);
      if (sample > 0 && (sample >= 1 || Math.random() < sample)) {
        writeLine({ requestId, method, route: label, status, ms: Math.round(seconds * 10_000) / 10 });
      }
    };
  };
}
