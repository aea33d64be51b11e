/**
 * The service's rules, through tRPC's in-process caller (no HTTP) over a real SQLite store in
 * memory: defaults, idempotent retries, pagination and the read budget.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createContextInner } from "../context.ts";
import { createAppRouter } from "../router.ts";
import { openStore } from "../store/open.ts";
import { createSessiondTRPC } from "../trpc.ts";
import { createSessionService } from "./service.ts";

const store = await openStore(":memory:");
afterAll(() => store.close());

let clock = Date.UTC(2026, 0, 1);
let sequence = 0;
const sessions = createSessionService(store, {
  now: () => clock,
  generateId: () => `ses_${(0xffffffffffff - ++sequence).toString(16)}AAAAAAAAAAAAAA`,
});
const createCaller = createSessiondTRPC().createCallerFactory(createAppRouter({ sessions }));
const caller = (maxReads?: number) => createCaller(createContextInner({ maxReads }));

describe("the session service", () => {
  it("gives a new session opencode's default title, a generated ID, revision 1 and the clock's time", async () => {
    clock += 1000;
    const session = await caller().session.create({});
    expect(session).toMatchObject({
      title: `New session - ${new Date(clock).toISOString()}`,
      revision: 1,
      parentId: null,
      metadata: {},
      archivedAt: null,
    });
    expect(session.id).toBe(`ses_${(0xffffffffffff - sequence).toString(16)}AAAAAAAAAAAAAA`);
    const child = await caller().session.create({ parentId: session.id });
    expect(child.title).toMatch(/^Child session - /);
  });

  it("answers a retry with the same idempotency key and input with the first session, other input with UNPROCESSABLE_CONTENT", async () => {
    const first = await caller().session.create({ id: "ses_000000000001AAAAAAAAAAAAAA", title: "first", idempotencyKey: "k" });
    clock += 5000;
    expect(await caller().session.create({ title: "first", idempotencyKey: "k", id: first.id })).toEqual(first);
    await expect(caller().session.create({ id: first.id, title: "again", idempotencyKey: "k" })).rejects.toMatchObject({
      code: "UNPROCESSABLE_CONTENT",
    });
    await expect(caller().session.create({ id: first.id, idempotencyKey: "other" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(caller().session.create({ id: first.id })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("recognises a retry by the key alone when the server chose the ID", async () => {
    const first = await caller().session.create({ metadata: { b: 1, a: [2] }, idempotencyKey: "no-id" });
    clock += 5000;
    expect(await caller().session.create({ metadata: { a: [2], b: 1 }, idempotencyKey: "no-id" })).toEqual(first);
  });

  it("pages newest first with a cursor that continues strictly after the last item", async () => {
    const parent = await caller().session.create({});
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock += 1;
      ids.unshift((await caller().session.create({ parentId: parent.id })).id);
    }
    const first = await caller().session.children({ id: parent.id, limit: 2 });
    expect(first.items.map((session) => session.id)).toEqual(ids.slice(0, 2));
    const second = await caller().session.children({ id: parent.id, limit: 2, cursor: first.nextCursor });
    const third = await caller().session.children({ id: parent.id, limit: 2, cursor: second.nextCursor });
    expect([...second.items, ...third.items].map((session) => session.id)).toEqual(ids.slice(2));
    expect(third.nextCursor).toBeNull();
  });

  it("charges list pages to the request's read budget", async () => {
    const limited = caller(60);
    await limited.session.list({ limit: 50 });
    await expect(limited.session.list({ limit: 20 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("more than 60 sessions"),
    });
    // The default page size counts too (50).
    await expect(caller(49).session.list()).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
