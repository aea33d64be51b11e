/**
 * The embedded default: one SQLite file through node:sqlite, in WAL mode so readers never wait for
 * the writer, with a busy timeout so that several processes can share the file. Calls are
 * synchronous underneath; each write is one statement or one IMMEDIATE transaction, so it is
 * atomic with respect to every other connection.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { Session } from "@sessiond/shared";
import { RevisionMismatchError, SessionConflictError, SessionNotFoundError, StoreUnavailableError } from "../errors.ts";
import { MIGRATIONS } from "./migrations.ts";
import { COLUMNS, insertedSession, toSession, type SessionRow } from "./row.ts";
import { TreeWalk } from "./tree.ts";
import type { ListQuery, NewSession, SessionPatch, SessionStore } from "./types.ts";

/**
 * SQLite's `synchronous` in WAL mode. normal: a commit is written to the WAL but not fsynced, so an
 * acknowledged write survives a crash of the process, and a power loss may drop the last commits.
 * full: each commit waits for the WAL's fsync, so an acknowledged write survives a power loss too.
 */
export type SqliteSync = "full" | "normal";

export interface SqliteStoreOptions {
  /** How long a write waits for another connection's lock before giving up with 503. */
  busyTimeoutMs?: number;
  /** Default normal. */
  synchronous?: SqliteSync;
}

/** PRAGMA synchronous answers with a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
const SYNCHRONOUS_LEVELS: Record<SqliteSync, number> = { normal: 1, full: 2 };


interface PendingInsert {
  session: NewSession;
  resolve(session: Session): void;
  reject(error: unknown): void;
}


// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;


/** Engine errors that mean "not now" rather than "wrong": the caller may retry. */
function unavailable(error: unknown): StoreUnavailableError | null {
  const code = (error as { errcode?: unknown }).errcode;
  if (typeof code !== "number") return null;
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return new StoreUnavailableError("the database is locked by another process", error);
    case SQLITE_READONLY:
      return new StoreUnavailableError("the database file is read-only", error);
    case SQLITE_FULL:
      return new StoreUnavailableError("the disk is full", error);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return new StoreUnavailableError("the database file cannot be read or written", error);
    default:
      return null;
  }
}

