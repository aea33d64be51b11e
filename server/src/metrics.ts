/**
 * Operations: Prometheus metrics (prom-client) for one sessiond instance, served at GET /metrics.
 *
 * - sessiond_http_requests_total and sessiond_http_request_duration_seconds, by route (a tRPC
 *   procedure, a REST route template, or "other") and status;
 * - sessiond_store_operation_duration_seconds, by operation, and
 *   sessiond_store_unavailable_total, the calls the store could not serve (503: SQLite busy,
 *   read-only or full; PostgreSQL unreachable or timed out), by reason;
 * - sessiond_pg_pool_connections (total, idle, waiting), on PostgreSQL;
 * - sessiond_sqlite_synchronous, the durability SQLite runs with (normal or full), on SQLite;
 * - sessiond_sqlite_background_checkpoints_total and sessiond_sqlite_wal_pages, on a SQLite file:
 *   the checkpoints run off the event loop (the WAL copied into the database file), and the WAL's
 *   size in pages after the last;
 * - sessiond_event_subscribers, sessiond_events_read_total and sessiond_event_frames_encoded_total:
 *   open event streams, and what live events cost the instance (each event read and encoded once,
 *   however many subscribers take it);
 * - Node's own: event-loop delay and utilisation, heap, GC, CPU, file descriptors.
 * Labels come from fixed sets (known routes, store operations), so a caller cannot grow them.
 */
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { StoreUnavailableError } from "./errors.ts";
import { CheapHistogram } from "./metrics-histogram.ts";
import type { EventStats } from "./events/types.ts";
import type { SessionStore } from "./store/types.ts";

/**
 * Under --workers, GET /metrics answers for all workers: the worker that takes the request asks the
 * primary, which gathers every worker's registry through prom-client's cluster protocol
 * (AggregatorRegistry: counters and histograms summed, gauges as each declares).
 */
export interface MetricsMessage {
  sessiond: "metrics";
  requestId: number;
  /** In the primary's answer: the text for all workers, or null when it could not gather them. */
  text?: string | null;
}

