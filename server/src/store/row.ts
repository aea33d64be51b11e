/**
 * The session table's row, the same in every engine (see migrations.ts), and its conversions.
 */
import type { Session } from "@sessiond/shared";
import type { NewSession } from "./types.ts";

export interface SessionRow {
  id: string;
  parent_id: string | null;
  title: string;
  /** JSON text */
  metadata: string;
  revision: number;
  /** Milliseconds since the epoch. */
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

export const COLUMNS = "id, parent_id, title, metadata, revision, created_at, updated_at, archived_at";

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    title: row.title,
    parentId: row.parent_id,
    metadata: JSON.parse(row.metadata),
    revision: row.revision,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    archivedAt: row.archived_at === null ? null : new Date(row.archived_at),
  };
}

/** The session an insert of `session` stored, without reading it back. */
export function insertedSession(session: NewSession): Session {
  return {
    id: session.id,
    title: session.title,
    parentId: session.parentId,
    metadata: session.metadata,
    revision: 1,
    createdAt: session.createdAt,
    updatedAt: session.createdAt,
    archivedAt: null,
  };
}
