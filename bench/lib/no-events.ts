/**
 * "Create without events", the baseline of issue 12's cost figure, without a second build of the
 * server: the same sessiond on a database where writing an event does nothing. The product always
 * writes a change's event in the change's transaction (server/src/store/*.ts); here a bench-only
 * trigger drops the event row before it is stored:
 * - SQLite: `BEFORE INSERT ON session_event … RAISE(IGNORE)` (the statement still runs its SELECT
 *   of the new row, then inserts nothing);
 * - PostgreSQL: a `BEFORE INSERT … FOR EACH ROW` trigger returning NULL, and `next_event_id()`
 *   without the event lock it takes to keep event IDs in commit order (so event writers no longer
 *   commit one at a time).
 * What stays in both servers: the statement itself, the hub's read of new events after each write
 * (it finds none) and, on PostgreSQL, the NOTIFY that wakes other instances. So the ratio
 * "with / without" counts the event rows and the event lock, not those.
 */
import { DatabaseSync } from "node:sqlite";
import { migrate } from "./seed.ts";
import { sql } from "./postgres.ts";

const isPostgres = (db: string): boolean => /^postgres(ql)?:\/\//.test(db);

/** Makes a migrated database (a SQLite path or a postgres:// URL) drop every event it is asked to write. */
export async function dropEvents(db: string): Promise<void> {
  if (isPostgres(db)) {
    await sql(
      db,
      `CREATE OR REPLACE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$ SELECT nextval('session_event_id_seq') $$;
       CREATE FUNCTION bench_drop_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
       CREATE TRIGGER bench_drop_event BEFORE INSERT ON session_event FOR EACH ROW EXECUTE FUNCTION bench_drop_event();`,
    );
    return;
  }
  await migrate(db);
  const file = new DatabaseSync(db);
  try {
    file.exec("CREATE TRIGGER bench_drop_event BEFORE INSERT ON session_event BEGIN SELECT RAISE(IGNORE); END");
  } finally {
    file.close();
  }
}

/** How many events a database holds (to check that the servers compared do what they claim). */
export async function eventCount(db: string): Promise<number> {
  if (isPostgres(db)) return Number((await sql<{ n: string }>(db, "SELECT count(*) AS n FROM session_event"))[0]!.n);
  const file = new DatabaseSync(db, { readOnly: true });
  try {
    return Number((file.prepare("SELECT count(*) AS n FROM session_event").get() as { n: number }).n);
  } finally {
    file.close();
  }
}
