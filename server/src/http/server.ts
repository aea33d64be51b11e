/**
 * The HTTP front: tRPC at /trpc, a health probe at /healthz, a request ID on every response, the
 * bearer token, request limits, timeouts against slow clients, and graceful shutdown.
 *
 * Every tRPC request passes one front door before any procedure runs, in this order: the method
 * (405), the bearer token (401, before a byte of the body is read), the batch size (400), the
 * content type (415), the body with its size limit (413), and the input's JSON and batch shape
 * (400). Only then does it go to the fast path or, for what that does not serve, to tRPC's stock
 * adapter, which receives the body already read. Both paths therefore refuse the same requests in
 * the same way.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TRPC_PATH } from "@sessiond/shared";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { createContextInner, requestScope, type Context } from "../context.ts";
import type { EventService } from "../events/types.ts";
import type { HttpHandler } from "../config.ts";
import type { Logger } from "../log.ts";
import type { AppRouter } from "../router.ts";
import type { SessionService } from "../session/service.ts";
import { checkBatchInput, parseJson } from "../wire/decode.ts";
import { isJsonContentType, readBody } from "./body.ts";
import { createConsole } from "./console.ts";
import { createCors } from "./cors.ts";
import { createFastPath, type TRPCCall } from "./fast-path.ts";
import { serveInOrder } from "./in-order.ts";
import { createEventRoute } from "./events.ts";
import { createRestHandler } from "./rest.ts";
import { writeTRPCError } from "./trpc-response.ts";
import type { Metrics } from "../metrics.ts";

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

const TRPC_PREFIX = TRPC_PATH;
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

const FIXED_ROUTES = new Set(["/healthz", "/metrics", "/openapi.json", "/doc", "/event", "/"]);

/**
 * What a request asked for, as a label from a fixed set (for the access log and metrics): a tRPC
 * procedure (also for a batch of calls to one procedure; "batch:mixed" for several), a REST route
 * template, a fixed route, or "other".
 */
