/**
 * The one tRPC instance: superjson on the wire, and the error formatter that gives every error the
 * contract's `data` (SessiondErrorData): field errors for bad input, the conflicting or missing ID,
 * the revisions of a failed precondition. Nothing internal leaves: no stack, and an internal
 * error's message is replaced (the log has the original, under the request ID).
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { UNSENDABLE_KEYS, transformer, type FieldErrors, type SessiondErrorData } from "@sessiond/shared";
import { z } from "zod";
import type { Context } from "./context.ts";
import { RevisionMismatchError, SessionConflictError, SessionNotFoundError } from "./errors.ts";
import { EventsExpiredError } from "./events/errors.ts";
import { serialize } from "./wire-serializer.ts";

/** Zod issues as field errors keyed by top-level field; unknown keys count as errors of their own field. */
function inputErrors(error: z.ZodError): { fieldErrors: FieldErrors; formErrors: string[]; summary: string } {
  // A Map, not an object literal: a field may be called "valueOf" or "toString".
  const byField = new Map<string, string[]>();
  const formErrors: string[] = [];
  // superjson refuses to serialize these keys, so errors about such fields go to formErrors.
  const add = (field: string, message: string) => {
    if (UNSENDABLE_KEYS.has(field)) formErrors.push(`${field}: ${message}`);
    else byField.set(field, [...(byField.get(field) ?? []), message]);
  };
  for (const issue of error.issues) {
    const field = issue.path[0];
    if (issue.code === "unrecognized_keys" && issue.path.length === 0) {
      for (const key of issue.keys) add(key, `Unrecognized key "${key}"`);
    } else if (field === undefined) {
      formErrors.push(issue.message);
    } else {
      add(String(field), issue.path.length > 1 ? `${issue.path.slice(1).join(".")}: ${issue.message}` : issue.message);
    }
  }
  const parts = [...formErrors, ...[...byField].map(([field, messages]) => `${field}: ${messages.join("; ")}`)];
  return { fieldErrors: Object.fromEntries(byField), formErrors, summary: `Invalid input: ${parts.join(" | ")}` };
}

/** The path to the first `__proto__` key in parsed JSON, or null. */
function protoKeyPath(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (value === null || typeof value !== "object") return null;
  for (const [key, child] of Object.entries(value)) {
    if (key === "__proto__") return [...path, key];
    const found = protoKeyPath(child, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return null;
}

/**
 * superjson silently drops `__proto__` keys while deserializing, so the server would store
 * something other than what was sent. Refuse such input as BAD_REQUEST instead.
 */
const serverTransformer = {
  input: {
    serialize: transformer.serialize,
    deserialize(payload: unknown) {
      const path = protoKeyPath((payload as { json?: unknown } | null)?.json);
      if (path) {
        const issue = { code: "custom" as const, path, message: 'Keys must not be "__proto__"', input: undefined };
        throw new TRPCError({ code: "BAD_REQUEST", cause: new z.ZodRealError([issue]) });
      }
      return transformer.deserialize(payload as Parameters<typeof transformer.deserialize>[0]);
    },
  },
  // superjson's output, built directly for plain values (wire-serializer.ts).
  output: { serialize, deserialize: transformer.deserialize },
};

const t = initTRPC.context<Context>().create({
  transformer: serverTransformer,
  // Subscriptions (session.events): a ping comment keeps idle streams open through proxies, and a
  // client that hears nothing for three pings reconnects (resuming from its last event).
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 45_000 } },
  errorFormatter({ shape, error, ctx }) {
    const data: SessiondErrorData = {
      code: shape.data.code,
      httpStatus: shape.data.httpStatus,
      path: shape.data.path,
      requestId: ctx?.requestId,
    };
    let message = shape.message;
    if (error.cause instanceof z.ZodError) {
      const { fieldErrors, formErrors, summary } = inputErrors(error.cause);
      data.fieldErrors = fieldErrors;
      data.formErrors = formErrors;
      message = summary;
    } else if (error instanceof SessionConflictError) {
      data.conflict = { id: error.id };
    } else if (error instanceof SessionNotFoundError) {
      data.notFound = { id: error.id };
    } else if (error instanceof RevisionMismatchError) {
      data.precondition = { id: error.id, expectedRevision: error.expectedRevision, actualRevision: error.actualRevision };
    } else if (error instanceof EventsExpiredError) {
      data.eventsExpired = { lastEventId: error.lastEventId, prunedThrough: error.prunedThrough };
    } else if (error.code === "INTERNAL_SERVER_ERROR") {
      message = "Internal server error";
    }
    return { message, code: shape.code, data };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
