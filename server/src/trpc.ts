/**
 * sessiond's own tRPC instance, and the error formatter that any tRPC instance (sessiond's, or a
 * host app's) uses to give its clients the contract's error data.
 */
import { randomUUID } from "node:crypto";
import { initTRPC, type TRPCError } from "@trpc/server";
import type { SessiondErrorData } from "@sessiond/shared";
import type { Context } from "./context.ts";
import { describeError } from "./errors.ts";
import { createWireTransformer } from "./wire/transformer.ts";

/** The request ID a context carries, if it carries one as `requestId`. */
function requestIdOf(ctx: unknown): string | undefined {
  const id = (ctx as { requestId?: unknown } | undefined)?.requestId;
  return typeof id === "string" ? id : undefined;
}

/**
 * An `errorFormatter` for `initTRPC.create()`: every error gets the contract's message and `data`
 * (`code`, `httpStatus`, `path`, `requestId`, and the fields of its kind such as `conflict.id` or
 * `fieldErrors`), which `@sessiond/client`'s helpers narrow on; an internal error's message is
 * replaced, never sent. The request ID is the context's `requestId` when it has one.
 *
 *   const t = initTRPC.context<MyContext>().create({ transformer: superjson, errorFormatter: sessiondErrorFormatter });
 */
export function sessiondErrorFormatter<TCode extends number>(opts: {
  shape: { code: TCode; message: string };
  error: TRPCError;
  ctx: unknown;
  path: string | undefined;
}): { code: TCode; message: string; data: SessiondErrorData } {
  const requestId = requestIdOf(opts.ctx) ?? randomUUID();
  const { message, data } = describeError(opts.error, { requestId, path: opts.path });
  return { message, code: opts.shape.code, data };
}

export interface SessiondTRPCOptions {
  /** The keep-alive of subscriptions (session.events); a client that hears nothing for three reconnects. */
  heartbeatMs?: number;
  /** The request being served, for an error formatted before its context exists. */
  currentRequestId?: () => string | undefined;
  /** The wire transformer (default: superjson's format with the bounded input decoder, wire/transformer.ts). */
  transformer?: ReturnType<typeof createWireTransformer>;
}

/** A tRPC instance for sessiond's own endpoint (one per handler: each has its own heartbeat). */
export function createSessiondTRPC(options: SessiondTRPCOptions = {}) {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  return initTRPC.context<Context>().create({
    transformer: options.transformer ?? createWireTransformer(false),
    sse: { ping: { enabled: true, intervalMs: heartbeatMs }, client: { reconnectAfterInactivityMs: 3 * heartbeatMs } },
    errorFormatter: ({ shape, error, ctx, path }) =>
      sessiondErrorFormatter({ shape, error, ctx: ctx ?? { requestId: options.currentRequestId?.() }, path }),
  });
}

export type SessiondTRPC = ReturnType<typeof createSessiondTRPC>;
