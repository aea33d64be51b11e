/**
 * Narrowing helpers for the errors the server sends. `error.data` is a union tagged by `code`
 * (`SessiondErrorData`); checking the code gives it the fields that code carries:
 *
 *   catch (error) {
 *     if (isConflict(error)) console.log(`${error.data.conflict.id} is taken`);
 *     if (hasErrorCode(error, "TOO_MANY_REQUESTS")) ...
 *   }
 *
 * The named helpers are `hasErrorCode` for one code each; a new error kind needs no change here.
 * They work on errors of any tRPC client whose server formats errors with sessiond's formatter
 * (sessiond's own, or a host app's `sessiondErrorFormatter`).
 */
import type { TRPCClientError } from "@trpc/client";
import type { ErrorCode, ErrorData, EventsExpiredData, IdempotencyKeyReusedData } from "@sessiond/shared/errors";
import type { AppRouter } from "@sessiond/server";

export type SessionClientError = TRPCClientError<AppRouter>;

/** A client error whose `data` is that of the given code. */
export type SessiondError<Code extends ErrorCode> = SessionClientError & { data: ErrorData<Code> };

/**
 * Whether this is an error from a tRPC client: by its name and shape, not `instanceof`, so an error
 * from any copy of `@trpc/client` (an app's own, a TanStack Query integration's) is recognised.
 */
export function isSessionClientError(error: unknown): error is SessionClientError {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "TRPCClientError" && "data" in error;
}

/** Whether the server answered with this code; narrows `error.data` to that code's fields. */
export function hasErrorCode<Code extends ErrorCode>(error: unknown, code: Code): error is SessiondError<Code> {
  return isSessionClientError(error) && (error.data as { code?: unknown } | undefined)?.code === code;
}

export const isConflict = (error: unknown): error is SessiondError<"CONFLICT"> => hasErrorCode(error, "CONFLICT");
export const isNotFound = (error: unknown): error is SessiondError<"NOT_FOUND"> => hasErrorCode(error, "NOT_FOUND");
export const isBadRequest = (error: unknown): error is SessiondError<"BAD_REQUEST"> => hasErrorCode(error, "BAD_REQUEST");
export const isPreconditionFailed = (error: unknown): error is SessiondError<"PRECONDITION_FAILED"> =>
  hasErrorCode(error, "PRECONDITION_FAILED");
export const isUnavailable = (error: unknown): error is SessiondError<"SERVICE_UNAVAILABLE"> => hasErrorCode(error, "SERVICE_UNAVAILABLE");
export const isUnauthorized = (error: unknown): error is SessiondError<"UNAUTHORIZED"> => hasErrorCode(error, "UNAUTHORIZED");
export const isPayloadTooLarge = (error: unknown): error is SessiondError<"PAYLOAD_TOO_LARGE"> => hasErrorCode(error, "PAYLOAD_TOO_LARGE");
export const isForbidden = (error: unknown): error is SessiondError<"FORBIDDEN"> => hasErrorCode(error, "FORBIDDEN");

/** `session.events` cannot resume from the given `lastEventId` (pruned, or another database's): re-list, then subscribe from now. */
export const isEventsExpired = (
  error: unknown,
): error is SessiondError<"UNPROCESSABLE_CONTENT"> & { data: { eventsExpired: EventsExpiredData } } =>
  hasErrorCode(error, "UNPROCESSABLE_CONTENT") && "eventsExpired" in error.data;

/** A create's idempotency key was used before, by the same owner, with other input: a retry must repeat the create exactly. */
export const isIdempotencyKeyReused = (
  error: unknown,
): error is SessiondError<"UNPROCESSABLE_CONTENT"> & { data: { idempotencyKeyReused: IdempotencyKeyReusedData } } =>
  hasErrorCode(error, "UNPROCESSABLE_CONTENT") && "idempotencyKeyReused" in error.data;
