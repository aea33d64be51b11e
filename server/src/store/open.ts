import { storeLocation } from "../config.ts";
import type { Logger } from "../log.ts";
import { PostgresSessionStore } from "./postgres.ts";
import { SqliteSessionStore, type SqliteSync } from "./sqlite.ts";
import type { SessionStore } from "./types.ts";

export interface OpenStoreOptions {
  busyTimeoutMs?: number;
  sqliteSync?: SqliteSync;
  pgPoolSize?: number;
  pgStatementTimeoutMs?: number;
  pgConnectTimeoutMs?: number;
  log?: Logger;
}

/** The store a `--db` value names: a postgres:// URL, or else a SQLite file (a path or a sqlite: URL). */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<SessionStore> {
  const location = storeLocation(db);
  if (location === null) throw new Error(`unsupported database: ${db}`);
  if (location.engine === "postgres") {
    return PostgresSessionStore.open(location.url, {
      poolSize: options.pgPoolSize,
      statementTimeoutMs: options.pgStatementTimeoutMs,
      connectTimeoutMs: options.pgConnectTimeoutMs,
      log: options.log,
    });
  }
  return new SqliteSessionStore(location.path, { busyTimeoutMs: options.busyTimeoutMs, synchronous: options.sqliteSync });
}
