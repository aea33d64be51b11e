import { LIMITS, createInputSchemas, type Limits } from "@sessiond/shared";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createSessionRouter } from "./session/router.ts";
import { publicProcedure, router } from "./trpc.ts";

export interface AppRouterOptions {
  /**
   * The keep-alive of subscriptions (session.events), as `--event-heartbeat-ms` sets it for
   * GET /event; absent, the tRPC instance's default (trpc.ts).
   */
  eventHeartbeatMs?: number;
}

/** The whole API, validating input against the given limits. Its type does not depend on them. */
export function createAppRouter(limits: Limits = LIMITS, options: AppRouterOptions = {}) {
  const app = router({
    session: createSessionRouter(createInputSchemas(limits)),
    health: publicProcedure.query(({ ctx }) => ctx.sessions.health()),
  });
  const heartbeatMs = options.eventHeartbeatMs;
  if (heartbeatMs !== undefined) {
    // tRPC reads its SSE settings from the router's root config, one per tRPC instance; this
    // router gets its own copy with the server's interval. A client that hears nothing for three
    // pings reconnects (resuming from its last event).
    const config = app._def._config;
    app._def._config = {
      ...config,
      sse: { ...config.sse, ping: { enabled: true, intervalMs: heartbeatMs }, client: { reconnectAfterInactivityMs: 3 * heartbeatMs } },
    };
  }
  return app;
}

export type AppRouter = ReturnType<typeof createAppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
