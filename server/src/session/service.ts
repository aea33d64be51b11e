/**
 * The session domain: defaults, pagination and the idempotent-retry rule, over a SessionStore,
 * always within one owner's sessions (the caller's scope). Whether an ID or an idempotency key is
 * free is never checked here: the store's insert decides it atomically, and only a refused insert
 * is followed by a read.
 */
import { createHash } from "node:crypto";
import {
  LIMITS,
  type Limits,
  decodeCursor,
  encodeCursor,
  generateSessionId,
  type CreateSessionInput,
  type DeleteSessionInput,
  type DeleteSessionOutput,
  type Health,
  type ListChildrenInput,
  type ListSessionsInput,
  type Session,
  type SessionPage,
  type UpdateSessionInput,
} from "@sessiond/shared";
import type { ReadBudget } from "../context.ts";
import { IdempotencyKeyReusedError, SessionConflictError, SessionNotFoundError, StoreUnavailableError } from "../errors.ts";
import { CreateKeyTakenError, type ListQuery, type SessionStore } from "../store/types.ts";
import { isoDate } from "../wire/iso-date.ts";

export interface SessionServiceOptions {
  /** Milliseconds since the epoch; defaults to Date.now. */
  now?: () => number;
  generateId?: () => string;
  version?: string;
  /** For the default page size. */
  limits?: Limits;
  /** Called after every committed write (the event hub reads the new events at once). */
  onWrite?: () => void;
}

/**
 * Whose sessions a call acts on. `owner` is the caller's; `allOwners` (the operator without an
 * owner named) widens what a list without a parent spans to every owner's sessions, while calls
 * that name a session by ID still act in `owner`.
 */
export interface OwnerScope {
  owner: string;
  allOwners?: boolean;
}

/**
 * A precondition on a session's revision, as the service applies it: the revisions the session
 * may be at (an empty list is a precondition nothing meets). Absent: none.
 */
export type RevisionPrecondition = readonly number[] | undefined;

export type SessionService = ReturnType<typeof createSessionService>;

/** A keyset position; every owner's lists (the operator's) carry the owner too, their last key. */
const cursorOf = (session: Session, everyOwner: boolean) =>
  encodeCursor({ createdAt: session.createdAt.getTime(), id: session.id, ...(everyOwner ? { owner: session.owner } : {}) });

/** opencode's default titles. */
export function defaultTitle(isChild: boolean, at: Date): string {
  return `${isChild ? "Child session" : "New session"} - ${isoDate(at)}`;
}

/** JSON with every object's keys sorted, so that equal inputs give equal text whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What a retry must repeat: the create's input but its key (a generated ID is not part of it). */
export function fingerprintOf(input: CreateSessionInput): string {
  const { idempotencyKey: _, ...rest } = input ?? {};
  return createHash("sha256").update(canonicalJson(rest)).digest("base64url");
}

/** The intersection of two preconditions (a REST If-Match and a body's expectedRevision both apply). */
export function bothPreconditions(a: RevisionPrecondition, b: RevisionPrecondition): RevisionPrecondition {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.filter((revision) => b.includes(revision));
}

/** How often a create whose key was just freed (its session deleted meanwhile) is tried again. */
const KEY_ATTEMPTS = 3;

