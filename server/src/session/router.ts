import {
  CreateSessionInputSchema,
  ListChildrenInputSchema,
  ListSessionsInputSchema,
  SessionRefSchema,
  UpdateSessionInputSchema,
} from "@sessiond/shared";
import type { TRPCRouterRecord } from "@trpc/server";
import { publicProcedure } from "../trpc.ts";

export const sessionRouter = {
  create: publicProcedure.input(CreateSessionInputSchema).mutation(({ ctx, input }) => ctx.sessions.create(input)),
  get: publicProcedure.input(SessionRefSchema).query(({ ctx, input }) => ctx.sessions.get(input.id)),
  list: publicProcedure.input(ListSessionsInputSchema).query(({ ctx, input }) => ctx.sessions.list(input)),
  children: publicProcedure.input(ListChildrenInputSchema).query(({ ctx, input }) => ctx.sessions.children(input)),
  update: publicProcedure.input(UpdateSessionInputSchema).mutation(({ ctx, input }) => ctx.sessions.update(input)),
  delete: publicProcedure.input(SessionRefSchema).mutation(({ ctx, input }) => ctx.sessions.delete(input.id)),
} satisfies TRPCRouterRecord;
