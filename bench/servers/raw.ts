/**
 * The limit: a plain node:http handler doing what sessiond's store does (same file settings, same
 * SQL, the store's group commit, a create's event row in the same transaction, the WAL checkpointed
 * by the store's checkpointer thread rather than inside a commit) and answering
 * tRPC's superjson envelope built by hand (Dates as ISO strings, their paths in `meta.values`), and
 * nothing else: no tRPC, no validation beyond the one field each call reads, no generic serializer.
 * `--sqlite-sync full` makes it fsync each commit as the store does with full, with the store's
 * group wait: what durable creates cost a server that does nothing else (the bench's `sync`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { encodeCursor, generateSessionId } from "@sessiond/shared";
import { WalCheckpointer } from "../../server/src/store/sqlite-checkpoint.ts";
import { DEFAULT_OWNER, newRow, SELECT_SESSION, sessionJson, type Row } from "../lib/row.ts";
import { dbArg, listen } from "./common.ts";

// A file the bench had sessiond migrate, opened with the store's settings (`normal` unless told `full`).
const full = process.argv[process.argv.indexOf("--sqlite-sync") + 1] === "full";
const db = new DatabaseSync(dbArg(), { timeout: 5000, enableForeignKeyConstraints: true });
db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${full ? "FULL" : "NORMAL"}; PRAGMA wal_autocheckpoint = 4000;`);
// The store's checkpointing: a PASSIVE checkpoint on a thread about every 1,000 WAL pages written
// (estimated as the store does: 8 a commit and one a create), the connection's own at 4,000.
const checkpointer = new WalCheckpointer(dbArg(), 5000, full ? 2 : 1);
let pagesWritten = 0;
let checkpointing = false;
const insert = db.prepare(
  "INSERT INTO session (id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner, create_key, create_fingerprint) VALUES (?, NULL, ?, ?, 1, ?, ?, NULL, ?, NULL, NULL)",
);
const recordCreated = db.prepare(
  "INSERT INTO session_event (type, at, session_id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner) VALUES ('session.created', ?, ?, NULL, ?, ?, 1, ?, ?, NULL, ?)",
);
// One owner's sessions, as the store reads them (every call of a server without authentication is the default owner's).
const selectOne = db.prepare(`${SELECT_SESSION} WHERE owner = ? AND id = ?`);
const selectPage = db.prepare(`${SELECT_SESSION} WHERE owner = ? ORDER BY created_at DESC, id DESC LIMIT ?`);

/** The tRPC answer for a session or a page: superjson's `json`, and `meta` naming every Date's path. */
function envelope(rows: Row[], page?: { nextCursor: string | null; prevCursor: string | null }): string {
  const values: Record<string, ["Date"]> = {};
  rows.forEach((row, i) => {
    const prefix = page ? `items.${i}.` : "";
    values[`${prefix}createdAt`] = ["Date"];
    values[`${prefix}updatedAt`] = ["Date"];
    if (row.archived_at !== null) values[`${prefix}archivedAt`] = ["Date"];
  });
  const json = page ? { items: rows.map(sessionJson), ...page } : sessionJson(rows[0]!);
  return JSON.stringify({ result: { data: { json, meta: { values, v: 1 } } } });
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

/** The `json` of the `input` query parameter (no checks: this is the limit, not a server). */
function input(req: IncomingMessage): { id?: string; limit?: number } {
  const text = new URL(req.url!, "http://raw").searchParams.get("input");
  return (text ? (JSON.parse(text) as { json?: object }).json : undefined) ?? {};
}

// The store's group commit: every insert asked for in one event-loop turn shares one transaction;
// with full, the group waits one more turn while the last brought more, for at most 1 ms.
const pending: { row: Row; res: ServerResponse }[] = [];
let [groupOpened, groupSeen] = [0, 0];
function flushInserts(): void {
  if (full && pending.length > groupSeen && performance.now() - groupOpened < 1) {
    groupSeen = pending.length;
    return void setImmediate(flushInserts);
  }
  groupSeen = 0;
  const group = pending.splice(0);
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const { row: r } of group) {
      insert.run(r.id, r.title, r.metadata, r.created_at, r.updated_at, r.owner);
      recordCreated.run(r.created_at, r.id, r.title, r.metadata, r.created_at, r.updated_at, r.owner);
    }
    db.exec("COMMIT");
    pagesWritten += 8 + group.length;
    if (pagesWritten >= 1000 && !checkpointing) {
      [pagesWritten, checkpointing] = [0, true];
      void checkpointer.checkpoint().then(() => (checkpointing = false));
    }
  } catch (error) {
    db.exec("ROLLBACK");
    for (const { res } of group) answer(res, 500, '{"error":"insert failed"}');
    return void process.stderr.write(`raw insert failed: ${String(error)}\n`);
  }
  for (const { row, res } of group) answer(res, 200, envelope([row]));
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
    if (pending.push({ row: newRow(generateSessionId()), res }) === 1) {
      groupOpened = performance.now();
      setImmediate(flushInserts);
    }
  });
}

const server = createServer((req, res) => {
  const url = req.url ?? "";
  if (req.method === "POST" && url.startsWith("/trpc/session.create")) return create(req, res);
  if (req.method === "GET" && url.startsWith("/trpc/session.get?")) {
    const row = selectOne.get(DEFAULT_OWNER, String(input(req).id)) as Row | undefined;
    return row ? answer(res, 200, envelope([row])) : answer(res, 404, '{"error":"not found"}');
  }
  if (req.method === "GET" && url.startsWith("/trpc/session.list?")) {
    const limit = Number(input(req).limit ?? 50);
    const rows = selectPage.all(DEFAULT_OWNER, limit + 1) as unknown as Row[];
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    const nextCursor = last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
    // The first page: nothing before it.
    return answer(res, 200, envelope(rows.slice(0, limit), { nextCursor, prevCursor: null }));
  }
  answer(res, 404, '{"error":"not found"}');
});
await listen(server, async () => {
  await checkpointer.close();
  db.close();
});
