/**
 * The servers' databases, prepared before the loads: migrated by the product, seeded straight into
 * its schema (rows that look real: IDs whose time is their createdAt, over 90 days, 10 % children of
 * recent sessions, some metadata, 5 % archived), queried.
 */
import { statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { openStore } from "@sessiond/server";
import { createSessionIdGenerator } from "@sessiond/shared";

export type SeedResult = Awaited<ReturnType<typeof seed>>;

/** Migrates the schema through the product, as a server does on its first start. */
export async function migrate(db: string): Promise<void> {
  await (await openStore(db)).close();
}

/** Runs SQL on a SQLite file or a postgres:// URL (setup only, never during a load); its rows. */
export async function sql<Row = Record<string, unknown>>(db: string, text: string): Promise<Row[]> {
  if (!/^postgres(ql)?:\/\//.test(db)) {
    const file = new DatabaseSync(db);
    const rows = file.prepare(text).all() as Row[];
    file.close();
    return rows;
  }
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query(text)).rows as Row[];
  } finally {
    await client.end();
  }
}

/** Seeds `rows` sessions; `sampleIds` of their IDs, spread evenly over the table, for read loads. */
export async function seed(path: string, rows: number, sampleIds = 0) {
  await migrate(path);
  const started = performance.now();
  const db = new DatabaseSync(path, { timeout: 5000 });
  const insert = db.prepare(
    "INSERT INTO session (id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'default')",
  );
  const [end, span] = [Date.now() - 60_000, 90 * 86_400_000];
  let clock = end - span;
  const nextId = createSessionIdGenerator({ now: () => clock });
  const [recent, samples] = [[] as string[], [] as string[]];
  const sampleEvery = sampleIds > 0 ? Math.max(1, Math.floor(rows / sampleIds)) : 0;
  const metadataChoices = ['{"worker":"w-17"}', '{"repo":"sessiond","branch":"main"}', '{"agent":"build","attempt":2}'];
  db.exec("BEGIN IMMEDIATE");
  for (let i = 0; i < rows; i++) {
    // Uniform over the window with jitter; several rows may share a millisecond.
    clock = Math.max(clock, end - span + Math.floor(((i + Math.random()) * span) / rows));
    const id = nextId();
    const parent = recent.length > 0 && Math.random() < 0.1 ? recent[(Math.random() * recent.length) | 0]! : null;
    const title = `${parent ? "Child session" : "New session"} - ${new Date(clock).toISOString()}`;
    const metadata = Math.random() < 0.2 ? metadataChoices[i % metadataChoices.length]! : "{}";
    const archived = Math.random() < 0.05 ? Math.min(end, clock + 3_600_000) : null;
    insert.run(id, parent, title, metadata, archived === null ? 1 : 2, clock, archived ?? clock, archived);
    if (parent === null && recent.push(id) > 100) recent.shift();
    if (sampleEvery && i % sampleEvery === 0 && samples.length < sampleIds) samples.push(id);
  }
  db.exec("COMMIT");
  // Leave the rows in the main file, not a huge WAL, as a server restart would find them.
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return { rows, ms: Math.round(performance.now() - started), fileBytes: statSync(path).size, sampleIds: samples };
}
