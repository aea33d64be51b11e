import { expect, it } from "vitest";
import { LIMITS, type Session } from "@sessiond/shared";
import type { SessionClient } from "@sessiond/client";
import { expectBadRequest, expectNotFound } from "../support/expect.ts";
import { freshId } from "../support/ids.ts";
import { describeContract } from "../support/targets.ts";

/** Follows nextCursor to the end, returning every page. */
async function allPages(fetchPage: (cursor?: string) => Promise<{ items: Session[]; nextCursor: string | null }>) {
  const pages: Session[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 1000);
  return pages;
}

/** Newest first: createdAt descending, then ID descending. */
function listOrder(a: Session, b: Session): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

async function createChildren(client: SessionClient, parentId: string, count: number): Promise<Session[]> {
  const created: Session[] = [];
  // In chunks of 20 concurrent calls, so that many share a millisecond and the ID tie-break matters.
  for (let i = 0; i < count; i += 20) {
    const chunk = Array.from({ length: Math.min(20, count - i) }, () => client.session.create.mutate({ parentId }));
    created.push(...(await Promise.all(chunk)));
  }
  return created;
}

describeContract("session.get", (server) => {
  it("returns the stored session", async () => {
    const created = await server().client.session.create.mutate({ title: "read me", metadata: { k: "v" } });
    expect(await server().client.session.get.query({ id: created.id })).toEqual(created);
  });

  it("answers NOT_FOUND naming an unknown ID", async () => {
    const id = freshId();
    await expectNotFound(server().client.session.get.query({ id }), id);
  });

  it("answers BAD_REQUEST for an invalid ID", async () => {
    await expectBadRequest(server().client.session.get.query({ id: "ses_123" }), "id");
  });
});

describeContract("session.list", (server) => {
  it("pages through every session newest first, with no duplicates or gaps", async () => {
    const parent = await server().client.session.create.mutate({});
    const created = await createChildren(server().client, parent.id, 137);
    const pages = await allPages((cursor) => server().client.session.list.query({ parentId: parent.id, limit: 10, cursor }));
    expect(pages.map((page) => page.length)).toEqual([...Array(13).fill(10), 7]);
    const listed = pages.flat();
    expect(listed).toEqual([...created].sort(listOrder));
    expect(new Set(listed.map((session) => session.id)).size).toBe(137);
  });

  it("returns the newest sessions first across the whole store", async () => {
    const a = await server().client.session.create.mutate({});
    await new Promise((resolve) => setTimeout(resolve, 2));
    const b = await server().client.session.create.mutate({});
    const page = await server().client.session.list.query({ limit: 2 });
    expect(page.items.map((session) => session.id)).toEqual([b.id, a.id]);
    expect(page.nextCursor).not.toBeNull();
  });

  it(`uses a default page size of ${LIMITS.pageSizeDefault}`, async () => {
    const parent = await server().client.session.create.mutate({});
    await createChildren(server().client, parent.id, LIMITS.pageSizeDefault + 1);
    const first = await server().client.session.list.query({ parentId: parent.id });
    expect(first.items).toHaveLength(LIMITS.pageSizeDefault);
    const second = await server().client.session.list.query({ parentId: parent.id, cursor: first.nextCursor! });
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
  });

  it("treats a null cursor as the first page, so a loop can pass nextCursor straight back", async () => {
    const parent = await server().client.session.create.mutate({});
    const [child] = await createChildren(server().client, parent.id, 1);
    const page = await server().client.session.list.query({ parentId: parent.id, cursor: null });
    expect(page).toEqual({ items: [child], nextCursor: null });
  });

  it("filters to root sessions", async () => {
    const root = await server().client.session.create.mutate({});
    await server().client.session.create.mutate({ parentId: root.id });
    const roots = (await allPages((cursor) => server().client.session.list.query({ roots: true, limit: 200, cursor }))).flat();
    expect(roots.length).toBeGreaterThan(0);
    expect(roots.every((session) => session.parentId === null)).toBe(true);
    expect(roots.map((session) => session.id)).toContain(root.id);
  });

  it("returns an empty last page for a parent without children", async () => {
    const page = await server().client.session.list.query({ parentId: freshId() });
    expect(page).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ["a zero limit", { limit: 0 }, "limit"],
    ["a limit over the maximum", { limit: LIMITS.pageSizeMax + 1 }, "limit"],
    ["a fractional limit", { limit: 1.5 }, "limit"],
    ["a forged cursor", { cursor: "bm90LWEtY3Vyc29y" }, "cursor"],
    ["a cursor that is not base64url", { cursor: "!!" }, "cursor"],
    ["both roots and a parent", { roots: true, parentId: "ses_0123456789abABCDEFGHIJKLMN" }, "roots"],
    ["an invalid parent ID", { parentId: "nope" }, "parentId"],
    ["an unknown key", { sort: "asc" }, "sort"],
  ])("rejects %s as BAD_REQUEST", async (_, input, field) => {
    await expectBadRequest(server().client.session.list.query(input as never), field);
  });
});

describeContract("session.children", (server) => {
  it("lists direct children only, newest first, in pages", async () => {
    const parent = await server().client.session.create.mutate({});
    const children = await createChildren(server().client, parent.id, 25);
    await server().client.session.create.mutate({ parentId: children[0]!.id });
    const pages = await allPages((cursor) => server().client.session.children.query({ id: parent.id, limit: 7, cursor }));
    expect(pages.flat()).toEqual([...children].sort(listOrder));
  });

  it("returns an empty page for a session without children", async () => {
    const lonely = await server().client.session.create.mutate({});
    expect(await server().client.session.children.query({ id: lonely.id })).toEqual({ items: [], nextCursor: null });
  });

  it("answers NOT_FOUND naming an unknown parent", async () => {
    const id = freshId();
    await expectNotFound(server().client.session.children.query({ id }), id);
  });
});
