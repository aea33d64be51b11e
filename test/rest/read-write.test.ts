/**
 * GET, PATCH and DELETE through the client generated from the OpenAPI document: the cases of the
 * tRPC contract suite (test/contract/read.test.ts, write.test.ts), on every engine. Every response
 * is checked against the document (support/rest.ts).
 */
import { expect, it } from "vitest";
import { LIMITS } from "@sessiond/shared";
import type { components } from "./openapi.ts";
import { freshId } from "../support/ids.ts";
import { describeRest, expectRestError, type RestClient } from "../support/rest.ts";
import { storedSessions } from "../support/targets.ts";

type Session = components["schemas"]["Session"];
type Page = components["schemas"]["SessionPage"];

async function create(rest: RestClient, body: Record<string, unknown> = {}): Promise<Session> {
  const { data, error } = await rest.POST("/session", { body });
  if (!data) throw new Error(`create failed: ${JSON.stringify(error)}`);
  return data;
}

async function createChildren(rest: RestClient, parentId: string, count: number): Promise<Session[]> {
  const created: Session[] = [];
  // In chunks of 20 concurrent calls, so that many share a millisecond and the ID tie-break matters.
  for (let i = 0; i < count; i += 20) {
    created.push(...(await Promise.all(Array.from({ length: Math.min(20, count - i) }, () => create(rest, { parentId })))));
  }
  return created;
}

/** Follows nextCursor to the end, returning every page. */
async function allPages(fetchPage: (cursor?: string) => Promise<Page | undefined>): Promise<Session[][]> {
  const pages: Session[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    if (!page) throw new Error("a page failed");
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 1000);
  return pages;
}

/** Newest first: createdAt descending, then ID descending. */
const listOrder = (a: Session, b: Session) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describeRest("GET /session/{id}", (target) => {
  const rest = () => target().rest;

  it("returns the stored session with its revision as ETag", async () => {
    const created = await create(rest(), { title: "read me", metadata: { k: "v" } });
    const { data, response } = await rest().GET("/session/{id}", { params: { path: { id: created.id } } });
    expect(data).toEqual(created);
    expect(response.headers.get("etag")).toBe('"1"');
  });

  it("answers 404 naming an unknown ID", async () => {
    const id = freshId();
    expect(expectRestError(await rest().GET("/session/{id}", { params: { path: { id } } }), 404, "NOT_FOUND").notFound.id).toBe(id);
  });

  it("answers 400 for an invalid ID, for unknown query parameters, and for an ID in the query too", async () => {
    expect(
      expectRestError(await rest().GET("/session/{id}", { params: { path: { id: "ses_123" } } }), 400, "BAD_REQUEST").fieldErrors.id,
    ).toBeDefined();
    const { id } = await create(rest());
    const unknown = await rest().GET("/session/{id}", { params: { path: { id }, query: { sort: "asc" } as never } });
    expect(expectRestError(unknown, 400, "BAD_REQUEST").fieldErrors.sort).toBeDefined();
    const twice = await rest().GET("/session/{id}", { params: { path: { id }, query: { id: freshId() } as never } });
    expect(expectRestError(twice, 400, "BAD_REQUEST").fieldErrors.id).toEqual(["id comes from the path, not the query"]);
  });
});

