/**
 * The app a user would write instead of sessiond (issue 20), with no sessiond code: Hono, zod,
 * node:sqlite on the file sessiond created, plain JSON, opencode's IDs. A create writes the session
 * and its event in one transaction per request, with `synchronous = NORMAL` (the usual recipe).
 */
import type { Server } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { createAdaptorServer } from "@hono/node-server";
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { z } from "zod";
import { createOpencodeIdGenerator } from "../lib/opencode-id.ts";
import { newRow, SELECT_SESSION, sessionJson, type Row } from "../lib/row.ts";
import { dbArg, listen } from "./common.ts";

const db = new DatabaseSync(dbArg(), { timeout: 5000 });
db.exec("PRAGMA synchronous = NORMAL");
// sessiond's table has an owner column, first in its primary key and indexes: the app's rows are
// those of the owner a server without authentication gives ('default'), read through those keys
// (by `id` alone, a get would scan the table).
const getOne = db.prepare(`${SELECT_SESSION} WHERE owner = 'default' AND id = ?`);
const firstPage = db.prepare(`${SELECT_SESSION} WHERE owner = 'default' ORDER BY created_at DESC, id DESC LIMIT ?`);
const nextPage = db.prepare(
  `${SELECT_SESSION} WHERE owner = 'default' AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?`,
);
const insert = db.prepare(
  "INSERT INTO session (id, title, metadata, revision, created_at, updated_at, owner) VALUES (?, ?, ?, 1, ?, ?, 'default')",
);
const insertEvent = db.prepare(
  "INSERT INTO session_event (type, at, session_id, title, metadata, revision, created_at, updated_at, owner) VALUES ('session.created', ?, ?, ?, ?, 1, ?, ?, 'default')",
);

const newId = createOpencodeIdGenerator();

const Id = z.string().regex(/^ses_[0-9a-f]{12}[0-9A-Za-z]{14}$/);
const NewSession = z.object({
  id: Id.optional(),
  title: z.string().max(1024).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
const PageQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50), cursor: z.string().optional() });

const app = new Hono()
  .get("/session/:id", zValidator("param", z.object({ id: Id })), (c) => {
    const row = getOne.get(c.req.valid("param").id) as Row | undefined;
    return row ? c.json(sessionJson(row)) : c.json({ error: "not found" }, 404);
  })
  .get("/session", zValidator("query", PageQuery), (c) => {
    const { limit, cursor } = c.req.valid("query");
    const [at, id] = cursor ? Buffer.from(cursor, "base64url").toString().split(".") : [];
    const rows = (at && id ? nextPage.all(Number(at), id, limit + 1) : firstPage.all(limit + 1)) as unknown as Row[];
    const end = rows.length > limit ? rows[limit - 1] : undefined;
    const cursorOf = (row: Row) => Buffer.from(`${row.created_at}.${row.id}`).toString("base64url");
    const items = rows.slice(0, limit);
    // prevCursor: where the page before this one ends (none before the first).
    return c.json({
      items: items.map(sessionJson),
      nextCursor: end ? cursorOf(end) : null,
      prevCursor: cursor && items[0] ? cursorOf(items[0]) : null,
    });
  })
  .post("/session", zValidator("json", NewSession), (c) => {
    const { id = newId(), title, metadata } = c.req.valid("json");
    const row = newRow(id);
    if (title !== undefined) row.title = title;
    if (metadata) row.metadata = JSON.stringify(metadata);
    db.exec("BEGIN IMMEDIATE");
    try {
      insert.run(id, row.title, row.metadata, row.created_at, row.updated_at);
      insertEvent.run(row.created_at, id, row.title, row.metadata, row.created_at, row.updated_at);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      if ((error as { errcode?: number }).errcode === 1555) return c.json({ error: "conflict", id }, 409); // the primary key
      throw error;
    }
    return c.json(sessionJson(row));
  });

await listen(createAdaptorServer({ fetch: app.fetch }) as Server, () => db.close());
