/**
 * The HTTP server: a request ID on every response, the routes (tRPC's front door at /trpc, REST,
 * live events, the console, /healthz, /metrics), CORS, pipelining in order, the access log and
 * metrics, timeouts against slow clients, and graceful shutdown.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TRPC_PATH } from "@sessiond/shared";
import type { TRPCError } from "@trpc/server";
import type { HttpHandler } from "../config.ts";
import { createContextInner } from "../context.ts";
import type { EventService } from "../events/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { AppRouter } from "../router.ts";
import type { SessionService } from "../session/service.ts";
import { createAccessObserver } from "./access.ts";
import { bearerCheck } from "./auth.ts";
import { createConsole } from "./console.ts";
import { createCors } from "./cors.ts";
import { createEventRoute } from "./events.ts";
import { serveInOrder } from "./in-order.ts";
import { createRestHandler } from "./rest.ts";
import { createTRPCFront } from "./trpc-front.ts";

export interface HttpServerOptions {
  router: AppRouter;
  sessions: SessionService;
  log: Logger;
  /** When set, every tRPC call needs `Authorization: Bearer <token>`. */
  token?: string;
  maxBodyBytes: number;
  maxBatchSize: number;
  /** Sessions one request may ask for in list pages, summed over its batch. */
  maxSessionsPerRequest: number;
  /** "fast": plain calls take the lean path (fast-path.ts), the rest the stock adapter; "stock": all stock. */
  httpHandler: HttpHandler;
  metrics: Metrics;
  /** The share of requests that get an access log line (0 turns it off, 1 logs every one). */
  accessLogSample: number;
  /** The server's version, for the OpenAPI document. */
  version?: string;
  /** Live events (GET /event and the session.events subscription). */
  events?: EventService;
  /** Origins whose pages may call (CORS); none by default. */
  corsOrigin?: readonly string[];
  /** Serve the console page at `/` (default true). */
  console?: boolean;
}

export interface ListenOptions extends HttpServerOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  writeTimeoutMs: number;
  shutdownTimeoutMs: number;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token, else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

export function createRequestListener(options: HttpServerOptions) {
  const { router, sessions, log, token, maxBodyBytes, maxSessionsPerRequest } = options;
  const authorized = bearerCheck(token);
  const cors = createCors(options.corsOrigin ?? []);
  const consolePage = createConsole(options.console ?? true);

  const onError = ({ error, path, req }: { error: TRPCError; path: string | undefined; req: IncomingMessage }) => {
    const requestId = req.headers["x-request-id"];
    if (error.code === "INTERNAL_SERVER_ERROR") log.error({ requestId, path, err: error.cause ?? error }, "internal error");
    else log.debug({ requestId, path, code: error.code, message: error.message }, "request failed");
  };

  const serveTRPC = createTRPCFront({ ...options, authorized }, onError);
  const rest = createRestHandler({
    router,
    maxBodyBytes,
    authorized: (req) => authorized(req.headers.authorization),
    createContext: (requestId) => createContextInner({ sessions, requestId, maxReads: maxSessionsPerRequest }),
    onError,
    version: options.version ?? "0.0.0",
  });

  async function health(res: ServerResponse, requestId: string): Promise<void> {
    try {
      sendJson(res, 200, await sessions.health());
    } catch (error) {
      log.warn({ err: error, requestId }, "health check failed");
      sendJson(res, 503, { status: "unavailable", requestId });
    }
  }

  const eventRoute = options.events && createEventRoute(options.events, log);

  function route(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    if (cors(req, res) || consolePage(req, res)) return;
    const url = req.url ?? "/";
    const path = url.split("?")[0]!;
    if (path === TRPC_PATH || path.startsWith(`${TRPC_PATH}/`)) {
      serveTRPC(req, res, requestId).catch((error: unknown) => {
        // Only reading the request can fail here (the client went away); there is nobody to answer.
        if (!res.headersSent) res.destroy(error instanceof Error ? error : undefined);
      });
    } else if (eventRoute && path === "/event") {
      eventRoute(req, res, requestId, authorized(req.headers.authorization));
    } else if (rest(req, res, requestId)) {
      // The REST routes and the OpenAPI document (rest.ts).
    } else if (path === "/healthz") {
      if (req.method === "GET" || req.method === "HEAD") void health(res, requestId);
      else sendJson(res, 405, { error: `method ${req.method} not allowed`, path, requestId }, { allow: "GET, HEAD" });
    } else if (path === "/metrics") {
      if (req.method !== "GET") sendJson(res, 405, { error: `method ${req.method} not allowed`, path, requestId }, { allow: "GET" });
      else if (!authorized(req.headers.authorization)) sendJson(res, 401, { error: "Missing or wrong bearer token", path, requestId });
      else void metricsText(res);
    } else {
      sendJson(res, 404, { error: "not found", path, requestId });
    }
  }

  async function metricsText(res: ServerResponse): Promise<void> {
    const text = await options.metrics.text();
    res.writeHead(200, { "content-type": options.metrics.registry.contentType, "content-length": Buffer.byteLength(text) }).end(text);
  }

  const observe = createAccessObserver({
    metrics: options.metrics,
    log,
    sample: options.accessLogSample,
    procedures: router._def.procedures as Record<string, unknown>,
  });

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = requestIdOf(req);
    // Where the request's ID is looked up later (the error log): the caller's, or the one made here.
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    observe(req, res, requestId);
    serveInOrder(req, res, () => route(req, res, requestId));
  };
}

export interface RunningHttpServer {
  server: Server;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  /**
   * Stops accepting connections, lets in-flight requests finish (each answered with
   * `connection: close`), and resolves when all connections are closed; connections still busy
   * after the shutdown timeout are cut.
   */
  close(): Promise<void>;
}

export async function listen(options: ListenOptions): Promise<RunningHttpServer> {
  const handle = createRequestListener(options);
  let closing = false;
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // How often the timeouts above are checked (Node's default is every 30 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
    },
    (req, res) => {
      if (closing) res.setHeader("connection", "close");
      handle(req, res);
    },
  );
  // A connection that makes no progress for this long (typically a client that stopped reading
  // its answer, so the answer sits in memory) is destroyed, which frees what it held.
  server.setTimeout(options.writeTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        const timer = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs);
        // Keep-alive connections whose request was in flight when the shutdown began turn idle
        // once answered: close them as they do (cheaper than a listener on every response).
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        server.close((error) => {
          clearTimeout(timer);
          clearInterval(sweep);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
