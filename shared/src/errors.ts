/**
 * The `data` of every sessiond error, as the server's error formatter builds it. The extra fields
 * are present only for the error they describe, so a client can narrow on `code` and read them.
 */
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

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

export interface SessiondErrorData {
  code: TRPC_ERROR_CODE_KEY;
  httpStatus: number;
  path?: string;
  /** The request ID the server logged this error under. */
  requestId?: string;
  /** BAD_REQUEST from input validation. */
  fieldErrors?: FieldErrors;
  /** BAD_REQUEST problems that belong to no single field (e.g. the input is not an object). */
  formErrors?: string[];
  /** CONFLICT: the ID that already exists. */
  conflict?: ConflictData;
  /** NOT_FOUND: the ID that does not exist. */
  notFound?: NotFoundData;
  /** PRECONDITION_FAILED: the revision the caller expected and the one stored. */
  precondition?: PreconditionData;
  /** UNPROCESSABLE_CONTENT from `session.events`: the resume point is gone; re-list, then subscribe from now. */
  eventsExpired?: EventsExpiredData;
}

export interface EventsExpiredData {
  /** The resume point asked for. */
  lastEventId: string;
  /** Events up to this ID may have been pruned. */
  prunedThrough: string;
}
