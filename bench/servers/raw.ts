/**
 * The limit: a plain node:http handler doing what sessiond's store does for create, get and list
 * (same file settings, same SQL, the store's group commit, a create's event row in the same
 * transaction) and answering tRPC's superjson envelope built by hand (Dates as ISO strings, their
 * paths in `meta.values`), and nothing else: no tRPC, no validation beyond reading the one field
 * each call needs, no generic serializer. What a user would write, so the row shape is its own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { encodeCursor, generateSessionId } from "@sessiond/shared";
import { dbArg, listen } from "./common.ts";

interface Row {
  id: string;
  parent_id: string | null;
  title: string;
  metadata: string;
  revision: number;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}
const COLUMNS = "id, parent_id, title, metadata, revision, created_at, updated_at, archived_at";

// The file is one the bench had sessiond migrate; opened with the store's settings (and `normal`).
const db = new DatabaseSync(dbArg(), { timeout: 5000, enableForeignKeyConstraints: true });
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
const insert = db.prepare(`INSERT INTO session (${COLUMNS}, create_key) VALUES (?, ?, ?, ?, 1, ?, ?, NULL, NULL)`);
const recordCreated = db.prepare(
  "INSERT INTO session_event (type, at, session_id, parent_id, title, metadata, revision, created_at, updated_at, archived_at) VALUES ('session.created', ?, ?, ?, ?, ?, 1, ?, ?, NULL)",
);
const selectOne = db.prepare(`SELECT ${COLUMNS} FROM session WHERE id = ?`);
const selectPage = db.prepare(`SELECT ${COLUMNS} FROM session ORDER BY created_at DESC, id DESC LIMIT ?`);

type DateMeta = Record<string, ["Date"]>;
const iso = (ms: number): string => new Date(ms).toISOString();

/** A row as superjson sends the session, its Date paths recorded under `prefix`. */
function sessionJson(row: Row, prefix: string, meta: DateMeta) {
  meta[`${prefix}createdAt`] = ["Date"];
  meta[`${prefix}updatedAt`] = ["Date"];
  if (row.archived_at !== null) meta[`${prefix}archivedAt`] = ["Date"];
  const { id, title, parent_id: parentId, revision } = row;
  const archivedAt = row.archived_at === null ? null : iso(row.archived_at);
  return {
    id,
    title,
    parentId,
    metadata: JSON.parse(row.metadata),
    revision,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    archivedAt,
  };
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}
const envelope = (json: unknown, meta: DateMeta): string => JSON.stringify({ result: { data: { json, meta: { values: meta, v: 1 } } } });
function answerSession(res: ServerResponse, row: Row): void {
  const meta: DateMeta = {};
  answer(res, 200, envelope(sessionJson(row, "", meta), meta));
}

/** The `json` of the `input` query parameter (no checks: this is the limit, not a server). */
function input(req: IncomingMessage): Record<string, unknown> {
  const text = new URL(req.url!, "http://raw").searchParams.get("input");
  return ((text ? (JSON.parse(text) as { json?: unknown }).json : undefined) ?? {}) as Record<string, unknown>;
}

// The store's group commit: every insert asked for in one event-loop turn shares one transaction.
const pending: { row: Row; res: ServerResponse }[] = [];
function flushInserts(): void {
  const group = pending.splice(0);
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const { row: r } of group) {
      insert.run(r.id, r.parent_id, r.title, r.metadata, r.created_at, r.updated_at);
      recordCreated.run(r.created_at, r.id, r.parent_id, r.title, r.metadata, r.created_at, r.updated_at);
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    for (const { res } of group) answer(res, 500, '{"error":"insert failed"}');
    process.stderr.write(`raw insert failed: ${String(error)}\n`);
    return;
  }
  for (const { row, res } of group) answerSession(res, row);
}

function create(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    try {
      JSON.parse(chunks.length ? Buffer.concat(chunks).toString() : "{}");
    } catch {
      return answer(res, 400, '{"error":"bad json"}');
    }
    const now = Date.now();
    const row: Row = {
      id: generateSessionId(),
      parent_id: null,
      title: `New session - ${iso(now)}`,
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
  const row = selectOne.get(String(input(req).id)) as Row | undefined;
  if (row) answerSession(res, row);
  else answer(res, 404, '{"error":"not found"}');
}

function list(req: IncomingMessage, res: ServerResponse): void {
  const limit = Number(input(req).limit ?? 50);
  const rows = selectPage.all(limit + 1) as unknown as Row[];
  const meta: DateMeta = {};
  const items = rows.slice(0, limit).map((row, index) => sessionJson(row, `items.${index}.`, meta));
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  answer(res, 200, envelope({ items, nextCursor: last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null }, meta));
}

const server = createServer((req, res) => {
  const url = req.url ?? "";
  if (req.method === "POST" && url.startsWith("/trpc/session.create")) create(req, res);
  else if (req.method === "GET" && url.startsWith("/trpc/session.get?")) get(req, res);
  else if (req.method === "GET" && url.startsWith("/trpc/session.list?")) list(req, res);
  else answer(res, 404, '{"error":"not found"}');
});
await listen(server, () => db.close());
