/**
 * One instance's view of the event log: a single reader follows the events table (woken by this
 * instance's own writes, by the store's change check, and by a bounded poll) and keeps the most
 * recent events in memory, so a thousand subscribers cost one query per change, not a thousand.
 * A subscriber further behind takes pages of the log that the hub reads once for every subscriber
 * at that point (a page is a fixed range of IDs, so subscribers that resume from different IDs
 * still share it); the hub keeps the pages used last, and the events leaving its recent memory
 * become pages too. The table stays the truth: the hub never invents an
 * order, it only caches what the store returned. It reads through the store's follower, which
 * returns an event only once it is settled (every event with a smaller ID that will ever commit
 * has), so `head` is a point no later commit can land before.
 *
 * Every read, and every subscriber's share of the work, takes its cost from one budget per turn
 * of the event loop (budget.ts): however many subscribers, resume points or events there are, a
 * turn does a bounded amount of it, and other requests are served in between.
 */
import type { Logger } from "../log.ts";
import type { EventFollower, EventLogState, SessionStore } from "../store/types.ts";
import { TurnBudget } from "./budget.ts";
import { type EventCounters, LiveEvent, SseChunks } from "./encoding.ts";
import { SubscriberLimitError } from "./errors.ts";

export interface EventHubOptions {
  /** The store's change check runs at least this often (worst-case cross-process latency). */
  pollMs: number;
  /** Events older than this are pruned. */
  retentionMs: number;
  maxSubscribers: number;
  log: Logger;
}

/** Events per read, per page of the log, and the most a subscriber takes at once. */
export const PAGE = 256;
/** Recent events kept in memory (with 16 KiB of metadata each, 16 MiB, and as much again once encoded). */
export const LIVE_EVENTS = 1024;
/**
 * Older pages kept for subscribers catching up, least recently used dropped first: at most this
 * many pages (16,384 events) and this much JSON (their `size`). Subscribers that resume from about
 * the same point at about the same time, or that fall behind memory together (a large delete),
 * then read each page once between them.
 */
const KEPT_PAGES = 64;
const KEPT_BYTES = 16 * 1024 * 1024;
const PRUNE_BATCH = 500;

/**
 * The budget of one turn, in units of about 10 µs of work as measured on the machine that built
 * this (2 cores shared with other work): about 10 ms of event work between two chances for other
 * requests, which stays under 100 ms even when the process gets a fraction of a core.
 */
export const TURN_BUDGET = 1000;
/** Reading a page of the log: each event's share of the query and its decoding, per event and per KiB of it. */
const READ_EVENT_COST = 0.6;
const READ_KIB_COST = 0.15;
/** Pruning a batch: per event deleted. */
const PRUNE_COST = 0.1;

/** What reading `events` cost; a read takes a page of small events' cost before it runs, and is charged (or refunded) the difference. */
function readCost(events: readonly { size: number }[]): number {
  let cost = 0;
  for (const { size } of events) cost += READ_EVENT_COST + (READ_KIB_COST * size) / 1024;
  return cost;
}

/** Events after `last` up to `through` (inclusive), read at `readAt` of the hub's clock. */
export interface Segment {
  events: LiveEvent[];
  through: number;
  readAt: number;
}

/** A page: every settled event with `from < id <= through` (a range within one PAGE of IDs). */
interface Page extends Segment {
  from: number;
  /** The events' `size`, summed. */
  bytes: number;
}

export class EventHub {
  readonly #store: SessionStore;
  #follower: EventFollower;
  readonly #options: EventHubOptions;
  /** Every event with `liveStart < id <= head` is in #live, oldest first. */
  #live: LiveEvent[] = [];
  #liveStart: number;
  #head: number;
  /** Older pages by index (IDs `index * PAGE < id <= (index + 1) * PAGE`), least recently used first. */
  readonly #pages = new Map<number, Page>();
  #pagesBytes = 0;
  readonly #pageReads = new Map<number, Promise<Page>>();
  /** Counts the hub's reads, so that a check of the log can be known to come after a read. */
  #clock = 0;
  #liveReadAt = 0;
  #log: { startedAt: number; state: Promise<EventLogState> } | undefined;
  readonly budget = new TurnBudget(TURN_BUDGET);
  readonly chunks = new SseChunks();
  readonly counters: EventCounters = { eventsRead: 0, framesEncoded: 0 };
  #waiters = new Set<() => void>();
  #subscribers = 0;
  #reading: Promise<void> | null = null;
  #scheduled: NodeJS.Immediate | undefined;
  #readAgain = false;
  /** Read rounds started and finished, so that a caller can wait for a round that began after it asked. */
  #roundsStarted = 0;
  #roundsDone = 0;
  #roundWaiters = new Set<() => void>();
  #stopWatching: () => Promise<void> = async () => undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #pruning = false;
  #closed = false;
  #announce = false;
  /** Set while nobody subscribes: the hub stopped reading, so #head and #live are behind. */
  #stale = false;

