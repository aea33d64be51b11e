/** sessiond's own router: the session procedures and `health`, on its own tRPC instance. */
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createSessionProcedures, type SessiondParts } from "./session/procedures.ts";
import { createSessiondTRPC, type SessiondTRPCOptions } from "./trpc.ts";

export function createAppRouter(sessiond: SessiondParts, options: SessiondTRPCOptions = {}) {
  const t = createSessiondTRPC(options);
  return t.router({
    session: createSessionProcedures(t.procedure, { sessiond, scope: (ctx) => ctx }),
    health: t.procedure.query(() => sessiond.sessions.health()),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
