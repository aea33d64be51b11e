import { SqliteSessionStore } from "./sqlite.ts";
import type { SessionStore } from "./types.ts";

export interface OpenStoreOptions {
  busyTimeoutMs?: number;
}

/** The store a `--db` value names: a SQLite file path. */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<SessionStore> {
  return new SqliteSessionStore(db, { busyTimeoutMs: options.busyTimeoutMs });
}