  private constructor(store: SessionStore, options: EventHubOptions, follower: EventFollower) {
    this.#store = store;
    this.#follower = follower;
    this.#options = options;
    this.#head = follower.head;
    this.#liveStart = follower.head;
  }

  static async start(store: SessionStore, options: EventHubOptions): Promise<EventHub> {
    const hub = new EventHub(store, options, await store.followEvents());
    hub.#stopWatching = store.watchEvents(() => hub.poke(), options.pollMs);
    // Pruning in small batches, each its own short transaction, so writers never wait long.
    const pruneEvery = Math.max(100, Math.min(60_000, Math.floor(options.retentionMs / 4)));
    hub.#pruneTimer = setInterval(() => void hub.#prune(), pruneEvery);
    hub.#pruneTimer.unref();
    return hub;
  }

  /** The last event this instance has read: every event up to it is settled. */
  get head(): number {
    return this.#head;
  }

  /** Once closed (shutdown), streams end. */
  get closed(): boolean {
    return this.#closed;
  }

  get subscribers(): number {
    return this.#subscribers;
  }

  /** This instance committed a write: read its events now, and tell the other instances. */
  wrote(): void {
    this.#announce = true;
    this.poke();
  }

  /**
   * New events may exist: read them at the end of this event-loop turn, so that every write
   * committed in the turn is read (and sent to each subscriber) together. Calls while a read runs
   * are coalesced into one more read.
   */
  poke(): void {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      this.#startRound();
    });
  }

  #startRound(): void {
    if (this.#closed) return;
    this.#roundsStarted++;
    this.#reading = this.#readNew().finally(() => {
      this.#reading = null;
      this.#roundsDone++;
      const waiters = this.#roundWaiters;
      this.#roundWaiters = new Set();
      for (const wake of waiters) wake();
      if (this.#readAgain) {
        this.#readAgain = false;
        this.poke();
      }
    });
  }

  async #readNew(): Promise<void> {
    try {
      // Writes of ours since the last round: tell the other instances, once for all of them.
      if (this.#announce) {
        this.#announce = false;
        await this.#store.announceEvents?.().catch((error: unknown) => this.#options.log.warn({ err: error }, "announcing events failed"));
      }
      // Nobody to deliver to: reading and decoding the new events would be wasted work on every write.
      if (this.#subscribers === 0) {
        this.#stale = true;
        return;
      }
      if (this.#stale) {
        // Catch up by following the table afresh from its end with nothing in memory: a subscriber
        // behind that point takes pages. The new start is settled as at startup (PostgreSQL: once
        // the writes in flight below it have ended).
        const follower = await this.#store.followEvents();
        this.#follower = follower;
        this.#stale = false;
        this.#live = [];
        this.#head = this.#liveStart = follower.head;
        this.#wake();
      }
      for (;;) {
        // A page of small events up front; the rest of what it cost once it is known.
        const wait = this.budget.take(READ_EVENT_COST * PAGE);
        if (wait) await wait;
        if (this.#closed) return;
        const wasSettled = this.#follower.settled;
        this.#liveReadAt = ++this.#clock;
        const { events, more } = await this.#follower.read(PAGE);
        if (!wasSettled && this.#follower.settled) this.#wake();
        if (events.length > 0) {
          this.budget.charge(readCost(events) - READ_EVENT_COST * PAGE);
          this.counters.eventsRead += events.length;
          for (const event of events) this.#live.push(new LiveEvent(event, this.counters));
          this.#head = events.at(-1)!.id;
          if (this.#live.length > LIVE_EVENTS) {
            const dropped = this.#live.splice(0, this.#live.length - LIVE_EVENTS);
            const from = this.#liveStart;
            this.#liveStart = dropped.at(-1)!.id;
            this.#retire(dropped, from);
          }
          this.#wake();
        }
        if (!more) break;
      }
    } catch (error) {
      // The store is unavailable: the next poll tries again; subscribers just wait.
      this.#options.log.warn({ err: error }, "reading events failed");
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Up to PAGE settled events after `last`, oldest first, and the ID they cover through (past IDs
   * that never committed; `last` itself when there is nothing new yet): from memory when it
   * covers them, else from a page of the log read once for every subscriber that needs it.
   */
  async eventsAfter(last: number): Promise<Segment> {
    for (;;) {
      // Until the start point is settled, an event below it may still commit: nothing is certain.
      if (!this.#follower.settled || last >= this.#head) return { events: [], through: last, readAt: this.#clock };
      if (last >= this.#liveStart) {
        const live = this.#live;
        const from = firstAfter(live, last);
        const events = live.slice(from, from + PAGE);
        const through = from + PAGE < live.length ? events.at(-1)!.id : this.#head;
        return { events, through, readAt: this.#liveReadAt };
      }
      const index = Math.floor(last / PAGE);
      let page = this.#pages.get(index);
      if (page && page.from <= last && page.through > last) {
        this.#keep(index, page); // the most recently used
      } else {
        page = await this.#readPage(index);
      }
      // A page read that another subscriber started earlier may stop before `last`: look again.
      if (page.from <= last && page.through > last) {
        return { events: page.events.slice(firstAfter(page.events, last)), through: page.through, readAt: page.readAt };
      }
    }
  }

  /** Reads page `index` up to where memory starts, once however many subscribers ask meanwhile. */
  #readPage(index: number): Promise<Page> {
    const inFlight = this.#pageReads.get(index);
    if (inFlight) return inFlight;
    const read = (async (): Promise<Page> => {
      const wait = this.budget.take(READ_EVENT_COST * PAGE);
      if (wait) await wait;
      const from = index * PAGE;
      // Never past the head (the table may hold later events whose predecessors are in flight).
      const through = Math.min(from + PAGE, this.#liveStart);
      const readAt = ++this.#clock;
      const stored = await this.#store.readEvents(from, through - from);
      this.budget.charge(readCost(stored) - READ_EVENT_COST * PAGE);
      this.counters.eventsRead += stored.length;
      const events: LiveEvent[] = [];
      for (const event of stored) {
        if (event.id > through) break; // past a gap of IDs: beyond this page
        events.push(new LiveEvent(event, this.counters));
      }
      const page = { from, through, events, readAt, bytes: events.reduce((sum, event) => sum + event.size, 0) };
      this.#keep(index, page);
      return page;
    })().finally(() => this.#pageReads.delete(index));
    this.#pageReads.set(index, read);
    return read;
  }

  /** Keeps `page` as the most recently used, dropping the least recently used over the bounds. */
  #keep(index: number, page: Page): void {
    const old = this.#pages.get(index);
    if (old) {
      this.#pages.delete(index);
      this.#pagesBytes -= old.bytes;
    }
    this.#pages.set(index, page);
    this.#pagesBytes += page.bytes;
    for (const [oldest, kept] of this.#pages) {
      if (oldest === index || (this.#pages.size <= KEPT_PAGES && this.#pagesBytes <= KEPT_BYTES)) break;
      this.#pages.delete(oldest);
      this.#pagesBytes -= kept.bytes;
    }
  }

  /**
   * Events leaving memory (`from < id`, in order) go to the pages, where subscribers that fell
   * behind find them without reading them again.
   */
  #retire(events: LiveEvent[], from: number): void {
    const readAt = this.#liveReadAt;
    let start = 0;
    while (start < events.length) {
      const index = Math.floor((events[start]!.id - 1) / PAGE);
      const pageEnd = (index + 1) * PAGE;
      let end = start;
      while (end < events.length && events[end]!.id <= pageEnd) end++;
      const slice = events.slice(start, end);
      const rangeFrom = Math.max(index * PAGE, from);
      // The stretch retired covers IDs up to the next event's (or, for the last, the new start of memory).
      const rangeThrough = end < events.length ? pageEnd : Math.min(pageEnd, this.#liveStart);
      const bytes = slice.reduce((sum, event) => sum + event.size, 0);
      const page = this.#pages.get(index);
      if (page && page.through === rangeFrom) {
        // Contiguous: the page grows.
        this.#keep(index, { ...page, events: page.events.concat(slice), through: rangeThrough, bytes: page.bytes + bytes, readAt });
      } else {
        this.#keep(index, { from: rangeFrom, through: rangeThrough, events: slice, readAt, bytes });
      }
      from = rangeThrough;
      start = end;
    }
  }

  /**
   * The log's last and last pruned IDs, as a check that started after the hub's read `readAt`
   * saw them: one check serves every subscriber that met a gap in what that read returned.
   */
  eventLog(readAt: number): Promise<EventLogState> {
    if (this.#log && this.#log.startedAt > readAt) return this.#log.state;
    const log = { startedAt: ++this.#clock, state: this.#store.eventLog() };
    this.#log = log;
    log.state.catch(() => {
      if (this.#log === log) this.#log = undefined;
    });
    return log.state;
  }

  /**
   * "Now" for a new subscriber: the head after a read that began after this call, once the start
   * point is settled. Every event committed after this resolves has a later ID.
   */
  async now(signal: AbortSignal): Promise<number> {
    let round = this.#roundsStarted + 1;
    this.poke();
    for (;;) {
      await this.#roundDone(round, signal);
      if (this.#follower.settled || signal.aborted || this.#closed) return this.#head;
      round = this.#roundsDone + 1; // the next poll's round
    }
  }

  #roundDone(round: number, signal: AbortSignal): Promise<void> {
    if (this.#roundsDone >= round || signal.aborted || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.#roundsDone < round && !signal.aborted && !this.#closed) return void this.#roundWaiters.add(check);
        signal.removeEventListener("abort", check);
        this.#roundWaiters.delete(check);
        resolve();
      };
      this.#roundWaiters.add(check);
      signal.addEventListener("abort", check, { once: true });
    });
  }

  /** Resolves once an event after `afterId` has been read (and the start is settled), or when `signal` aborts. */
  waitForEventsAfter(afterId: number, signal: AbortSignal): Promise<void> {
    if ((this.#head > afterId && this.#follower.settled) || signal.aborted || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Takes a subscriber slot; throws SubscriberLimitError when all are taken. Returns the release. */
  acquire(): () => void {
    if (this.#subscribers >= this.#options.maxSubscribers) throw new SubscriberLimitError(this.#options.maxSubscribers);
    this.#subscribers++;
    // Catch up now, not at the next write or poll (also when a read that saw no subscriber runs).
    if (this.#stale || this.#reading) this.poke();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#subscribers--;
    };
  }

  async #prune(): Promise<void> {
    if (this.#pruning) return;
    this.#pruning = true;
    try {
      const before = new Date(Date.now() - this.#options.retentionMs);
      // A bounded number of batches per tick, each paced; the next tick continues.
      for (let batch = 0; batch < 20 && !this.#closed; batch++) {
        const wait = this.budget.take(PRUNE_COST * PRUNE_BATCH);
        if (wait) await wait;
        if ((await this.#store.pruneEvents(before, PRUNE_BATCH)) < PRUNE_BATCH) break;
      }
    } catch (error) {
      this.#options.log.warn({ err: error }, "pruning events failed");
    } finally {
      this.#pruning = false;
    }
  }

  #closing: Promise<void> | undefined;

  /** Ends every stream and stops reading; a second call waits for the first. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    clearImmediate(this.#scheduled);
    await this.#stopWatching();
    await this.#reading;
    this.#wake();
    for (const wake of [...this.#roundWaiters]) wake();
  }
}

/** The index of the first event after `id` in `events` (sorted by ID), by binary search. */
function firstAfter(events: readonly LiveEvent[], id: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (events[middle]!.id <= id) low = middle + 1;
    else high = middle;
  }
  return low;
}
