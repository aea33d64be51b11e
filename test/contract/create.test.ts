import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { LIMITS, SESSION_ID_PATTERN, decodeSessionIdTime } from "@sessiond/shared";
import { expectBadRequest, expectConflict, expectNotFound } from "../support/expect.ts";
import { freshId } from "../support/ids.ts";
import { describeContract, storedSessions } from "../support/targets.ts";
import {
  DEEPEST_METADATA,
  INVALID_IDEMPOTENCY_KEYS,
  INVALID_IDS,
  INVALID_METADATA,
  INVALID_TITLES,
  NON_STRING_IDS,
  RIGHT_TO_LEFT_TITLE,
} from "../support/cases.ts";

describeContract("session.create", (server, target) => {
  const client = () => server().client;

  // The six cases of the opencode change.
  it("creates a session with exactly the ID the caller chose", async () => {
    const id = freshId();
    const created = await client().session.create.mutate({ id });
    expect(created.id).toBe(id);
    expect(await client().session.get.query({ id })).toEqual(created);
  });

  it("generates an ID when none is given", async () => {
    const before = Date.now();
    for (const input of [undefined, {}]) {
      const created = await client().session.create.mutate(input);
      expect(created.id).toMatch(SESSION_ID_PATTERN);
      expect(decodeSessionIdTime(created.id).getTime()).toBeGreaterThanOrEqual(before);
      expect(await client().session.get.query({ id: created.id })).toEqual(created);
    }
  });

  it("rejects an ID that already exists with CONFLICT naming the ID", async () => {
    const id = freshId();
    const first = await client().session.create.mutate({ id, title: "first" });
    await expectConflict(client().session.create.mutate({ id, title: "second" }), id);
    expect(await client().session.get.query({ id })).toEqual(first);
  });

  it.each(INVALID_IDS)("rejects an ID with %s as BAD_REQUEST with fieldErrors.id, writing nothing", async (_, id) => {
    const before = await storedSessions(server());
    const messages = await expectBadRequest(client().session.create.mutate({ id }), "id");
    expect(messages.join(" ")).toMatch(/session ID/);
    expect(await storedSessions(server())).toEqual(before);
  });

  it.each(NON_STRING_IDS)("rejects an ID that is %s as BAD_REQUEST with fieldErrors.id", async (_, id) => {
    await expectBadRequest(client().session.create.mutate({ id } as never), "id");
  });

  it("rejects unknown keys as BAD_REQUEST naming each key, writing nothing", async () => {
    const before = await storedSessions(server());
    const id = freshId();
    await expectBadRequest(client().session.create.mutate({ id, owner: "me" } as never), "owner");
    await expectNotFound(client().session.get.query({ id }), id);
    expect(await storedSessions(server())).toEqual(before);
  });

  it("rejects input that is not an object as BAD_REQUEST", async () => {
    await expectBadRequest(client().session.create.mutate("ses_0123456789abABCDEFGHIJKLMN" as never), null);
  });

  it("defaults the title like opencode, and keeps a chosen one", async () => {
    const before = new Date();
    const root = await client().session.create.mutate({});
    const match = /^New session - (.+)$/.exec(root.title);
    expect(match).not.toBeNull();
    expect(new Date(match![1]!).getTime()).toBe(root.createdAt.getTime());
    expect(root.createdAt.getTime()).toBeGreaterThanOrEqual(before.getTime());

    const child = await client().session.create.mutate({ parentId: root.id });
    expect(child.title).toBe(`Child session - ${child.createdAt.toISOString()}`);

    const named = await client().session.create.mutate({ title: "Refactor the parser ✨" });
    expect(named.title).toBe("Refactor the parser ✨");
  });

  it("starts a session at revision 1 with empty metadata and no archive time", async () => {
    const created = await client().session.create.mutate({});
    expect(created).toMatchObject({ revision: 1, metadata: {}, parentId: null, archivedAt: null });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt).toEqual(created.createdAt);
  });

  it.each(INVALID_TITLES)("rejects a title that is %s", async (_, title) => {
    await expectBadRequest(client().session.create.mutate({ title }), "title");
  });

  it("accepts right-to-left text and the plain direction marks", async () => {
    const title = RIGHT_TO_LEFT_TITLE;
    expect((await client().session.create.mutate({ title })).title).toBe(title);
  });

  it.each(INVALID_IDEMPOTENCY_KEYS)("rejects an idempotency key with %s", async (_, idempotencyKey) => {
    await expectBadRequest(client().session.create.mutate({ id: freshId(), idempotencyKey }), "idempotencyKey");
  });

  it("rejects a session that would be its own parent as BAD_REQUEST with fieldErrors.parentId, writing nothing", async () => {
    const before = await storedSessions(server());
    const id = freshId();
    const messages = await expectBadRequest(client().session.create.mutate({ id, parentId: id }), "parentId");
    expect(messages.join(" ")).toContain("own parent");
    expect(await storedSessions(server())).toEqual(before);
  });

  it("answers a create with the metadata a later read returns, -0 included (JSON has no -0)", async () => {
    const created = await client().session.create.mutate({ metadata: { zero: -0, list: [-0, 1], nested: { z: -0 } } });
    expect(Object.is(created.metadata.zero, 0)).toBe(true);
    expect(Object.is((created.metadata.list as number[])[0], 0)).toBe(true);
    const read = await client().session.get.query({ id: created.id });
    expect(read).toEqual(created);
    expect(Object.is((read.metadata.nested as { z: number }).z, 0)).toBe(true);
  });

  it("accepts a title of the maximum length", async () => {
    const title = "t".repeat(LIMITS.titleMaxLength);
    expect((await client().session.create.mutate({ title })).title).toBe(title);
  });

  it("creates a child of an existing session", async () => {
    const parent = await client().session.create.mutate({});
    const child = await client().session.create.mutate({ parentId: parent.id, title: "child" });
    expect(child.parentId).toBe(parent.id);
  });

  it("rejects a parent that does not exist with NOT_FOUND naming it, writing nothing", async () => {
    const before = await storedSessions(server());
    const parentId = freshId();
    const id = freshId();
    await expectNotFound(client().session.create.mutate({ id, parentId }), parentId);
    expect(await storedSessions(server())).toEqual(before);
  });

  it("rejects an invalid parent ID as BAD_REQUEST with fieldErrors.parentId", async () => {
    await expectBadRequest(client().session.create.mutate({ parentId: "ses_nope" }), "parentId");
  });

  it("stores metadata exactly", async () => {
    const metadata = {
      worker: "w-17",
      attempt: 3,
      ratio: 0.25,
      flags: [true, false, null],
      nested: { deep: { list: [1, "two", { three: 3 }] } },
      proto: { __proto: "ok", constructorName: "ok" },
      "emoji 🎉": "ünïcödé",
      "": "empty key",
    };
    const created = await client().session.create.mutate({ metadata });
    expect(created.metadata).toEqual(metadata);
    expect(await client().session.get.query({ id: created.id })).toMatchObject({ metadata });
  });

  it.each([
    ...INVALID_METADATA,
    ["holding a Date", { at: new Date() }],
    ["holding a Map", { m: new Map([["a", 1]]) }],
    ["holding a Set", { s: new Set([1]) }],
    ["holding a bigint", { n: 1n }],
    ["holding NaN", { n: Number.NaN }],
  ])("rejects metadata that is %s as BAD_REQUEST with fieldErrors.metadata, writing nothing", async (_, metadata) => {
    const before = await storedSessions(server());
    await expectBadRequest(client().session.create.mutate({ metadata } as never), "metadata");
    expect(await storedSessions(server())).toEqual(before);
  });

  it.each([
    ["NaN", { n: Number.NaN }, "Metadata numbers must be finite"],
    ["-Infinity deep in an array", { list: [1, [Number.NEGATIVE_INFINITY]] }, "Metadata numbers must be finite"],
    ["undefined in an array", { list: ["a", undefined] }, "Metadata values must be JSON"],
  ])("says why metadata holding %s is not JSON (superjson can carry it)", async (_, metadata, reason) => {
    const messages = await expectBadRequest(client().session.create.mutate({ metadata } as never), "metadata");
    expect(messages.join(" ")).toContain(reason);
  });

  it("accepts metadata at the depth limit", async () => {
    const metadata = DEEPEST_METADATA;
    expect((await client().session.create.mutate({ metadata })).metadata).toEqual(metadata);
  });

  it("returns the first result to a retry with the same idempotency key", async () => {
    const id = freshId();
    const key = `job-${randomUUID()}`;
    const first = await client().session.create.mutate({ id, title: "mine", idempotencyKey: key });
    const retry = await client().session.create.mutate({ id, title: "mine", idempotencyKey: key });
    expect(retry).toEqual(first);
  });

  it("still answers CONFLICT to a create with another key or none", async () => {
    const id = freshId();
    await client().session.create.mutate({ id, idempotencyKey: `job-${randomUUID()}` });
    await expectConflict(client().session.create.mutate({ id, idempotencyKey: `job-${randomUUID()}` }), id);
    await expectConflict(client().session.create.mutate({ id }), id);
  });

  it("decides duplicates within one batch too: exactly one create of an ID wins, the other is CONFLICT", async () => {
    const [a, b] = [freshId(), freshId()];
    const results = await Promise.allSettled([
      client().session.create.mutate({ id: a, title: "first" }),
      client().session.create.mutate({ id: b }),
      client().session.create.mutate({ id: a, title: "second" }),
    ]);
    expect(results[1]!.status).toBe("fulfilled");
    // SQLite commits a batch's creates in order (the first wins); PostgreSQL runs them on several
    // connections at once, so either may: exactly one does.
    const [first, second] = [results[0]!, results[2]!];
    expect([first.status, second.status].sort()).toEqual(["fulfilled", "rejected"]);
    const loser = (first.status === "rejected" ? first : second) as PromiseRejectedResult;
    await expectConflict(Promise.reject(loser.reason), a);
    if (target.engine === "sqlite") expect(first.status).toBe("fulfilled");
    expect((await client().session.get.query({ id: a })).title).toBe(first.status === "fulfilled" ? "first" : "second");
  });

  it("creates several sessions sent in one batch independently", async () => {
    const ids = [freshId(), freshId(), freshId()];
    const taken = ids[1]!;
    await client().session.create.mutate({ id: taken });
    const results = await Promise.allSettled(ids.map((id) => client().session.create.mutate({ id })));
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    await expectConflict(Promise.reject((results[1] as PromiseRejectedResult).reason), taken);
  });
});
