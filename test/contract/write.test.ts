import { expect, it } from "vitest";
import { expectBadRequest, expectNotFound, expectPreconditionFailed } from "../support/expect.ts";
import { freshId } from "../support/ids.ts";
import { describeContract, storedSessions } from "../support/targets.ts";

describeContract("session.update", (server) => {
  const client = () => server().client;

  it("changes the title and metadata and increments the revision", async () => {
    const created = await client().session.create.mutate({ title: "before", metadata: { a: 1 } });
    const renamed = await client().session.update.mutate({ id: created.id, title: "after" });
    expect(renamed).toMatchObject({ id: created.id, title: "after", metadata: { a: 1 }, revision: 2 });
    expect(renamed.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(renamed.createdAt).toEqual(created.createdAt);

    const remeta = await client().session.update.mutate({ id: created.id, metadata: { b: [2] } });
    expect(remeta).toMatchObject({ title: "after", metadata: { b: [2] }, revision: 3 });
    expect(await client().session.get.query({ id: created.id })).toEqual(remeta);
  });

  it("archives and unarchives, keeping the first archive time", async () => {
    const created = await client().session.create.mutate({});
    const archived = await client().session.update.mutate({ id: created.id, archived: true });
    expect(archived.archivedAt).toBeInstanceOf(Date);
    const again = await client().session.update.mutate({ id: created.id, archived: true });
    expect(again.archivedAt).toEqual(archived.archivedAt);
    expect(again.revision).toBe(3);
    const restored = await client().session.update.mutate({ id: created.id, archived: false });
    expect(restored.archivedAt).toBeNull();
  });

  it("applies an update whose expected revision is current", async () => {
    const created = await client().session.create.mutate({});
    const updated = await client().session.update.mutate({ id: created.id, title: "v2", expectedRevision: 1 });
    expect(updated.revision).toBe(2);
  });

  it("rejects a stale expected revision with PRECONDITION_FAILED, changing nothing", async () => {
    const created = await client().session.create.mutate({ title: "v1" });
    const current = await client().session.update.mutate({ id: created.id, title: "v2" });
    await expectPreconditionFailed(client().session.update.mutate({ id: created.id, title: "v3", expectedRevision: 1 }), 1, 2);
    expect(await client().session.get.query({ id: created.id })).toEqual(current);
  });

  it("lets exactly one of several updates with the same expected revision win", async () => {
    const created = await client().session.create.mutate({});
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => client().session.update.mutate({ id: created.id, title: `w${i}`, expectedRevision: 1 })),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    expect((await client().session.get.query({ id: created.id })).revision).toBe(2);
  });

  it("answers NOT_FOUND naming an unknown session", async () => {
    const id = freshId();
    await expectNotFound(client().session.update.mutate({ id, title: "x" }), id);
  });

  it.each([
    ["nothing to change", {}, null],
    ["an empty title", { title: "" }, "title"],
    ["metadata that is not an object", { metadata: [1] }, "metadata"],
    ["a non-integer revision", { title: "x", expectedRevision: 1.5 }, "expectedRevision"],
    ["an unknown key", { title: "x", parentId: "ses_0123456789abABCDEFGHIJKLMN" }, "parentId"],
  ])("rejects %s as BAD_REQUEST, changing nothing", async (_, patch, field) => {
    const created = await client().session.create.mutate({ title: "keep" });
    const before = await storedSessions(server());
    await expectBadRequest(client().session.update.mutate({ id: created.id, ...patch } as never), field);
    expect(await storedSessions(server())).toEqual(before);
  });
});

describeContract("session.delete", (server) => {
  const client = () => server().client;

  it("deletes a session and all its descendants, returning their IDs", async () => {
    const root = await client().session.create.mutate({});
    const child = await client().session.create.mutate({ parentId: root.id });
    const grandchild = await client().session.create.mutate({ parentId: child.id });
    const sibling = await client().session.create.mutate({ parentId: root.id });
    const bystander = await client().session.create.mutate({});

    const { deleted } = await client().session.delete.mutate({ id: root.id });
    expect(deleted[0]).toBe(root.id);
    expect([...deleted].sort()).toEqual([root.id, child.id, grandchild.id, sibling.id].sort());
    for (const id of deleted) await expectNotFound(client().session.get.query({ id }), id);
    expect(await client().session.get.query({ id: bystander.id })).toEqual(bystander);
  });

  it("deletes a deep chain", async () => {
    let parentId: string | undefined;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const session = await client().session.create.mutate({ parentId });
      ids.push(session.id);
      parentId = session.id;
    }
    expect((await client().session.delete.mutate({ id: ids[0]! })).deleted).toEqual(ids);
  });

  it("deletes only the subtree of a child", async () => {
    const root = await client().session.create.mutate({});
    const child = await client().session.create.mutate({ parentId: root.id });
    expect((await client().session.delete.mutate({ id: child.id })).deleted).toEqual([child.id]);
    expect(await client().session.children.query({ id: root.id })).toEqual({ items: [], nextCursor: null, prevCursor: null });
  });

  it("answers NOT_FOUND for an unknown or already deleted session", async () => {
    const session = await client().session.create.mutate({});
    await client().session.delete.mutate({ id: session.id });
    await expectNotFound(client().session.delete.mutate({ id: session.id }), session.id);
  });

  it("frees the ID for a new session", async () => {
    const id = freshId();
    await client().session.create.mutate({ id, title: "old" });
    await client().session.delete.mutate({ id });
    expect((await client().session.create.mutate({ id, title: "new" })).title).toBe("new");
  });
});

describeContract("health", (server, target) => {
  it("reports the engine and version", async () => {
    expect(await server().client.health.query()).toMatchObject({
      status: "ok",
      engine: target.engine,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });
});
