/**
 * PostgreSQL, for several stateless sessiond instances sharing one database. Same guarantees as
 * SQLite: the primary key (owner, id) decides duplicates (unique_violation → CONFLICT), the unique
 * index on (owner, create_key) idempotency keys, the foreign key missing parents, conditional
 * UPDATEs and a locked read in the delete's transaction decide revisions. A lost or unreachable server makes calls
 * fail with SERVICE_UNAVAILABLE; the pool reconnects by itself when the server is back.
 */
import pg from "pg";
import type { Session } from "@sessiond/shared";
import { SessionConflictError, SessionNotFoundError, StoreUnavailableError } from "../errors.ts";
import { redactUrl } from "../config.ts";
import type { Logger } from "../log.ts";
import { MIGRATIONS } from "./migrations.ts";
import {
  COLUMNS,
  EVENT_COLUMNS,
  EVENT_SESSION_COLUMNS,
  insertedSession,
  toSession,
  toStoredEvent,
  type EventRow,
  type SessionRow,
} from "./row.ts";
import { listQuery, listValue, revisionMatches, updateFailure } from "./queries.ts";
import { TreeWalk, treeTooDeep } from "./tree.ts";
import { PostgresEventFollower } from "./postgres-events.ts";
import {
  CreateKeyTakenError,
  type EventFollower,
  type EventLogState,
  type KeyedSession,
  type ListQuery,
  type NewSession,
  type SessionPatch,
  type SessionStore,
  type StoredEvent,
} from "./types.ts";

export interface PostgresStoreOptions {
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  log?: Logger;
}

/** Any constant: the advisory lock that serialises migrations across instances starting at once. */
const MIGRATION_LOCK = 4_711_2026;
const INT8_OID = 20;

// SQLSTATEs (https://www.postgresql.org/docs/15/errcodes-appendix.html).
const UNIQUE_VIOLATION = "23505";
const FOREIGN_KEY_VIOLATION = "23503";
const CHECK_VIOLATION = "23514";
/** The unique index of the owners' idempotency keys (migration 5). */
const CREATE_KEY_INDEX = "session_create_key_idx";
const QUERY_CANCELED = "57014";
const DEADLOCK_DETECTED = "40P01";
const SERIALIZATION_FAILURE = "40001";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The channel an instance notifies after its writes: a wake-up only; the events table is the truth. */
const EVENTS_CHANNEL = "sessiond_events";

/**
 * Inserts the event rows for the sessions a CTE named `changed` returned (their columns and their
 * ancestry, migration 4). next_event_id() (migration 3) draws from a sequence, with no lock; it
 * runs as the statement's last step, after the row locks, so of two writes to one session the
 * later draws after the earlier committed. Readers hold back at IDs still in flight
 * (postgres-events.ts). `$at` is the event time.
 */
const recordEvents = (type: string, at: string) =>
  `INSERT INTO session_event (id, type, at, ${EVENT_SESSION_COLUMNS}, ancestry)
   SELECT next_event_id(), '${type}', ${at}, ${COLUMNS}, ancestry FROM changed`;

/**
 * Errors that mean the database cannot serve us now rather than that the call is wrong:
 * connection failures, a server shutting down or starting, too many connections, timeouts.
 */
function unavailable(error: unknown): StoreUnavailableError | null {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === QUERY_CANCELED) return new StoreUnavailableError("the database did not answer in time", error);
  if (typeof code === "string") {
    // 08: connection exception; 53: insufficient resources; 57P: operator intervention (shutdown).
    if (/^(08|53|57P)/.test(code) || /^E[A-Z]+$/.test(code)) {
      return new StoreUnavailableError("the database is unreachable", error);
    }
  }
  if (
    typeof message === "string" &&
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)
  ) {
    return new StoreUnavailableError("the database is unreachable", error);
  }
  return null;
}

export class PostgresSessionStore implements SessionStore {
  readonly engine = "postgres";
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #log: Logger | undefined;

  private constructor(pool: pg.Pool, url: string, log: Logger | undefined) {
    this.#pool = pool;
    this.#url = url;
    this.#log = log;
  }

