/** Assembles a running sessiond from its configuration: store, service, HTTP front. */
import pkg from "../package.json" with { type: "json" };
import { limitsOf, type ServerConfig } from "./config.ts";
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
  const sessions = createSessionService(store, { ...overrides, version: VERSION, limits });
  try {
    const http = await listen({ ...config, router: createAppRouter(limits), sessions, log, metrics, version: VERSION });
    return {
      url: http.url,
      sessions,
      sqliteSync: store.sqliteSync,
      async close() {
        await http.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