describeRest("GET /session", (target) => {
  const rest = () => target().rest;
  const list = (query: Record<string, unknown>) => rest().GET("/session", { params: { query } });

  it("pages through every session newest first, with no duplicates or gaps", async () => {
    const parent = await create(rest());
    const created = await createChildren(rest(), parent.id, 137);
    const pages = await allPages(async (cursor) => (await list({ parentId: parent.id, limit: 10, cursor })).data);
    expect(pages.map((page) => page.length)).toEqual([...Array(13).fill(10), 7]);
    expect(pages.flat()).toEqual([...created].sort(listOrder));
  });

  it("returns the newest sessions first across the whole store", async () => {
    const a = await create(rest());
    await new Promise((resolve) => setTimeout(resolve, 2));
    const b = await create(rest());
    const { data } = await list({ limit: 2 });
    expect(data!.items.map((session) => session.id)).toEqual([b.id, a.id]);
    expect(data!.nextCursor).not.toBeNull();
  });

  it(`uses a default page size of ${LIMITS.pageSizeDefault}`, async () => {
    const parent = await create(rest());
    await createChildren(rest(), parent.id, LIMITS.pageSizeDefault + 1);
    const first = (await list({ parentId: parent.id })).data!;
    expect(first.items).toHaveLength(LIMITS.pageSizeDefault);
    const second = (await list({ parentId: parent.id, cursor: first.nextCursor! })).data!;
    expect(second).toMatchObject({ items: [expect.anything()], nextCursor: null });
  });

  it("filters to root sessions", async () => {
    const root = await create(rest());
    await create(rest(), { parentId: root.id });
    const roots = (await allPages(async (cursor) => (await list({ roots: true, limit: 200, cursor })).data)).flat();
    expect(roots.every((session) => session.parentId === null)).toBe(true);
    expect(roots.map((session) => session.id)).toContain(root.id);
  });

  it("returns an empty last page for a parent without children", async () => {
    expect((await list({ parentId: freshId() })).data).toEqual({ items: [], nextCursor: null, prevCursor: null });
  });

  it.each([
    ["a zero limit", { limit: 0 }, "limit"],
    ["a limit over the maximum", { limit: LIMITS.pageSizeMax + 1 }, "limit"],
    ["a fractional limit", { limit: 1.5 }, "limit"],
    ["a limit that is not a number", { limit: "ten" }, "limit"],
    ["a forged cursor", { cursor: "bm90LWEtY3Vyc29y" }, "cursor"],
    ["a cursor that is not base64url", { cursor: "!!" }, "cursor"],
    ["both roots and a parent", { roots: true, parentId: "ses_0123456789abABCDEFGHIJKLMN" }, "roots"],
    ["roots that is not a boolean", { roots: "yes" }, "roots"],
    ["an invalid parent ID", { parentId: "nope" }, "parentId"],
    ["an unknown parameter", { sort: "asc" }, "sort"],
    ["a repeated parameter", { limit: [1, 2] }, "limit"],
  ])("refuses %s as 400", async (_, query, field) => {
    expect(expectRestError(await list(query), 400, "BAD_REQUEST").fieldErrors[field]).toBeDefined();
  });
});

describeRest("GET /session/{id}/children", (target) => {
  const rest = () => target().rest;
  const children = (id: string, query: Record<string, unknown> = {}) =>
    rest().GET("/session/{id}/children", { params: { path: { id }, query } });

  it("lists direct children only, newest first, in pages", async () => {
    const parent = await create(rest());
    const kids = await createChildren(rest(), parent.id, 25);
    await create(rest(), { parentId: kids[0]!.id });
    const pages = await allPages(async (cursor) => (await children(parent.id, { limit: 7, cursor })).data);
    expect(pages.flat()).toEqual([...kids].sort(listOrder));
  });

  it("returns an empty page for a session without children", async () => {
    const lonely = await create(rest());
    expect((await children(lonely.id)).data).toEqual({ items: [], nextCursor: null, prevCursor: null });
  });

  it("answers 404 naming an unknown parent", async () => {
    const id = freshId();
    expect(expectRestError(await children(id), 404, "NOT_FOUND").notFound.id).toBe(id);
  });
});

