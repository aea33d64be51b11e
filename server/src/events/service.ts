/** Live events for one instance: the hub, the bounds that apply to every subscriber, and opening streams. */
import type { Logger } from "../log.ts";
import type { SessionStore } from "../store/types.ts";
import { EventHub } from "./hub.ts";
import { openEventStream } from "./stream.ts";
import type { EventService, EventSettings } from "./types.ts";

export async function startEventService(store: SessionStore, settings: EventSettings, log: Logger): Promise<EventService> {
  const hub = await EventHub.start(store, {
    pollMs: settings.eventPollMs,
    retentionMs: settings.eventRetentionMs,
    maxSubscribers: settings.maxSubscribers,
    log,
  });
  return {
    settings,
    poke: () => hub.wrote(),
    open: (input, scope, signal) => openEventStream(hub, store, input, scope, signal),
    stats: () => ({ subscribers: hub.subscribers, ...hub.counters }),
    close: () => hub.close(),
  };
}
