/** Type-level tests: checked by the type-check step (tsc), which the test command runs first. */
import { describe, expectTypeOf, it } from "vitest";
import {
  createSessionClient,
  isBadRequest,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  type RouterInputs,
  type RouterOutputs,
} from "@sessiond/client";
import type {
  CreateSessionInput,
  DeleteSessionOutput,
  ListSessionsInput,
  Session,
  SessionPage,
  UpdateSessionInput,
} from "@sessiond/shared";

const client = createSessionClient({ url: "http://127.0.0.1:1" });

describe("the client's types follow the contract", () => {
  it("infers procedure inputs from the shared schemas", () => {
    // tRPC adds `void` to optional inputs, so that a call may pass no argument at all.
    expectTypeOf<Exclude<RouterInputs["session"]["create"], void>>().toEqualTypeOf<NonNullable<CreateSessionInput>>();
    expectTypeOf<Exclude<RouterInputs["session"]["list"], void>>().toEqualTypeOf<NonNullable<ListSessionsInput>>();
    expectTypeOf<RouterInputs["session"]["update"]>().toEqualTypeOf<UpdateSessionInput>();
    expectTypeOf<RouterInputs["session"]["get"]>().toEqualTypeOf<{ id: string }>();
    expectTypeOf(client.session.create.mutate).parameter(0).toEqualTypeOf<CreateSessionInput | void>();
  });

  it("infers outputs with real Dates", () => {
    expectTypeOf<RouterOutputs["session"]["create"]>().toEqualTypeOf<Session>();
    expectTypeOf<RouterOutputs["session"]["list"]>().toEqualTypeOf<SessionPage>();
    expectTypeOf<RouterOutputs["session"]["children"]>().toEqualTypeOf<SessionPage>();
    expectTypeOf<RouterOutputs["session"]["delete"]>().toEqualTypeOf<DeleteSessionOutput>();
    expectTypeOf<Session["createdAt"]>().toEqualTypeOf<Date>();
    expectTypeOf<Session["archivedAt"]>().toEqualTypeOf<Date | null>();
    expectTypeOf<Session["parentId"]>().toEqualTypeOf<string | null>();
    expectTypeOf(client.session.get.query).returns.resolves.toEqualTypeOf<Session>();
  });

  it("refuses wrongly typed input at compile time", () => {
    // @ts-expect-error: id is a string
    void (() => client.session.create.mutate({ id: 42 }));
    // @ts-expect-error: unknown key
    void (() => client.session.create.mutate({ owner: "me" }));
    // @ts-expect-error: get needs an id
    void (() => client.session.get.query({}));
  });

  it("narrows errors to the data their code carries", () => {
    const error: unknown = null;
    if (isConflict(error)) {
      expectTypeOf(error.data.conflict.id).toEqualTypeOf<string>();
      expectTypeOf(error.data.code).toEqualTypeOf<"CONFLICT">();
    }
    if (isNotFound(error)) expectTypeOf(error.data.notFound.id).toEqualTypeOf<string>();
    if (isBadRequest(error)) expectTypeOf(error.data.fieldErrors).toEqualTypeOf<Record<string, string[]>>();
    if (isPreconditionFailed(error)) expectTypeOf(error.data.precondition.actualRevision).toEqualTypeOf<number>();
  });
});
