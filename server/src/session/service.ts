/**
 * The session domain: defaults, pagination and the idempotent-retry rule, over a SessionStore.
 * Whether an ID is free is never checked here: the store's insert decides it atomically.
 */
import {
  LIMITS,
  type Limits,
  decodeCursor,
  encodeCursor,
  generateSessionId,
  type CreateSessionInput,
  type DeleteSessionOutput,
  type Health,
  type ListChildrenInput,
  type ListSessionsInput,
  type Session,
  type SessionPage,
  type UpdateSessionInput,
} from "@sessiond/shared";
import type { ReadBudget } from "../context.ts";
import { SessionConflictError, SessionNotFoundError } from "../errors.ts";
import type { ListQuery, SessionStore } from "../store/types.ts";

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

export type SessionService = ReturnType<typeof createSessionService>;

const cursorOf = (session: Session) => encodeCursor({ createdAt: session.createdAt.getTime(), id: session.id });

/** opencode's default titles. */
export function defaultTitle(isChild: boolean, at: Date): string {
  return `${isChild ? "Child session" : "New session"} - ${at.toISOString()}`;
}

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
    // The schema has validated the cursor; an undecodable one cannot reach this point.
    const position = input?.cursor ? decodeCursor(input.cursor) : null;
    if (position && input?.direction === "backward") {
      const rows = await store.list({ ...query, after: null, before: position, limit: limit + 1 });
      const items = rows.slice(0, limit).reverse();
      return {
        items,
        nextCursor: items.length > 0 ? cursorOf(items.at(-1)!) : input!.cursor!,
        prevCursor: rows.length > limit ? cursorOf(items[0]!) : null,
      };
    }
    const rows = await store.list({ ...query, after: position, limit: limit + 1 });
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? cursorOf(items.at(-1)!) : null,
      prevCursor: position ? (items.length > 0 ? cursorOf(items[0]!) : input!.cursor!) : null,
    };
  }

  return {
    async create(input: CreateSessionInput): Promise<Session> {
      const createdAt = new Date(now());
      const parentId = input?.parentId ?? null;
      const id = input?.id ?? generateId();
      const createKey = input?.idempotencyKey ?? null;
      try {
        return announce(
          await store.insert({
            id,
            parentId,
            title: input?.title ?? defaultTitle(parentId !== null, createdAt),
            metadata: input?.metadata ?? {},
            createdAt,
            createKey,
          }),
        );
      } catch (error) {
        // The insert lost to an existing row. If that row is this caller's own earlier attempt
        // (same ID, same idempotency key), the retry gets the session, not CONFLICT.
        if (error instanceof SessionConflictError && createKey !== null) {
          const own = await store.getCreatedWithKey(id, createKey);
          if (own) return own;
        }
        throw error;
      }
    },

    async get(id: string): Promise<Session> {
      const session = await store.get(id);
      if (!session) throw new SessionNotFoundError(id);
      return session;
    },

    /** A page of sessions; `reads`, when given, is charged the page size first. */
    list(input: ListSessionsInput, reads?: ReadBudget): Promise<SessionPage> {
      const parentId = input?.roots ? null : input?.parentId;
      return page(parentId === undefined ? {} : { parentId }, input, reads);
    },

    async children(input: ListChildrenInput, reads?: ReadBudget): Promise<SessionPage> {
      if (!(await store.get(input.id))) throw new SessionNotFoundError(input.id);
      return page({ parentId: input.id }, input, reads);
    },

    update(input: UpdateSessionInput): Promise<Session> {
      const { id, ...patch } = input;
      return store.update(id, { ...patch, now: new Date(now()) }).then(announce);
    },

    async delete(id: string): Promise<DeleteSessionOutput> {
      return { deleted: announce(await store.deleteTree(id)) };
    },

    async health(): Promise<Health> {
      await store.ping();
      return { status: "ok", engine: store.engine, version: options.version ?? "0.0.0" };
    },
  };
}
