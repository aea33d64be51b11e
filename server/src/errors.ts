/**
 * The domain's errors. Each is a TRPCError with the code the contract names, so stores and the
 * service throw them directly and the error formatter (trpc.ts) reads their fields into
 * `error.data`. Engine errors are translated into these in one place per engine.
 */
import { TRPCError } from "@trpc/server";

export class SessionConflictError extends TRPCError {
  readonly id: string;
  constructor(id: string) {
    super({ code: "CONFLICT", message: `Session ${id} already exists` });
    this.id = id;
  }
}

export class SessionNotFoundError extends TRPCError {
  readonly id: string;
  constructor(id: string, role: "session" | "parent" = "session") {
    super({ code: "NOT_FOUND", message: role === "parent" ? `Parent session ${id} not found` : `Session ${id} not found` });
    this.id = id;
  }
}

export class RevisionMismatchError extends TRPCError {
  readonly id: string;
  readonly expectedRevision: number;
  readonly actualRevision: number;
  constructor(id: string, expectedRevision: number, actualRevision: number) {
    super({
      code: "PRECONDITION_FAILED",
      message: `Session ${id} is at revision ${actualRevision}, not the expected ${expectedRevision}`,
    });
    this.id = id;
    this.expectedRevision = expectedRevision;
    this.actualRevision = actualRevision;
  }
}

/** The store cannot serve the call now (locked, read-only, disk full, connection lost); retry later. */
export class StoreUnavailableError extends TRPCError {
  constructor(reason: string, cause?: unknown) {
    super({ code: "SERVICE_UNAVAILABLE", message: `Session store unavailable: ${reason}`, cause });
  }
}
