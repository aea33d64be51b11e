/**
 * The `data` of every sessiond error, as the server builds it for tRPC (`error.data`) and REST (the
 * error body). It is a union tagged by `code`: the fields of a kind (`conflict`, `fieldErrors`, ...)
 * come with its code and only with it, so a client narrows on `code` and reads them.
 *
 * Adding a kind: one entry in `ErrorKinds` here, and one domain error class on the server that
 * carries those fields (server/src/errors.ts). The formatter and the client's narrowing are generic.
 */
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

export type ErrorCode = TRPC_ERROR_CODE_KEY;

/** Each bad input field (top-level name) mapped to its messages. */
export type FieldErrors = Record<string, string[]>;

export interface ConflictData {
  /** The session ID that already exists. */
  id: string;
}

export interface NotFoundData {
  /** The session ID that does not exist. */
  id: string;
}

export interface PreconditionData {
  id: string;
  expectedRevision: number;
  actualRevision: number;
}

/** The fields each code carries beyond the common ones. */
export interface ErrorKinds {
  /** Input that breaks the contract: per-field messages, and those that belong to no field. */
  BAD_REQUEST: { fieldErrors: FieldErrors; formErrors: string[] };
  CONFLICT: { conflict: ConflictData };
  /** `notFound` names the missing session; an unknown procedure or route has none. */
  NOT_FOUND: { notFound?: NotFoundData };
  PRECONDITION_FAILED: { precondition: PreconditionData };
  /**
   * `session.events` cannot resume from the given point (re-list, then subscribe from now), or a
   * create's idempotency key was used before with other input.
   */
  UNPROCESSABLE_CONTENT: { eventsExpired: EventsExpiredData } | { idempotencyKeyReused: IdempotencyKeyReusedData };
}

export interface IdempotencyKeyReusedData {
  /** The key, which an earlier create of this owner used with other input. */
  key: string;
}

export interface EventsExpiredData {
  /** The resume point asked for. */
  lastEventId: string;
  /** Events up to this ID may have been pruned. */
  prunedThrough: string;
}

export interface ErrorDataBase<Code extends ErrorCode = ErrorCode> {
  code: Code;
  httpStatus: number;
  /** The procedure (tRPC) or route (REST) that failed, when known. */
  path?: string;
  /** The request ID the server logged this error under (also the `x-request-id` response header). */
  requestId: string;
}

/** The data of an error with this code. */
export type ErrorData<Code extends ErrorCode = ErrorCode> = Code extends keyof ErrorKinds
  ? ErrorDataBase<Code> & ErrorKinds[Code]
  : ErrorDataBase<Code>;

/** The data of any sessiond error: a union tagged by `code`. */
export type SessiondErrorData = { [Code in ErrorCode]: ErrorData<Code> }[ErrorCode];
