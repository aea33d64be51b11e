/** sessiond's own router: the session procedures and `health`, on its own tRPC instance. */
import type { Health, SessiondErrorData } from "@sessiond/shared";
import type {
  inferRouterInputs,
  inferRouterOutputs,
  TRPC_ERROR_CODE_NUMBER,
  TRPCBuiltRouter,
  TRPCDecorateCreateRouterOptions,
  TRPCQueryProcedure,
} from "@trpc/server";
import type { Context } from "./context.ts";
import { createSessionProcedures, type SessiondParts, type SessionProcedures } from "./session/procedures.ts";
import { createSessiondTRPC, type SessiondTRPCOptions } from "./trpc.ts";

/**
 * The router's type, written out so that the client's declarations carry the API and nothing of
 * the server's implementation.
 */
export type AppRouter = TRPCBuiltRouter<
  {
    ctx: Context;
    meta: object;
    errorShape: { message: string; code: TRPC_ERROR_CODE_NUMBER; data: SessiondErrorData };
    transformer: true;
  },
  TRPCDecorateCreateRouterOptions<{
    session: SessionProcedures;
    // biome-ignore lint/suspicious/noConfusingVoidType: tRPC types a procedure without input as taking void
    health: TRPCQueryProcedure<{ input: void; output: Health; meta: object }>;
  }>
>;

export function createAppRouter(sessiond: SessiondParts, options: SessiondTRPCOptions = {}): AppRouter {
  const t = createSessiondTRPC(options);
  return t.router({
    session: createSessionProcedures(t.procedure, { sessiond, scope: (ctx) => ctx }),
    health: t.procedure.query(() => sessiond.sessions.health()),
  });
}

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
