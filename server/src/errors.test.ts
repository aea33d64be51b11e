import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeError, InvalidInputError, SessionConflictError, SessionNotFoundError } from "./errors.ts";

const where = { requestId: "req-1", path: "session.create" };

describe("describeError", () => {
  it("turns zod issues into field errors by top-level field, and unknown keys into their own fields", () => {
    const parsed = z.strictObject({ id: z.string(), meta: z.object({ a: z.number() }) }).safeParse({ id: 1, meta: { a: "x" }, extra: 1 });
    const { message, data } = describeError(new TRPCError({ code: "BAD_REQUEST", cause: parsed.error }), where);
    expect(data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400, requestId: "req-1", path: "session.create", formErrors: [] });
    if (data.code !== "BAD_REQUEST") throw new Error("narrowing");
    expect(Object.keys(data.fieldErrors).sort()).toEqual(["extra", "id", "meta"]);
    expect(data.fieldErrors.meta![0]).toMatch(/^a: /);
    expect(message).toMatch(/^Invalid input: /);
  });

  it("puts problems at fields superjson cannot send (constructor, prototype, __proto__) in formErrors", () => {
    const parsed = z.strictObject({}).safeParse({ constructor: 1 });
    const { data } = describeError(new TRPCError({ code: "BAD_REQUEST", cause: parsed.error }), where);
    expect(data).toMatchObject({ fieldErrors: {}, formErrors: ['constructor: Unrecognized key "constructor"'] });
    expect(describeError(new InvalidInputError("bad", "prototype"), where).data).toMatchObject({ fieldErrors: {}, formErrors: ["bad"] });
  });

  it("spreads a domain error's data under its code", () => {
    expect(describeError(new SessionConflictError("ses_x"), where).data).toEqual({
      ...where,
      code: "CONFLICT",
      httpStatus: 409,
      conflict: { id: "ses_x" },
    });
    expect(describeError(new SessionNotFoundError("ses_y", "parent"), where)).toMatchObject({
      message: "Parent session ses_y not found",
      data: { notFound: { id: "ses_y" } },
    });
  });

  it("gives a plain BAD_REQUEST its message as a form error", () => {
    expect(describeError(new TRPCError({ code: "BAD_REQUEST", message: "no" }), where).data).toMatchObject({
      fieldErrors: {},
      formErrors: ["no"],
    });
  });

  it("replaces an internal error's message", () => {
    const error = new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "SQLITE_ERROR: no such table: session", cause: new Error("x") });
    expect(describeError(error, where)).toEqual({
      message: "Internal server error",
      data: { ...where, code: "INTERNAL_SERVER_ERROR", httpStatus: 500 },
    });
  });
});