export function isMetricsMessage(message: unknown): message is MetricsMessage {
  return typeof message === "object" && message !== null && (message as { sessiond?: unknown }).sessiond === "metrics";
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  // Observed on every request and store call: the cheap kind (metrics-histogram.ts).
  readonly #requests = new CheapHistogram(
    {
      name: "sessiond_http_request_duration_seconds",
      help: "Time from a request's arrival to the end of its answer",
      labelNames: ["route", "status"],
      buckets: LATENCY_BUCKETS,
      counter: { name: "sessiond_http_requests_total", help: "HTTP requests answered" },
    },
    this.registry,
  );
  readonly #storeSeconds = new CheapHistogram(
    {
      name: "sessiond_store_operation_duration_seconds",
      help: "Time of each session store operation",
      labelNames: ["engine", "operation"],
      buckets: LATENCY_BUCKETS,
    },
    this.registry,
  );
  readonly #unavailable = new Counter({
    name: "sessiond_store_unavailable_total",
    help: "Store calls answered 503 (SQLite busy, read-only or full; PostgreSQL unreachable or timed out)",
    labelNames: ["engine", "reason"],
    registers: [this.registry],
  });

  /** Under --workers: the answers awaited from the primary, by request number. */
  readonly #awaitingPrimary = new Map<number, (text: string | null) => void>();
  #nextRequestId = 0;
  readonly #onPrimaryMessage = (message: unknown) => {
    if (isMetricsMessage(message) && message.text !== undefined) this.#awaitingPrimary.get(message.requestId)?.(message.text);
  };

  readonly #inCluster: boolean;

  /** `inCluster`: this process is a worker of `serve --workers`, whose primary gathers the metrics. */
  constructor(options: { inCluster?: boolean } = {}) {
    this.#inCluster = options.inCluster ?? false;
    collectDefaultMetrics({ register: this.registry });
    if (this.#inCluster) {
      // This worker's side of prom-client's cluster protocol: the primary gathers this registry.
      // Constructing an AggregatorRegistry is what installs the listener.
      AggregatorRegistry.setRegistries([this.registry]);
      new AggregatorRegistry();
      process.on("message", this.#onPrimaryMessage);
    }
  }

  /** Stops listening to the primary. */
  close(): void {
    process.off("message", this.#onPrimaryMessage);
  }

  /** In a worker: the metrics of every worker, from the primary; null if it does not answer in 5 s. */
  #fromPrimary(): Promise<string | null> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answered(null), 5000);
      const answered = (text: string | null) => {
        clearTimeout(timer);
        this.#awaitingPrimary.delete(requestId);
        resolve(text);
      };
      this.#awaitingPrimary.set(requestId, answered);
      process.send?.({ sessiond: "metrics", requestId } satisfies MetricsMessage);
    });
  }

  /**
   * The metrics text: this process's, or under --workers every worker's, gathered by the primary
   * (this worker's own alone if the primary does not answer).
   */
  async text(): Promise<string> {
    if (this.#inCluster) {
      const all = await this.#fromPrimary();
      if (all !== null) return all;
    }
    return this.registry.metrics();
  }

  request(route: string, status: number, seconds: number): void {
    this.#requests.observe(route, status, seconds);
  }

  /** Live events' gauges and counters, read from the instance's event service when scraped. */
  observeEvents(stats: () => EventStats): void {
    new Gauge({
      name: "sessiond_event_subscribers",
      help: "Open event streams (GET /event and session.events)",
      registers: [this.registry],
      collect() {
        this.set(stats().subscribers);
      },
    });
    const total = (name: string, help: string, value: (current: EventStats) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(value(stats()));
        },
      });
    total(
      "sessiond_events_read_total",
      "Events read from the store (the log's reader and pages for streams catching up)",
      (current) => current.eventsRead,
    );
    total("sessiond_event_frames_encoded_total", "Server-sent-event frames encoded", (current) => current.framesEncoded);
  }

  /** The store, with each operation timed and each 503 counted; and the pool's gauges, where it has one. */
  instrument(store: SessionStore): SessionStore {
    const engine = store.engine;
    if (store.poolStats) {
      const stats = store.poolStats.bind(store);
      new Gauge({
        name: "sessiond_pg_pool_connections",
        help: "PostgreSQL connections of this instance's pool, by state",
        labelNames: ["state"],
        registers: [this.registry],
        collect() {
          const { total, idle, waiting } = stats();
          this.set({ state: "total" }, total);
          this.set({ state: "idle" }, idle);
          this.set({ state: "waiting" }, waiting);
        },
      });
    }
    if (store.sqliteSync) {
      new Gauge({
        name: "sessiond_sqlite_synchronous",
        help: "SQLite's synchronous setting as the store's connection reports it: 1 for the mode it runs with",
        labelNames: ["mode"],
        registers: [this.registry],
        // Every worker runs with the same setting: under --workers, one of them says which.
        aggregator: "first",
      }).set({ mode: store.sqliteSync }, 1);
    }
    if (store.checkpointStats) {
      const stats = store.checkpointStats.bind(store);
      new Counter({
        name: "sessiond_sqlite_background_checkpoints_total",
        help: "SQLite checkpoints (the WAL copied into the database file) run on the store's thread for them, off the event loop",
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(stats().checkpoints);
        },
      });
      new Gauge({
        name: "sessiond_sqlite_wal_pages",
        help: "Pages in SQLite's WAL after the last background checkpoint (it starts over from its beginning once all are copied)",
        registers: [this.registry],
        aggregator: "max",
        collect() {
          this.set(stats().walPages);
        },
      });
    }
    // A promise chain rather than an async function: one promise and one turn of the microtask
    // queue less on every store call.
    const timed =
      <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => {
        const end = this.#storeSeconds.startTimer(engine, operation);
        let result: Promise<R>;
        try {
          result = call(...args);
        } catch (error) {
          result = Promise.reject(error);
        }
        return result.then(
          (value) => {
            end();
            return value;
          },
          (error: unknown) => {
            if (error instanceof StoreUnavailableError) this.#unavailable.inc({ engine, reason: error.reason });
            end();
            throw error;
          },
        );
      };
    return {
      engine,
      sqliteSync: store.sqliteSync,
      insert: timed("insert", store.insert.bind(store)),
      get: timed("get", store.get.bind(store)),
      getCreatedWithKey: timed("getCreatedWithKey", store.getCreatedWithKey.bind(store)),
      list: timed("list", store.list.bind(store)),
      update: timed("update", store.update.bind(store)),
      deleteTree: timed("deleteTree", store.deleteTree.bind(store)),
      readEvents: timed("readEvents", store.readEvents.bind(store)),
      followEvents: store.followEvents.bind(store),
      eventLog: timed("eventLog", store.eventLog.bind(store)),
      pruneEvents: timed("pruneEvents", store.pruneEvents.bind(store)),
      watchEvents: store.watchEvents.bind(store),
      announceEvents: store.announceEvents && timed("announceEvents", store.announceEvents.bind(store)),
      ping: timed("ping", store.ping.bind(store)),
      close: store.close.bind(store),
    };
  }
}
