/**
 * The host's own tRPC app: its context (who is calling, from its own login), its auth middleware,
 * its transformer and error formatter, and its own procedures. sessiond's session procedures are
 * mounted under `sessions`, built on the host's `authed` procedure, so the host's auth runs first.
 */
import { createSessionProcedures, sessiondErrorFormatter, type Sessiond } from "@sessiond/server";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";

export interface User {
  id: string;
}

export interface Context {
  user: User | null;
}

/** The host's login, reduced to a table of tokens for the example. */
const USERS: Record<string, User> = { "alice-token": { id: "alice" }, "bob-token": { id: "bob" } };

export function contextFrom(headers: { authorization?: string | undefined }): Context {
  const token = headers.authorization?.replace(/^Bearer /i, "");
  return { user: (token && USERS[token]) || null };
}

// sessiondErrorFormatter gives clients sessiond's error data (conflict.id, fieldErrors, ...).
const t = initTRPC.context<Context>().create({ transformer: superjson, errorFormatter: sessiondErrorFormatter });

const authed = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Log in first" });
  return next({ ctx: { user: ctx.user } });
});

export function createAppRouter(sessiond: Sessiond) {
  return t.router({
    whoami: authed.query(({ ctx }) => ctx.user.id),
    // Each user is an owner of their own: their sessions, and theirs alone.
    sessions: createSessionProcedures(authed, { sessiond, scope: ({ user }) => ({ owner: user.id }) }),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
