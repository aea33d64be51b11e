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

/** Stored metadata text as a value ("{}", the usual case, without the parser). */
const metadataOf = (text: string): Session["metadata"] => (text === "{}" ? {} : JSON.parse(text));

/**
 * A row read as an array (node:sqlite's `setReturnArrays`), with the session's columns in COLUMNS
 * order from index `at`. node:sqlite's row objects are slow to read: a page of 51 rows took 100 µs
 * to read and convert as objects, 50 µs as arrays (measured in one process).
 */
export type RowValues = readonly unknown[];

const COLUMN_NAMES = COLUMNS.split(", ") as (keyof SessionRow)[];
/** Where each column is in COLUMNS (and so in a row read as an array). */
const AT = Object.fromEntries(COLUMN_NAMES.map((column, index) => [column, index])) as Record<keyof SessionRow, number>;
const [ID, OWNER, TITLE, PARENT, METADATA, REVISION, CREATED, UPDATED, ARCHIVED] = [
  AT.id,
  AT.owner,
  AT.title,
  AT.parent_id,
  AT.metadata,
  AT.revision,
  AT.created_at,
  AT.updated_at,
  AT.archived_at,
];

export function sessionOfValues(values: RowValues, at = 0): Session {
  const archivedAt = values[at + ARCHIVED] as number | null;
  return {
    id: values[at + ID] as string,
    owner: values[at + OWNER] as string,
    title: values[at + TITLE] as string,
    parentId: values[at + PARENT] as string | null,
    metadata: metadataOf(values[at + METADATA] as string),
    revision: values[at + REVISION] as number,
    createdAt: new Date(values[at + CREATED] as number),
    updatedAt: new Date(values[at + UPDATED] as number),
    archivedAt: archivedAt === null ? null : new Date(archivedAt),
  };
}

/** A row read as an object (PostgreSQL's), converted as the same row read as an array. */
export const toSession = (row: SessionRow): Session => sessionOfValues(COLUMN_NAMES.map((column) => row[column]));

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

/** An event read as an array (EVENT_COLUMNS order; see sessionOfValues). */
export function storedEventOfValues(values: RowValues): StoredEvent {
  // EVENT_COLUMNS: the event's ID and type, the session's columns in COLUMNS order, the ancestry.
  const title = values[2 + TITLE] as string;
  const metadata = values[2 + METADATA] as string;
  return {
    id: Number(values[0]),
    type: values[1] as SessionEventType,
    session: sessionOfValues(values, 2),
    ancestry: values[values.length - 1] as string | null,
    size: EVENT_JSON_OVERHEAD + title.length + metadata.length,
  };
}

/** An event read as an object (PostgreSQL's), converted as the same row read as an array. */
export const toStoredEvent = (row: EventRow): StoredEvent =>
  storedEventOfValues([row.event_id, row.type, ...COLUMN_NAMES.map((column) => row[column]), row.ancestry]);
