/**
 * Opening sessiond: the store, the session service and live events, with no server
 * (`openSessiond`, for a host app that mounts its procedures or HTTP surface), and the standalone
 * server, which is one user of the mountable handler (`startSessiond`, behind `sessiond serve`).
 */
import cluster from "node:cluster";
import type { Limits } from "@sessiond/shared";
import { limitsOf, resolveConfig, type ServerConfig, type ServerFlags } from "./config.ts";
import { startEventService } from "./events/service.ts";
import type { EventService } from "./events/types.ts";
import { createSessiondHandler } from "./http/handler.ts";
import { allowedHostsFor } from "./http/hosts.ts";
import { listen } from "./http/listen.ts";
import { createLogger, type Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { createSessionService, type SessionService, type SessionServiceOptions } from "./session/service.ts";
import { openStore } from "./store/open.ts";
import { VERSION } from "./version.ts";
import type { Engine } from "./store/types.ts";

export { VERSION } from "./version.ts";

/** An open sessiond: what its procedures and its HTTP handler serve from. */
export interface Sessiond {
  readonly config: ServerConfig;
  readonly limits: Limits;
  readonly sessions: SessionService;
  readonly events: EventService;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly engine: Engine;
  /** On SQLite: the synchronous setting its connection runs with. */
  readonly sqliteSync?: "full" | "normal";
  /** Ends the event streams and closes the store. */
  close(): Promise<void>;
}

/** What tests may inject: the clock and the ID generator (the defaults are the real ones). */
export type SessiondOverrides = Pick<SessionServiceOptions, "now" | "generateId">;

export interface OpenSessiondOptions extends SessiondOverrides {
  /** Default: JSON lines on stdout at the configured level. */
  log?: Logger;
}

/**
 * Opens sessiond without a server, from settings named as `sessiond serve`'s flags (`db`,
 * `maxBodyBytes`, ...; the environment is not read): for a host that mounts the procedures
 * (`createSessionProcedures`) or the HTTP surface (`createSessiondHandler`).
 */
export function openSessiond(settings: ServerFlags = {}, options: OpenSessiondOptions = {}): Promise<Sessiond> {
  const config = resolveConfig(settings, {});
  return openSessiondWith(config, options.log ?? createLogger(config.logLevel), options);
}

/** Opens sessiond from a resolved configuration. */
export async function openSessiondWith(config: ServerConfig, log: Logger, overrides: SessiondOverrides = {}): Promise<Sessiond> {
  const metrics = new Metrics({ inCluster: cluster.isWorker && config.workers > 1 });
  const store = metrics.instrument(await openStore(config.db, { ...config, log }));
  const limits = limitsOf(config);
  try {
    const events = await startEventService(store, { ...config, heartbeatMs: config.eventHeartbeatMs }, log);
    metrics.observeEvents(events.stats);
    const sessions = createSessionService(store, { ...overrides, version: VERSION, limits, onWrite: events.poke });
    return {
      config,
      limits,
      sessions,
      events,
      metrics,
      log,
      engine: store.engine,
      sqliteSync: store.sqliteSync,
      async close() {
        await events.close();
        await store.close();
        metrics.close();
      },
    };
  } catch (error) {
    await store.close();
    metrics.close();
    throw error;
  }
}

/** The standalone server: an open sessiond and its HTTP surface on a port of its own. */
export interface RunningSessiond extends Sessiond {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string;
}

export async function startSessiond(config: ServerConfig, log: Logger, overrides: SessiondOverrides = {}): Promise<RunningSessiond> {
  const sessiond = await openSessiondWith(config, log, overrides);
  try {
    const handler = createSessiondHandler(sessiond, { allowedHosts: allowedHostsFor(config) });
    const http = await listen(handler.node, config);
    return {
      ...sessiond,
      url: http.url,
      async close() {
        // Event streams end first: they would otherwise hold the HTTP shutdown until its timeout.
        await sessiond.events.close();
        await http.close();
        await sessiond.close();
      },
    };
  } catch (error) {
    await sessiond.close();
    throw error;
  }
}
