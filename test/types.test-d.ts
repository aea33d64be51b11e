/** Type-level tests: checked by the type-check step (tsc), which the test command runs first. */
import { describe, expectTypeOf, it } from "vitest";
import { initTRPC } from "@trpc/server";
import { createSessionProcedures, type Sessiond } from "@sessiond/server";
import {
  createSessionClient,
  hasErrorCode,
  isEventsExpired,
  isIdempotencyKeyReused,
  isSessionClientError,
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
  SessiondErrorData,
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
    // biome-ignore lint/suspicious/noConfusingVoidType: tRPC's own type for an optional input is `| void`
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
    // A missing session is named; an unknown procedure or route is not.
    if (isNotFound(error)) expectTypeOf(error.data.notFound).toEqualTypeOf<{ id: string } | undefined>();
    if (isBadRequest(error)) {
      expectTypeOf(error.data.fieldErrors).toEqualTypeOf<Record<string, string[]>>();
      expectTypeOf(error.data.formErrors).toEqualTypeOf<string[]>();
    }
    if (isPreconditionFailed(error)) expectTypeOf(error.data.precondition.actualRevision).toEqualTypeOf<number>();
    // UNPROCESSABLE_CONTENT is one of two kinds; each helper narrows to its own.
    if (isEventsExpired(error)) expectTypeOf(error.data.eventsExpired.prunedThrough).toEqualTypeOf<string>();
    if (isIdempotencyKeyReused(error)) expectTypeOf(error.data.idempotencyKeyReused.key).toEqualTypeOf<string>();
  });

  it("narrows any code generically, and only to that code's fields", () => {
    const error: unknown = null;
    if (hasErrorCode(error, "TOO_MANY_REQUESTS")) {
      expectTypeOf(error.data.code).toEqualTypeOf<"TOO_MANY_REQUESTS">();
      expectTypeOf(error.data.requestId).toEqualTypeOf<string>();
      // @ts-expect-error: only CONFLICT carries `conflict`
      void error.data.conflict;
    }
    if (isSessionClientError(error) && error.data) {
      const data: SessiondErrorData = error.data;
      if (data.code === "CONFLICT") expectTypeOf(data.conflict.id).toEqualTypeOf<string>();
    }
  });
});

describe("library mode: the procedures need an owner from the host's context", () => {
  const sessiond = null as unknown as Sessiond;
  const t = initTRPC.context<{ user: { id: string } | null }>().create();

  it("takes a scope that gives an owner", () => {
    createSessionProcedures(t.procedure, { sessiond, scope: (ctx) => ({ owner: ctx.user?.id ?? "anonymous" }) });
    const authed = t.procedure.use(({ ctx, next }) => next({ ctx: { user: ctx.user ?? { id: "guest" } } }));
    // After the host's middleware, the context it narrowed.
    createSessionProcedures(authed, { sessiond, scope: ({ user }) => ({ owner: user.id, requestId: "r" }) });
  });

  it("refuses a host context that cannot give an owner, at compile time", () => {
    // @ts-expect-error: scope is required
    void (() => createSessionProcedures(t.procedure, { sessiond }));
    // @ts-expect-error: scope must give an owner
    void (() => createSessionProcedures(t.procedure, { sessiond, scope: () => ({ requestId: "r" }) }));
    // @ts-expect-error: a context that may have no user cannot give an owner
    void (() => createSessionProcedures(t.procedure, { sessiond, scope: (ctx) => ({ owner: ctx.user?.id }) }));
  });
});
