/**
 * Versioned schema migrations, one list for every engine. Each engine's runner applies the
 * versions it has not recorded, in order, each in a transaction, under a lock so that several
 * servers starting at once apply each migration exactly once. Append only: never edit a
 * migration that has shipped.
 *
 * Both engines store the same columns the same way: times as integer milliseconds since the epoch
 * (exactly what a JS Date holds, so keyset cursors compare exactly) and metadata as the JSON text
 * the server serialised (jsonb would reorder keys and refuses some strings JSON allows).
 */
import type { Engine } from "./types.ts";

export interface Migration {
  version: number;
  name: string;
  sql: Record<Engine, string>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "create session",
    sql: {
      sqlite: `
        CREATE TABLE session (
          id          TEXT    PRIMARY KEY,
          parent_id   TEXT    REFERENCES session (id),
          title       TEXT    NOT NULL,
          metadata    TEXT    NOT NULL,
          revision    INTEGER NOT NULL,
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL,
          archived_at INTEGER,
          create_key  TEXT
        ) STRICT;
        CREATE INDEX session_created_idx ON session (created_at DESC, id DESC);
        CREATE INDEX session_parent_created_idx ON session (parent_id, created_at DESC, id DESC);
      `,
      postgres: `
        CREATE TABLE session (
          id          TEXT        PRIMARY KEY,
          parent_id   TEXT        REFERENCES session (id),
          title       TEXT        NOT NULL,
          metadata    TEXT        NOT NULL,
          revision    INTEGER     NOT NULL,
          created_at  BIGINT      NOT NULL,
          updated_at  BIGINT      NOT NULL,
          archived_at BIGINT,
          create_key  TEXT
        );
        CREATE INDEX session_created_idx ON session (created_at DESC, id DESC);
        CREATE INDEX session_parent_created_idx ON session (parent_id, created_at DESC, id DESC);
      `,
    },
  },
  {
    version: 2,
    name: "session events",
    // One row per change, written in the change's own transaction, carrying the session as stored
    // (for a delete, its last state). event_horizon remembers the last pruned ID, so a resume
    // point before it is known to be gone (410) even when every event has been pruned.
    // PostgreSQL: next_event_id() takes a transaction-level advisory lock before it draws an ID,
    // so event writers commit one at a time, in ID order, and a reader never sees 11 before 10
    // (docs/scaling.md). The lock is the writer's last, taken after its row locks.
    sql: {
      sqlite: `
        CREATE TABLE session_event (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          type        TEXT    NOT NULL,
          at          INTEGER NOT NULL,
          session_id  TEXT    NOT NULL,
          parent_id   TEXT,
          title       TEXT    NOT NULL,
          metadata    TEXT    NOT NULL,
          revision    INTEGER NOT NULL,
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL,
          archived_at INTEGER
        ) STRICT;
        CREATE INDEX session_event_at_idx ON session_event (at);
        CREATE TABLE event_horizon (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), pruned_through INTEGER NOT NULL) STRICT;
        INSERT INTO event_horizon VALUES (1, 0);
      `,
      postgres: `
        CREATE TABLE session_event (
          id          BIGINT      PRIMARY KEY,
          type        TEXT        NOT NULL,
          at          BIGINT      NOT NULL,
          session_id  TEXT        NOT NULL,
          parent_id   TEXT,
          title       TEXT        NOT NULL,
          metadata    TEXT        NOT NULL,
          revision    INTEGER     NOT NULL,
          created_at  BIGINT      NOT NULL,
          updated_at  BIGINT      NOT NULL,
          archived_at BIGINT
        );
        CREATE INDEX session_event_at_idx ON session_event (at);
        CREATE SEQUENCE session_event_id_seq;
        CREATE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
          SELECT pg_advisory_xact_lock(47112028);
          SELECT nextval('session_event_id_seq');
        $$;
        CREATE TABLE event_horizon (singleton BOOLEAN PRIMARY KEY CHECK (singleton), pruned_through BIGINT NOT NULL);
        INSERT INTO event_horizon VALUES (true, 0);
      `,
    },
  },
  {
    version: 3,
    name: "event IDs without the event lock",
    // PostgreSQL: event writers no longer queue on one lock (it made every event write commit
    // alone: creates at about half the rate of plain inserts). An ID is drawn from the sequence
    // after the transaction has its xid, and a reader holds back at the first ID that a
    // transaction still running may yet commit (store/postgres-events.ts). Writers still draw
    // their IDs after their row locks, so of two writes to one session the later one to lock
    // draws after the earlier one committed: ID order is commit order wherever order matters.
    // SQLite: unchanged (one writer at a time; IDs are in commit order).
    sql: {
      sqlite: "",
      postgres: `
        -- The xid first (CASE evaluates its condition before its result): a reader's fence, an
        -- xid it draws after seeing this ID's successors, is then newer. One SQL expression, so
        -- the planner inlines it (a PL/pgSQL body cost creates 5 to 10 %).
        CREATE OR REPLACE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
          SELECT CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('session_event_id_seq') END
        $$;
      `,
    },
  },
  {
    version: 4,
    name: "session ancestry",
    // Each session and each event carries the session's ancestors, root first, each ID followed by
    // "/" ('' for a root; NULL where unknown: rows planted by hand, or deeper than the limit before
    // this migration). A stream filtered to a session's tree decides membership from the event
    // alone (events/filter.ts), with nothing per subscriber and no query. The ancestry is written
    // with the row (a child's is its parent's plus the parent's ID; parents never change) and
    // copied into each event in the change's transaction. The check bounds it: at most 100
    // ancestors (tree.ts, MAX_TREE_DEPTH; 31 characters each). Existing sessions are filled from
    // their roots down; existing events from their session when it is still the same one (same
    // parent), else left unknown.
    sql: {
      sqlite: `
        ALTER TABLE session ADD COLUMN ancestry TEXT CONSTRAINT session_depth CHECK (length(ancestry) <= 3100);
        ALTER TABLE session_event ADD COLUMN ancestry TEXT;
        WITH RECURSIVE tree (id, ancestry) AS (
          SELECT id, '' FROM session WHERE parent_id IS NULL
          UNION ALL
          SELECT session.id, tree.ancestry || tree.id || '/' FROM session JOIN tree ON session.parent_id = tree.id
          WHERE length(tree.ancestry) + length(tree.id) + 1 <= 3100
        )
        UPDATE session SET ancestry = tree.ancestry FROM tree WHERE tree.id = session.id;
        UPDATE session_event SET ancestry = session.ancestry
          FROM session WHERE session.id = session_event.session_id AND session.parent_id IS session_event.parent_id;
      `,
      postgres: `
        ALTER TABLE session ADD COLUMN ancestry TEXT CONSTRAINT session_depth CHECK (length(ancestry) <= 3100);
        ALTER TABLE session_event ADD COLUMN ancestry TEXT;
        WITH RECURSIVE tree (id, ancestry) AS (
          SELECT id, ''::text FROM session WHERE parent_id IS NULL
          UNION ALL
          SELECT session.id, tree.ancestry || tree.id || '/' FROM session JOIN tree ON session.parent_id = tree.id
          WHERE length(tree.ancestry) + length(tree.id) + 1 <= 3100
        )
        UPDATE session SET ancestry = tree.ancestry FROM tree WHERE tree.id = session.id;
        UPDATE session_event SET ancestry = session.ancestry
          FROM session WHERE session.id = session_event.session_id AND session.parent_id IS NOT DISTINCT FROM session_event.parent_id;
      `,
    },
  },
  {
    version: 5,
    name: "owners",
    // Every session and every event has an owner (existing ones: 'default'). IDs are unique per
    // owner: the primary key is (owner, id), and a parent is looked for in the child's own owner
    // (the foreign key is (owner, parent_id)), so another owner's session is not a parent either.
    // The indexes lead with the owner, so one owner's pages stay keyset reads; the operator's
    // list of every owner's sessions has its own index (created_at, id, owner). Idempotency keys
    // become unique per owner (a retry is recognised by the key alone, and the fingerprint of the
    // create's input tells a retry from another create): where several sessions held one key,
    // the first created keeps it. Sessions made before keep no fingerprint.
    // SQLite cannot change a primary key in place: the table is rebuilt (foreign keys checked at
    // the commit, so rows may be copied in any order; the rename rewrites the self-reference),
    // keeping migration 4's ancestry.
    sql: {
      sqlite: `
        PRAGMA defer_foreign_keys = ON;
        CREATE TABLE session_v5 (
          owner              TEXT    NOT NULL,
          id                 TEXT    NOT NULL,
          parent_id          TEXT,
          title              TEXT    NOT NULL,
          metadata           TEXT    NOT NULL,
          revision           INTEGER NOT NULL,
          created_at         INTEGER NOT NULL,
          updated_at         INTEGER NOT NULL,
          archived_at        INTEGER,
          create_key         TEXT,
          ancestry           TEXT CONSTRAINT session_depth CHECK (length(ancestry) <= 3100),
          create_fingerprint TEXT,
          PRIMARY KEY (owner, id),
          FOREIGN KEY (owner, parent_id) REFERENCES session_v5 (owner, id)
        ) STRICT;
        INSERT INTO session_v5 (owner, id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, ancestry, create_key)
          SELECT 'default', id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, ancestry,
            CASE WHEN NOT EXISTS (
              SELECT 1 FROM session AS earlier
              WHERE earlier.create_key = session.create_key AND (earlier.created_at, earlier.id) < (session.created_at, session.id)
            ) THEN create_key END
          FROM session;
        DROP TABLE session;
        ALTER TABLE session_v5 RENAME TO session;
        CREATE INDEX session_created_idx ON session (owner, created_at DESC, id DESC);
        CREATE INDEX session_parent_created_idx ON session (owner, parent_id, created_at DESC, id DESC);
        CREATE INDEX session_every_owner_created_idx ON session (created_at DESC, id DESC, owner DESC);
        CREATE UNIQUE INDEX session_create_key_idx ON session (owner, create_key) WHERE create_key IS NOT NULL;
        ALTER TABLE session_event ADD COLUMN owner TEXT NOT NULL DEFAULT 'default';
      `,
      postgres: `
        ALTER TABLE session ADD COLUMN owner TEXT NOT NULL DEFAULT 'default';
        ALTER TABLE session ALTER COLUMN owner DROP DEFAULT;
        ALTER TABLE session ADD COLUMN create_fingerprint TEXT;
        UPDATE session SET create_key = NULL
          WHERE create_key IS NOT NULL AND EXISTS (
            SELECT 1 FROM session AS earlier
            WHERE earlier.create_key = session.create_key AND (earlier.created_at, earlier.id) < (session.created_at, session.id)
          );
        ALTER TABLE session DROP CONSTRAINT session_parent_id_fkey;
        ALTER TABLE session DROP CONSTRAINT session_pkey;
        ALTER TABLE session ADD CONSTRAINT session_pkey PRIMARY KEY (owner, id);
        ALTER TABLE session ADD CONSTRAINT session_parent_fkey FOREIGN KEY (owner, parent_id) REFERENCES session (owner, id);
        DROP INDEX session_created_idx;
        DROP INDEX session_parent_created_idx;
        CREATE INDEX session_created_idx ON session (owner, created_at DESC, id DESC);
        CREATE INDEX session_parent_created_idx ON session (owner, parent_id, created_at DESC, id DESC);
        CREATE INDEX session_every_owner_created_idx ON session (created_at DESC, id DESC, owner DESC);
        CREATE UNIQUE INDEX session_create_key_idx ON session (owner, create_key) WHERE create_key IS NOT NULL;
        ALTER TABLE session_event ADD COLUMN owner TEXT NOT NULL DEFAULT 'default';
        ALTER TABLE session_event ALTER COLUMN owner DROP DEFAULT;
      `,
    },
  },
];
