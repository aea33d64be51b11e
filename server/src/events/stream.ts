/**
 * One subscriber's stream of events, shared by the tRPC subscription and the REST route: checks the
 * resume point, takes a subscriber slot, then yields every later event once, in ID order, that
 * passes the filter. A subscriber holds its position, its filter's ID and at most one group of
 * events (PAGE, the hub's shared objects): one that stops reading simply stops pulling, and one
 * that falls behind the hub's memory takes the pages the hub reads for everyone at that point.
 * Each step takes its cost from the hub's budget (budget.ts) before it runs. A subscriber
 * receives only the events of its owner's sessions (the operator's, every owner's).
 */
import type { SessionEventsInput } from "@sessiond/shared";
import type { SessionStore } from "../store/types.ts";
import type { LiveEvent } from "./encoding.ts";
import { EventsExpiredError } from "./errors.ts";
import { eventFilter } from "./filter.ts";
import type { EventHub } from "./hub.ts";
import type { DeliveredEvent, EventScope, EventStream } from "./types.ts";

/**
 * Costs in the budget's units (about 10 µs each where they were measured): checking an event
 * against a filter; handing an event to tRPC, which serialises it for each subscriber through its
 * stream machinery (about 40 µs an event there), per event and per KiB of its JSON; encoding an
 * event's frame, once per instance; writing a chunk of frames (joining them, copying them to the
 * socket), per chunk and per KiB.
 */
const FILTER_COST = 0.01;
const TRPC_EVENT_COST = 4;
const TRPC_KIB_COST = 0.3;
const ENCODE_COST = 1;
const ENCODE_KIB_COST = 0.3;
const SSE_CHUNK_COST = 1;
const SSE_KIB_COST = 0.2;

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
  try {
    if (input?.lastEventId != null) {
      const log = await store.eventLog();
      startId = Number(input.lastEventId);
      if (startId < log.prunedThrough || startId > log.lastId) throw new EventsExpiredError(startId, log.prunedThrough, log.lastId);
    } else {
      // Not the table's last ID: on PostgreSQL an event still in flight may yet commit below it.
      startId = await hub.now(signal);
    }
  } catch (error) {
    release();
    throw error;
  }
  const filter = eventFilter(input, scope);
  if (signal.aborted) release();
  else signal.addEventListener("abort", release, { once: true });
  let started = false;

  /** Groups of events that pass the filter, and whether a group is every event of its stretch of the log. */
  async function* groups(): AsyncGenerator<{ events: LiveEvent[]; whole: boolean }> {
    let last = startId;
    try {
      while (!signal.aborted && !hub.closed) {
        const { events, through, readAt } = await hub.eventsAfter(last);
        if (through === last) {
          await hub.waitForEventsAfter(last, signal);
          continue;
        }
        // A hole right after `last` is an ID that never committed (PostgreSQL) or a pruned one:
        // pruning that overtook this subscriber must not make it silently skip events.
        if ((events[0]?.id ?? through + 1) !== last + 1) {
          const log = await hub.eventLog(readAt);
          if (last < log.prunedThrough) throw new EventsExpiredError(last, log.prunedThrough, log.lastId);
        }
        last = through;
        if (filter === null) {
          if (events.length > 0) yield { events, whole: true };
          continue;
        }
        const wait = hub.budget.take(FILTER_COST * events.length);
        if (wait) await wait;
        const wanted = events.filter(filter);
        if (wanted.length > 0) yield { events: wanted, whole: wanted.length === events.length };
      }
    } finally {
      release();
    }
  }

  async function* events(): AsyncGenerator<DeliveredEvent> {
    for await (const group of groups()) {
      for (const event of group.events) {
        const wait = hub.budget.take(TRPC_EVENT_COST + (TRPC_KIB_COST * event.size) / 1024);
        if (wait) await wait;
        yield event;
      }
    }
  }

  async function* sse(): AsyncGenerator<Uint8Array> {
    for await (const { events, whole } of groups()) {
      let cost = SSE_CHUNK_COST;
      for (const event of events) {
        cost += (SSE_KIB_COST * event.size) / 1024;
        if (!event.encoded) cost += ENCODE_COST + (ENCODE_KIB_COST * event.size) / 1024;
      }
      const wait = hub.budget.take(cost);
      if (wait) await wait;
      yield hub.chunks.chunk(events, whole);
    }
  }

  const once = <T>(make: () => T): T => {
    if (started) throw new Error("an event stream is consumed once");
    started = true;
    return make();
  };
  return { startId, events: () => once(events), sse: () => once(sse) };
}

/**
 * Yields what `source` yields, and calls `cutOff` when the consumer has not asked for the next
 * item within `timeoutMs` of receiving one: a subscriber that stops reading (its socket buffer
 * full) is disconnected instead of holding a slot forever. One timer per stream, re-armed for
 * each item (not one per item: a fast stream hands out many).
 */
export async function* cutOffWhenStalled<T>(source: AsyncIterable<T>, timeoutMs: number, cutOff: () => void): AsyncGenerator<T> {
  let handedOut = false;
  const timer = setTimeout(() => {
    if (handedOut) cutOff();
  }, timeoutMs);
  try {
    for await (const item of source) {
      handedOut = true;
      timer.refresh();
      yield item;
      handedOut = false;
    }
  } finally {
    clearTimeout(timer);
  }
}
