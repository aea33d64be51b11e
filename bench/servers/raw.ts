/**
 * The limit: a plain node:http handler doing what sessiond's store does for create, get and list
 * (same file settings, same SQL, same group commit, a create's event row in the same transaction) and answering the same superjson envelope
 * (Dates as ISO strings with their `meta.values` entries), and nothing else: no tRPC, no
 * validation beyond reading the one field each call needs, no generic serializer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "@sessiond/server";
import { encodeCursor, generateSessionId } from "@sessiond/shared";
import { COLUMNS, type SessionRow as Row } from "../../server/src/store/row.ts";
import { bareSessionJson as sessionJson, type DateMeta } from "../lib/bare.ts";
import { dbArg, listenAndAnnounce } from "./common.ts";

const path = dbArg();
// Open once through the product so the schema is migrated exactly as sessiond would.
await (await openStore(path)).close();

const db = new DatabaseSync(path, { timeout: 5000, enableForeignKeyConstraints: true });
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
const insert = db.prepare(`INSERT INTO session (${COLUMNS}, create_key) VALUES (?, ?, ?, ?, 1, ?, ?, NULL, ?)`);
// Every change is an event, in the change's transaction (issue 12): the store writes this row too.
const recordCreated = db.prepare(
  "INSERT INTO session_event (type, at, session_id, parent_id, title, metadata, revision, created_at, updated_at, archived_at) VALUES ('session.created', ?, ?, ?, ?, ?, 1, ?, ?, NULL)",
);
const selectOne = db.prepare(`SELECT ${COLUMNS} FROM session WHERE id = ?`);
const selectPage = db.prepare(`SELECT ${COLUMNS} FROM session ORDER BY created_at DESC, id DESC LIMIT ?`);

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

const envelope = (json: unknown, meta: DateMeta): string => JSON.stringify({ result: { data: { json, meta: { values: meta, v: 1 } } } });

/** The `json` of the `input` query parameter's envelope (no checks: this is the limit, not a server). */
function queryInput(req: IncomingMessage): Record<string, unknown> {
  const text = new URL(req.url!, "http://raw").searchParams.get("input");
  return ((text ? (JSON.parse(text) as { json?: unknown }).json : undefined) ?? {}) as Record<string, unknown>;
}

// The store's group commit: every insert asked for in one event-loop turn shares one transaction.
const pending: { row: Row; res: ServerResponse }[] = [];
function flushInserts(): void {
  const group = pending.splice(0);
  const run = ({ row }: { row: Row }) => {
    insert.run(row.id, row.parent_id, row.title, row.metadata, row.created_at, row.updated_at, null);
    recordCreated.run(row.created_at, row.id, row.parent_id, row.title, row.metadata, row.created_at, row.updated_at);
  };
  // A transaction even for a group of one: the row and its event commit together.
  db.exec("BEGIN IMMEDIATE");
  try {
    group.forEach(run);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    for (const { res } of group) answer(res, 500, '{"error":"insert failed"}');
    process.stderr.write(`raw insert failed: ${String(error)}\n`);
    return;
  }
  for (const { row, res } of group) {
    const meta: DateMeta = {};
    answer(res, 200, envelope(sessionJson(row, "", meta), meta));
  }
}

function create(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    try {
      JSON.parse(chunks.length ? Buffer.concat(chunks).toString() : "{}");
    } catch {
      answer(res, 400, '{"error":"bad json"}');
      return;
    }
    const now = Date.now();
    const row: Row = {
      id: generateSessionId(),
      parent_id: null,
      title: `New session - ${new Date(now).toISOString()}`,
      metadata: "{}",
      revision: 1,
      created_at: now,
      updated_at: now,
      archived_at: null,
    };
    if (pending.push({ row, res }) === 1) setImmediate(flushInserts);
  });
}

function get(req: IncomingMessage, res: ServerResponse): void {
  const row = selectOne.get(String(queryInput(req).id)) as Row | undefined;
  if (!row) {
    answer(res, 404, '{"error":"not found"}');
    return;
  }
  const meta: DateMeta = {};
  answer(res, 200, envelope(sessionJson(row, "", meta), meta));
}

function list(req: IncomingMessage, res: ServerResponse): void {
  const limit = Number(queryInput(req).limit ?? 50);
  const rows = selectPage.all(limit + 1) as unknown as Row[];
  const meta: DateMeta = {};
  const items = rows.slice(0, limit).map((row, index) => sessionJson(row, `items.${index}.`, meta));
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  const nextCursor = last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
  answer(res, 200, envelope({ items, nextCursor }, meta));
}

const server = createServer((req, res) => {
  const url = req.url ?? "";
  if (req.method === "POST" && url.startsWith("/trpc/session.create")) create(req, res);
  else if (req.method === "GET" && url.startsWith("/trpc/session.get?")) get(req, res);
  else if (req.method === "GET" && url.startsWith("/trpc/session.list?")) list(req, res);
  else answer(res, 404, '{"error":"not found"}');
});
await listenAndAnnounce(server, () => db.close());
