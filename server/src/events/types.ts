/**
 * The shapes the rest of the server sees of live events. Kept free of the hub and the logger, so
 * that the router's type (which the client's declarations bundle) does not reach pino.
 */
import type { SessionEventsInput } from "@sessiond/shared";
import type { StoredEvent } from "../store/types.ts";

export interface EventSettings {
  eventPollMs: number;
  eventRetentionMs: number;
  maxSubscribers: number;
  slowSubscriberTimeoutMs: number;
  heartbeatMs: number;
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
  events(): AsyncGenerator<StoredEvent>;
  /** The same events, in the groups they were read in (never empty): one socket write per group. */
  batches(): AsyncGenerator<StoredEvent[]>;
}

export interface EventService {
  readonly settings: EventSettings;
  /** A write committed on this instance: read its events now. */
  poke(): void;
  /** See openEventStream (stream.ts): throws EventsExpiredError or SubscriberLimitError. */
  open(input: SessionEventsInput, scope: EventScope, signal: AbortSignal): Promise<EventStream>;
  close(): Promise<void>;
}
