import { resolveConfig, storeLocation, type ServerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { PostgresSessionStore } from "./postgres.ts";
import { SqliteSessionStore } from "./sqlite.ts";
import type { SessionStore } from "./types.ts";

export type OpenStoreOptions = Pick<
  ServerConfig,
  "busyTimeoutMs" | "sqliteSync" | "pgPoolSize" | "pgStatementTimeoutMs" | "pgConnectTimeoutMs"
> & {
  log?: Logger;
};

/**
 * The store a `--db` value names: a postgres:// URL, or else a SQLite file (a path or a sqlite:
 * URL). Settings not given are the configuration's defaults (config.ts, the one place for them).
 */
export async function openStore(db: string, given: Partial<OpenStoreOptions> = {}): Promise<SessionStore> {
  const options: OpenStoreOptions = { ...resolveConfig({}, {}), ...given };
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
  return new SqliteSessionStore(location.path, {
    busyTimeoutMs: options.busyTimeoutMs,
    synchronous: options.sqliteSync,
    log: options.log,
  });
}
