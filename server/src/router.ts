import { LIMITS, createInputSchemas, type Limits } from "@sessiond/shared";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createSessionRouter } from "./session/router.ts";
import { publicProcedure, router } from "./trpc.ts";

/** The whole API, validating input against the given limits. Its type does not depend on them. */
export function createAppRouter(limits: Limits = LIMITS) {
  return router({
    session: createSessionRouter(createInputSchemas(limits)),
    health: publicProcedure.query(({ ctx }) => ctx.sessions.health()),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
