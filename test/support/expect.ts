import { expect } from "vitest";
import { isBadRequest, isConflict, isNotFound, isPreconditionFailed } from "@sessiond/client";

async function rejection(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  return expect.fail("the call succeeded, but it should have been rejected");
}

/** The call fails with BAD_REQUEST (400) and field errors for `field` (or a form error for null). */
export async function expectBadRequest(call: Promise<unknown>, field: string | null): Promise<string[]> {
  const error = await rejection(call);
  if (!isBadRequest(error)) return expect.fail(`expected BAD_REQUEST, got ${String(error)}`);
  expect(error.data.httpStatus).toBe(400);
  const messages = field === null ? error.data.formErrors : error.data.fieldErrors[field];
  expect(messages, `field errors: ${JSON.stringify(error.data.fieldErrors)}`).toBeDefined();
  expect(messages!.length).toBeGreaterThan(0);
  return messages!;
}

export async function expectConflict(call: Promise<unknown>, id: string): Promise<void> {
  const error = await rejection(call);
  if (!isConflict(error)) return expect.fail(`expected CONFLICT, got ${String(error)}`);
  expect(error.data.httpStatus).toBe(409);
  expect(error.data.conflict.id).toBe(id);
  expect(error.message).toContain(id);
}

export async function expectNotFound(call: Promise<unknown>, id: string): Promise<void> {
  const error = await rejection(call);
  if (!isNotFound(error)) return expect.fail(`expected NOT_FOUND, got ${String(error)}`);
  expect(error.data.httpStatus).toBe(404);
  expect(error.data.notFound?.id).toBe(id);
  expect(error.message).toContain(id);
}

export async function expectPreconditionFailed(call: Promise<unknown>, expected: number, actual: number): Promise<void> {
  const error = await rejection(call);
  if (!isPreconditionFailed(error)) return expect.fail(`expected PRECONDITION_FAILED, got ${String(error)}`);
  expect(error.data.httpStatus).toBe(412);
  expect(error.data.precondition).toMatchObject({ expectedRevision: expected, actualRevision: actual });
}
