/**
 * Fast seeding straight into the migrated schema: one transaction of prepared inserts with the
 * store's own connection settings. Rows look like real ones: generated IDs whose time field is the
 * row's createdAt, createdAt spread over a window with random gaps, default titles, a share of child
 * sessions under recent parents, some small metadata.
 */
import { DatabaseSync } from "node:sqlite";
import { statSync } from "node:fs";
import { openStore } from "@sessiond/server";
import { createSessionIdGenerator } from "@sessiond/shared";

export interface SeedOptions {
  rows: number;
  /** How many IDs, spread evenly over the table, to hand back for read load. */
  sampleIds?: number;
  /** createdAt spans this many days, ending a minute before now. */
  spanDays?: number;
  /** Share of rows that are children of a recent session. */
  childShare?: number;
}

export interface SeedResult {
  rows: number;
  ms: number;
  rowsPerS: number;
  fileBytes: number;
  sampleIds: string[];
}

/** Migrates the schema through the product, as a server would on first start. */
export async function migrate(path: string): Promise<void> {
  await (await openStore(path)).close();
}

export function openLikeStore(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 5000, enableForeignKeyConstraints: true });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  return db;
}

export async function seed(path: string, options: SeedOptions): Promise<SeedResult> {
  await migrate(path);
  const { rows, sampleIds = 0, spanDays = 90, childShare = 0.1 } = options;
  const started = performance.now();
  const db = openLikeStore(path);
  const insert = db.prepare(
    "INSERT INTO session (id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, create_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
  );
  const end = Date.now() - 60_000;
  const span = spanDays * 86_400_000;
  const start = end - span;
  let clock = start;
  const nextId = createSessionIdGenerator({ now: () => clock });
  const recent: string[] = [];
  const samples: string[] = [];
  const sampleEvery = sampleIds > 0 ? Math.max(1, Math.floor(rows / sampleIds)) : 0;
  const metadataChoices = ['{"worker":"w-17"}', '{"repo":"sessiond","branch":"main"}', '{"agent":"build","attempt":2}'];

  db.exec("BEGIN IMMEDIATE");
  try {
    for (let i = 0; i < rows; i++) {
      // Uniform over the window with jitter; several rows may share a millisecond.
      clock = Math.max(clock, start + Math.floor(((i + Math.random()) * span) / rows));
      const id = nextId();
      const parent = recent.length > 0 && Math.random() < childShare ? recent[(Math.random() * recent.length) | 0]! : null;
      const title = `${parent ? "Child session" : "New session"} - ${new Date(clock).toISOString()}`;
      const metadata = Math.random() < 0.2 ? metadataChoices[i % metadataChoices.length]! : "{}";
      const archived = Math.random() < 0.05 ? Math.min(end, clock + 3_600_000) : null;
      const revision = archived === null ? 1 : 2;
      insert.run(id, parent, title, metadata, revision, clock, archived ?? clock, archived);
      if (parent === null) {
        recent.push(id);
        if (recent.length > 100) recent.shift();
      }
      if (sampleEvery && i % sampleEvery === 0 && samples.length < sampleIds) samples.push(id);
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
  // Leave the rows in the main file, not a huge WAL, as a server restart would find them.
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const ms = performance.now() - started;
  return {
    rows,
    ms: Math.round(ms),
    rowsPerS: Math.round(rows / (ms / 1000)),
    fileBytes: statSync(path).size,
    sampleIds: samples,
  };
}
