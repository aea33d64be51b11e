import { randomUUID } from "node:crypto";
/**
 * POST /session through the client generated from the OpenAPI document: the cases of the tRPC
 * contract suite (test/contract/create.test.ts), opencode's six first, on every engine. Every
 * response is checked against the document (support/rest.ts).
 */
import { expect, it } from "vitest";
import { LIMITS, SESSION_ID_PATTERN, decodeSessionIdTime } from "@sessiond/shared";
import { freshId } from "../support/ids.ts";
import { describeRest, expectRestError } from "../support/rest.ts";
import { storedSessions } from "../support/targets.ts";
import {
  DEEPEST_METADATA,
  INVALID_IDEMPOTENCY_KEYS,
  INVALID_IDS,
  INVALID_METADATA,
  INVALID_TITLES,
  NON_STRING_IDS,
  RIGHT_TO_LEFT_TITLE,
} from "../support/cases.ts";

describeRest("POST /session", (target) => {
  const rest = () => target().rest;
  const create = (body?: Record<string, unknown>, headers: Record<string, string> = {}) =>
    rest().POST("/session", { body: body as never, headers });
  const get = (id: string) => rest().GET("/session/{id}", { params: { path: { id } } });
  const stored = () => storedSessions(target().server);

  // opencode's six cases: a custom ID accepted, the default preserved, a duplicate refused, an
  // invalid prefix, format and charset refused.
  it("creates a session with exactly the ID the caller chose, answering 200", async () => {
    const id = freshId();
    const { data, response } = await create({ id });
    expect(response.status).toBe(200);
    expect(data!.id).toBe(id);
    expect((await get(id)).data).toEqual(data);
  });

  it("generates an ID when none is given, with an empty body or {}", async () => {
    const before = Date.now();
    for (const body of [undefined, {}]) {
      const { data } = await create(body);
      expect(data!.id).toMatch(SESSION_ID_PATTERN);
      expect(decodeSessionIdTime(data!.id).getTime()).toBeGreaterThanOrEqual(before);
      expect((await get(data!.id)).data).toEqual(data);
    }
  });

  it("refuses an ID that already exists with 409 CONFLICT naming the ID, keeping the first", async () => {
    const id = freshId();
    const first = await create({ id, title: "first" });
    const error = expectRestError(await create({ id, title: "second" }), 409, "CONFLICT");
    expect(error.conflict.id).toBe(id);
    expect(error.message).toContain(id);
    expect((await get(id)).data).toEqual(first.data);
  });

  it.each(INVALID_IDS)("refuses an ID with %s as 400 with fieldErrors.id, writing nothing", async (_, id) => {
    const before = await stored();
    const error = expectRestError(await create({ id }), 400, "BAD_REQUEST");
    expect(error.fieldErrors.id!.join(" ")).toMatch(/session ID/);
    expect(await stored()).toEqual(before);
  });

  it.each(NON_STRING_IDS)("refuses an ID that is %s as 400 with fieldErrors.id", async (_, id) => {
    expect(expectRestError(await create({ id }), 400, "BAD_REQUEST").fieldErrors.id).toBeDefined();
  });

  it("refuses unknown keys as 400 naming each key, writing nothing", async () => {
    const before = await stored();
    const id = freshId();
    const error = expectRestError(await create({ id, owner: "me" }), 400, "BAD_REQUEST");
    expect(error.fieldErrors.owner).toEqual(['Unrecognized key "owner"']);
    expectRestError(await get(id), 404, "NOT_FOUND");
    expect(await stored()).toEqual(before);
  });

  it("refuses a body that is not an object as 400 with a form error", async () => {
    const result = await rest().POST("/session", { body: "ses_0123456789abABCDEFGHIJKLMN" as never });
    expect(expectRestError(result, 400, "BAD_REQUEST").formErrors.length).toBeGreaterThan(0);
  });

  it("defaults the title like opencode, and keeps a chosen one", async () => {
    const root = (await create({})).data!;
    expect(root.title).toBe(`New session - ${root.createdAt}`);
    const child = (await create({ parentId: root.id })).data!;
    expect(child.title).toBe(`Child session - ${child.createdAt}`);
    expect((await create({ title: "Refactor the parser ✨" })).data!.title).toBe("Refactor the parser ✨");
  });

  it("starts a session at revision 1 with empty metadata, ISO dates and an ETag", async () => {
    const { data, response } = await create({});
    expect(data).toMatchObject({ revision: 1, metadata: {}, parentId: null, archivedAt: null });
    expect(new Date(data!.createdAt).toISOString()).toBe(data!.createdAt);
    expect(data!.updatedAt).toBe(data!.createdAt);
    expect(response.headers.get("etag")).toBe('"1"');
  });

  it.each(INVALID_TITLES)("refuses a title that is %s", async (_, title) => {
    expect(expectRestError(await create({ title }), 400, "BAD_REQUEST").fieldErrors.title).toBeDefined();
  });

  it("accepts right-to-left text and the plain direction marks", async () => {
    const title = RIGHT_TO_LEFT_TITLE;
    expect((await create({ title })).data!.title).toBe(title);
  });

  it.each(INVALID_IDEMPOTENCY_KEYS)("refuses an idempotency key with %s", async (_, idempotencyKey) => {
    expect(expectRestError(await create({ id: freshId(), idempotencyKey }), 400, "BAD_REQUEST").fieldErrors.idempotencyKey).toBeDefined();
  });

  it("refuses a session that would be its own parent as 400 with fieldErrors.parentId, writing nothing", async () => {
    const before = await stored();
    const id = freshId();
    const error = expectRestError(await create({ id, parentId: id }), 400, "BAD_REQUEST");
    expect(error.fieldErrors.parentId!.join(" ")).toContain("own parent");
    expect(await stored()).toEqual(before);
  });

  it("answers a create with the metadata a later read returns, when the body says -0", async () => {
    const body = '{"metadata":{"zero":-0,"list":[-0,1],"nested":{"z":-0}}}';
    const created = (await rest().POST("/session", { body: {}, bodySerializer: () => body })).data!;
    expect(created.metadata).toEqual({ zero: 0, list: [0, 1], nested: { z: 0 } });
    expect((await get(created.id)).data).toEqual(created);
  });

  it("accepts a title of the maximum length", async () => {
    const title = "t".repeat(LIMITS.titleMaxLength);
    expect((await create({ title })).data!.title).toBe(title);
  });

  it("creates a child of an existing session", async () => {
    const parent = (await create({})).data!;
    expect((await create({ parentId: parent.id, title: "child" })).data!.parentId).toBe(parent.id);
  });

  it("refuses a parent that does not exist with 404 naming it, writing nothing", async () => {
    const before = await stored();
    const parentId = freshId();
    const error = expectRestError(await create({ id: freshId(), parentId }), 404, "NOT_FOUND");
    expect(error.notFound.id).toBe(parentId);
    expect(await stored()).toEqual(before);
  });

  it("refuses an invalid parent ID as 400 with fieldErrors.parentId", async () => {
    expect(expectRestError(await create({ parentId: "ses_nope" }), 400, "BAD_REQUEST").fieldErrors.parentId).toBeDefined();
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
    const created = (await create({ metadata })).data!;
    expect(created.metadata).toEqual(metadata);
    expect((await get(created.id)).data!.metadata).toEqual(metadata);
  });

  it.each([...INVALID_METADATA, ["holding a constructor key", { constructor: 1 }]])(
    "refuses metadata that is %s as 400 with fieldErrors.metadata, writing nothing",
    async (_, metadata) => {
      const before = await stored();
      expect(expectRestError(await create({ metadata }), 400, "BAD_REQUEST").fieldErrors.metadata).toBeDefined();
      expect(await stored()).toEqual(before);
    },
  );

  it("accepts metadata at the depth limit", async () => {
    const metadata = DEEPEST_METADATA;
    expect((await create({ metadata })).data!.metadata).toEqual(metadata);
  });

  it("returns the first result to a retry with the same idempotency key, in the body or the Idempotency-Key header", async () => {
    const id = freshId();
    const key = `job-${randomUUID()}`;
    const first = (await create({ id, title: "mine", idempotencyKey: key })).data;
    expect((await create({ id, title: "mine", idempotencyKey: key })).data).toEqual(first);
    expect((await create({ id, title: "mine" }, { "Idempotency-Key": key })).data).toEqual(first);
  });

  it("still answers 409 to a create with another key or none", async () => {
    const id = freshId();
    const [first, other] = [`job-${randomUUID()}`, `job-${randomUUID()}`];
    await create({ id }, { "Idempotency-Key": first });
    expect(expectRestError(await create({ id }, { "Idempotency-Key": other }), 409, "CONFLICT").conflict.id).toBe(id);
    expect(expectRestError(await create({ id, idempotencyKey: other }), 409, "CONFLICT").conflict.id).toBe(id);
    expect(expectRestError(await create({ id }), 409, "CONFLICT").conflict.id).toBe(id);
  });

  it("refuses an Idempotency-Key header that disagrees with the body's key, or breaks the key's rules", async () => {
    const error = expectRestError(await create({ idempotencyKey: "a" }, { "Idempotency-Key": "b" }), 400, "BAD_REQUEST");
    expect(error.fieldErrors.idempotencyKey).toBeDefined();
    expect(
      expectRestError(await create({}, { "Idempotency-Key": "k".repeat(LIMITS.idempotencyKeyMaxLength + 1) }), 400, "BAD_REQUEST")
        .fieldErrors.idempotencyKey,
    ).toBeDefined();
  });

  it("decides concurrent creates of one ID: exactly one succeeds, the others get 409", async () => {
    const id = freshId();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => create({ id, title: `racer ${i}` })));
    const winners = results.filter((result) => result.response.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((result) => result.response.status !== 200)) expectRestError(loser, 409, "CONFLICT");
    expect((await get(id)).data!.title).toBe(winners[0]!.data!.title);
  });

  it("creates several sessions sent together independently", async () => {
    const ids = [freshId(), freshId(), freshId()];
    await create({ id: ids[1] });
    const results = await Promise.all(ids.map((id) => create({ id })));
    expect(results.map((result) => result.response.status)).toEqual([200, 409, 200]);
  });
});
