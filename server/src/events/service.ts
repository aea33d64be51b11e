/** Live events for one instance: the hub, the bounds that apply to every subscriber, and opening streams. */
import type { SessionEventsInput } from "@sessiond/shared";
import type { Logger } from "../log.ts";
import type { SessionStore } from "../store/types.ts";
import { EventHub } from "./hub.ts";
import { openEventStream, type EventStream } from "./stream.ts";

export interface EventSettings {
  eventPollMs: number;
  eventRetentionMs: number;
  maxSubscribers: number;
  slowSubscriberTimeoutMs: number;
  heartbeatMs: number;
}

export interface EventService {
  readonly settings: EventSettings;
  readonly hub: EventHub;
  /** See openEventStream: throws EventsExpiredError or SubscriberLimitError. */
  open(input: SessionEventsInput, signal: AbortSignal): Promise<EventStream>;
  close(): Promise<void>;
}

export async function startEventService(store: SessionStore, settings: EventSettings, log: Logger): Promise<EventService> {
  const hub = await EventHub.start(store, {
    pollMs: settings.eventPollMs,
    retentionMs: settings.eventRetentionMs,
    maxSubscribers: settings.maxSubscribers,
    log,
  });
  return {
    settings,
    hub,
    open: (input, signal) => openEventStream(hub, store, input, signal),
    close: () => hub.close(),
  };
}
