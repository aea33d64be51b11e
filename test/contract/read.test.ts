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

  it('pages backward from any page with prevCursor and direction "backward" (tRPC\'s infinite queries send both)', async () => {
    const parent = await server().client.session.create.mutate({});
    const created = [...(await createChildren(server().client, parent.id, 47))].sort(listOrder);
    const list = (cursor: string | null, direction: "forward" | "backward") =>
      server().client.session.list.query({ parentId: parent.id, limit: 10, cursor, direction });
    // Forward to the end, as useInfiniteQuery's fetchNextPage does (the first page's cursor is null).
    const forward = [await list(null, "forward")];
    while (forward.at(-1)!.nextCursor) forward.push(await list(forward.at(-1)!.nextCursor, "forward"));
    expect(forward.map((page) => page.items.length)).toEqual([10, 10, 10, 10, 7]);
    expect(forward[0]!.prevCursor).toBeNull();
    // Back from the last page, as fetchPreviousPage does: the same pages in reverse, newest first within each.
    const backward = [forward.at(-1)!];
    while (backward.at(-1)!.prevCursor) backward.push(await list(backward.at(-1)!.prevCursor, "backward"));
    expect(backward.map((page) => page.items)).toEqual([...forward].reverse().map((page) => page.items));
    expect(
      backward
        .flatMap((page) => page.items)
        .map((session) => session.id)
        .sort(),
    ).toEqual(created.map((session) => session.id).sort());
    // A backward page's nextCursor goes forward again from it.
    const again = await list(backward[1]!.nextCursor, "forward");
    expect(again.items).toEqual(forward.at(-1)!.items);
  });

  it("sees sessions created after the first page when paging backward from it", async () => {
    const parent = await server().client.session.create.mutate({});
    await createChildren(server().client, parent.id, 3);
    const first = await server().client.session.list.query({ parentId: parent.id, limit: 2, cursor: null });
    const older = await server().client.session.list.query({ parentId: parent.id, limit: 2, cursor: first.nextCursor });
    await new Promise((resolve) => setTimeout(resolve, 2));
    const newer = await server().client.session.create.mutate({ parentId: parent.id });
    const back = await server().client.session.list.query({
      parentId: parent.id,
      limit: 5,
      cursor: older.prevCursor,
      direction: "backward",
    });
    expect(back.items.map((session) => session.id)).toEqual([newer.id, ...first.items.map((session) => session.id)]);
    expect(back.prevCursor).toBeNull();
  });

  it("returns the newest sessions first across the whole store", async () => {
    // Three, so that a page of two has a next page whatever else the store holds; a millisecond or
    // more apart (and from what earlier tests made), as within one millisecond the order is the ID's.
    const created: Session[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      created.push(await server().client.session.create.mutate({}));
    }
    const [oldest, middle, newest] = created;
    const page = await server().client.session.list.query({ limit: 2 });
    expect(page.items.map((session) => session.id)).toEqual([newest!.id, middle!.id]);
    expect(page.nextCursor).not.toBeNull();
    const next = await server().client.session.list.query({ limit: 1, cursor: page.nextCursor });
    expect(next.items.map((session) => session.id)).toEqual([oldest!.id]);
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
    expect(page).toEqual({ items: [child], nextCursor: null, prevCursor: null });
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
    expect(page).toEqual({ items: [], nextCursor: null, prevCursor: null });
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

  it("pages backward too (direction and prevCursor, as tRPC's infinite queries use them)", async () => {
    const parent = await server().client.session.create.mutate({});
    const children = [...(await createChildren(server().client, parent.id, 9))].sort(listOrder);
    const first = await server().client.session.children.query({ id: parent.id, limit: 4, cursor: null, direction: "forward" });
    const second = await server().client.session.children.query({
      id: parent.id,
      limit: 4,
      cursor: first.nextCursor,
      direction: "forward",
    });
    const back = await server().client.session.children.query({
      id: parent.id,
      limit: 4,
      cursor: second.prevCursor,
      direction: "backward",
    });
    expect(back.items).toEqual(children.slice(0, 4));
    expect(back.prevCursor).toBeNull();
  });

  it("returns an empty page for a session without children", async () => {
    const lonely = await server().client.session.create.mutate({});
    expect(await server().client.session.children.query({ id: lonely.id })).toEqual({ items: [], nextCursor: null, prevCursor: null });
  });

  it("answers NOT_FOUND naming an unknown parent", async () => {
    const id = freshId();
    await expectNotFound(server().client.session.children.query({ id }), id);
  });
});
