/**
 * The one tRPC instance: the wire transformer (wire/), and the error formatter that gives every
 * error the contract's message and `data` (errors.ts `describeError`), with the request's ID.
 */
import { randomUUID } from "node:crypto";
import { initTRPC } from "@trpc/server";
import { requestScope, type Context } from "./context.ts";
import { describeError } from "./errors.ts";
import { wireTransformer } from "./wire/transformer.ts";

const t = initTRPC.context<Context>().create({
  transformer: wireTransformer,
  // Subscriptions (session.events): a ping comment keeps idle streams open through proxies, and a
  // client that hears nothing for three pings reconnects (resuming from its last event).
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 45_000 } },
  errorFormatter({ shape, error, ctx, path }) {
    const requestId = ctx?.requestId ?? requestScope.getStore()?.requestId ?? randomUUID();
    const { message, data } = describeError(error, { requestId, path });
    return { message, code: shape.code, data };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