export function createSessionService(store: SessionStore, options: SessionServiceOptions = {}) {
  const now = options.now ?? Date.now;
  const generateId = options.generateId ?? generateSessionId;
  const pageSizeDefault = (options.limits ?? LIMITS).pageSizeDefault;
  const onWrite = options.onWrite ?? (() => undefined);
  const announce = <T>(result: T): T => {
    onWrite();
    return result;
  };

  /**
   * One page, newest first. Forward: the sessions after `cursor` (older); backward: the `limit`
   * sessions before it (newer), still newest first. Without a cursor, the first page either way.
   */
  async function page(
    query: Omit<ListQuery, "limit" | "after" | "before">,
    input: { limit?: number; cursor?: string | null; direction?: "forward" | "backward" } | undefined,
    reads: ReadBudget | undefined,
  ): Promise<SessionPage> {
    const limit = input?.limit ?? pageSizeDefault;
    reads?.take(limit);
    const everyOwner = query.owner === null;
    const cursor = (session: Session) => cursorOf(session, everyOwner);
    // The schema has validated the cursor; an undecodable one cannot reach this point.
    const position = input?.cursor ? decodeCursor(input.cursor) : null;
    if (position && input?.direction === "backward") {
      const rows = await store.list({ ...query, after: null, before: position, limit: limit + 1 });
      const items = rows.slice(0, limit).reverse();
      return {
        items,
        nextCursor: items.length > 0 ? cursor(items.at(-1)!) : input!.cursor!,
        prevCursor: rows.length > limit ? cursor(items[0]!) : null,
      };
    }
    const rows = await store.list({ ...query, after: position, limit: limit + 1 });
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? cursor(items.at(-1)!) : null,
      prevCursor: position ? (items.length > 0 ? cursor(items[0]!) : input!.cursor!) : null,
    };
  }

  return {
    /**
     * A new session of the caller's owner. With an idempotency key, a retry (the same key and the
     * same input) gets the session the first attempt made, as it is now: the insert fails on the
     * owner's unique key (or the ID's), and only then is the session that holds the key read.
     */
    async create(scope: OwnerScope, input: CreateSessionInput): Promise<Session> {
      const { owner } = scope;
      const createKey = input?.idempotencyKey ?? null;
      const createFingerprint = createKey === null ? null : fingerprintOf(input);
      for (let attempt = 1; ; attempt++) {
        const createdAt = new Date(now());
        const parentId = input?.parentId ?? null;
        const id = input?.id ?? generateId();
        try {
          return announce(
            await store.insert({
              owner,
              id,
              parentId,
              title: input?.title ?? defaultTitle(parentId !== null, createdAt),
              metadata: input?.metadata ?? {},
              createdAt,
              createKey,
              createFingerprint,
            }),
          );
        } catch (error) {
          if (createKey === null || !(error instanceof SessionConflictError || error instanceof CreateKeyTakenError)) throw error;
          const first = await store.getCreatedWithKey(owner, createKey);
          if (first) {
            // A session from before fingerprints were kept matches a retry that names its ID (the rule of its time).
            const same = first.fingerprint === null ? first.session.id === input?.id : first.fingerprint === createFingerprint;
            if (same) return first.session;
            throw new IdempotencyKeyReusedError(createKey);
          }
          // The ID is taken by a session without this key: not this caller's earlier attempt.
          if (error instanceof SessionConflictError) throw error;
          // The session that held the key was deleted in between: the key is free again.
          if (attempt === KEY_ATTEMPTS) throw new StoreUnavailableError("the idempotency key kept changing hands");
        }
      }
    },

    async get(scope: OwnerScope, id: string): Promise<Session> {
      const session = await store.get(scope.owner, id);
      if (!session) throw new SessionNotFoundError(id);
      return session;
    },

    /**
     * A page of sessions; `reads`, when given, is charged the page size first. A parent's children
     * are the owner's; without a parent, an `allOwners` scope lists every owner's sessions.
     */
    list(scope: OwnerScope, input: ListSessionsInput, reads?: ReadBudget): Promise<SessionPage> {
      const parentId = input?.roots ? null : input?.parentId;
      const owner = scope.allOwners && typeof parentId !== "string" ? null : scope.owner;
      return page(parentId === undefined ? { owner } : { owner, parentId }, input, reads);
    },

    async children(scope: OwnerScope, input: ListChildrenInput, reads?: ReadBudget): Promise<SessionPage> {
      if (!(await store.get(scope.owner, input.id))) throw new SessionNotFoundError(input.id);
      return page({ owner: scope.owner, parentId: input.id }, input, reads);
    },

    update(scope: OwnerScope, input: UpdateSessionInput, precondition?: RevisionPrecondition): Promise<Session> {
      const { id, expectedRevision, ...patch } = input;
      const expectedRevisions = bothPreconditions(expectedRevision === undefined ? undefined : [expectedRevision], precondition);
      return store.update(scope.owner, id, { ...patch, expectedRevisions, now: new Date(now()) }).then(announce);
    },

    async delete(scope: OwnerScope, input: DeleteSessionInput, precondition?: RevisionPrecondition): Promise<DeleteSessionOutput> {
      const { id, expectedRevision } = input;
      const expectedRevisions = bothPreconditions(expectedRevision === undefined ? undefined : [expectedRevision], precondition);
      return { deleted: announce(await store.deleteTree(scope.owner, id, expectedRevisions)) };
    },

    async health(): Promise<Health> {
      await store.ping();
      return { status: "ok", engine: store.engine, version: options.version ?? "0.0.0" };
    },
  };
}
