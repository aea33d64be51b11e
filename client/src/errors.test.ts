/** The helpers narrow errors of any copy of @trpc/client: an app may hold another one (or its TanStack integration's). */
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { hasErrorCode, isConflict, isNotFound, isSessionClientError } from "./errors.ts";

/** What another copy of @trpc/client throws: its own class, the same name and shape. */
class OtherCopyClientError extends Error {
  override readonly name = "TRPCClientError";
  readonly data: unknown;
  constructor(message: string, data: unknown) {
    super(message);
    this.data = data;
  }
}

const conflictData = { code: "CONFLICT", httpStatus: 409, requestId: "r", conflict: { id: "ses_0123456789abABCDEFGHIJKLMN" } };

describe("the error helpers", () => {
  it("narrow a CONFLICT thrown by another copy of @trpc/client (no instanceof against one copy's class)", () => {
    const error: unknown = new OtherCopyClientError("Session exists", conflictData);
    expect(error instanceof TRPCClientError).toBe(false);
    expect(isSessionClientError(error)).toBe(true);
    expect(isConflict(error)).toBe(true);
    if (isConflict(error)) expect(error.data.conflict.id).toBe("ses_0123456789abABCDEFGHIJKLMN");
    expect(isNotFound(error)).toBe(false);
  });

  it("narrow this copy's errors too", () => {
    const error = new TRPCClientError("Session exists", { result: { error: { code: -32603, message: "x", data: conflictData } } });
    expect(hasErrorCode(error, "CONFLICT")).toBe(true);
  });

  it("say no to anything else", () => {
    for (const other of [new Error("TRPCClientError"), { name: "TRPCClientError" }, null, "CONFLICT", { data: conflictData }]) {
      expect(isConflict(other)).toBe(false);
    }
  });
});