describeRest("PATCH /session/{id}", (target) => {
  const rest = () => target().rest;
  const update = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    rest().PATCH("/session/{id}", { params: { path: { id } }, body: body as never, headers });

  it("changes the title and metadata and increments the revision", async () => {
    const created = await create(rest(), { title: "before", metadata: { a: 1 } });
    const renamed = await update(created.id, { title: "after" });
    expect(renamed.data).toMatchObject({ id: created.id, title: "after", metadata: { a: 1 }, revision: 2, createdAt: created.createdAt });
    expect(renamed.response.headers.get("etag")).toBe('"2"');
    const remeta = (await update(created.id, { metadata: { b: [2] } })).data;
    expect(remeta).toMatchObject({ title: "after", metadata: { b: [2] }, revision: 3 });
    expect((await rest().GET("/session/{id}", { params: { path: { id: created.id } } })).data).toEqual(remeta);
  });

  it("archives and unarchives, keeping the first archive time", async () => {
    const created = await create(rest());
    const archived = (await update(created.id, { archived: true })).data!;
    expect(archived.archivedAt).toEqual(expect.any(String));
    const again = (await update(created.id, { archived: true })).data!;
    expect(again).toMatchObject({ archivedAt: archived.archivedAt, revision: 3 });
    expect((await update(created.id, { archived: false })).data!.archivedAt).toBeNull();
  });

  it("applies an update whose expected revision is current, in the body or as If-Match", async () => {
    const created = await create(rest());
    expect((await update(created.id, { title: "v2", expectedRevision: 1 })).data!.revision).toBe(2);
    expect((await update(created.id, { title: "v3" }, { "If-Match": '"2"' })).data!.revision).toBe(3);
  });

  it("refuses a stale expected revision with 412, changing nothing, in the body or as If-Match", async () => {
    const created = await create(rest(), { title: "v1" });
    const current = (await update(created.id, { title: "v2" })).data;
    for (const attempt of [
      update(created.id, { title: "v3", expectedRevision: 1 }),
      update(created.id, { title: "v3" }, { "If-Match": '"1"' }),
    ]) {
      const error = expectRestError(await attempt, 412, "PRECONDITION_FAILED");
      expect(error.precondition).toEqual({ id: created.id, expectedRevision: 1, actualRevision: 2 });
    }
    expect((await rest().GET("/session/{id}", { params: { path: { id: created.id } } })).data).toEqual(current);
  });

  it("lets exactly one of several updates with the same expected revision win", async () => {
    const created = await create(rest());
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => update(created.id, { title: `w${i}` }, { "If-Match": '"1"' })));
    expect(results.filter((result) => result.response.status === 200)).toHaveLength(1);
    for (const loser of results.filter((result) => result.response.status !== 200)) expectRestError(loser, 412, "PRECONDITION_FAILED");
  });

  it("answers 404 naming an unknown session", async () => {
    const id = freshId();
    expect(expectRestError(await update(id, { title: "x" }), 404, "NOT_FOUND").notFound.id).toBe(id);
  });

  it.each([
    ["nothing to change", {}, {}, null],
    ["an empty title", { title: "" }, {}, "title"],
    ["metadata that is not an object", { metadata: [1] }, {}, "metadata"],
    ["a non-integer revision", { title: "x", expectedRevision: 1.5 }, {}, "expectedRevision"],
    ["an unknown key", { title: "x", parentId: "ses_0123456789abABCDEFGHIJKLMN" }, {}, "parentId"],
    ["an ID in the body that is not the path's", { title: "x", id: "ses_0123456789abABCDEFGHIJKLMN" }, {}, "id"],
    ["an If-Match that is not a list of entity tags", { title: "x" }, { "If-Match": "3" }, "expectedRevision"],
    ["an If-Match that disagrees with expectedRevision", { title: "x", expectedRevision: 2 }, { "If-Match": '"1"' }, "expectedRevision"],
  ])("refuses %s as 400, changing nothing", async (_, body, headers, field) => {
    const created = await create(rest(), { title: "keep" });
    const before = await storedSessions(target().server);
    const error = expectRestError(await update(created.id, body, headers), 400, "BAD_REQUEST");
    if (field === null) expect(error.formErrors.length).toBeGreaterThan(0);
    else expect(error.fieldErrors[field], JSON.stringify(error)).toBeDefined();
    expect(await storedSessions(target().server)).toEqual(before);
  });
});

describeRest("DELETE /session/{id}", (target) => {
  const rest = () => target().rest;
  const remove = (id: string) => rest().DELETE("/session/{id}", { params: { path: { id } } });

  it("deletes a session and all its descendants, returning their IDs", async () => {
    const root = await create(rest());
    const child = await create(rest(), { parentId: root.id });
    const grandchild = await create(rest(), { parentId: child.id });
    const sibling = await create(rest(), { parentId: root.id });
    const bystander = await create(rest());
    const { deleted } = (await remove(root.id)).data!;
    expect(deleted[0]).toBe(root.id);
    expect([...deleted].sort()).toEqual([root.id, child.id, grandchild.id, sibling.id].sort());
    for (const id of deleted) expectRestError(await rest().GET("/session/{id}", { params: { path: { id } } }), 404, "NOT_FOUND");
    expect((await rest().GET("/session/{id}", { params: { path: { id: bystander.id } } })).data).toEqual(bystander);
  });

  it("deletes a deep chain", async () => {
    let parentId: string | undefined;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const session = await create(rest(), parentId ? { parentId } : {});
      ids.push(session.id);
      parentId = session.id;
    }
    expect((await remove(ids[0]!)).data!.deleted).toEqual(ids);
  });

  it("deletes only the subtree of a child", async () => {
    const root = await create(rest());
    const child = await create(rest(), { parentId: root.id });
    expect((await remove(child.id)).data!.deleted).toEqual([child.id]);
    expect((await rest().GET("/session/{id}/children", { params: { path: { id: root.id } } })).data).toEqual({
      items: [],
      nextCursor: null,
      prevCursor: null,
    });
  });

  it("answers 404 for an unknown or already deleted session", async () => {
    const session = await create(rest());
    await remove(session.id);
    expect(expectRestError(await remove(session.id), 404, "NOT_FOUND").notFound.id).toBe(session.id);
  });

  it("frees the ID for a new session", async () => {
    const id = freshId();
    await create(rest(), { id, title: "old" });
    await remove(id);
    expect((await create(rest(), { id, title: "new" })).title).toBe("new");
  });
});
