/**
 * The session table's row, the same in every engine (see migrations.ts), and its conversions.
 */
import type { Session, SessionEventType } from "@sessiond/shared";
import type { NewSession, StoredEvent } from "./types.ts";

export interface SessionRow {
  id: string;
  owner: string;
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

export const COLUMNS = "id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner";

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    owner: row.owner,
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
    owner: session.owner,
    title: session.title,
    parentId: session.parentId,
    metadata: session.metadata,
    revision: 1,
    createdAt: session.createdAt,
    updatedAt: session.createdAt,
    archivedAt: null,
  };
}

/** The event table's columns (migrations 2, 4 and 5) in the shape of a session row, plus the event's own. */
export interface EventRow extends SessionRow {
  event_id: number;
  type: SessionEventType;
  /** The session's ancestors (migration 4), or null where unknown. */
  ancestry: string | null;
}

export const EVENT_COLUMNS =
  "id AS event_id, type, session_id AS id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner, ancestry";

/** The event table's session columns, in COLUMNS order, for INSERT ... SELECT. */
export const EVENT_SESSION_COLUMNS = "session_id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner";

/** What an event's JSON takes besides its title and metadata (IDs, dates, keys), roughly. */
const EVENT_JSON_OVERHEAD = 300;

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: Number(row.event_id),
    type: row.type,
    session: toSession(row),
    ancestry: row.ancestry,
    size: EVENT_JSON_OVERHEAD + row.title.length + row.metadata.length,
  };
}