export class SqliteSessionStore implements SessionStore {
  readonly engine = "sqlite";
  /** The synchronous level as this store's connection reports it (the pragma is per connection). */
  readonly sqliteSync: SqliteSync;
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #get: StatementSync;
  readonly #getWithKey: StatementSync;
  readonly #update: StatementSync;
  readonly #revision: StatementSync;
  readonly #children: StatementSync;
  readonly #deleteIds: StatementSync;
  readonly #lists = new Map<string, StatementSync>();

  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5000, enableForeignKeyConstraints: true });
    const synchronous = options.synchronous ?? "normal";
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${SYNCHRONOUS_LEVELS[synchronous]};`);
    // SQLite ignores a pragma it cannot apply without a word; read back what the connection runs with.
    const level = Number(this.#db.prepare("PRAGMA synchronous").get()?.synchronous);
    if (level !== SYNCHRONOUS_LEVELS[synchronous]) throw new Error(`SQLite runs with synchronous = ${level}, not ${synchronous}`);
    this.sqliteSync = synchronous;
    this.#migrate();
    this.#insert = this.#db.prepare(
      `INSERT INTO session (${COLUMNS}, create_key) VALUES (?, ?, ?, ?, 1, ?, ?, NULL, ?)`,
    );
    this.#get = this.#db.prepare(`SELECT ${COLUMNS} FROM session WHERE id = ?`);
    this.#getWithKey = this.#db.prepare(`SELECT ${COLUMNS} FROM session WHERE id = ? AND create_key = ?`);
    this.#update = this.#db.prepare(`
      UPDATE session SET
        title = coalesce(:title, title),
        metadata = coalesce(:metadata, metadata),
        archived_at = CASE :archived WHEN 1 THEN coalesce(archived_at, :now) WHEN 0 THEN NULL ELSE archived_at END,
        revision = revision + 1,
        updated_at = :now
      WHERE id = :id AND (:expected IS NULL OR revision = :expected)
      RETURNING ${COLUMNS}`);
    this.#revision = this.#db.prepare("SELECT revision FROM session WHERE id = ?");
    this.#children = this.#db.prepare(`SELECT ${COLUMNS} FROM session WHERE parent_id IN (SELECT value FROM json_each(?))`);
    // Foreign keys are checked at the end of the statement, so the order of deletion is free.
    this.#deleteIds = this.#db.prepare("DELETE FROM session WHERE id IN (SELECT value FROM json_each(?))");
  }

  /** Runs `work` as an IMMEDIATE transaction: it takes the write lock up front, so it never fails halfway on a lock upgrade. */
  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #migrate(): void {
    this.#db.exec("CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    this.#transaction(() => {
      const applied = new Set(
        this.#db.prepare("SELECT version FROM schema_migration").all().map((row) => Number(row.version)),
      );
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        this.#db.exec(migration.sql.sqlite);
        this.#db
          .prepare("INSERT INTO schema_migration (version, name, applied_at) VALUES (?, ?, ?)")
          .run(migration.version, migration.name, Date.now());
      }
    });
  }

  /** Runs one store call, translating the engine's errors into the domain's. */
  #call<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(unavailable(error) ?? error);
    }
  }

  /**
   * Inserts are committed in groups: every insert asked for in one turn of the event loop (a
   * batched request, or concurrent requests) shares one transaction, so one commit serves many
   * creates. Each insert still succeeds or fails on its own (a constraint error aborts only its
   * statement), and none is acknowledged before the commit.
   */
  insert(session: NewSession): Promise<Session> {
    return new Promise((resolve, reject) => {
      if (this.#pendingInserts.push({ session, resolve, reject }) === 1) setImmediate(this.#flushInserts);
    });
  }

  readonly #pendingInserts: PendingInsert[] = [];

  readonly #flushInserts = (): void => {
    const group = this.#pendingInserts.splice(0);
    let outcomes: (Session | Error)[];
    try {
      outcomes = group.length === 1 ? [this.#insertOne(group[0]!.session)] : this.#transaction(() => group.map(({ session }) => this.#insertOne(session)));
    } catch (error) {
      // The group as a whole failed (locked, read-only, disk full): nothing of it was committed.
      const failure = unavailable(error) ?? error;
      for (const pending of group) pending.reject(failure);
      return;
    }
    outcomes.forEach((outcome, index) => (outcome instanceof Error ? group[index]!.reject(outcome) : group[index]!.resolve(outcome)));
  };

  /** One insert: the session, or the domain error its constraints gave; other errors are thrown. */
  #insertOne(session: NewSession): Session | Error {
    const createdAt = session.createdAt.getTime();
    try {
      this.#insert.run(session.id, session.parentId, session.title, JSON.stringify(session.metadata), createdAt, createdAt, session.createKey);
    } catch (error) {
      const code = (error as { errcode?: unknown }).errcode;
      if (code === SQLITE_CONSTRAINT_PRIMARYKEY) return new SessionConflictError(session.id);
      if (code === SQLITE_CONSTRAINT_FOREIGNKEY && session.parentId) return new SessionNotFoundError(session.parentId, "parent");
      throw error;
    }
    return insertedSession(session);
  }

  get(id: string): Promise<Session | null> {
    return this.#call(() => {
      const row = this.#get.get(id) as SessionRow | undefined;
      return row ? toSession(row) : null;
    });
  }

  getCreatedWithKey(id: string, createKey: string): Promise<Session | null> {
    return this.#call(() => {
      const row = this.#getWithKey.get(id, createKey) as SessionRow | undefined;
      return row ? toSession(row) : null;
    });
  }

  #listStatement(query: ListQuery): StatementSync {
    const filter = query.parentId === undefined ? "all" : query.parentId === null ? "roots" : "parent";
    const key = `${filter}:${query.after ? "after" : "first"}`;
    let statement = this.#lists.get(key);
    if (!statement) {
      const where: string[] = [];
      if (filter === "roots") where.push("parent_id IS NULL");
      if (filter === "parent") where.push("parent_id = :parentId");
      if (query.after) where.push("(created_at, id) < (:createdAt, :id)");
      statement = this.#db.prepare(
        `SELECT ${COLUMNS} FROM session ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY created_at DESC, id DESC LIMIT :limit`,
      );
      this.#lists.set(key, statement);
    }
    return statement;
  }

  list(query: ListQuery): Promise<Session[]> {
    return this.#call(() => {
      const params: Record<string, SQLInputValue> = { limit: query.limit };
      if (query.parentId) params.parentId = query.parentId;
      if (query.after) {
        params.createdAt = query.after.createdAt;
        params.id = query.after.id;
      }
      return (this.#listStatement(query).all(params) as unknown as SessionRow[]).map(toSession);
    });
  }

  update(id: string, patch: SessionPatch): Promise<Session> {
    return this.#call(() => {
      const row = this.#update.get({
        id,
        title: patch.title ?? null,
        metadata: patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
        archived: patch.archived === undefined ? null : patch.archived ? 1 : 0,
        expected: patch.expectedRevision ?? null,
        now: patch.now.getTime(),
      }) as SessionRow | undefined;
      if (row) return toSession(row);
      // The conditional write did not apply; a read now only says why.
      const current = this.#revision.get(id) as { revision: number } | undefined;
      if (!current) throw new SessionNotFoundError(id);
      throw new RevisionMismatchError(id, patch.expectedRevision ?? 0, current.revision);
    });
  }

  deleteTree(id: string): Promise<Session[]> {
    return this.#call(() =>
      this.#transaction(() => {
        const root = this.#get.get(id) as SessionRow | undefined;
        if (!root) throw new SessionNotFoundError(id);
        const walk = new TreeWalk(root);
        while (walk.frontier.length > 0) walk.addLevel(this.#children.all(JSON.stringify(walk.frontier)) as unknown as SessionRow[]);
        this.#deleteIds.run(JSON.stringify(walk.ids));
        return walk.rows.map(toSession);
      }),
    );
  }

  ping(): Promise<void> {
    return this.#call(() => {
      this.#db.prepare("SELECT 1").get();
    });
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}
