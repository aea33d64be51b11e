/** A `session.events` subscription through the typed client, collecting what arrives. */
import type { SessionClient } from "@sessiond/client";
import type { SessionEvent } from "@sessiond/shared";

export interface Received {
  id: number;
  event: SessionEvent;
}

/** Subscribes through the typed client and collects what arrives. */
export function subscribe(client: SessionClient, input: Parameters<SessionClient["session"]["events"]["subscribe"]>[0] = {}) {
  const received: Received[] = [];
  const errors: unknown[] = [];
  /** Errors the link reported while (re)connecting; it retries those by itself (e.g. 503). */
  const connectionErrors: unknown[] = [];
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const subscription = client.session.events.subscribe(input, {
    onStarted: () => started(),
    onData: ({ id, data }) => received.push({ id: Number(id), event: data }),
    onError: (error) => errors.push(error),
    onConnectionStateChange: (state) => {
      if (state.error) connectionErrors.push(state.error);
    },
  });
  return {
    received,
    errors,
    connectionErrors,
    ready,
    async waitFor(count: number, timeoutMs = 20_000): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count && errors.length === 0) {
        if (Date.now() > deadline) throw new Error(`timed out: ${received.length} of ${count} events`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (errors.length > 0) throw errors[0];
      return received.slice(0, count);
    },
    stop: () => subscription.unsubscribe(),
  };
}
