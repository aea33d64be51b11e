/**
 * A prototype for issue 13's "make `full` cheap", measured before the store's write path changes:
 * a bare node:http create handler (the bench's "raw" shape: parse the body, generate an ID, insert,
 * answer a small JSON body) with group commit, in two designs:
 *
 * - `main`: the store's design today. Inserts asked for in one event-loop turn share one
 *   transaction, committed on the main thread; with synchronous = FULL the thread waits for the
 *   fsync, and the requests that arrive meanwhile wait in the socket buffers.
 * - `fsync`: the writes stay on the main thread with synchronous = NORMAL (a commit writes the WAL,
 *   no fsync), and the answers wait for an fdatasync of the WAL file that runs in libuv's thread
 *   pool: the main thread never waits for the disk, and one fsync serves every group committed
 *   before it started (the next one starts when it ends). fsync acts on the file, whichever
 *   descriptor asks, so an acknowledged create is on the disk as with FULL. Only with --sync full.
 * - `thread`: a writer worker thread owns the write connection. The main thread queues inserts and
 *   hands the whole queue to the writer whenever it is idle; while a commit (and its fsync) is in
 *   flight, the main thread keeps parsing requests, so the next group grows by itself.
 *
 *   node bench/prototypes/group-commit.ts --db FILE --design main|fsync|thread --sync normal|full
 *
 * Prints {"url": ...} like the bench servers and stops on SIGTERM or when its parent goes away.
 */
import { closeSync, fdatasync, openSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { openStore } from "@sessiond/server";
import { generateSessionId } from "@sessiond/shared";

type Row = [id: string, title: string, createdAt: number];
/** Per row: null when inserted, else the SQLite error code. */
type Outcome = number | null;

const INSERT =
  "INSERT INTO session (id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, create_key) VALUES (?, NULL, ?, '{}', 1, ?, ?, NULL, NULL)";

function openWriter(path: string, sync: string): { commit(rows: Row[]): Outcome[]; close(): void } {
  const db = new DatabaseSync(path, { timeout: 5000, enableForeignKeyConstraints: true });
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${sync === "full" ? "FULL" : "NORMAL"};`);
  const insert = db.prepare(INSERT);
  return {
    commit(rows) {
      db.exec("BEGIN IMMEDIATE");
      const outcomes = rows.map(([id, title, createdAt]): Outcome => {
        try {
          insert.run(id, title, createdAt, createdAt);
          return null;
        } catch (error) {
          return Number((error as { errcode?: number }).errcode ?? -1);
        }
      });
      db.exec("COMMIT");
      return outcomes;
    },
    close: () => db.close(),
  };
}

if (!isMainThread) {
  // The writer thread: one group at a time, in the order the main thread sends them.
  const { path, sync } = workerData as { path: string; sync: string };
  const writer = openWriter(path, sync);
  parentPort!.on("message", (rows: Row[]) => parentPort!.postMessage(writer.commit(rows)));
} else {
  const { values } = parseArgs({ options: { db: { type: "string" }, design: { type: "string" }, sync: { type: "string" } } });
  const path = values.db!;
  const sync = values.sync === "full" ? "full" : "normal";
  // Migrate through the product, as the other bench servers do.
  await (await openStore(path)).close();

  interface Pending {
    row: Row;
    done(outcome: Outcome | Error): void;
  }
  let queue: Pending[] = [];
  let close: () => Promise<void>;
  let enqueue: (pending: Pending) => void;

  if (values.design === "fsync") {
    const writer = openWriter(path, "normal");
    // The WAL file exists once the connection has read the database in WAL mode.
    const walFd = openSync(`${path}-wal`, "r");
    let syncing = false;
    let committed: { pending: Pending; outcome: Outcome }[] = [];
    const syncWal = (): void => {
      if (syncing || committed.length === 0) return;
      const group = committed;
      committed = [];
      syncing = true;
      fdatasync(walFd, (error) => {
        syncing = false;
        for (const { pending, outcome } of group) pending.done(error ?? outcome);
        syncWal();
      });
    };
    const flush = (): void => {
      const group = queue;
      queue = [];
      try {
        const outcomes = writer.commit(group.map((pending) => pending.row));
        for (const [index, pending] of group.entries()) committed.push({ pending, outcome: outcomes[index]! });
      } catch (error) {
        for (const pending of group) pending.done(error as Error);
      }
      syncWal();
    };
    enqueue = (pending) => {
      if (queue.push(pending) === 1) setImmediate(flush);
    };
    close = async () => {
      closeSync(walFd);
      writer.close();
    };
  } else if (values.design === "thread") {
    const worker = new Worker(new URL(import.meta.url), { workerData: { path, sync } });
    let inFlight: Pending[] | null = null;
    const send = (): void => {
      if (inFlight || queue.length === 0) return;
      inFlight = queue;
      queue = [];
      worker.postMessage(inFlight.map((pending) => pending.row));
    };
    worker.on("message", (outcomes: Outcome[]) => {
      const group = inFlight!;
      inFlight = null;
      for (const [index, pending] of group.entries()) pending.done(outcomes[index]!);
      send();
    });
    worker.on("error", (error) => {
      for (const pending of [...(inFlight ?? []), ...queue]) pending.done(error);
      inFlight = null;
      queue = [];
    });
    enqueue = (pending) => {
      if (queue.push(pending) === 1) setImmediate(send);
    };
    close = () => worker.terminate().then(() => undefined);
  } else {
    const writer = openWriter(path, sync);
    const flush = (): void => {
      const group = queue;
      queue = [];
      try {
        const outcomes = writer.commit(group.map((pending) => pending.row));
        for (const [index, pending] of group.entries()) pending.done(outcomes[index]!);
      } catch (error) {
        for (const pending of group) pending.done(error as Error);
      }
    };
    enqueue = (pending) => {
      if (queue.push(pending) === 1) setImmediate(flush);
    };
    close = async () => writer.close();
  }

  const answer = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  };

  const server = createServer((req, res) => {
    if (req.method !== "POST" || !req.url?.startsWith("/trpc/session.create")) return answer(res, 404, '{"error":"not found"}');
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        JSON.parse(chunks.length ? Buffer.concat(chunks).toString() : "{}");
      } catch {
        return answer(res, 400, '{"error":"bad json"}');
      }
      const id = generateSessionId();
      const now = Date.now();
      enqueue({
        row: [id, `New session - ${new Date(now).toISOString()}`, now],
        done: (outcome) => {
          if (outcome === null) answer(res, 200, `{"id":"${id}","createdAt":${now}}`);
          else answer(res, outcome instanceof Error ? 503 : 409, `{"error":"${String(outcome)}"}`);
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    void close().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  process.once("disconnect", stop);
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
}
