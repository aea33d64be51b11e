/**
 * The embedded default: one SQLite file through node:sqlite, in WAL mode so readers never wait for
 * the writer, with a busy timeout so that several processes can share the file. Calls are
 * synchronous underneath; each write is one statement or one IMMEDIATE transaction, so it is
 * atomic with respect to every other connection. Reads go through a connection of their own, so
 * that a delete of a large tree can run as one transaction over many turns of the event loop
 * (deleteTree) while reads go on seeing the last commit; other writes wait for it. A write commits
 * only while the database is still the file at its path, and the -wal and -shm are checked between
 * writes (sqlite-files.ts): files deleted or replaced under a running server would take every
 * write acknowledged since with them.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { Session, SessionEventType } from "@sessiond/shared";
import { SessionConflictError, SessionNotFoundError, StoreUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { MIGRATIONS } from "./migrations.ts";
import {
  COLUMNS,
  EVENT_COLUMNS,
  EVENT_SESSION_COLUMNS,
  insertedSession,
  sessionOfValues,
  storedEventOfValues,
  type RowValues,
} from "./row.ts";
import { listQuery, listValue, revisionMatches, updateFailure } from "./queries.ts";
import { WalCheckpointer, type CheckpointStats } from "./sqlite-checkpoint.ts";
import { SqliteFiles, type FileChange } from "./sqlite-files.ts";
import { TreeWalk, treeTooDeep } from "./tree.ts";
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

/**
 * SQLite's `synchronous` in WAL mode. normal: a commit is written to the WAL but not fsynced, so an
 * acknowledged write survives a crash of the process, and a power loss may drop the last commits.
 * full: each commit waits for the WAL's fsync, so an acknowledged write survives a power loss too.
 */
export type SqliteSync = "full" | "normal";

export interface SqliteStoreOptions {
  /** How long a write waits for another connection's lock before giving up with 503. */
  busyTimeoutMs: number;
  synchronous: SqliteSync;
  /** Where the store says that its files were deleted or replaced (once, at error). */
  log?: Logger;
}

/** PRAGMA synchronous answers with a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
const SYNCHRONOUS_LEVELS: Record<SqliteSync, number> = { normal: 1, full: 2 };

/** The longest a create waits for others to share its commit, with synchronous = FULL. */
const GROUP_WAIT_MS = 1;
/** This connection's own checkpoint waits for this many times SQLite's default WAL size (the checkpointer's thread goes first). */
const FALLBACK_CHECKPOINT_FACTOR = 4;
/** The WAL pages a commit is counted as writing, besides one per create: each B-tree leaf a create touches (#wrote). */
const PAGES_PER_COMMIT = 8;

/** Why writes are refused once the files are not the ones at their paths (a fixed reason: it labels a metric). */
const FILES_REPLACED = "the database file was deleted or replaced";

/**
 * How often all the files are checked (each write checks the database file before it commits; a
 * /healthz checks them all). A deleted -wal is noticed within this time, and its writes are then
 * copied into the database file: only a crash within this time after the delete loses them.
 */
const FILE_CHECK_MS = 250;

