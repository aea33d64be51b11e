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
];
