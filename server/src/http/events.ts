/**
 * `GET /event`: live events as server-sent events in opencode's shape, for callers without the
 * tRPC client. `id:` is the event ID; a reconnecting EventSource sends it back as `Last-Event-ID`
 * and gets every later event exactly once. Filters: `?sessionId=<id>` (that session and its
 * descendants) or `?roots=true`. A resume point that is gone answers 410 Gone. Error bodies are
 * the REST routes' (rest.ts): `error.data` as tRPC callers get it, with the message.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SessionEventsInputSchema } from "@sessiond/shared";
import { TRPCError } from "@trpc/server";
import { describeError } from "../errors.ts";
import { EventsExpiredError } from "../events/errors.ts";
import type { EventService, EventStream } from "../events/types.ts";
import type { Logger } from "../log.ts";

const PATH = "/event";

/** The REST error body; `status` overrides the code's (410 for an expired resume point, as Kubernetes' watch). */
function sendError(res: ServerResponse, error: TRPCError, requestId: string, headers: Record<string, string> = {}, status?: number): void {
  const { message, data } = describeError(error, { requestId, path: PATH });
  const httpStatus = status ?? data.httpStatus;
  const body = JSON.stringify({ ...data, httpStatus, message });
  res.writeHead(httpStatus, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

function queryInput(req: IncomingMessage): unknown {
  const params = new URL(req.url ?? "/", "http://localhost").searchParams;
  const input: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key in input) return { [key]: [input[key], value] }; // a repeated parameter fails validation
    input[key] = key === "roots" ? value === "true" || value === "1" || (value === "false" || value === "0" ? false : value) : value;
  }
  const header = req.headers["last-event-id"];
  if (typeof header === "string" && header !== "") input.lastEventId = header;
  return input;
}

export function createEventRoute(events: EventService, log: Logger) {
  const { heartbeatMs, slowSubscriberTimeoutMs } = events.settings;

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const parsed = SessionEventsInputSchema.safeParse(queryInput(req));
    if (!parsed.success) {
      sendError(res, new TRPCError({ code: "BAD_REQUEST", cause: parsed.error }), requestId);
      return;
    }
    const closed = new AbortController();
    res.once("close", () => closed.abort());
    let stream: EventStream;
    try {
      stream = await events.open(parsed.data, closed.signal);
    } catch (error) {
      if (error instanceof EventsExpiredError) sendError(res, error, requestId, {}, 410);
      else if (error instanceof TRPCError && error.code === "SERVICE_UNAVAILABLE") sendError(res, error, requestId, { "retry-after": "1" });
      else throw error;
      return;
    }

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
    // The first line tells the client where the stream starts (useful with "from now").
    res.write(`: sessiond events after ${stream.startId}\nretry: 1000\n\n`);

    /** Writes, and when the socket's buffer is full waits for it to drain, cutting a client that never reads. */
    const write = async (chunk: Uint8Array): Promise<void> => {
      if (res.write(chunk) || res.destroyed) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.info({ timeoutMs: slowSubscriberTimeoutMs }, "event subscriber too slow: disconnected");
          res.destroy();
          resolve();
        }, slowSubscriberTimeoutMs);
        const done = () => {
          clearTimeout(timer);
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    };
    // A heartbeat meets the same rule as an event: one the socket has not taken within the
    // slow-subscriber timeout (the client stopped reading, its buffers are full) cuts the stream,
    // even when no event is waiting. One at a time, so a stalled client never piles them up.
    let pingTimer: NodeJS.Timeout | undefined;
    const heartbeat = setInterval(() => {
      if (pingTimer || res.destroyed) return;
      pingTimer = setTimeout(() => {
        log.info({ timeoutMs: slowSubscriberTimeoutMs }, "event subscriber not reading heartbeats: disconnected");
        res.destroy();
      }, slowSubscriberTimeoutMs);
      // Called once the ping (and everything before it) is handed to the socket, or on an error.
      res.write(": ping\n\n", () => {
        clearTimeout(pingTimer);
        pingTimer = undefined;
      });
    }, heartbeatMs);
    try {
      // Chunks of frames encoded once per instance (events/encoding.ts), paced by the events layer.
      for await (const chunk of stream.sse()) {
        await write(chunk);
        if (res.destroyed) break;
      }
    } catch (error) {
      if (!(error instanceof EventsExpiredError)) throw error;
      // Pruning overtook this subscriber: it must re-list rather than skip events.
      const { message, data } = describeError(error, { requestId, path: PATH });
      res.write(`event: expired\ndata: ${JSON.stringify({ ...data, httpStatus: 410, message })}\n\n`);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(pingTimer);
      res.end();
    }
  }

  return function handleEvents(req: IncomingMessage, res: ServerResponse, requestId: string, authorized: boolean): void {
    if (req.method !== "GET") {
      const error = new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `The method ${req.method} is not allowed here: GET /event` });
      sendError(res, error, requestId, { allow: "GET" });
      return;
    }
    if (!authorized) {
      sendError(res, new TRPCError({ code: "UNAUTHORIZED", message: "Missing or wrong bearer token" }), requestId);
      return;
    }
    serve(req, res, requestId).catch((cause: unknown) => {
      log.error({ requestId, err: cause }, "event stream failed");
      if (res.headersSent) return void res.destroy();
      const error = cause instanceof TRPCError ? cause : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause });
      sendError(res, error, requestId);
    });
  };
}
