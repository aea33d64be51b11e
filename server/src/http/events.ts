/**
 * `GET /event`: live events as server-sent events in opencode's shape, for callers without the
 * tRPC client. `id:` is the event ID; a reconnecting EventSource sends it back as `Last-Event-ID`
 * and gets every later event exactly once. Filters: `?sessionId=<id>` (that session and its
 * descendants) or `?roots=true`. A resume point that is gone answers 410 Gone. A subscriber gets
 * the events of its owner's sessions only (the operator without an owner named, every owner's).
 * Error bodies are the REST routes' (rest.ts): `error.data` as tRPC callers get it, with the message.
 */
import { SessionEventsInputSchema } from "@sessiond/shared";
import { TRPCError, getTRPCErrorFromUnknown } from "@trpc/server";
import { describeError } from "../errors.ts";
import { EventsExpiredError } from "../events/errors.ts";
import type { EventService, EventStream } from "../events/types.ts";
import type { Logger } from "../log.ts";
import type { Caller } from "./auth.ts";
import type { Exchange, StreamSink } from "./exchange.ts";
import { queryInput, sendRestError, type QueryType } from "./rest.ts";

const PATH = "/event";

/** The stream's input: the query (by its types in the input schema) and `Last-Event-ID`, which wins. */
function streamInput(ex: Exchange, types: Record<string, QueryType>): unknown {
  const input = queryInput(new URLSearchParams(ex.query), types);
  const header = ex.header("last-event-id");
  if (header !== undefined && header !== "") input.lastEventId = header;
  return input;
}

/** The route's handler. Frames come encoded once per instance and paced by the events layer (events/encoding.ts). */
export function createEventRoute(events: EventService, log: Logger, query: Record<string, QueryType>) {
  const { heartbeatMs, slowSubscriberTimeoutMs } = events.settings;

  /** Writes, and when the peer's buffer is full waits for it to drain, cutting a peer that never reads. */
  async function write(sink: StreamSink, chunk: Uint8Array): Promise<void> {
    if (sink.write(chunk) || sink.closed) return;
    const timer = setTimeout(() => {
      log.info({ timeoutMs: slowSubscriberTimeoutMs }, "event subscriber too slow: disconnected");
      sink.abort();
    }, slowSubscriberTimeoutMs);
    await sink.drained();
    clearTimeout(timer);
  }

  async function serve(ex: Exchange, caller: Caller): Promise<void> {
    let raw: unknown;
    try {
      raw = streamInput(ex, query);
    } catch (error) {
      return sendRestError(ex, getTRPCErrorFromUnknown(error), PATH);
    }
    const parsed = SessionEventsInputSchema.safeParse(raw);
    if (!parsed.success) return sendRestError(ex, new TRPCError({ code: "BAD_REQUEST", cause: parsed.error }), PATH);
    let stream: EventStream;
    try {
      stream = await events.open(parsed.data, caller, ex.signal);
    } catch (error) {
      if (error instanceof EventsExpiredError) return sendRestError(ex, error, PATH, 410);
      const trpcError = getTRPCErrorFromUnknown(error);
      if (trpcError.code === "SERVICE_UNAVAILABLE") ex.setHeader("retry-after", "1");
      if (trpcError.code === "INTERNAL_SERVER_ERROR") log.error({ requestId: ex.requestId, err: error }, "event stream failed");
      return sendRestError(ex, trpcError, PATH);
    }

    ex.setHeader("cache-control", "no-cache, no-transform");
    ex.setHeader("x-accel-buffering", "no");
    ex.setHeader("content-type", "text/event-stream; charset=utf-8");
    const sink = ex.stream(200);
    if (sink.closed) return; // HEAD: the headers were the answer
    // The first line tells the client where the stream starts (useful with "from now").
    sink.write(`: sessiond events after ${stream.startId}\nretry: 1000\n\n`);

    // A heartbeat meets the same rule as an event: one the peer has not taken within the
    // slow-subscriber timeout (it stopped reading, its buffers are full) cuts the stream, even when
    // no event is waiting. One at a time, so a stalled peer never piles them up.
    let pingTimer: NodeJS.Timeout | undefined;
    const heartbeat = setInterval(() => {
      if (pingTimer || sink.closed) return;
      pingTimer = setTimeout(() => {
        log.info({ timeoutMs: slowSubscriberTimeoutMs }, "event subscriber not reading heartbeats: disconnected");
        sink.abort();
      }, slowSubscriberTimeoutMs);
      sink.write(": ping\n\n", () => {
        clearTimeout(pingTimer);
        pingTimer = undefined;
      });
    }, heartbeatMs);
    try {
      for await (const chunk of stream.sse()) {
        await write(sink, chunk);
        if (sink.closed) break;
      }
    } catch (error) {
      if (!(error instanceof EventsExpiredError)) throw error;
      // Pruning overtook this subscriber: it must re-list rather than skip events.
      const { message, data } = describeError(error, { requestId: ex.requestId, path: PATH });
      sink.write(`event: expired\ndata: ${JSON.stringify({ ...data, httpStatus: 410, message })}\n\n`);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(pingTimer);
      sink.end();
    }
  }

  return function handleEvents(ex: Exchange, caller: Caller): void {
    serve(ex, caller).catch((cause: unknown) => {
      log.error({ requestId: ex.requestId, err: cause }, "event stream failed");
      ex.disconnect();
    });
  };
}