function routeLabel(method: string | undefined, url: string, procedures: Record<string, unknown>): string {
  const path = url.split("?")[0]!;
  if (path.startsWith(`${TRPC_PREFIX}/`)) {
    const names = new Set(path.slice(TRPC_PREFIX.length + 1).split(","));
    if (names.size > 1) return "batch:mixed";
    const [name] = names;
    return name !== undefined && Object.hasOwn(procedures, name) ? name : "unknown";
  }
  if (path === "/session") return `${method} /session`;
  if (/^\/session\/[^/]+$/.test(path)) return `${method} /session/{id}`;
  if (/^\/session\/[^/]+\/children$/.test(path)) return `${method} /session/{id}/children`;
  return FIXED_ROUTES.has(path) ? path : "other";
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

/** The procedure paths of a tRPC URL path (`/trpc/a,b` → a, b), decoded as tRPC decodes them. */
function procedurePaths(pathText: string, isBatch: boolean): string[] {
  let decoded = pathText;
  try {
    decoded = decodeURIComponent(pathText);
  } catch {
    // Not percent-encoded properly: tRPC looks the raw text up, and finds no procedure.
  }
  return isBatch ? decoded.split(",") : [decoded];
}

export function createRequestListener(options: HttpServerOptions) {
  const { router, sessions, log, token, maxBodyBytes, maxBatchSize, maxSessionsPerRequest } = options;
  const authorized = bearerCheck(token);
  const cors = createCors(options.corsOrigin ?? []);
  const consolePage = createConsole(options.console ?? true);
  const contexts = new WeakMap<IncomingMessage, Context>();

  const onError = ({ error, path, req }: { error: TRPCError; path: string | undefined; req: IncomingMessage }) => {
    const requestId = contexts.get(req)?.requestId ?? requestScope.getStore()?.requestId;
    if (error.code === "INTERNAL_SERVER_ERROR") log.error({ requestId, path, err: error.cause ?? error }, "internal error");
    else log.debug({ requestId, path, code: error.code, message: error.message }, "request failed");
  };

  const stock = createHTTPHandler({
    router,
    basePath: `${TRPC_PREFIX}/`,
    maxBodySize: maxBodyBytes,
    maxBatchSize,
    // The front door made the context before the request got here.
    createContext: ({ req }) => contexts.get(req)!,
    onError,
  });
  const fast = options.httpHandler === "fast" ? createFastPath({ router, onError }) : () => false;
  const rest = createRestHandler({
    router,
    maxBodyBytes,
    authorized: (req) => authorized(req.headers.authorization),
    createContext: (requestId) => createContextInner({ sessions, requestId, maxReads: maxSessionsPerRequest }),
    onError,
    version: options.version ?? "0.0.0",
  });

  async function serveTRPC(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const search = queryAt === -1 ? null : new URLSearchParams(url.slice(queryAt + 1));
    const isBatch = search?.get("batch") === "1";
    const paths = procedurePaths(url.slice(TRPC_PREFIX.length + 1, queryAt === -1 ? undefined : queryAt), isBatch);
    const refuse = (error: TRPCError, headers: Record<string, string> = {}) => {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      onError({ error, path: paths.join(","), req });
      writeTRPCError(res, router, { paths, isBatch }, error);
    };
    // A refused POST leaves its body unread: the connection cannot carry another request.
    const unread: Record<string, string> = req.method === "POST" ? { connection: "close" } : {};

    if (req.method !== "GET" && req.method !== "POST") {
      const message = `The method ${req.method} is not allowed here: tRPC takes queries by GET and mutations by POST`;
      return refuse(new TRPCError({ code: "METHOD_NOT_SUPPORTED", message }), { allow: "GET, POST", connection: "close" });
    }
    if (!authorized(req.headers.authorization)) {
      return refuse(new TRPCError({ code: "UNAUTHORIZED", message: "Missing or wrong bearer token" }), unread);
    }
    if (isBatch && paths.length > maxBatchSize) {
      const message = `This batch has ${paths.length} calls; at most ${maxBatchSize} are allowed per request`;
      return refuse(new TRPCError({ code: "BAD_REQUEST", message }), unread);
    }
    let text: string | undefined;
    if (req.method === "POST") {
      if (!isJsonContentType(req.headers["content-type"])) {
        const given = req.headers["content-type"] ? `"${req.headers["content-type"].slice(0, 100)}"` : "none";
        const message = `Unsupported content type ${given}: send the input as application/json`;
        return refuse(new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message }), unread);
      }
      text = await readBody(req, maxBodyBytes);
      if (text === undefined) {
        const message = `The request body is larger than ${maxBodyBytes} bytes`;
        return refuse(new TRPCError({ code: "PAYLOAD_TOO_LARGE", message }), unread);
      }
    } else {
      text = search?.get("input") || undefined;
    }
    let input: unknown;
    try {
      if (text) input = parseJson(text, req.method === "POST" ? "request body" : '"input" query parameter');
      if (isBatch && input !== undefined) checkBatchInput(input, paths.length);
    } catch (error) {
      return refuse(error as TRPCError);
    }

    const disconnect = () => void res.destroy();
    const ctx = createContextInner({ sessions, requestId, maxReads: maxSessionsPerRequest, events: options.events, disconnect });
    const call: TRPCCall = { paths, isBatch, search, input, ctx };
    if (fast(req, res, call)) return;
    contexts.set(req, ctx);
    // The stock adapter reads a body that is already read from `req.body`.
    if (req.method === "POST") (req as IncomingMessage & { body?: string }).body = text;
    await stock(req, res);
  }

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
    if (path === TRPC_PREFIX || path.startsWith(`${TRPC_PREFIX}/`)) {
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
    const text = await options.metrics.registry.metrics();
    res.writeHead(200, { "content-type": options.metrics.registry.contentType, "content-length": Buffer.byteLength(text) }).end(text);
  }

  const procedures = router._def.procedures as Record<string, unknown>;
  const { metrics, accessLogSample } = options;

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = requestIdOf(req);
    res.setHeader("x-request-id", requestId);
    const started = performance.now();
    res.once("close", () => {
      const seconds = (performance.now() - started) / 1000;
      const route = routeLabel(req.method, req.url ?? "/", procedures);
      // An answer cut before it was sent counts as status 0.
      const status = res.writableFinished ? res.statusCode : 0;
      metrics.request(route, status, seconds);
      if (accessLogSample > 0 && (accessLogSample >= 1 || Math.random() < accessLogSample)) {
        log.info({ requestId, method: req.method, route, status, ms: Math.round(seconds * 10_000) / 10 }, "request");
      }
    });
    serveInOrder(req, res, () => requestScope.run({ requestId }, route, req, res, requestId));
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
