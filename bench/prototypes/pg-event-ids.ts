/**
 * Where a create's event costs on PostgreSQL (issue 12), below the server: the store's create
 * statement in several variants, each on its own database of one throwaway cluster (the test
 * cluster's settings: fsync off; `--durable` for fsync and synchronous commit on), driven by
 * `--callers` concurrent loops over a pool of `--pool` connections (sessiond's default: 10), in
 * alternating rounds. Ratios are to `none`.
 *
 * - `none`: the session row only (no event).
 * - `lock`: migration 2's next_event_id(): an advisory lock held until commit, then nextval.
 * - `seq`: the event row with a bare nextval (no lock): what the event insert costs by itself.
 * - `xid`: a first try at migration 3: a two-statement SQL function (pg_current_xact_id(), then
 *   nextval; not inlined), and the writer's xid stored in an extra column.
 * - `plpgsql`: the same in PL/pgSQL, no extra column.
 * - `case`: migration 3 as shipped: one inlinable SQL expression, the xid first (CASE), then nextval.
 * - `inline`: an inlinable SQL function around nextval alone (what the function call costs).
 *
 *   node bench/prototypes/pg-event-ids.ts [--seconds 3] [--rounds 3] [--callers 64] [--pool 10] [--durable]
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { createDatabase, startPostgres } from "../../test/support/postgres.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    callers: { type: "string", default: "64" },
    pool: { type: "string", default: "10" },
    durable: { type: "boolean", default: false },
  },
});
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const callers = Number(args.callers);

const SESSION = `CREATE TABLE session (
  id TEXT PRIMARY KEY, parent_id TEXT REFERENCES session (id), title TEXT NOT NULL, metadata TEXT NOT NULL,
  revision INTEGER NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, archived_at BIGINT, create_key TEXT);
CREATE INDEX session_created_idx ON session (created_at DESC, id DESC);
CREATE INDEX session_parent_created_idx ON session (parent_id, created_at DESC, id DESC);`;
const EVENTS = (extra: string) => `CREATE TABLE session_event (
  id BIGINT PRIMARY KEY, type TEXT NOT NULL, at BIGINT NOT NULL, session_id TEXT NOT NULL, parent_id TEXT,
  title TEXT NOT NULL, metadata TEXT NOT NULL, revision INTEGER NOT NULL, created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL, archived_at BIGINT${extra});
CREATE INDEX session_event_at_idx ON session_event (at);
CREATE SEQUENCE session_event_id_seq;`;
const COLUMNS = "id, parent_id, title, metadata, revision, created_at, updated_at, archived_at";
const INSERT_SESSION = `INSERT INTO session (${COLUMNS}, create_key) VALUES ($1, NULL, $2, '{}', 1, $3, $3, NULL, NULL)`;
const withEvent = (idExpression: string, extraColumn = "", extraValue = "") =>
  `WITH changed AS (${INSERT_SESSION} RETURNING ${COLUMNS})
   INSERT INTO session_event (id, type, at, session_id, parent_id, title, metadata, revision, created_at, updated_at, archived_at${extraColumn})
   SELECT ${idExpression}, 'session.created', $3, ${COLUMNS}${extraValue} FROM changed`;

const variants: Record<string, { schema: string; insert: string }> = {
  none: { schema: SESSION, insert: INSERT_SESSION },
  lock: {
    schema: `${SESSION}${EVENTS("")}
      CREATE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
        SELECT pg_advisory_xact_lock(47112028); SELECT nextval('session_event_id_seq'); $$;`,
    insert: withEvent("next_event_id()"),
  },
  seq: { schema: `${SESSION}${EVENTS("")}`, insert: withEvent("nextval('session_event_id_seq')") },
  xid: {
    schema: `${SESSION}${EVENTS(", xid xid8")}
      CREATE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
        SELECT pg_current_xact_id(); SELECT nextval('session_event_id_seq'); $$;`,
    insert: withEvent("next_event_id()", ", xid", ", pg_current_xact_id()"),
  },
  plpgsql: {
    schema: `${SESSION}${EVENTS("")}
      CREATE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $$
        BEGIN PERFORM pg_current_xact_id(); RETURN nextval('session_event_id_seq'); END $$;`,
    insert: withEvent("next_event_id()"),
  },
  case: {
    schema: `${SESSION}${EVENTS("")}
      CREATE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
        SELECT CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('session_event_id_seq') END $$;`,
    insert: withEvent("next_event_id()"),
  },
  inline: {
    schema: `${SESSION}${EVENTS("")}
      CREATE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$ SELECT nextval('session_event_id_seq') $$;`,
    insert: withEvent("next_event_id()"),
  },
};

const cluster = await startPostgres({ durable: args.durable });
const pools: Record<string, pg.Pool> = {};
try {
  for (const [name, variant] of Object.entries(variants)) {
    const url = await createDatabase(cluster.url);
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query(variant.schema);
    await setup.end();
    pools[name] = new pg.Pool({ connectionString: url, max: Number(args.pool) });
    pools[name].on("error", () => undefined); // the cluster's shutdown at the end
  }
  let counter = 0;
  async function drive(name: string, ms: number): Promise<number> {
    const pool = pools[name]!;
    const until = performance.now() + ms;
    let done = 0;
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (performance.now() < until) {
          const id = `s${process.pid}_${++counter}`;
          await pool.query({ name: `insert_${name}`, text: variants[name]!.insert, values: [id, "t", Date.now()] });
          done++;
        }
      }),
    );
    return done;
  }
  const names = Object.keys(variants);
  for (const name of names) await drive(name, 1000); // warm-up
  const totals: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (let round = 0; round < rounds; round++) {
    for (const name of names) totals[name]! += await drive(name, (seconds * 1000) / rounds);
  }
  const perS = Object.fromEntries(names.map((name) => [name, Math.round(totals[name]! / seconds)]));
  const ratios = Object.fromEntries(names.map((name) => [name, Number((perS[name]! / perS.none!).toFixed(3))]));
  process.stdout.write(
    `${JSON.stringify({ callers, pool: Number(args.pool), durable: args.durable, createsPerS: perS, ratioToNone: ratios })}\n`,
  );
} finally {
  await Promise.all(Object.values(pools).map((pool) => pool.end()));
  await cluster.destroy();
}
