/**
 * A real sessiond for tests: the HTTP server on a random loopback port with a fresh SQLite file in
 * a temporary directory, and a typed client pointed at it. For sessiond's own tests and for
 * consumers' contract tests.
 *
 *   const server = await startTestServer();
 *   await server.client.session.create.mutate({});
 *   await server.close();
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSessionClient, type SessionClient } from "@sessiond/client";
import { createLogger, resolveConfig, startSessiond, type LogLevel, type ServerFlags, type Sessiond } from "@sessiond/server";
import { EventSource } from "eventsource";

export interface TestServerOptions {
  /** A database to use instead of a fresh temporary SQLite file (it is then not deleted). */
  db?: string;
  logLevel?: LogLevel;
  /** Any other server settings, as `sessiond serve` flags would give them (e.g. `{ token, pageSizeMax }`). */
  settings?: ServerFlags;
}

export interface TestServer {
  url: string;
  client: SessionClient;
  /** The SQLite file or database URL the server uses. */
  db: string;
  sessions: Sessiond["sessions"];
  /** Stops the server and deletes its temporary database. */
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.db ? null : mkdtempSync(join(tmpdir(), "sessiond-test-"));
  const db = options.db ?? join(dir!, "sessions.db");
  const config = resolveConfig({ ...options.settings, host: "127.0.0.1", port: 0, db, logLevel: options.logLevel ?? "silent" }, {});
  const sessiond = await startSessiond(config, createLogger(config.logLevel));
  return {
    url: sessiond.url,
    client: createSessionClient({ url: sessiond.url, token: config.token, maxItems: config.maxBatchSize, EventSource }),
    db,
    sessions: sessiond.sessions,
    async close() {
      await sessiond.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
