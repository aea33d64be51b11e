/**
 * One instance's view of the event log: a single reader follows the events table (woken by this
 * instance's own writes, by the store's change check, and by a bounded poll) and keeps the most
 * recent events in memory, so a thousand subscribers cost one query per change, not a thousand.
 * A subscriber further behind than the memory reads the store itself. The table stays the truth:
 * the hub never invents an order, it only caches what the store returned. It reads through the
 * store's follower, which returns an event only once it is settled (every event with a smaller ID
 * that will ever commit has), so `head` is a point no later commit can land before.
 */
import type { Logger } from "../log.ts";
import type { EventFollower, SessionStore, StoredEvent } from "../store/types.ts";
import { SubscriberLimitError } from "./errors.ts";

export interface EventHubOptions {
  /** The store's change check runs at least this often (worst-case cross-process latency). */
  pollMs: number;
  /** Events older than this are pruned. */
  retentionMs: number;
  maxSubscribers: number;
  log: Logger;
  /** Recent events kept in memory (default 1024: with 16 KiB of metadata each, 16 MiB at most). */
  bufferSize?: number;
}

const READ_BATCH = 1000;
const PRUNE_BATCH = 500;

export class EventHub {
  readonly #store: SessionStore;
  #follower: EventFollower;
  readonly #options: EventHubOptions;
  readonly #bufferSize: number;
  /** Every event with `bufferStart < id <= head` is in #buffer, oldest first. */
  #buffer: StoredEvent[] = [];
  #bufferStart: number;
  #head: number;
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
  /** Set while nobody subscribes: the hub stopped reading, so #head and #buffer are behind. */
  #stale = false;

  private constructor(store: SessionStore, options: EventHubOptions, follower: EventFollower) {
    this.#store = store;
    this.#follower = follower;
    this.#options = options;
    this.#bufferSize = options.bufferSize ?? 1024;
    this.#head = follower.head;
    this.#bufferStart = follower.head;
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
        // Catch up by following the table afresh from its end with nothing buffered: a subscriber
        // behind that point reads the store itself (eventsAfter). The new start is settled as at
        // startup (PostgreSQL: once the writes in flight below it have ended).
        const follower = await this.#store.followEvents();
        this.#follower = follower;
        this.#stale = false;
        this.#buffer = [];
        this.#head = this.#bufferStart = follower.head;
        this.#wake();
      }
      for (;;) {
        const wasSettled = this.#follower.settled;
        const { events, more } = await this.#follower.read(READ_BATCH);
        if (!wasSettled && this.#follower.settled) this.#wake();
        if (events.length > 0) {
          this.#buffer.push(...events);
          this.#head = events.at(-1)!.id;
          if (this.#buffer.length > this.#bufferSize) {
            const dropped = this.#buffer.splice(0, this.#buffer.length - this.#bufferSize);
            this.#bufferStart = dropped.at(-1)!.id;
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
   * Up to `limit` settled events after `afterId`, oldest first: from memory when it covers them,
   * else from the store. `through`: the ID a reader has covered with them (past IDs that never
   * committed); `afterId` itself when there is nothing new yet.
   */
  async eventsAfter(afterId: number, limit: number): Promise<{ events: StoredEvent[]; through: number }> {
    const head = this.#head;
    // Until the start point is settled, an event below it may still commit: nothing is certain.
    if (!this.#follower.settled) return { events: [], through: afterId };
    if (afterId < this.#bufferStart) {
      const read = await this.#store.readEvents(afterId, limit);
      // The table may already hold events past the head whose predecessors are still in flight.
      const events = read.filter((event) => event.id <= head);
      return { events, through: events.length === limit ? events.at(-1)!.id : Math.max(afterId, head) };
    }
    // Binary search for the first buffered event after afterId.
    let low = 0;
    let high = this.#buffer.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#buffer[middle]!.id <= afterId) low = middle + 1;
      else high = middle;
    }
    const events = this.#buffer.slice(low, low + limit);
    return { events, through: low + limit < this.#buffer.length ? events.at(-1)!.id : Math.max(afterId, head) };
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
      // A bounded number of batches per tick; the next tick continues.
      for (let batch = 0; batch < 20; batch++) {
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
