/**
 * One subscriber's stream of events, shared by the tRPC subscription and the REST route: checks the
 * resume point, takes a subscriber slot, then yields every later event once, in ID order, that
 * passes the filter. Nothing is buffered per subscriber: a subscriber that stops reading simply
 * stops pulling, and one that falls behind the hub's memory reads the store page by page. A
 * subscriber receives only the events of its owner's sessions (the operator's, every owner's).
 */
import type { SessionEvent, SessionEventsInput } from "@sessiond/shared";
import type { SessionStore, StoredEvent } from "../store/types.ts";
import { EventsExpiredError } from "./errors.ts";
import type { EventHub } from "./hub.ts";
import type { EventScope, EventStream } from "./types.ts";

/** The most sessions a "this session and its descendants" filter follows. */
export const SUBTREE_CAP = 100_000;
const PAGE = 500;

type Filter = (event: StoredEvent) => boolean;

/** Whether an event belongs to one session's tree (of `owner`'s); learns new descendants from their creation. */
async function subtreeFilter(store: SessionStore, owner: string, rootId: string): Promise<Filter> {
  const members = new Set(await store.subtreeIds(owner, rootId, SUBTREE_CAP));
  members.add(rootId);
  return (event) => {
    if (event.session.owner !== owner) return false;
    const { id, parentId } = event.session;
    // Parents never change, so membership is decided when a session is created (an ID reused
    // after a delete is judged afresh).
    if (event.type === "session.created") {
      const member = id === rootId || (parentId !== null && members.has(parentId));
      if (member && members.size < SUBTREE_CAP) members.add(id);
      else if (!member) members.delete(id);
      return member;
    }
    return members.has(id);
  };
}

/**
 * Opens a stream: throws EventsExpiredError for a resume point that is gone (or from another
 * database), SubscriberLimitError when the instance is full. The slot is released when `signal`
 * aborts (the connection closed) or the generator ends, whichever comes first.
 */
export async function openEventStream(
  hub: EventHub,
  store: SessionStore,
  input: SessionEventsInput,
  scope: EventScope,
  signal: AbortSignal,
): Promise<EventStream> {
  // The slot first: a hub with no subscriber reads nothing, and "now" needs it reading.
  const release = hub.acquire();
  let startId: number;
  let filter: Filter;
  try {
    if (input?.lastEventId != null) {
      const log = await store.eventLog();
      startId = Number(input.lastEventId);
      if (startId < log.prunedThrough || startId > log.lastId) throw new EventsExpiredError(startId, log.prunedThrough, log.lastId);
    } else {
      // Not the table's last ID: on PostgreSQL an event still in flight may yet commit below it.
      startId = await hub.now(signal);
    }
    const { owner } = scope;
    const everyOwner = scope.allOwners === true;
    filter = input?.sessionId
      ? await subtreeFilter(store, owner, input.sessionId)
      : input?.roots
        ? everyOwner
          ? (event) => event.session.parentId === null
          : (event) => event.session.owner === owner && event.session.parentId === null
        : everyOwner
          ? () => true
          : (event) => event.session.owner === owner;
  } catch (error) {
    release();
    throw error;
  }
  if (signal.aborted) release();
  else signal.addEventListener("abort", release, { once: true });
  let started = false;

  async function* batches(): AsyncGenerator<StoredEvent[]> {
    let last = startId;
    try {
      while (!signal.aborted && !hub.closed) {
        const { events: batch, through } = await hub.eventsAfter(last, PAGE);
        if (through === last) {
          await hub.waitForEventsAfter(last, signal);
          continue;
        }
        // A hole right after `last` is an ID that never committed (PostgreSQL) or a pruned one:
        // pruning that overtook this subscriber must not make it silently skip events.
        if ((batch[0]?.id ?? through + 1) !== last + 1) {
          const now = await store.eventLog();
          if (last < now.prunedThrough) throw new EventsExpiredError(last, now.prunedThrough, now.lastId);
        }
        last = through;
        const wanted = batch.filter(filter);
        if (wanted.length > 0) yield wanted;
      }
    } finally {
      release();
    }
  }

  async function* events(): AsyncGenerator<StoredEvent> {
    for await (const batch of batches()) yield* batch;
  }

  const once = <T>(make: () => T): T => {
    if (started) throw new Error("an event stream is consumed once");
    started = true;
    return make();
  };
  return { startId, events: () => once(events), batches: () => once(batches) };
}

/**
 * Yields what `source` yields, and calls `cutOff` when the consumer has not asked for the next
 * item within `timeoutMs` of receiving one: a subscriber that stops reading (its socket buffer
 * full) is disconnected instead of holding a slot forever.
 */
export async function* cutOffWhenStalled<T>(source: AsyncIterable<T>, timeoutMs: number, cutOff: () => void): AsyncGenerator<T> {
  for await (const item of source) {
    const timer = setTimeout(cutOff, timeoutMs);
    try {
      yield item;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The wire shape of a stored event (opencode's). */
export function toSessionEvent(event: StoredEvent): SessionEvent {
  return { type: event.type, properties: { info: event.session } };
}
