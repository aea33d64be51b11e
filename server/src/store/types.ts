/**
 * The storage interface. Every engine implements it with the same guarantees:
 * - every session has an owner, and every call names the owner it acts in: the primary key is
 *   (owner, id), a parent is looked for in the child's owner, and no call reads or writes another
 *   owner's rows (only `list` with `owner: null`, the operator's, spans them all);
 * - `insert` is decided by the unique keys: a duplicate ID throws SessionConflictError, an
 *   idempotency key the owner holds already CreateKeyTakenError, and a missing parent
 *   SessionNotFoundError, all mapped from the engine's constraint errors;
 * - `update` and `deleteTree` apply only when the session is at one of the expected revisions
 *   (when given), decided atomically with the write;
 * - `deleteTree` removes a session and all its descendants in one transaction, whatever the table
 *   holds (a cycle of parents ends the walk; tree.ts);
 * - every insert, update and delete writes its event(s) in the change's own transaction, with IDs
 *   in commit order, so a reader that has seen event N has seen every event before it;
 * - an engine that cannot serve a call now throws StoreUnavailableError.
 */
import type { CursorPosition, Metadata, Session, SessionEventType } from "@sessiond/shared";

import type { Engine } from "@sessiond/shared";

export type { Engine };

export interface NewSession {
  owner: string;
  id: string;
  title: string;
  parentId: string | null;
  metadata: Metadata;
  createdAt: Date;
  /** The caller's idempotency key, unique per owner, kept to recognise a retry of this very create. */
  createKey: string | null;
  /** A digest of the create's input, to tell a retry from another create with the same key. */
  createFingerprint: string | null;
}

/** The session an owner created with an idempotency key, and the fingerprint of that create's input. */
export interface KeyedSession {
  session: Session;
  /** null for a session created before fingerprints were kept (migration 5). */
  fingerprint: string | null;
}

/**
 * The owner already holds a session created with this idempotency key. Never sent to a caller:
 * the service turns it into that session or UNPROCESSABLE_CONTENT.
 */
export class CreateKeyTakenError extends Error {
  constructor() {
    super("idempotency key taken");
  }
}

export interface ListQuery {
  /** The owner whose sessions to list; null: every owner's (the operator), ordered by owner after ID. */
  owner: string | null;
  limit: number;
  /** Start strictly after this position (newest first, then ID descending). */
  after: CursorPosition | null;
  /** Instead: the sessions strictly newer than this position, the nearest first (a backward page). */
  before?: CursorPosition | null;
  /** undefined: all sessions; null: roots only; an ID: that session's direct children. */
  parentId?: string | null;
}

export interface SessionPatch {
  title?: string;
  metadata?: Metadata;
  archived?: boolean;
  /** Apply only if the session is at one of these revisions (none: a precondition nothing meets); undefined: any. */
  expectedRevisions?: readonly number[];
  now: Date;
}

export interface SessionStore {
  readonly engine: Engine;
  insert(session: NewSession): Promise<Session>;
  get(owner: string, id: string): Promise<Session | null>;
  /** The owner's session that was created with this idempotency key, if it still exists. */
  getCreatedWithKey(owner: string, createKey: string): Promise<KeyedSession | null>;
  list(query: ListQuery): Promise<Session[]>;
  update(owner: string, id: string, patch: SessionPatch): Promise<Session>;
  /**
   * Deletes the session and its descendants in one transaction and returns their IDs: the session
   * first, then its descendants by depth, then by ID (their last states are in the events).
   * Cycle-proof and bounded (tree.ts). With `expectedRevisions`, only if the session is at one of
   * them (RevisionMismatchError otherwise).
   */
  deleteTree(owner: string, id: string, expectedRevisions?: readonly number[]): Promise<string[]>;
  /** Events after `afterId`, oldest first, at most `limit`. */
  readEvents(afterId: number, limit: number): Promise<StoredEvent[]>;
  /** The last event's ID and the last pruned one (0: none). */
  eventLog(): Promise<EventLogState>;
  /** Follows the events table from its end, one reader per instance (the event hub): see EventFollower. */
  followEvents(): Promise<EventFollower>;
  /** Deletes up to `batch` of the oldest events written before `before`; returns how many. */
  pruneEvents(before: Date, batch: number): Promise<number>;
  /**
   * Calls `onChange` when another connection or process may have written events (PostgreSQL:
   * LISTEN; SQLite: `PRAGMA data_version`), checking at least every `pollMs`. Returns a stop function.
   */
  watchEvents(onChange: () => void, pollMs: number): () => Promise<void>;
  /**
   * Tells other instances that events were written (PostgreSQL: NOTIFY, outside the writes'
   * transactions, so commits do not queue on it). Engines whose watch needs no message have none.
   */
  announceEvents?(): Promise<void>;
  /** Throws when the store cannot serve calls. */
  ping(): Promise<void>;
  /** SQLite's synchronous setting, as the store's connection reports it (SQLite only). */
  readonly sqliteSync?: "full" | "normal";
  /** A connection pool's state, for engines that have one. */
  poolStats?(): { total: number; idle: number; waiting: number };
  /** SQLite on a file: the checkpoints run off the event loop, and the WAL's size in pages after the last. */
  checkpointStats?(): { checkpoints: number; walPages: number };
  close(): Promise<void>;
}

export interface StoredEvent {
  id: number;
  type: SessionEventType;
  session: Session;
  /**
   * The session's ancestors when the event was written, root first, each ID followed by "/" (''
   * for a root); null where unknown (migration 4). Parents never change, so this is the session's
   * place in its tree for as long as it exists.
   */
  ancestry: string | null;
  /** About how many bytes the event's JSON takes (from the stored text), to pace its delivery. */
  size: number;
}

/**
 * Reads the events table forward, delivering an ID only once it is settled: every event with a
 * smaller ID that will ever be committed has been. SQLite commits one writer at a time, so every
 * committed ID is settled; PostgreSQL commits writers in parallel, so an ID drawn by a transaction
 * still running holds back the IDs after it (store/postgres-events.ts).
 */
export interface EventFollower {
  /** Every event up to here is settled and has been returned by `read` (or came before the start). */
  readonly head: number;
  /** False until the start point itself is settled (PostgreSQL: writers running at the start have ended). */
  readonly settled: boolean;
  /** The next settled events after `head`, at most `limit`, oldest first; `more` when there may be others right away. */
  read(limit: number): Promise<{ events: StoredEvent[]; more: boolean }>;
}

export interface EventLogState {
  lastId: number;
  /** Events up to this ID may have been pruned: a resume point before it is expired. */
  prunedThrough: number;
}
