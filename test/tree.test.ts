/**
 * Tree walks end whatever the database holds. The contract cannot make a cycle of parents (a
 * session cannot be its own parent, and a parent must exist before its child), but a database
 * edited by hand can hold one: delete and the child listings must still answer, and a delete
 * reaching more sessions than its bound is refused whole.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "@sessiond/testing";
import { expectBadRequest, expectNotFound } from "./support/expect.ts";
import { freshId } from "./support/ids.ts";
import { engineTargets, plantSql, storedSessions } from "./support/targets.ts";

describe.each(engineTargets)("tree walks over a database with cycles [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await target.start();
  });
  afterAll(() => server?.close());
  const client = () => server.client;

  it("deletes a session that is its own parent, with its children, and keeps serving", async () => {
    const root = await client().session.create.mutate({ title: "self" });
    const child = await client().session.create.mutate({ parentId: root.id });
    await plantSql(server.db, `UPDATE session SET parent_id = id WHERE id = '${root.id}'`);

    const children = await client().session.children.query({ id: root.id });
    expect(children.items.map((session) => session.id).sort()).toEqual([root.id, child.id].sort());
    expect((await client().session.delete.mutate({ id: root.id })).deleted).toEqual([root.id, child.id]);
    await expectNotFound(client().session.get.query({ id: child.id }), child.id);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("deletes a cycle of two with a subtree once each, root first, then by depth", async () => {
    const a = await client().session.create.mutate({ id: freshId(), title: "a" });
    const b = await client().session.create.mutate({ id: freshId(), title: "b" });
    const c = await client().session.create.mutate({ parentId: b.id, title: "c" });
    const d = await client().session.create.mutate({ parentId: c.id, title: "d" });
    await plantSql(
      server.db,
      `UPDATE session SET parent_id = '${b.id}' WHERE id = '${a.id}'; UPDATE session SET parent_id = '${a.id}' WHERE id = '${b.id}'`,
    );

    const { deleted } = await client().session.delete.mutate({ id: a.id });
    expect(deleted).toEqual([a.id, b.id, c.id, d.id]);
    const left = new Set((await storedSessions(server)).map((session) => session.id));
    for (const id of deleted) expect(left.has(id)).toBe(false);
  });

  it("refuses, changing nothing, to delete a tree larger than 100,000 sessions", async () => {
    const root = await client().session.create.mutate({ title: "huge" });
    const rows = server.db.startsWith("postgres")
      ? `INSERT INTO session (owner, id, parent_id, title, metadata, revision, created_at, updated_at)
         SELECT 'default', 'ses_' || lpad(to_hex(g), 12, '0') || 'HugeTreeChild0', '${root.id}', 't', '{}', 1, 1, 1
         FROM generate_series(1, 100000) AS g`
      : `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100000)
         INSERT INTO session (owner, id, parent_id, title, metadata, revision, created_at, updated_at)
         SELECT 'default', printf('ses_%012xHugeTreeChild0', n), '${root.id}', 't', '{}', 1, 1, 1 FROM g`;
    await plantSql(server.db, rows);

    const messages = await expectBadRequest(client().session.delete.mutate({ id: root.id }), null);
    expect(messages.join(" ")).toContain("more than 99999 descendants");
    expect((await client().session.get.query({ id: root.id })).title).toBe("huge");
    expect((await client().session.children.query({ id: root.id, limit: 1 })).items).toHaveLength(1);
  });
});
