import type { Logger } from "../log.ts";
import { PostgresSessionStore } from "./postgres.ts";
import { SqliteSessionStore } from "./sqlite.ts";
import type { SessionStore } from "./types.ts";

export interface OpenStoreOptions {
  busyTimeoutMs?: number;
  pgPoolSize?: number;
  pgStatementTimeoutMs?: number;
  pgConnectTimeoutMs?: number;
  log?: Logger;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** The store a `--db` value names: a postgres:// URL, or else a SQLite file path. */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<SessionStore> {
  if (isPostgresUrl(db)) {
    return PostgresSessionStore.open(db, {
      poolSize: options.pgPoolSize,
      statementTimeoutMs: options.pgStatementTimeoutMs,
      connectTimeoutMs: options.pgConnectTimeoutMs,
      log: options.log,
    });
  }
  return new SqliteSessionStore(db, { busyTimeoutMs: options.busyTimeoutMs });
}
