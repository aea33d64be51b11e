/**
 * Running a suite written for one caller as one of two owners at once. The suite's client is
 * alice's, and bob shadows her: every create she makes, he makes too, with the same ID (before
 * her, when she chose it: her create must then still succeed) and the same parent, under his own
 * title. Every session any of her calls answers with must be hers; at the end, bob's sessions must
 * be exactly the ones he made, unchanged by everything she did (updates, deletes, conflicts).
 */
import type { SessionClient } from "@sessiond/client";
import type { Session } from "@sessiond/shared";
import { expect } from "vitest";

export const ALICE = "alice";
export const BOB = "bob";

/** Every session a client's list holds, page by page. */
export async function listAll(client: SessionClient, limit = 200): Promise<Session[]> {
  const all: Session[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Session[]; nextCursor: string | null } = await client.session.list.query({ limit, cursor });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** Every session in an answer (a session, a page, a list), wherever it sits. */
function sessionsIn(value: unknown, found: Session[] = []): Session[] {
  if (Array.isArray(value)) for (const item of value) sessionsIn(item, found);
  else if (value !== null && typeof value === "object") {
    if ("id" in value && "owner" in value && "revision" in value) found.push(value as Session);
    else for (const item of Object.values(value)) sessionsIn(item, found);
  }
  return found;
}

export interface Shadowed {
  /** Alice's client, shadowed by bob; every answer is checked to hold her sessions only. */
  client: SessionClient;
  /** Checks that bob's sessions are exactly those he made, as he made them. */
  verifyBob(): Promise<void>;
}

export function shadowedClient(alice: SessionClient, bob: SessionClient): Shadowed {
  const bobs = new Map<string, Session>();
  const hers = async (answer: Promise<unknown>): Promise<unknown> => {
    const value = await answer;
    for (const session of sessionsIn(value)) expect(session.owner, `alice was answered with ${session.id} of ${session.owner}`).toBe(ALICE);
    return value;
  };
  const shadow = async (id: string, parentId: unknown) => {
    try {
      const input = { id, title: `bob's ${id}`, metadata: { shadow: true }, ...(typeof parentId === "string" ? { parentId } : {}) };
      const made = await bob.session.create.mutate(input);
      expect(made.owner).toBe(BOB);
      bobs.set(made.id, made);
    } catch {
      // Invalid input, or bob does not hold the parent: he simply has no such session.
    }
  };
  // Creates made in one tick are shadowed together and then sent together, so that alice's stay
  // in one batched request, as the suite meant them to be.
  let queued: { input?: Record<string, unknown>; options?: unknown; settle: (made: Promise<Session>) => void }[] = [];
  const flush = async () => {
    const group = queued;
    queued = [];
    const chosen = (input?: Record<string, unknown>) => (typeof input?.id === "string" ? input.id : undefined);
    await Promise.all(group.map(({ input }) => (chosen(input) === undefined ? undefined : shadow(chosen(input)!, input?.parentId))));
    for (const { input, options, settle } of group) {
      settle(
        (hers(alice.session.create.mutate(input as never, options as never)) as Promise<Session>).then(async (made) => {
          if (chosen(input) === undefined) await shadow(made.id, input?.parentId);
          return made;
        }),
      );
    }
  };
  const create = (input?: Record<string, unknown>, options?: unknown) =>
    new Promise<Session>((resolve) => {
      if (queued.push({ input, options, settle: resolve }) === 1) setTimeout(() => void flush(), 0);
    });
  const query = (name: "get" | "list" | "children") => (input: unknown, options?: unknown) =>
    hers((alice.session[name].query as (input: unknown, options: unknown) => Promise<unknown>)(input, options));
  const mutation = (name: "update" | "delete") => (input: unknown, options?: unknown) =>
    hers((alice.session[name].mutate as (input: unknown, options: unknown) => Promise<unknown>)(input, options));
  const client = {
    session: {
      create: { mutate: create },
      get: { query: query("get") },
      list: { query: query("list") },
      children: { query: query("children") },
      update: { mutate: mutation("update") },
      delete: { mutate: mutation("delete") },
      events: alice.session.events,
    },
    health: alice.health,
  } as unknown as SessionClient;

  async function verifyBob(): Promise<void> {
    const seen = await listAll(bob);
    expect(seen.every((session) => session.owner === BOB)).toBe(true);
    const byId = new Map(seen.map((session) => [session.id, session]));
    expect(byId.size, "bob sees as many sessions as he made").toBe(bobs.size);
    for (const [id, made] of bobs) expect(byId.get(id), `bob's ${id}`).toEqual(made);
  }

  return { client, verifyBob };
}