/** Rows a delete reads, records or deletes between two turns of the event loop (a few milliseconds of work). */
const DELETE_SLICE = 1000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

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
const SQLITE_CONSTRAINT_CHECK = 275;
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
/** A unique index other than the primary key: the owner's idempotency keys. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

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
  /** Reads: a second connection to the file (the same one for ":memory:", which cannot have two). */
  readonly #reads: DatabaseSync;
  /** Set while a delete holds the write transaction across turns: other writes wait for it. */
  #exclusive: Promise<void> | null = null;
  /** Checkpoints after large deletes, off the event loop (null for ":memory:", which has no WAL). */
  readonly #checkpointer: WalCheckpointer | null;
  #checkpointsRunning = 0;
  /** This connection's automatic checkpoint (pages), the fallback when the checkpointer's thread falls behind. */
  readonly #autoCheckpoint: number;
  /** About how many WAL pages the writes since the last background checkpoint wrote; see #wrote. */
  #writtenSinceCheckpoint = 0;
  readonly #checkpointEvery: number;
  #backgroundCheckpoint = false;
  /** On a file (":memory:" has no WAL): the checkpoints run off the event loop, for /metrics. */
  readonly checkpointStats: (() => CheckpointStats) | undefined;
  readonly #insert: StatementSync;
  readonly #childAncestry: StatementSync;
  readonly #get: StatementSync;
  readonly #getWithKey: StatementSync;
  readonly #update: StatementSync;
  readonly #revision: StatementSync;
  readonly #children: StatementSync;
  readonly #deleteIds: StatementSync;
  readonly #recordEvent: StatementSync;
  readonly #recordCreated: StatementSync;
  readonly #recordDeletes: StatementSync;
  readonly #readEvents: StatementSync;
  readonly #eventLog: StatementSync;
  readonly #pruneEvents: StatementSync;
  readonly #advanceHorizon: StatementSync;
  readonly #dataVersion: StatementSync;
  readonly #lists = new Map<string, StatementSync>();
  readonly #log: Logger | undefined;
  /** The files this connection writes, as they were once it had them open; none in memory. */
  readonly #files: SqliteFiles | undefined;
  readonly #fileCheck: NodeJS.Timeout | undefined;
  /** Set once the files were found deleted or replaced: every write is refused from then on. */
  #refused = false;

  constructor(path: string, options: SqliteStoreOptions) {
    this.#log = options.log;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path, { timeout: options.busyTimeoutMs, enableForeignKeyConstraints: true });
    const synchronous = options.synchronous;
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${SYNCHRONOUS_LEVELS[synchronous]};`);
    // SQLite ignores a pragma it cannot apply without a word; read back what the connection runs with.
    const level = Number(this.#db.prepare("PRAGMA synchronous").get()?.synchronous);
    if (level !== SYNCHRONOUS_LEVELS[synchronous]) throw new Error(`SQLite runs with synchronous = ${level}, not ${synchronous}`);
    this.sqliteSync = synchronous;
    this.#migrate();
    this.#reads = path === ":memory:" ? this.#db : new DatabaseSync(path, { timeout: options.busyTimeoutMs, readOnly: true });
    this.#checkpointer = path === ":memory:" ? null : new WalCheckpointer(path, options.busyTimeoutMs, SYNCHRONOUS_LEVELS[synchronous]);
    // The checkpointer's thread copies the WAL into the database file as it grows (#wrote); this
    // connection's own automatic checkpoint, inside a commit, is left for when the thread falls
    // far behind (a few times SQLite's default of 1,000 pages).
    const autoCheckpoint = Number(this.#db.prepare("PRAGMA wal_autocheckpoint").get()?.wal_autocheckpoint);
    this.#autoCheckpoint = this.#checkpointer && autoCheckpoint > 0 ? autoCheckpoint * FALLBACK_CHECKPOINT_FACTOR : autoCheckpoint;
    this.#checkpointEvery = autoCheckpoint;
    this.#db.exec(`PRAGMA wal_autocheckpoint = ${this.#autoCheckpoint}`);
    const checkpointer = this.#checkpointer;
    this.checkpointStats = checkpointer ? () => checkpointer.stats() : undefined;
    // The ancestry (migration 4) is the parent's plus the parent's ID (a root's is empty); the
    // check bounds its length. Read first and passed as a value: an insert with RETURNING, or with
    // the look-up as a subquery, cost a third more per create.
    this.#insert = this.#db.prepare(
      `INSERT INTO session (${COLUMNS}, create_key, create_fingerprint, ancestry) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, NULL, ?6, ?7, ?8, ?9)`,
    );
    this.#childAncestry = this.#db.prepare("SELECT ancestry || id || '/' AS ancestry FROM session WHERE owner = ? AND id = ?");
    // Reads through the read-only connection: they see the last commit, never a delete half done.
    this.#get = this.#reads.prepare(`SELECT ${COLUMNS} FROM session WHERE owner = ? AND id = ?`);
    this.#getWithKey = this.#reads.prepare(`SELECT ${COLUMNS}, create_fingerprint FROM session WHERE owner = ? AND create_key = ?`);
    // Sessions and events are read as arrays (row.ts: sessionOfValues).
    this.#get.setReturnArrays(true);
    this.#getWithKey.setReturnArrays(true);
    this.#update = this.#db.prepare(`
      UPDATE session SET
        title = coalesce(:title, title),
        metadata = coalesce(:metadata, metadata),
        archived_at = CASE :archived WHEN 1 THEN coalesce(archived_at, :now) WHEN 0 THEN NULL ELSE archived_at END,
        revision = revision + 1,
        updated_at = :now
      WHERE owner = :owner AND id = :id AND (:expected IS NULL OR revision IN (SELECT value FROM json_each(:expected)))
      RETURNING ${COLUMNS}`);
    this.#update.setReturnArrays(true);
    this.#revision = this.#db.prepare("SELECT revision FROM session WHERE owner = ? AND id = ?");
    this.#children = this.#db.prepare("SELECT id FROM session WHERE owner = ? AND parent_id IN (SELECT value FROM json_each(?))");
    this.#children.setReturnArrays(true);
    // Foreign keys are checked at the commit (deleteTree defers them), so the order of deletion is free.
    this.#deleteIds = this.#db.prepare("DELETE FROM session WHERE owner = ? AND id IN (SELECT value FROM json_each(?))");
    // The event copies the row as stored, inside the change's transaction (before a delete).
    // A create's event from the values just inserted (no look-up of the row).
    this.#recordCreated = this.#db.prepare(
      `INSERT INTO session_event (type, at, ${EVENT_SESSION_COLUMNS}, ancestry) VALUES ('session.created', ?, ?, ?, ?, ?, 1, ?, ?, NULL, ?, ?)`,
    );
    this.#recordEvent = this.#db.prepare(
      `INSERT INTO session_event (type, at, ${EVENT_SESSION_COLUMNS}, ancestry) SELECT ?, ?, ${COLUMNS}, ancestry FROM session WHERE owner = ? AND id = ?`,
    );
    // A delete's events, one per session in the walk's order (root first, then by depth).
    this.#recordDeletes = this.#db.prepare(
      `INSERT INTO session_event (type, at, ${EVENT_SESSION_COLUMNS}, ancestry)
       SELECT 'session.deleted', ?, ${COLUMNS.split(", ")
         .map((column) => `session.${column}`)
         .join(", ")}, session.ancestry
       FROM json_each(?) AS walk JOIN session ON session.owner = ? AND session.id = walk.value ORDER BY walk.key`,
    );
    this.#readEvents = this.#reads.prepare(
      `SELECT ${EVENT_COLUMNS} FROM session_event WHERE session_event.id > ? ORDER BY session_event.id LIMIT ?`,
    );
    this.#readEvents.setReturnArrays(true);
    this.#eventLog = this.#reads.prepare(
      `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'session_event'), 0) AS last_id, pruned_through FROM event_horizon`,
    );
    this.#pruneEvents = this.#db.prepare(
      "DELETE FROM session_event WHERE id IN (SELECT id FROM session_event WHERE at < ? ORDER BY id LIMIT ?) RETURNING id",
    );
    this.#advanceHorizon = this.#db.prepare("UPDATE event_horizon SET pruned_through = max(pruned_through, ?)");
    this.#dataVersion = this.#db.prepare("PRAGMA data_version");
    this.#dataVersion.setReturnArrays(true);
    // After the migration's write, so that the -wal and -shm exist.
    if (path !== ":memory:") {
      this.#files = new SqliteFiles(path);
      this.#fileCheck = setInterval(() => this.#checkFiles(), FILE_CHECK_MS);
      this.#fileCheck.unref();
    }
  }

  /**
   * Runs `work` as an IMMEDIATE transaction: it takes the write lock up front, so it never fails
   * halfway on a lock upgrade. It commits only to the database file at its path; otherwise it rolls
   * back and the write is refused (503), as is every write after it.
   */
  #transaction<T>(work: () => T): T {
    if (this.#refused) throw new StoreUnavailableError(FILES_REPLACED);
    this.#db.exec("BEGIN IMMEDIATE");
    let change: FileChange | null;
    try {
      const result = work();
      change = this.#files?.changed("database") ?? null;
      if (change === null) {
        this.#db.exec("COMMIT");
        this.#wrote(PAGES_PER_COMMIT);
        return result;
      }
      this.#db.exec("ROLLBACK");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#refuseWrites(change);
    throw new StoreUnavailableError(FILES_REPLACED);
  }

  /**
   * Counts what a commit wrote, and checkpoints in the background once it is about SQLite's
   * automatic checkpoint's worth. That checkpoint would run inside a commit, on the event loop,
   * copying the WAL into the database file and fsyncing both: 3 to 5 ms every 20 to 30 group
   * commits under a create load, 5 to 9 % of the loop's time. node:sqlite does not say how many
   * pages a commit wrote, so it is estimated: a commit writes each B-tree leaf it touched, about
   * one more page per create in a group (40 pages for 60 creates, measured).
   */
  #wrote(pages: number): void {
    if (!this.#checkpointer) return;
    this.#writtenSinceCheckpoint += pages;
    if (this.#backgroundCheckpoint || this.#writtenSinceCheckpoint < this.#checkpointEvery) return;
    this.#backgroundCheckpoint = true;
    this.#writtenSinceCheckpoint = 0;
    void this.#checkpointer.checkpoint().then(() => {
      this.#backgroundCheckpoint = false;
    });
  }

  /** Between writes: are the files still the ones at their paths? */
  #checkFiles(): void {
    const change = this.#refused ? null : this.#files?.changed("all");
    if (change) this.#refuseWrites(change);
  }

  /**
   * The files were deleted or replaced: from now on every write is refused and /healthz fails.
   * When the database file itself is still at its path (only the -wal or -shm went), the WAL's
   * committed writes are copied into it first, so every write acknowledged so far survives a
   * restart. Outside a transaction (a checkpoint cannot run inside one).
   */
  #refuseWrites(change: FileChange): void {
    this.#refused = true;
    clearInterval(this.#fileCheck);
    let walSaved: boolean | undefined;
    if (change.file !== "database") {
      try {
        const result = this.#db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { busy: number; log: number; checkpointed: number };
        walSaved = result.busy === 0 && result.checkpointed === result.log;
      } catch {
        walSaved = false;
      }
    }
    this.#log?.error(
      { file: change.file, change: change.change, ...(walSaved === undefined ? {} : { walSaved }) },
      `${FILES_REPLACED} while the server ran: writes are refused (503) until it restarts`,
    );
  }

  #migrate(): void {
    this.#db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    );
    this.#transaction(() => {
      const applied = new Set(
        this.#db
          .prepare("SELECT version FROM schema_migration")
          .all()
          .map((row) => Number(row.version)),
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
      if (this.#pendingInserts.push({ session, resolve, reject }) === 1) {
        this.#groupOpened = performance.now();
        setImmediate(this.#flushInserts);
      }
    });
  }

  readonly #pendingInserts: PendingInsert[] = [];
  #groupOpened = 0;
  #groupSeen = 0;

  readonly #flushInserts = (): void => {
    // A delete holds the write transaction: the group waits for it (and grows meanwhile).
    if (this.#exclusive) {
      void this.#exclusive.then(this.#flushInserts);
      return;
    }
    // With synchronous = FULL each commit waits for an fsync, so a bigger group is worth a short
    // wait: while the last turn of the event loop brought more inserts, take one more turn (it
    // polls without blocking), for at most GROUP_WAIT_MS.
    if (
      this.sqliteSync === "full" &&
      this.#pendingInserts.length > this.#groupSeen &&
      performance.now() - this.#groupOpened < GROUP_WAIT_MS
    ) {
      this.#groupSeen = this.#pendingInserts.length;
      setImmediate(this.#flushInserts);
      return;
    }
    this.#groupSeen = 0;
    const group = this.#pendingInserts.splice(0);
    let outcomes: (Session | Error)[];
    try {
      // A transaction even for a group of one: each insert is two statements, the row and its event.
      outcomes = this.#transaction(() => group.map(({ session }) => this.#insertOne(session)));
      this.#wrote(group.length);
    } catch (error) {
      // The group as a whole failed (locked, read-only, disk full): nothing of it was committed.
      const failure = unavailable(error) ?? error;
      for (const pending of group) pending.reject(failure);
      return;
    }
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome instanceof Error) group[index]!.reject(outcome);
      else group[index]!.resolve(outcome);
    }
  };

  /** One insert: the session, or the domain error its constraints gave; other errors are thrown. */
  #insertOne(session: NewSession): Session | Error {
    const createdAt = session.createdAt.getTime();
    const metadata = JSON.stringify(session.metadata);
    // No parent row (null): the insert fails on the foreign key, which answers.
    const ancestry =
      session.parentId === null
        ? ""
        : ((this.#childAncestry.get(session.owner, session.parentId) as { ancestry: string | null } | undefined)?.ancestry ?? null);
    try {
      this.#insert.run(
        session.id,
        session.parentId,
        session.title,
        metadata,
        createdAt,
        session.owner,
        session.createKey,
        session.createFingerprint,
        ancestry,
      );
    } catch (error) {
      const code = (error as { errcode?: unknown }).errcode;
      if (code === SQLITE_CONSTRAINT_PRIMARYKEY) return new SessionConflictError(session.id);
      if (code === SQLITE_CONSTRAINT_UNIQUE && session.createKey !== null) return new CreateKeyTakenError();
      if (code === SQLITE_CONSTRAINT_FOREIGNKEY && session.parentId) return new SessionNotFoundError(session.parentId, "parent");
      if (code === SQLITE_CONSTRAINT_CHECK && session.parentId) return treeTooDeep(session.parentId);
      throw error;
    }
    this.#recordCreated.run(
      createdAt,
      session.id,
      session.parentId,
      session.title,
      metadata,
      createdAt,
      createdAt,
      session.owner,
      ancestry,
    );
    return insertedSession(session);
  }

  get(owner: string, id: string): Promise<Session | null> {
    return this.#call(() => {
      const row = this.#get.get(owner, id) as RowValues | undefined;
      return row ? sessionOfValues(row) : null;
    });
  }

  getCreatedWithKey(owner: string, createKey: string): Promise<KeyedSession | null> {
    return this.#call(() => {
      const row = this.#getWithKey.get(owner, createKey) as RowValues | undefined;
      // create_fingerprint comes after the session's columns.
      return row ? { session: sessionOfValues(row), fingerprint: row[row.length - 1] as string | null } : null;
    });
  }

  list(query: ListQuery): Promise<Session[]> {
    return this.#call(() => {
      const params: Record<string, SQLInputValue> = {};
      const { name, sql } = listQuery(query, (param) => {
        params[param] = listValue(query, param);
        return `:${param}`;
      });
      let statement = this.#lists.get(name);
      if (!statement) {
        statement = this.#reads.prepare(sql);
        statement.setReturnArrays(true);
        this.#lists.set(name, statement);
      }
      return (statement.all(params) as unknown as RowValues[]).map((row) => sessionOfValues(row));
    });
  }

  async update(owner: string, id: string, patch: SessionPatch): Promise<Session> {
    await this.#writable();
    return this.#call(() =>
      this.#transaction(() => {
        const row = this.#update.get({
          owner,
          id,
          title: patch.title ?? null,
          metadata: patch.metadata === undefined ? null : JSON.stringify(patch.metadata),
          archived: patch.archived === undefined ? null : patch.archived ? 1 : 0,
          expected: patch.expectedRevisions === undefined ? null : JSON.stringify(patch.expectedRevisions),
          now: patch.now.getTime(),
        }) as RowValues | undefined;
        if (row) {
          this.#recordEvent.run("session.updated" satisfies SessionEventType, patch.now.getTime(), owner, id);
          return sessionOfValues(row);
        }
        // The conditional write did not apply; a read now only says why.
        throw updateFailure(id, patch.expectedRevisions, this.#revision.get(owner, id) as { revision: number } | undefined);
      }),
    );
  }

  /** Checkpoints in the background, then gives this connection its automatic checkpoints back. */
  async #checkpointAfterDelete(): Promise<void> {
    await this.#checkpointer!.checkpoint();
    if (--this.#checkpointsRunning === 0 && this.#db.isOpen) this.#db.exec(`PRAGMA wal_autocheckpoint = ${this.#autoCheckpoint}`);
  }

  /** Resolves when no delete holds the write transaction; the caller then writes without awaiting. */
  async #writable(): Promise<void> {
    while (this.#exclusive) await this.#exclusive;
  }

  /**
   * One transaction, as every write, but up to 100,000 sessions: it reads, records and deletes
   * DELETE_SLICE rows at a time and lets the event loop turn in between, holding the write lock
   * (the other writes of this process wait for it; other processes' wait on the busy timeout, as
   * for any write). Reads see the last commit meanwhile. Foreign keys are checked at the commit,
   * so the slices may delete a parent before its children.
   */
  async deleteTree(owner: string, id: string, expectedRevisions?: readonly number[]): Promise<string[]> {
    await this.#writable();
    if (this.#refused) throw new StoreUnavailableError(FILES_REPLACED);
    let release!: () => void;
    this.#exclusive = new Promise((resolve) => (release = resolve));
    // ":memory:" has no second connection: reads would see the delete half done, so no turns.
    const pause = this.#reads === this.#db ? () => undefined : nextTurn;
    let walk: TreeWalk;
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#db.exec("PRAGMA defer_foreign_keys = ON");
        const root = this.#revision.get(owner, id) as { revision: number } | undefined;
        if (!root) throw new SessionNotFoundError(id);
        // Decided inside the write transaction: nobody can change the root in between.
        if (!revisionMatches(root.revision, expectedRevisions)) throw updateFailure(id, expectedRevisions, root);
        walk = new TreeWalk(id);
        while (walk.frontier.length > 0) {
          const level: string[] = [];
          // The children of a slice of the frontier at a time (one statement per slice: its IN
          // list is built before its first row), a slice of rows between pauses.
          for (let start = 0; start < walk.frontier.length; start += DELETE_SLICE) {
            await pause();
            let read = 0;
            for (const [child] of this.#children.iterate(
              owner,
              JSON.stringify(walk.frontier.slice(start, start + DELETE_SLICE)),
            ) as Iterable<[string]>) {
              level.push(child);
              if (++read % DELETE_SLICE !== 0) continue;
              walk.checkLevel(level.length);
              await pause();
            }
          }
          await walk.addLevel(level, pause);
        }
        const ids = walk.ids;
        const at = Date.now();
        // Events in the walk's order (root first, then by depth): each slice's, then its rows.
        for (let start = 0; start < ids.length; start += DELETE_SLICE) {
          await pause();
          const slice = JSON.stringify(ids.slice(start, start + DELETE_SLICE));
          this.#recordDeletes.run(at, slice, owner);
          this.#deleteIds.run(owner, slice);
        }
        await pause();
        // A large delete's pages are copied into the database file by the checkpointer's thread,
        // not by this commit (SQLite's automatic checkpoint runs inside the committing call).
        // As every write: only to the database file at its path (see #transaction).
        const change = this.#files?.changed("database") ?? null;
        if (change !== null) {
          this.#db.exec("ROLLBACK");
          this.#refuseWrites(change);
          throw new StoreUnavailableError(FILES_REPLACED);
        }
        const large = this.#checkpointer !== null && ids.length > DELETE_SLICE;
        if (large && this.#checkpointsRunning++ === 0) this.#db.exec("PRAGMA wal_autocheckpoint = 0");
        try {
          this.#db.exec("COMMIT");
        } finally {
          if (large) void this.#checkpointAfterDelete();
        }
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      throw unavailable(error) ?? error;
    } finally {
      this.#exclusive = null;
      release();
    }
    return walk.ids;
  }

  readEvents(afterId: number, limit: number): Promise<StoredEvent[]> {
    return this.#call(() => (this.#readEvents.all(afterId, limit) as unknown as RowValues[]).map(storedEventOfValues));
  }

  eventLog(): Promise<EventLogState> {
    return this.#call(() => {
      const row = this.#eventLog.get() as { last_id: number; pruned_through: number };
      return { lastId: row.last_id, prunedThrough: row.pruned_through };
    });
  }

  async followEvents(): Promise<EventFollower> {
    // One writer at a time, AUTOINCREMENT IDs: IDs are committed in order, so every committed one is settled.
    let head = (await this.eventLog()).lastId;
    const readEvents = (afterId: number, limit: number) => this.readEvents(afterId, limit);
    return {
      get head() {
        return head;
      },
      settled: true,
      async read(limit) {
        const events = await readEvents(head, limit);
        if (events.length > 0) head = events.at(-1)!.id;
        return { events, more: events.length === limit };
      },
    };
  }

  async pruneEvents(before: Date, batch: number): Promise<number> {
    await this.#writable();
    return this.#call(() =>
      this.#transaction(() => {
        const pruned = this.#pruneEvents.all(before.getTime(), batch) as { id: number }[];
        if (pruned.length > 0) this.#advanceHorizon.run(Math.max(...pruned.map((row) => row.id)));
        return pruned.length;
      }),
    );
  }

  watchEvents(onChange: () => void, pollMs: number): () => Promise<void> {
    // data_version changes when another connection (another process) commits; our own commits
    // are announced by the caller. Reading it costs no I/O.
    let seen = this.#dataVersion.get() as unknown as [number];
    const timer = setInterval(() => {
      if (!this.#db.isOpen) return;
      const now = this.#dataVersion.get() as unknown as [number];
      if (now[0] !== seen[0]) {
        seen = now;
        onChange();
      }
    }, pollMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      return Promise.resolve();
    };
  }

  ping(): Promise<void> {
    return this.#call(() => {
      this.#checkFiles();
      if (this.#refused) throw new StoreUnavailableError(FILES_REPLACED);
      this.#db.prepare("SELECT 1").get();
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#fileCheck);
    await this.#writable();
    await this.#checkpointer?.close();
    if (this.#reads !== this.#db && this.#reads.isOpen) this.#reads.close();
    if (this.#db.isOpen) this.#db.close();
  }
}
