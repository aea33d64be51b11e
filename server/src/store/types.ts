/**
 * The storage interface. Every engine implements it with the same guarantees:
 * - `insert` is decided by the primary key: a duplicate ID throws SessionConflictError and a
 *   missing parent SessionNotFoundError, both mapped from the engine's constraint errors;
 * - `update` applies only when the expected revision matches, atomically;
 * - `deleteTree` removes a session and all its descendants in one transaction, whatever the table
 *   holds (a cycle of parents ends the walk; tree.ts);
 * - an engine that cannot serve a call now throws StoreUnavailableError.
 */
import type { CursorPosition, Metadata, Session } from "@sessiond/shared";

export type Engine = "sqlite" | "postgres";

export interface NewSession {
  id: string;
  title: string;
  parentId: string | null;
  metadata: Metadata;
  createdAt: Date;
  /** The caller's idempotency key, kept to recognise a retry of this very create. */
  createKey: string | null;
}

export interface ListQuery {
  limit: number;
  /** Start strictly after this position (newest first, then ID descending). */
  after: CursorPosition | null;
  /** undefined: all sessions; null: roots only; an ID: that session's direct children. */
  parentId?: string | null;
}

export interface SessionPatch {
  title?: string;
  metadata?: Metadata;
  archived?: boolean;
  expectedRevision?: number;
  now: Date;
}

export interface SessionStore {
  readonly engine: Engine;
  insert(session: NewSession): Promise<Session>;
  get(id: string): Promise<Session | null>;
  /** The session with this ID if it was created with this idempotency key. */
  getCreatedWithKey(id: string, createKey: string): Promise<Session | null>;
  list(query: ListQuery): Promise<Session[]>;
  update(id: string, patch: SessionPatch): Promise<Session>;
  /**
   * Deletes the session and its descendants in one transaction and returns their last state: the
   * session first, then its descendants by depth. Cycle-proof and bounded (tree.ts).
   */
  deleteTree(id: string): Promise<Session[]>;
  /** Throws when the store cannot serve calls. */
  ping(): Promise<void>;
  /** SQLite's synchronous setting, as the store's connection reports it (SQLite only). */
  readonly sqliteSync?: "full" | "normal";
  /** A connection pool's state, for engines that have one. */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}