  /** Connects, applies pending migrations and returns the store; throws if the database is unreachable. */
  static async open(url: string, options: PostgresStoreOptions): Promise<PostgresSessionStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
      // Times are BIGINT milliseconds; they fit a double exactly.
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection that breaks (server restart) must not crash the process; the pool drops it.
    pool.on("error", (error: Error & { code?: string }) =>
      options.log?.warn({ code: error.code, message: error.message }, "postgres connection lost"),
    );
    // A connection that breaks while checked out but between queries (a delete's transaction,
    // the event hub's reads) emits "error" with no listener of the pool's: without this, a crash
    // (test/outage.test.ts saw it). The call in flight still fails; the pool drops the connection.
    pool.on("connect", (client) => client.on("error", () => undefined));
    const store = new PostgresSessionStore(pool, url, options.log);
    try {
      await store.#migrate();
    } catch (error) {
      await pool.end().catch(() => undefined);
      const reason = (error as { code?: string }).code === "ECONNREFUSED" ? "connection refused" : (error as Error).message;
      throw new Error(`cannot use PostgreSQL at ${redactUrl(url)}: ${reason}`, { cause: error });
    }
    return store;
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
      );
      const applied = new Set(
        (await client.query<{ version: number }>("SELECT version FROM schema_migration")).rows.map((row) => row.version),
      );
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql.postgres);
        await client.query("INSERT INTO schema_migration (version, name, applied_at) VALUES ($1, $2, $3)", [
          migration.version,
          migration.name,
          Date.now(),
        ]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * One prepared statement, with the engine's errors translated into the domain's. Not
   * `pool.query`: it discards the connection on any error, so every CONFLICT would cost a new
   * connection (measured: 520 duplicate creates/s instead of 22,700). Only a connection-level
   * failure discards it here.
   */
  async #query<Row extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<Row[]> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw unavailable(error) ?? error;
    }
    try {
      const { rows } = await client.query<Row>({ name, text, values });
      client.release();
      return rows;
    } catch (error) {
      const lost = unavailable(error);
      client.release(lost && (error as { code?: unknown }).code !== QUERY_CANCELED ? (error as Error) : undefined);
      throw lost ?? error;
    }
  }

  async insert(session: NewSession): Promise<Session> {
    const createdAt = session.createdAt.getTime();
    try {
      // One statement, so one transaction: the row and its event. The ancestry is the parent's plus
      // the parent's ID (the check bounds its length); a parent deleted meanwhile fails the foreign key.
      await this.#query(
        "session_insert",
        `WITH changed AS (
           INSERT INTO session (${COLUMNS}, create_key, create_fingerprint, ancestry) VALUES ($1, $2, $3, $4, 1, $5, $5, NULL, $6, $7, $8,
             CASE WHEN $2::text IS NULL THEN '' ELSE (SELECT ancestry || id || '/' FROM session WHERE owner = $6 AND id = $2) END)
           RETURNING ${COLUMNS}, ancestry
         ) ${recordEvents("session.created", "$5")}`,
        [
          session.id,
          session.parentId,
          session.title,
          JSON.stringify(session.metadata),
          createdAt,
          session.owner,
          session.createKey,
          session.createFingerprint,
        ],
      );
    } catch (error) {
      const { code, constraint } = error as { code?: unknown; constraint?: unknown };
      if (code === UNIQUE_VIOLATION && constraint === CREATE_KEY_INDEX) throw new CreateKeyTakenError();
      if (code === UNIQUE_VIOLATION) throw new SessionConflictError(session.id);
      if (code === FOREIGN_KEY_VIOLATION && session.parentId) throw new SessionNotFoundError(session.parentId, "parent");
      if (code === CHECK_VIOLATION && session.parentId) throw treeTooDeep(session.parentId);
      throw error;
    }
    return insertedSession(session);
  }

  async get(owner: string, id: string): Promise<Session | null> {
    const [row] = await this.#query<SessionRow>("session_get", `SELECT ${COLUMNS} FROM session WHERE owner = $1 AND id = $2`, [owner, id]);
    return row ? toSession(row) : null;
  }

  async getCreatedWithKey(owner: string, createKey: string): Promise<KeyedSession | null> {
    const [row] = await this.#query<SessionRow & { create_fingerprint: string | null }>(
      "session_get_with_key",
      `SELECT ${COLUMNS}, create_fingerprint FROM session WHERE owner = $1 AND create_key = $2`,
      [owner, createKey],
    );
    return row ? { session: toSession(row), fingerprint: row.create_fingerprint } : null;
  }

  async list(query: ListQuery): Promise<Session[]> {
    const values: unknown[] = [];
    const { name, sql } = listQuery(query, (param) => `$${values.push(listValue(query, param))}`);
    return (await this.#query<SessionRow>(name, sql, values)).map(toSession);
  }

  async update(owner: string, id: string, patch: SessionPatch): Promise<Session> {
    const [row] = await this.#query<SessionRow>(
      "session_update",
      `WITH changed AS (
         UPDATE session SET
           title = coalesce($2, title),
           metadata = coalesce($3, metadata),
           archived_at = CASE $4::boolean WHEN true THEN coalesce(archived_at, $5) WHEN false THEN NULL ELSE archived_at END,
           revision = revision + 1,
           updated_at = $5
         WHERE owner = $7 AND id = $1 AND ($6::integer[] IS NULL OR revision = ANY($6::integer[]))
         RETURNING ${COLUMNS}, ancestry
       ), recorded AS (${recordEvents("session.updated", "$5::bigint")})
       SELECT ${COLUMNS} FROM changed`,
      [
        id,
        patch.title ?? null,
        patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
        patch.archived ?? null,
        patch.now.getTime(),
        patch.expectedRevisions ?? null,
        owner,
      ],
    );
    if (row) return toSession(row);
    // The conditional write did not apply; a read now only says why.
    const [current] = await this.#query<{ revision: number }>(
      "session_revision",
      "SELECT revision FROM session WHERE owner = $1 AND id = $2",
      [owner, id],
    );
    throw updateFailure(id, patch.expectedRevisions, current);
  }

  /**
   * Runs `work` in a transaction on one pooled connection. A deadlock or serialization failure
   * (two deletes locking overlapping trees in different orders) rolls back and runs it again.
   */
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw unavailable(error) ?? error;
      }
      try {
        await client.query("BEGIN");
        const result = await work(client);
        await client.query("COMMIT");
        client.release();
        return result;
      } catch (error) {
        const lost = unavailable(error);
        await client.query("ROLLBACK").catch(() => undefined);
        client.release(lost && (error as { code?: unknown }).code !== QUERY_CANCELED ? (error as Error) : undefined);
        const code = (error as { code?: unknown }).code;
        if ((code === DEADLOCK_DETECTED || code === SERIALIZATION_FAILURE) && attempt < 5) continue;
        throw lost ?? error;
      }
    }
  }

  async deleteTree(owner: string, id: string, expectedRevisions?: readonly number[]): Promise<string[]> {
    // Each row is locked as the walk reads it, so a child cannot be added under a session being
    // deleted (its insert waits for the lock, then finds no parent) and nothing is missed.
    return this.#transaction(async (client) => {
      const [root] = (
        await client.query<{ revision: number }>({
          name: "session_lock_revision",
          text: "SELECT revision FROM session WHERE owner = $1 AND id = $2 FOR UPDATE",
          values: [owner, id],
        })
      ).rows;
      if (!root) throw new SessionNotFoundError(id);
      // Decided on the locked row: nobody can change the root before this transaction ends.
      if (!revisionMatches(root.revision, expectedRevisions)) throw updateFailure(id, expectedRevisions, root);
      const walk = new TreeWalk(id);
      while (walk.frontier.length > 0) {
        const children = await client.query<[string]>({
          name: "session_lock_children_ids",
          text: "SELECT id FROM session WHERE owner = $1 AND parent_id = ANY($2::text[]) FOR UPDATE",
          values: [owner, walk.frontier],
          rowMode: "array",
        });
        await walk.addLevel(
          children.rows.map(([child]) => child),
          nextTurn,
        );
      }
      // One event per session, root first, then by depth; last, so the IDs are drawn after every
      // row lock is held (the volatile ID is evaluated after ORDER BY).
      await client.query({
        name: "session_delete_events",
        text: `INSERT INTO session_event (id, type, at, ${EVENT_SESSION_COLUMNS}, ancestry)
               SELECT next_event_id(), 'session.deleted', $2, ${COLUMNS.split(", ")
                 .map((column) => `session.${column}`)
                 .join(", ")}, session.ancestry
               FROM unnest($1::text[]) WITH ORDINALITY AS walk (id, position)
               JOIN session ON session.owner = $3 AND session.id = walk.id ORDER BY walk.position`,
        values: [walk.ids, Date.now(), owner],
      });
      await client.query({
        name: "session_delete_ids",
        text: "DELETE FROM session WHERE owner = $1 AND id = ANY($2::text[])",
        values: [owner, walk.ids],
      });
      return walk.ids;
    });
  }

  async readEvents(afterId: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.#query<EventRow>(
      "event_read",
      `SELECT ${EVENT_COLUMNS} FROM session_event WHERE session_event.id > $1 ORDER BY session_event.id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map(toStoredEvent);
  }

  followEvents(): Promise<EventFollower> {
    return PostgresEventFollower.start((name, text, values) => this.#query(name, text, values));
  }

  async eventLog(): Promise<EventLogState> {
    // The last committed event (not the sequence's value, which counts uncommitted ones too).
    const [row] = await this.#query<{ last_id: number; pruned_through: number }>(
      "event_log",
      `SELECT greatest((SELECT max(id) FROM session_event), pruned_through) AS last_id, pruned_through FROM event_horizon`,
      [],
    );
    return { lastId: row!.last_id, prunedThrough: row!.pruned_through };
  }

  async pruneEvents(before: Date, batch: number): Promise<number> {
    const [row] = await this.#query<{ pruned: number }>(
      "event_prune",
      `WITH pruned AS (
         DELETE FROM session_event WHERE id IN (
           SELECT id FROM session_event WHERE at < $1 ORDER BY id LIMIT $2
         ) RETURNING id
       ), horizon AS (
         UPDATE event_horizon SET pruned_through = greatest(pruned_through, (SELECT max(id) FROM pruned))
         WHERE EXISTS (SELECT 1 FROM pruned)
       )
       SELECT count(*)::integer AS pruned FROM pruned`,
      [before.getTime(), batch],
    );
    return row!.pruned;
  }

  async announceEvents(): Promise<void> {
    await this.#query("event_announce", `SELECT pg_notify('${EVENTS_CHANNEL}', '')`, []);
  }

  watchEvents(onChange: () => void, pollMs: number): () => Promise<void> {
    // A dedicated connection LISTENs; the timer both polls (a NOTIFY lost while the connection was
    // down is caught up by the next poll) and reconnects a lost listener.
    let listener: pg.Client | null = null;
    let stopped = false;
    const connect = async () => {
      const client = new pg.Client({ connectionString: this.#url });
      client.on("error", (error) => {
        this.#log?.warn({ message: error.message }, "postgres event listener lost");
        if (listener === client) listener = null;
        void client.end().catch(() => undefined);
      });
      client.on("notification", () => onChange());
      try {
        await client.connect();
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      } catch {
        await client.end().catch(() => undefined);
        return;
      }
      if (stopped) await client.end().catch(() => undefined);
      else listener = client;
    };
    let connecting: Promise<void> | null = connect();
    const timer = setInterval(() => {
      onChange();
      if (!listener && !connecting && !stopped) connecting = connect().finally(() => (connecting = null));
    }, pollMs);
    void connecting.finally(() => (connecting = null));
    timer.unref();
    return async () => {
      stopped = true;
      clearInterval(timer);
      await connecting;
      await listener?.end().catch(() => undefined);
      listener = null;
    };
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting: this.#pool.waitingCount };
  }

  async ping(): Promise<void> {
    await this.#query("session_ping", "SELECT 1", []);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
