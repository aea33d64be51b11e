/**
 * The HTTP front: tRPC at /trpc, a health probe at /healthz, a request ID on every response, the
 * bearer token, request limits, timeouts against slow clients, and graceful shutdown.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { createContextInner } from "../context.ts";
import type { Logger } from "../log.ts";
import type { AppRouter } from "../router.ts";
import type { SessionService } from "../session/service.ts";
import type { EventService } from "../events/service.ts";
import { createFastPath } from "./fast-path.ts";
import { createEventRoute } from "./events.ts";

export interface HttpServerOptions {
  router: AppRouter;
  sessions: SessionService;
  log: Logger;
  /** When set, every tRPC call needs `Authorization: Bearer <token>`. */
  token?: string;
  maxBodyBytes: number;
  maxBatchSize: number;
  /** "fast": plain calls take the lean path (fast-path.ts), the rest the stock adapter; "stock": all stock. */
  httpHandler: "fast" | "stock";
  /** Live events (GET /event and the session.events subscription). */
  events?: EventService;
}

export interface ListenOptions extends HttpServerOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token, else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** Compares the bearer token in constant time (over fixed-length digests, so length leaks nothing). */
function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = sha256(token);
  return (header) => {
    const given = header?.startsWith("Bearer ") ? header.slice(7) : "";
    return timingSafeEqual(sha256(given), expected) && given.length > 0;
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

export function createRequestListener(options: HttpServerOptions) {
  const { router, sessions, log, token, maxBodyBytes, maxBatchSize } = options;
  const requestIds = new WeakMap<IncomingMessage, string>();
  const authorized = bearerCheck(token);

  const createContext = (req: IncomingMessage, res?: ServerResponse) => {
    if (!authorized(req.headers.authorization)) {
      throw new TRPCError({ code: "UNAUTHORIZED", message: "Missing or wrong bearer token" });
    }
    const disconnect = res && (() => void res.destroy());
    return createContextInner({ sessions, log, requestId: requestIds.get(req), events: options.events, disconnect });
  };
  const onError = ({ error, path, req }: { error: TRPCError; path: string | undefined; req: IncomingMessage }) => {
    const requestId = requestIds.get(req);
    if (error.code === "INTERNAL_SERVER_ERROR") log.error({ requestId, path, err: error.cause ?? error }, "internal error");
    else log.debug({ requestId, path, code: error.code, message: error.message }, "request failed");
  };

  const trpc = createHTTPHandler({
    router,
    basePath: "/trpc/",
    maxBodySize: maxBodyBytes,
    maxBatchSize,
    createContext: ({ req, res }) => createContext(req, res),
    onError,
  });
  const fast =
    options.httpHandler === "fast"
      ? createFastPath({ router, basePath: "/trpc/", maxBodyBytes, maxBatchSize, createContext, onError })
      : () => false;

  const eventRoute = options.events && createEventRoute(options.events, log);

  async function health(res: ServerResponse): Promise<void> {
    try {
      sendJson(res, 200, await sessions.health());
    } catch (error) {
      log.warn({ err: error }, "health check failed");
      sendJson(res, 503, { status: "unavailable" });
    }
  }

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = requestIdOf(req);
    requestIds.set(req, requestId);
    res.setHeader("x-request-id", requestId);
    const url = req.url ?? "/";
    if (url === "/trpc" || url.startsWith("/trpc/") || url.startsWith("/trpc?")) {
      if (!fast(req, res)) trpc(req, res);
    } else if (eventRoute && (url === "/event" || url.startsWith("/event?"))) {
      eventRoute(req, res, authorized(req.headers.authorization));
    } else if ((url === "/healthz" || url.startsWith("/healthz?")) && (req.method === "GET" || req.method === "HEAD")) {
      void health(res);
    } else {
      sendJson(res, 404, { error: "not found", path: url.split("?")[0] });
    }
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
