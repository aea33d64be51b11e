/** The store's content, for byte-for-byte comparison before and after a fuzz: SQLite's files, or PostgreSQL's rows. */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import pg from "pg";

/** `db`: a SQLite file or a PostgreSQL URL (a test server's `db`). */
export async function storeDigest(db: string): Promise<string> {
  const hash = createHash("sha256");
  if (db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT row_to_json(session)::text AS row FROM session ORDER BY owner, id");
      for (const { row } of rows) hash.update(row).update("\n");
    } finally {
      await client.end();
    }
  } else {
    for (const file of [db, `${db}-wal`]) if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}
