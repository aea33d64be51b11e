/**
 * Narrowing helpers for the errors the server sends. Each one checks the error's code and gives
 * `error.data` the fields that code carries:
 *
 *   catch (error) {
 *     if (isConflict(error)) console.log(`${error.data.conflict.id} is taken`);
 *   }
 */
import { TRPCClientError } from "@trpc/client";
import type { ConflictData, EventsExpiredData, FieldErrors, NotFoundData, PreconditionData, SessiondErrorData } from "@sessiond/shared";
import type { AppRouter } from "@sessiond/server";

export type SessionClientError = TRPCClientError<AppRouter>;

/** A client error whose `data` has the given code and extra fields. */
export type SessiondError<Code extends SessiondErrorData["code"], Extra = object> = SessionClientError & {
  data: SessiondErrorData & { code: Code } & Extra;
};

export function isSessionClientError(error: unknown): error is SessionClientError {
  return error instanceof TRPCClientError;
}

function hasCode(error: unknown, code: SessiondErrorData["code"]): boolean {
  return isSessionClientError(error) && error.data?.code === code;
}

export function isConflict(error: unknown): error is SessiondError<"CONFLICT", { conflict: ConflictData }> {
  return hasCode(error, "CONFLICT");
}

export function isNotFound(error: unknown): error is SessiondError<"NOT_FOUND", { notFound: NotFoundData }> {
  return hasCode(error, "NOT_FOUND");
}

export function isBadRequest(
  error: unknown,
): error is SessiondError<"BAD_REQUEST", { fieldErrors: FieldErrors; formErrors: string[] }> {
  return hasCode(error, "BAD_REQUEST");
}

export function isPreconditionFailed(
  error: unknown,
): error is SessiondError<"PRECONDITION_FAILED", { precondition: PreconditionData }> {
  return hasCode(error, "PRECONDITION_FAILED");
}

/** `session.events` cannot resume from the given `lastEventId` (pruned, or another database's): re-list, then subscribe from now. */
export function isEventsExpired(error: unknown): error is SessiondError<"UNPROCESSABLE_CONTENT", { eventsExpired: EventsExpiredData }> {
  return hasCode(error, "UNPROCESSABLE_CONTENT");
}

export function isUnavailable(error: unknown): error is SessiondError<"SERVICE_UNAVAILABLE"> {
  return hasCode(error, "SERVICE_UNAVAILABLE");
}

export function isUnauthorized(error: unknown): error is SessiondError<"UNAUTHORIZED"> {
  return hasCode(error, "UNAUTHORIZED");
}

export function isPayloadTooLarge(error: unknown): error is SessiondError<"PAYLOAD_TOO_LARGE"> {
  return hasCode(error, "PAYLOAD_TOO_LARGE");
}
