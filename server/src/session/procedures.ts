/**
 * The session procedures, built on any tRPC procedure builder: sessiond's own, or a host app's
 * (`t.procedure.use(auth)`), so the host's middleware runs before each of them and they take part
 * in the host's router, context, transformer and error formatter.
 *
 *   const appRouter = t.router({
 *     sessions: createSessionProcedures(authedProcedure, { sessiond, scope: ({ user }) => ({ requestId: user.requestId }) }),
 *   });
 *
 * They read nothing from the context but what `scope` returns, so a host context needs no
 * sessiond fields; `scope`'s parameter is the host's context type (after its middleware).
 */
import {
  SessionEventsInputSchema,
  createInputSchemas,
  type DeleteSessionOutput,
  type Limits,
  type Session,
  type SessionEvent,
  type SessionPage,
} from "@sessiond/shared";
import {
  TRPCError,
  tracked,
  type TRPCMutationProcedure,
  type TRPCProcedureBuilder,
  type TRPCQueryProcedure,
  type TRPCSubscriptionProcedure,
  type TRPCUnsetMarker,
  type inferProcedureBuilderResolverOptions,
} from "@trpc/server";
import type { z } from "zod";
import type { ReadBudget } from "../context.ts";
import { cutOffWhenStalled } from "../events/stream.ts";
import type { EventService } from "../events/types.ts";
import type { SessionService } from "./service.ts";

/** What the procedures serve from: an open sessiond (`openSessiond`), or its parts. */
export interface SessiondParts {
  sessions: SessionService;
  /** Live events; without them `session.events` answers NOT_IMPLEMENTED. */
  events?: EventService;
  /** The input limits the procedures validate with (default: the contract's). */
  limits?: Limits;
}

/** What one call needs from its caller's context. Every field is optional. */
export interface CallScope {
  /** Names the call in error data and logs. */
  requestId?: string;
  /** Bounds the sessions one request reads through list pages, summed over its calls. */
  reads?: ReadBudget;
  /** Cuts the caller's connection: used when a subscriber stops reading. */
  disconnect?: () => void;
}

type Inputs = ReturnType<typeof createInputSchemas>;
type In<K extends keyof Inputs> = z.input<Inputs[K]>;

/** The procedures' types, the same whatever builder, context or limits they were built with. */
export type SessionProcedures = {
  create: TRPCMutationProcedure<{ input: In<"create">; output: Session; meta: object }>;
  get: TRPCQueryProcedure<{ input: In<"get">; output: Session; meta: object }>;
  list: TRPCQueryProcedure<{ input: In<"list">; output: SessionPage; meta: object }>;
  children: TRPCQueryProcedure<{ input: In<"children">; output: SessionPage; meta: object }>;
  update: TRPCMutationProcedure<{ input: In<"update">; output: Session; meta: object }>;
  delete: TRPCMutationProcedure<{ input: In<"delete">; output: DeleteSessionOutput; meta: object }>;
  events: TRPCSubscriptionProcedure<{
    input: z.input<typeof SessionEventsInputSchema>;
    /** tRPC's `TrackedData`: the client receives `{ id, data }`, and resumes from `id`. */
    output: AsyncIterable<{ id: string; data: SessionEvent }, void, unknown>;
    meta: object;
  }>;
};

/** The procedures' names, as `session.<name>` in sessiond's own router. */
export const SESSION_PROCEDURE_NAMES = [
  "create",
  "get",
  "list",
  "children",
  "update",
  "delete",
  "events",
] as const satisfies readonly (keyof SessionProcedures)[];

// biome-ignore lint/suspicious/noExplicitAny: any builder whose input is not set yet, of any tRPC instance
type AnyBuilder = TRPCProcedureBuilder<any, any, any, TRPCUnsetMarker, TRPCUnsetMarker, any, any, any>;

export interface SessionProceduresOptions<TContext> {
  sessiond: SessiondParts;
  /** What a call needs from the context (after the builder's middleware). Default: nothing. */
  scope?: (ctx: TContext) => CallScope;
}

const NO_SCOPE: CallScope = {};

export function createSessionProcedures<TBuilder extends AnyBuilder>(
  procedure: TBuilder,
  options: SessionProceduresOptions<inferProcedureBuilderResolverOptions<TBuilder>["ctx"]>,
): SessionProcedures {
  const { sessions, events } = options.sessiond;
  const inputs = createInputSchemas(options.sessiond.limits);
  const scopeOf = (options.scope ?? (() => NO_SCOPE)) as (ctx: unknown) => CallScope;
  // The builder's types are the host's; the procedures' are declared above.
  const p = procedure as AnyBuilder;
  const procedures = {
    create: p.input(inputs.create).mutation(({ input }) => sessions.create(input)),
    get: p.input(inputs.get).query(({ input }) => sessions.get(input.id)),
    list: p.input(inputs.list).query(({ ctx, input }) => sessions.list(input, scopeOf(ctx).reads)),
    children: p.input(inputs.children).query(({ ctx, input }) => sessions.children(input, scopeOf(ctx).reads)),
    update: p.input(inputs.update).mutation(({ input }) => sessions.update(input)),
    delete: p.input(inputs.delete).mutation(({ input }) => sessions.delete(input.id)),
    /**
     * Every change after `lastEventId` (or from now), over server-sent events. Each event is
     * tracked by its ID, so the client's reconnect resumes exactly after the last one it saw.
     * The stream is opened before the response starts: a full instance answers 503 and an
     * expired resume point UNPROCESSABLE_CONTENT as plain HTTP errors.
     */
    events: p.input(SessionEventsInputSchema).subscription(async ({ ctx, input, signal }) => {
      if (!events) throw new TRPCError({ code: "NOT_IMPLEMENTED", message: "This sessiond has no live events" });
      const stream = await events.open(input, signal ?? new AbortController().signal);
      const { slowSubscriberTimeoutMs } = events.settings;
      const disconnect = scopeOf(ctx).disconnect ?? (() => undefined);
      return (async function* () {
        for await (const event of cutOffWhenStalled(stream.events(), slowSubscriberTimeoutMs, disconnect)) {
          // The same object for every subscriber: tRPC serialises it for each.
          yield tracked(String(event.id), event.message);
        }
      })();
    }),
  };
  return procedures as unknown as SessionProcedures;
}
