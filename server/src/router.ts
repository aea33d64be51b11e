import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { sessionRouter } from "./session/router.ts";
import { publicProcedure, router } from "./trpc.ts";

export const appRouter = router({
  session: sessionRouter,
  health: publicProcedure.query(({ ctx }) => ctx.sessions.health()),
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
