/**
 * The session procedures, built on any tRPC procedure builder: sessiond's own, or a host app's
 * (`t.procedure.use(auth)`), so the host's middleware runs before each of them and they take part
 * in the host's router, context, transformer and error formatter.
 *
 *   const appRouter = t.router({
 *     sessions: createSessionProcedures(authedProcedure, { sessiond, scope: ({ user }) => ({ owner: user.id }) }),
 *   });
 *
 * They read nothing from the context but what `scope` returns, so a host context needs no
 * sessiond fields; `scope`'s parameter is the host's context type (after its middleware). Every
 * call acts on the sessions of the owner `scope` gives, so a context that cannot name one is a
 * type error: another owner's session answers exactly as a missing one.
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

/** What one call needs from its caller's context: the owner, and optionally the rest. */
export interface CallScope {
  /**
   * Whose sessions the call acts on (fixed on the sessions it creates): an opaque, non-empty
   * string, e.g. the user's ID from the host's own authentication.
   */
  owner: string;
  /**
   * An operator's view: lists without a parent and live events without a session span every
   * owner's sessions (each carries its `owner`). Calls that name a session still act in `owner`.
   */
  allOwners?: boolean;
  /** The revisions the request's If-Match accepts, for update and delete (a host's REST layer). */
  ifMatch?: readonly number[];
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
  /** What a call needs from the context (after the builder's middleware): at least its owner. */
  scope: (ctx: TContext) => CallScope;
}

/** The caller's scope; a host whose `scope` gives no owner (plain JavaScript) fails the call instead of acting for nobody. */
function scopeOf(scope: (ctx: unknown) => CallScope, ctx: unknown): CallScope {
  const given = scope(ctx);
  if (typeof given?.owner !== "string" || given.owner.length === 0) {
    throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "createSessionProcedures: scope(ctx) gave no owner" });
  }
  return given;
}

export function createSessionProcedures<TBuilder extends AnyBuilder>(
  procedure: TBuilder,
  options: SessionProceduresOptions<inferProcedureBuilderResolverOptions<TBuilder>["ctx"]>,
): SessionProcedures {
  const { sessions, events } = options.sessiond;
  const inputs = createInputSchemas(options.sessiond.limits);
  const scope = options.scope as (ctx: unknown) => CallScope;
  // The builder's types are the host's; the procedures' are declared above.
  const p = procedure as AnyBuilder;
  const procedures = {
    create: p.input(inputs.create).mutation(({ ctx, input }) => sessions.create(scopeOf(scope, ctx), input)),
    get: p.input(inputs.get).query(({ ctx, input }) => sessions.get(scopeOf(scope, ctx), input.id)),
    list: p.input(inputs.list).query(({ ctx, input }) => {
      const call = scopeOf(scope, ctx);
      return sessions.list(call, input, call.reads);
    }),
    children: p.input(inputs.children).query(({ ctx, input }) => {
      const call = scopeOf(scope, ctx);
      return sessions.children(call, input, call.reads);
    }),
    update: p.input(inputs.update).mutation(({ ctx, input }) => {
      const call = scopeOf(scope, ctx);
      return sessions.update(call, input, call.ifMatch);
    }),
    delete: p.input(inputs.delete).mutation(({ ctx, input }) => {
      const call = scopeOf(scope, ctx);
      return sessions.delete(call, input, call.ifMatch);
    }),
    /**
     * Every change after `lastEventId` (or from now), over server-sent events. Each event is
     * tracked by its ID, so the client's reconnect resumes exactly after the last one it saw.
     * The stream is opened before the response starts: a full instance answers 503 and an
     * expired resume point UNPROCESSABLE_CONTENT as plain HTTP errors. Only the events of the
     * caller's owner's sessions are delivered.
     */
    events: p.input(SessionEventsInputSchema).subscription(async ({ ctx, input, signal }) => {
      if (!events) throw new TRPCError({ code: "NOT_IMPLEMENTED", message: "This sessiond has no live events" });
      const call = scopeOf(scope, ctx);
      const stream = await events.open(input, call, signal ?? new AbortController().signal);
      const { slowSubscriberTimeoutMs } = events.settings;
      const disconnect = call.disconnect ?? (() => undefined);
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
