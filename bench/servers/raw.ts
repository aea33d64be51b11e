/**
 * The limit: a plain node:http handler doing the same SQLite insert as the store, with the same
 * connection settings, and nothing else (no tRPC, no validation, no superjson).
 */
import { createServer, type ServerResponse } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "@sessiond/server";
import { generateSessionId } from "@sessiond/shared";
import { dbArg, listenAndAnnounce } from "./common.ts";

const path = dbArg();
// Open once through the product so the schema is migrated exactly as sessiond would.
await (await openStore(path)).close();

const db = new DatabaseSync(path, { timeout: 5000, enableForeignKeyConstraints: true });
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
const insert = db.prepare(
  "INSERT INTO session (id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, create_key) VALUES (?, ?, ?, ?, 1, ?, ?, NULL, ?)",
);

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

const server = createServer((req, res) => {
  if (req.method !== "POST" || !req.url?.startsWith("/trpc/session.create")) {
    answer(res, 404, '{"error":"not found"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    try {
      JSON.parse(chunks.length ? Buffer.concat(chunks).toString() : "{}");
    } catch {
      answer(res, 400, '{"error":"bad json"}');
      return;
    }
    const id = generateSessionId();
    const now = Date.now();
    insert.run(id, null, `New session - ${new Date(now).toISOString()}`, "{}", now, now, null);
    answer(res, 200, `{"id":"${id}","createdAt":${now}}`);
  });
});
await listenAndAnnounce(server, () => db.close());
