import { resolveConfig, storeLocation, type ServerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { PostgresSessionStore } from "./postgres.ts";
import type { SessionStore } from "./types.ts";

export type OpenStoreOptions = Pick<
  ServerConfig,
  "busyTimeoutMs" | "sqliteSync" | "pgPoolSize" | "pgStatementTimeoutMs" | "pgConnectTimeoutMs"
> & {
  log?: Logger;
};

/** node:sqlite is there without a flag from Node 22.13 on; the store reads rows as arrays (`setReturnArrays`), from 22.16. */
const SQLITE_NODE = [22, 16];

/**
 * Why this Node cannot open a SQLite store, or null. The package declares no `engines` for it: npm
 * would check the Node that runs npm, while sessiond runs on the Node the project brings (the
 * `node` package, which the CLI re-runs itself with), so here is where an older Node is told.
 */
function sqliteUnsupported(): string | null {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major > SQLITE_NODE[0]! || (major === SQLITE_NODE[0] && minor >= SQLITE_NODE[1]!)) return null;
  return `SQLite needs Node.js >= ${SQLITE_NODE.join(".")} (node:sqlite), this is ${process.version}: run it with Node 24 (npm install node@24)`;
}

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
  const unsupported = sqliteUnsupported();
  if (unsupported) throw new Error(unsupported);
  // Loaded only here: importing node:sqlite fails on an older Node before any code could say why.
  const { SqliteSessionStore } = await import("./sqlite.ts");
  return new SqliteSessionStore(location.path, {
    busyTimeoutMs: options.busyTimeoutMs,
    synchronous: options.sqliteSync,
    log: options.log,
  });
}
