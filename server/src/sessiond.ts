/** Assembles a running sessiond from its configuration: store, service, HTTP front. */
import pkg from "../package.json" with { type: "json" };
import { limitsOf, type ServerConfig } from "./config.ts";
import { startEventService } from "./events/service.ts";
import type { EventService } from "./events/types.ts";
import { listen } from "./http/server.ts";
import type { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { createAppRouter } from "./router.ts";
import { createSessionService, type SessionService, type SessionServiceOptions } from "./session/service.ts";
import { openStore } from "./store/open.ts";

export const VERSION: string = pkg.version;

export interface Sessiond {
  url: string;
  sessions: SessionService;
  events: EventService;
  /** On SQLite: the synchronous setting its connection runs with. */
  sqliteSync?: "full" | "normal";
  /** Stops accepting connections, lets in-flight calls finish, then closes the store. */
  close(): Promise<void>;
}

/** What tests may inject: the clock and the ID generator (the defaults are the real ones). */
export type SessiondOverrides = Pick<SessionServiceOptions, "now" | "generateId">;

export async function startSessiond(config: ServerConfig, log: Logger, overrides: SessiondOverrides = {}): Promise<Sessiond> {
  const metrics = new Metrics();
  const store = metrics.instrument(await openStore(config.db, { ...config, log }));
  const limits = limitsOf(config);
  let events: EventService | undefined;
  try {
    events = await startEventService(store, { ...config, heartbeatMs: config.eventHeartbeatMs }, log);
    metrics.observeEvents(events.stats);
    const onWrite = events.poke;
    const sessions = createSessionService(store, { ...overrides, version: VERSION, limits, onWrite });
    const http = await listen({
      ...config,
      router: createAppRouter(limits, { eventHeartbeatMs: config.eventHeartbeatMs }),
      sessions,
      events,
      log,
      metrics,
      version: VERSION,
    });
    return {
      url: http.url,
      sessions,
      events,
      sqliteSync: store.sqliteSync,
      async close() {
        // Event streams end first: they would otherwise hold the HTTP shutdown until its timeout.
        await events!.close();
        await http.close();
        await store.close();
      },
    };
  } catch (error) {
    await events?.close();
    await store.close();
    throw error;
  }
}
