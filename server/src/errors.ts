/**
 * The domain's errors and the one mapping from any error to the contract's error data.
 *
 * Every domain error is a `DomainError`: a TRPCError with the contract's code and the fields of its
 * kind (`ErrorKinds` in shared/src/errors.ts) as typed `data`. Stores and the service throw them;
 * the tRPC error formatter and the REST routes turn any error into `{ message, data }` with
 * `describeError`, so adding an error kind touches its class here and its entry in `ErrorKinds`.
 */
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { UNSENDABLE_KEYS, type ErrorKinds, type FieldErrors, type SessiondErrorData } from "@sessiond/shared";
import { z } from "zod";

type KindCode = keyof ErrorKinds;

/** A TRPCError whose `data` holds the fields of its kind. */
export class DomainError<Code extends KindCode = KindCode> extends TRPCError {
  declare readonly code: Code;
  readonly data: ErrorKinds[Code];
  constructor(code: Code, message: string, data: ErrorKinds[Code], cause?: unknown) {
    super({ code, message, cause });
    this.data = data;
  }
}

export class SessionConflictError extends DomainError<"CONFLICT"> {
  constructor(id: string) {
    super("CONFLICT", `Session ${id} already exists`, { conflict: { id } });
  }
}

export class SessionNotFoundError extends DomainError<"NOT_FOUND"> {
  constructor(id: string, role: "session" | "parent" = "session") {
    super("NOT_FOUND", role === "parent" ? `Parent session ${id} not found` : `Session ${id} not found`, { notFound: { id } });
  }
}

/**
 * The session is not at a revision the caller expected (`expectedRevision`, or an `If-Match` list).
 * `expectedRevision` in the data is the first revision the caller accepted, 0 when it accepted
 * none (an `If-Match` of weak tags only, which never match).
 */
export class RevisionMismatchError extends DomainError<"PRECONDITION_FAILED"> {
  constructor(id: string, expected: readonly number[], actualRevision: number) {
    const wanted =
      expected.length === 0
        ? "and the precondition named no revision it could be at (a weak entity tag never matches)"
        : `not ${expected.length === 1 ? "the expected" : "one of the expected"} ${expected.join(", ")}`;
    super("PRECONDITION_FAILED", `Session ${id} is at revision ${actualRevision}, ${wanted}`, {
      precondition: { id, expectedRevision: expected[0] ?? 0, actualRevision },
    });
  }
}

/** A create's idempotency key was used before, by this owner, with other input. */
export class IdempotencyKeyReusedError extends DomainError<"UNPROCESSABLE_CONTENT"> {
  constructor(key: string) {
    super(
      "UNPROCESSABLE_CONTENT",
      `Idempotency key ${JSON.stringify(key)} was already used with other input: a retry must send the same create, a new create a new key`,
      { idempotencyKeyReused: { key } },
    );
  }
}

/** Input the contract refuses, at a field (a top-level input key) or as a whole (a form error). */
export class InvalidInputError extends DomainError<"BAD_REQUEST"> {
  constructor(message: string, field?: string) {
    // superjson cannot send the keys it refuses, so a problem at such a field is a form error.
    const atField = field !== undefined && !UNSENDABLE_KEYS.has(field);
    super("BAD_REQUEST", message, { fieldErrors: atField ? { [field]: [message] } : {}, formErrors: atField ? [] : [message] });
  }
}

/** The store cannot serve the call now (locked, read-only, disk full, connection lost); retry later. */
export class StoreUnavailableError extends TRPCError {
  /** Why, in words from a fixed set (it labels a metric). */
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super({ code: "SERVICE_UNAVAILABLE", message: `Session store unavailable: ${reason}`, cause });
    this.reason = reason;
  }
}

/** Zod issues as field errors keyed by top-level field; unknown keys count as errors of their own field. */
function zodInputErrors(error: z.ZodError): { message: string; fieldErrors: FieldErrors; formErrors: string[] } {
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
  return { message: `Invalid input: ${parts.join(" | ")}`, fieldErrors: Object.fromEntries(byField), formErrors };
}

/**
 * The message and data a caller gets for an error: the contract's fields for its kind, nothing
 * internal (an internal error's message is replaced; the log keeps the original).
 */
export function describeError(error: TRPCError, where: { requestId: string; path?: string }): { message: string; data: SessiondErrorData } {
  const base = { httpStatus: getHTTPStatusCodeFromError(error), path: where.path, requestId: where.requestId };
  if (error.cause instanceof z.ZodError) {
    const { message, fieldErrors, formErrors } = zodInputErrors(error.cause);
    return { message, data: { ...base, code: "BAD_REQUEST", fieldErrors, formErrors } };
  }
  if (error instanceof DomainError) {
    return { message: error.message, data: { ...base, ...error.data, code: error.code } as SessiondErrorData };
  }
  if (error.code === "BAD_REQUEST") {
    return { message: error.message, data: { ...base, code: "BAD_REQUEST", fieldErrors: {}, formErrors: [error.message] } };
  }
  if (error.code === "INTERNAL_SERVER_ERROR") {
    return { message: "Internal server error", data: { ...base, code: error.code } };
  }
  return { message: error.message, data: { ...base, code: error.code } as SessiondErrorData };
}
