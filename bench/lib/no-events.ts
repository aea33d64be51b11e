/**
 * "Create without events", the baseline of the events figures: the same sessiond on a database
 * where a trigger drops every event row (and, on PostgreSQL, `next_event_id()` is a bare nextval).
 * The statement, the hub's read after each write and PostgreSQL's NOTIFY stay.
 */
import { DatabaseSync } from "node:sqlite";
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
  const file = new DatabaseSync(db);
  file.exec("CREATE TRIGGER bench_drop_event BEFORE INSERT ON session_event BEGIN SELECT RAISE(IGNORE); END");
  file.close();
}

/** How many events a database holds (to check that the servers compared do what they claim). */
export async function eventCount(db: string): Promise<number> {
  const query = "SELECT count(*) AS n FROM session_event";
  if (isPostgres(db)) return Number((await sql<{ n: string }>(db, query))[0]!.n);
  const file = new DatabaseSync(db, { readOnly: true });
  const { n } = file.prepare(query).get() as { n: number };
  file.close();
  return Number(n);
}
