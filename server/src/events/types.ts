/**
 * The shapes the rest of the server sees of live events. Kept free of the hub and the logger, so
 * that the router's type (which the client's declarations bundle) does not reach pino.
 */
import type { SessionEvent, SessionEventsInput } from "@sessiond/shared";

export interface EventSettings {
  eventPollMs: number;
  eventRetentionMs: number;
  maxSubscribers: number;
  slowSubscriberTimeoutMs: number;
  heartbeatMs: number;
}

/** An event as a stream hands it out: the same object for every subscriber that receives it. */
export interface DeliveredEvent {
  readonly id: number;
  /** opencode's shape, the value `session.events` yields (tracked by `id`). */
  readonly message: SessionEvent;
}

/**
 * Whose events a stream carries: those of `owner`'s sessions, or with `allOwners` (the operator)
 * every owner's; a `sessionId` filter names a session of `owner` either way.
 */
export interface EventScope {
  owner: string;
  allOwners?: boolean;
}

export interface EventStream {
  /** The ID the stream starts after. */
  startId: number;
  /** Every later event that passes the filter, once, in ID order, paced (budget.ts). */
  events(): AsyncGenerator<DeliveredEvent>;
  /**
   * The same events as server-sent-events frames (`id:` and `data:`, encoded once per instance),
   * several to a chunk: one socket write each. The stream is consumed through one of the two.
   * (Uint8Array, not Buffer: the router's type, which the client's declarations bundle, must not
   * need Node's types.)
   */
  sse(): AsyncGenerator<Uint8Array>;
}

/** What an instance's events cost it so far (counters since start), for /metrics. */
export interface EventStats {
  subscribers: number;
  eventsRead: number;
  framesEncoded: number;
}

export interface EventService {
  readonly settings: EventSettings;
  /** A write committed on this instance: read its events now. */
  poke(): void;
  /** See openEventStream (stream.ts): throws EventsExpiredError or SubscriberLimitError. */
  open(input: SessionEventsInput, scope: EventScope, signal: AbortSignal): Promise<EventStream>;
  stats(): EventStats;
  close(): Promise<void>;
}
