import type { InputSchemas } from "@sessiond/shared";
import type { TRPCRouterRecord } from "@trpc/server";
import { publicProcedure } from "../trpc.ts";

/** The session procedures, validating input with the given schemas (built for the server's limits). */
export function createSessionRouter(inputs: InputSchemas) {
  return {
    create: publicProcedure.input(inputs.create).mutation(({ ctx, input }) => ctx.sessions.create(input)),
    get: publicProcedure.input(inputs.get).query(({ ctx, input }) => ctx.sessions.get(input.id)),
    list: publicProcedure.input(inputs.list).query(({ ctx, input }) => ctx.sessions.list(input, ctx.reads)),
    children: publicProcedure.input(inputs.children).query(({ ctx, input }) => ctx.sessions.children(input, ctx.reads)),
    update: publicProcedure.input(inputs.update).mutation(({ ctx, input }) => ctx.sessions.update(input)),
    delete: publicProcedure.input(inputs.delete).mutation(({ ctx, input }) => ctx.sessions.delete(input.id)),
  } satisfies TRPCRouterRecord;
}
