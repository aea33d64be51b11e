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

  async function page(
    query: Omit<ListQuery, "limit" | "after">,
    limit: number = pageSizeDefault,
    cursor: string | null | undefined,
    reads: ReadBudget | undefined,
  ): Promise<SessionPage> {
    reads?.take(limit);
    // The schema has validated the cursor; an undecodable one cannot reach this point.
    const after = cursor ? decodeCursor(cursor) : null;
    const rows = await store.list({ ...query, after, limit: limit + 1 });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) : null;
    return { items, nextCursor };
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
      return page(parentId === undefined ? {} : { parentId }, input?.limit, input?.cursor, reads);
    },

    async children(input: ListChildrenInput, reads?: ReadBudget): Promise<SessionPage> {
      if (!(await store.get(input.id))) throw new SessionNotFoundError(input.id);
      return page({ parentId: input.id }, input.limit, input.cursor, reads);
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
