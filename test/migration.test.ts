/**
 * Migration 5 (owners) on a database made before it, on both engines: every existing session and
 * event belongs to the default owner, the tree and the events survive, and where several sessions
 * held one idempotency key (keys were not unique before) the first created keeps it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { isIdempotencyKeyReused } from "@sessiond/client";
import { startTestServer } from "@sessiond/testing";
import { MIGRATIONS } from "../server/src/store/migrations.ts";
import { decodeFrames, openSse } from "./support/sse.ts";
import { engineTargets, freshPostgresDatabase } from "./support/targets.ts";

const ROOT = "ses_0123456789abMigratedRoot01";
const CHILD = "ses_0123456789abMigratedKid001";
const OTHER = "ses_0123456789abMigratedOther1";

/** The schema as it was before owners (migrations 1 to 3), and three sessions with their events. */
const BEFORE = MIGRATIONS.filter((migration) => migration.version <= 3);
const ROWS = `
  INSERT INTO session (id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, create_key) VALUES
    ('${ROOT}', NULL, 'root', '{"a":1}', 1, 1000, 1000, NULL, 'shared-key'),
    ('${CHILD}', '${ROOT}', 'child', '{}', 2, 2000, 2500, NULL, 'shared-key'),
    ('${OTHER}', NULL, 'other', '{}', 1, 3000, 3000, 3000, NULL);`;
const EVENTS = (id: (n: number) => string) => `
  INSERT INTO session_event (id, type, at, session_id, parent_id, title, metadata, revision, created_at, updated_at, archived_at) VALUES
    (${id(1)}, 'session.created', 1000, '${ROOT}', NULL, 'root', '{"a":1}', 1, 1000, 1000, NULL),
    (${id(2)}, 'session.created', 2000, '${CHILD}', '${ROOT}', 'child', '{}', 1, 2000, 2000, NULL),
    (${id(3)}, 'session.updated', 2500, '${CHILD}', '${ROOT}', 'child', '{}', 2, 2000, 2500, NULL);`;

async function databaseBeforeOwners(engine: "sqlite" | "postgres", dir: string): Promise<string> {
  const record = (version: number, name: string) =>
    `INSERT INTO schema_migration (version, name, applied_at) VALUES (${version}, '${name}', ${Date.now()});`;
  if (engine === "sqlite") {
    const path = join(dir, "before-owners.db");
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const migration of BEFORE) db.exec(`${migration.sql.sqlite};${record(migration.version, migration.name)}`);
    db.exec(`${ROWS} ${EVENTS(() => "NULL")}`);
    db.close();
    return path;
  }
  const url = await freshPostgresDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("CREATE TABLE schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    for (const migration of BEFORE) await client.query(`${migration.sql.postgres};${record(migration.version, migration.name)}`);
    await client.query(`${ROWS} ${EVENTS(() => "next_event_id()")}`);
  } finally {
    await client.end();
  }
  return url;
}

describe.each(engineTargets)("migration 5: owners, on a database made before them [$name]", (target) => {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-migration-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives every session and event the default owner, keeps the tree, and leaves one session per idempotency key", async () => {
    const db = await databaseBeforeOwners(target.engine, dir);
    const server = await startTestServer({ db, owners: true });
    try {
      const asDefault = server.clientFor("default");
      const listed = await asDefault.session.list.query();
      expect(listed.items.map((session) => [session.id, session.owner])).toEqual([
        [OTHER, "default"],
        [CHILD, "default"],
        [ROOT, "default"],
      ]);
      expect(await asDefault.session.get.query({ id: CHILD })).toMatchObject({ parentId: ROOT, revision: 2, title: "child" });
      expect((await asDefault.session.children.query({ id: ROOT })).items.map((session) => session.id)).toEqual([CHILD]);
      // The first session created with the key keeps it: a retry naming its ID is still recognised
      // (sessions from before have no fingerprint: the rule of their time), anything else is another create.
      expect((await asDefault.session.create.mutate({ id: ROOT, idempotencyKey: "shared-key" })).title).toBe("root");
      const reused = await asDefault.session.create.mutate({ id: CHILD, idempotencyKey: "shared-key" }).catch((error: unknown) => error);
      expect(isIdempotencyKeyReused(reused)).toBe(true);
      // Another owner may now hold the same IDs.
      const alice = server.clientFor("alice");
      expect((await alice.session.create.mutate({ id: ROOT, title: "alice's" })).owner).toBe("alice");
      expect(await alice.session.list.query()).toMatchObject({ items: [{ id: ROOT, title: "alice's" }] });
      // The events from before: the default owner's, and only its.
      const replay = await openSse(`${server.url}/event`, { authorization: `Bearer ${server.tokenFor("default")}`, "last-event-id": "0" });
      const frames = await replay.waitFor(3);
      replay.kill();
      expect(decodeFrames(frames).map(({ type, info }) => `${type} ${info.id} ${info.owner}`)).toEqual([
        `session.created ${ROOT} default`,
        `session.created ${CHILD} default`,
        `session.updated ${CHILD} default`,
      ]);
      // Deleting the old tree works with the new keys.
      expect(await asDefault.session.delete.mutate({ id: ROOT })).toEqual({ deleted: [ROOT, CHILD] });
    } finally {
      await server.close();
    }
  });
});
