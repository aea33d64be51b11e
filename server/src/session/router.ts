import { SessionEventsInputSchema, type InputSchemas } from "@sessiond/shared";
import { TRPCError, tracked, type TRPCRouterRecord } from "@trpc/server";
import { cutOffWhenStalled } from "../events/stream.ts";
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
    /**
     * Every change after `lastEventId` (or from now), over server-sent events. Each event is
     * tracked by its ID, so the client's reconnect resumes exactly after the last one it saw.
     * The stream is opened before the response starts: a full instance answers 503 and an
     * expired resume point UNPROCESSABLE_CONTENT as plain HTTP errors.
     */
    events: publicProcedure.input(SessionEventsInputSchema).subscription(async ({ ctx, input, signal }) => {
      if (!ctx.events) throw new TRPCError({ code: "NOT_IMPLEMENTED", message: "This server has no live events" });
      const stream = await ctx.events.open(input, signal ?? new AbortController().signal);
      const { slowSubscriberTimeoutMs } = ctx.events.settings;
      const disconnect = ctx.disconnect ?? (() => undefined);
      return (async function* () {
        for await (const event of cutOffWhenStalled(stream.events(), slowSubscriberTimeoutMs, disconnect)) {
          // The same object for every subscriber: tRPC serialises it for each.
          yield tracked(String(event.id), event.message);
        }
      })();
    }),
  } satisfies TRPCRouterRecord;
}
