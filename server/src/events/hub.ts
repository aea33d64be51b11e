/**
 * One instance's view of the event log: a single reader follows the events table (woken by this
 * instance's own writes, by the store's change check, and by a bounded poll) and keeps the most
 * recent events in memory, so a thousand subscribers cost one query per change, not a thousand.
 * A subscriber further behind than the memory reads the store itself. The table stays the truth:
 * the hub never invents an order, it only caches what the store returned.
 */
import type { Logger } from "../log.ts";
import type { SessionStore, StoredEvent } from "../store/types.ts";
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
  readonly #options: EventHubOptions;
  readonly #bufferSize: number;
  /** Every event with `bufferStart < id <= head` is in #buffer, oldest first. */
  #buffer: StoredEvent[] = [];
  #bufferStart: number;
  #head: number;
  #waiters = new Set<() => void>();
  #subscribers = 0;
  #reading: Promise<void> | null = null;
  #readAgain = false;
  #stopWatching: () => Promise<void> = async () => undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #pruning = false;
  #closed = false;
  #announce = false;
  /** Set while nobody subscribes: the hub stopped reading, so #head and #buffer are behind. */
  #stale = false;

  private constructor(store: SessionStore, options: EventHubOptions, head: number) {
    this.#store = store;
    this.#options = options;
    this.#bufferSize = options.bufferSize ?? 1024;
    this.#head = head;
    this.#bufferStart = head;
  }

  static async start(store: SessionStore, options: EventHubOptions): Promise<EventHub> {
    const hub = new EventHub(store, options, (await store.eventLog()).lastId);
    hub.#stopWatching = store.watchEvents(() => hub.poke(), options.pollMs);
    // Pruning in small batches, each its own short transaction, so writers never wait long.
    const pruneEvery = Math.max(100, Math.min(60_000, Math.floor(options.retentionMs / 4)));
    hub.#pruneTimer = setInterval(() => void hub.#prune(), pruneEvery);
    hub.#pruneTimer.unref();
    return hub;
  }

  /** The last event this instance has read. */
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

  /** New events may exist: read them (calls while a read runs are coalesced into one more read). */
  poke(): void {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = this.#readNew().finally(() => {
      this.#reading = null;
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
        // Catch up by jumping to the last committed event with nothing buffered: a subscriber
        // behind that point reads the store itself (eventsAfter).
        const { lastId } = await this.#store.eventLog();
        this.#stale = false;
        this.#buffer = [];
        this.#head = this.#bufferStart = Math.max(this.#head, lastId);
        this.#wake();
      }
      for (;;) {
        const events = await this.#store.readEvents(this.#head, READ_BATCH);
        if (events.length === 0) break;
        this.#buffer.push(...events);
        this.#head = events.at(-1)!.id;
        if (this.#buffer.length > this.#bufferSize) {
          const dropped = this.#buffer.splice(0, this.#buffer.length - this.#bufferSize);
          this.#bufferStart = dropped.at(-1)!.id;
        }
        this.#wake();
        if (events.length < READ_BATCH) break;
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

  /** Up to `limit` events after `afterId`, oldest first: from memory when it covers them, else from the store. */
  async eventsAfter(afterId: number, limit: number): Promise<StoredEvent[]> {
    if (afterId < this.#bufferStart) return this.#store.readEvents(afterId, limit);
    // Binary search for the first buffered event after afterId.
    let low = 0;
    let high = this.#buffer.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#buffer[middle]!.id <= afterId) low = middle + 1;
      else high = middle;
    }
    return this.#buffer.slice(low, low + limit);
  }

  /** Resolves once an event after `afterId` has been read, or when `signal` aborts. */
  waitForEventsAfter(afterId: number, signal: AbortSignal): Promise<void> {
    if (this.#head > afterId || signal.aborted || this.#closed) return Promise.resolve();
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

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    await this.#stopWatching();
    await this.#reading;
    this.#wake();
  }
}
