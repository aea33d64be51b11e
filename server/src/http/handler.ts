/**
 * sessiond's whole HTTP surface as one handler a host mounts at a base path of its choice: tRPC at
 * /trpc, the REST routes, GET /event, the OpenAPI document and its page, the console, /healthz and
 * /metrics, with the request IDs, CORS, the token, the limits, the access log and the metrics. Two
 * faces of the same handler: `node` for `node:http` and Express-style servers, `fetch` (Request in,
 * Response out) for fetch-based frameworks. `sessiond serve` is one user of it (listen.ts).
 *
 * Each request: a request ID; CORS; the route from the table (routes.ts) by path, then by method
 * (405 with Allow; HEAD is answered as GET without the body); the caller where the route needs one
 * (auth.ts: the default owner, the operator's token or a verified JWT; 401 with WWW-Authenticate,
 * before anything else is read); then the route, for that caller.
 */
import { randomUUID } from "node:crypto";
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { OWNER_HEADER } from "@sessiond/shared";
import { TRPCError, getTRPCErrorFromUnknown } from "@trpc/server";
import { addRoute, createRouter, findRoute, type RouterContext } from "rou3";
import { compileRouter } from "rou3/compiler";
import { createContextInner } from "../context.ts";
import type { Logger } from "../log.ts";
import { createAppRouter, type AppRouter } from "../router.ts";
import { SESSION_PROCEDURE_NAMES } from "../session/procedures.ts";
import { VERSION } from "../version.ts";
import { createWireTransformer } from "../wire/transformer.ts";
import type { Sessiond } from "../sessiond.ts";
import { createAccessObserver } from "./access.ts";
import { AuthenticationError, createAuthenticator, type Authentication, type Caller, type Credentials } from "./auth.ts";
import { consoleFile } from "./console.ts";
import { createCors } from "./cors.ts";
import { renderDocPage } from "./doc-page.ts";
import { createEventRoute } from "./events.ts";
import { createHostCheck } from "./hosts.ts";
import { FetchExchange, NodeExchange, splitTarget, type Exchange } from "./exchange.ts";
import { checkInternals } from "./internals.ts";
import { createInvokers } from "./invoke.ts";
import { createJwtVerifier, type JwtSettings } from "./jwt.ts";
import { createOpenApiDocument, type OpenApiDocument } from "./openapi.ts";
import { procedureRoute, sendRestError } from "./rest.ts";
import { createRouteTable, type Route, type RouteKind } from "./routes.ts";
import { createTRPCEndpoint } from "./trpc-endpoint.ts";

/** HTTP settings; each defaults to the open sessiond's configuration. */
export interface SessiondHandlerOptions {
  /** Where the host mounts the surface, e.g. "/sessiond" (default: the root). */
  basePath?: string;
  /** The version the OpenAPI document names (default: this package's). */
  version?: string;
  /** The operator's token: `Authorization: Bearer <token>` sees every owner's sessions. */
  token?: string;
  /** Bearer JWTs (one key source): the owner is a claim of a token the server verifies. */
  jwksFile?: string;
  jwksUrl?: string;
  jwtSecret?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  /** Default `sub`. */
  jwtOwnerClaim?: string;
  maxBodyBytes?: number;
  maxBatchSize?: number;
  maxSessionsPerRequest?: number;
  /** "fast": plain tRPC calls take the lean path on verified versions; "stock": tRPC's own for all. */
  httpHandler?: "fast" | "stock";
  accessLogSample?: number;
  corsOrigin?: readonly string[];
  /** Serve the console page at the base path's `/`. */
  console?: boolean;
  /**
   * The `Host` names to answer (besides loopback names), against DNS rebinding (hosts.ts); absent
   * or null: any. `sessiond serve` sets it from --allowed-hosts and the address it listens on.
   */
  allowedHosts?: readonly string[] | null;
}

export interface SessiondHandler {
  /**
   * For `http.createServer(handler.node)` or `app.use(handler.node)`: serves what is under the
   * base path; anything else goes to `next` when given, or is answered 404.
   */
  node(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** For fetch-based frameworks: the answer to a request under the base path (404 for anything else). */
  fetch(request: Request): Promise<Response>;
  /** sessiond's own tRPC router, as served at `<basePath>/trpc`. */
  readonly router: AppRouter;
  /** The route table this handler serves. */
  readonly routes: readonly Route[];
  /** The OpenAPI document of this handler (its server URL is the base path). */
  document(): OpenApiDocument;
}

/** A route of the table with its implementation. */
type Serve = (ex: Exchange, params: Record<string, string>, caller: Caller) => void | Promise<void>;
type BoundRoute = Route & { serve: Serve };
/** One path of the table and its routes by method. */
interface PathEntry {
  path: string;
  byMethod: Map<string, BoundRoute>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** The caller of a route that needs none (it acts for no owner). */
const NOBODY: Caller = Object.freeze({ owner: "", allOwners: false, operator: false });
const TRPC_ROUTE = "/trpc/{procedure}";
/** The order methods are named in an Allow header; HEAD wherever GET is. */
const METHOD_ORDER = ["GET", "HEAD", "POST", "PATCH", "DELETE"];

/** A base path as `/a/b`: a leading slash, no trailing one; "" for the root. */
function normalizeBasePath(basePath: string | undefined): string {
  if (!basePath || basePath === "/") return "";
  const trimmed = `/${basePath.replace(/^\/+|\/+$/g, "")}`;
  if (!/^(\/[\w.~-]+)+$/.test(trimmed)) throw new Error(`basePath must be a path like /sessiond, got ${JSON.stringify(basePath)}`);
  return trimmed;
}

/** rou3's pattern for a route path: `{id}` → `:id`, and `{procedure}` takes the rest of the path. */
const patternOf = (path: string) => path.replace("{procedure}", "**:procedure").replace(/\{(\w+)\}/g, ":$1");

export function createSessiondHandler(sessiond: Sessiond, options: SessiondHandlerOptions = {}): SessiondHandler {
  const config = { ...sessiond.config, ...withoutUndefined(options) };
  const log: Logger = sessiond.log;
  const basePath = normalizeBasePath(options.basePath);
  const version = options.version ?? VERSION;
  const internals = checkInternals();
  const fastPath = internals.verified && config.httpHandler === "fast";
  if (!internals.verified) {
    log.info(
      { installed: internals.installed },
      "tRPC or superjson is at a version sessiond's lean paths were not verified against: every call takes tRPC's stock path",
    );
  }

  const requestScope = new AsyncLocalStorage<string>();
  const transformer = createWireTransformer(internals.verified);
  const router = createAppRouter(sessiond, {
    heartbeatMs: config.eventHeartbeatMs,
    currentRequestId: () => requestScope.getStore(),
    transformer,
  });
  const jwt = createJwtVerifier(config as JwtSettings);
  const authenticate = createAuthenticator({ token: config.token, jwt });
  /** No token and no JWT keys: every caller is the default owner, and the operator's routes are open. */
  const open = config.token === undefined && jwt === undefined;
  const credentialsOf = (ex: Exchange): Credentials => ({ authorization: ex.header("authorization"), owner: ex.header(OWNER_HEADER) });
  const cors = createCors(config.corsOrigin ?? []);
  const hostCheck = createHostCheck(options.allowedHosts);
  const observe = createAccessObserver({ metrics: sessiond.metrics, log, sample: config.accessLogSample });
  const onError = ({ error, path, ex }: { error: TRPCError; path: string | undefined; ex: Exchange }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") log.error({ requestId: ex.requestId, path, err: error.cause ?? error }, "internal error");
    else log.debug({ requestId: ex.requestId, path, code: error.code, message: error.message }, "request failed");
  };

  const routes = createRouteTable(sessiond.limits);
  const documentOf = () => createOpenApiDocument(routes, { version, basePath });
  let documentText: string | undefined;
  let docPage: string | undefined;
  const invoker = createInvokers(router, { direct: fastPath });
  const rest = {
    invoker,
    maxBodyBytes: config.maxBodyBytes,
    createContext: (ex: Exchange, caller: Caller, ifMatch: readonly number[] | undefined) =>
      createContextInner({
        requestId: ex.requestId,
        owner: caller.owner,
        allOwners: caller.allOwners,
        maxReads: config.maxSessionsPerRequest,
        ifMatch,
      }),
    onError,
  };
  const trpc = createTRPCEndpoint({
    router,
    serialize: transformer.output.serialize,
    authenticate: (ex) => authenticate(credentialsOf(ex)),
    maxBodyBytes: config.maxBodyBytes,
    maxBatchSize: config.maxBatchSize,
    maxSessionsPerRequest: config.maxSessionsPerRequest,
    procedureNames: new Set([...SESSION_PROCEDURE_NAMES.map((name) => `session.${name}`), "health"]),
    fastPath,
    onError,
    runWithRequest: (requestId, serve) => requestScope.run(requestId, serve),
  });
  const eventRoute = createEventRoute(sessiond.events, log, routes.find((route) => route.kind === "events")?.query ?? {});

  const kinds: Record<RouteKind, Serve> = {
    trpc: (ex, params) => trpc(ex, params.procedure ?? ""),
    events: (ex, _, caller) => eventRoute(ex, caller),
    async healthz(ex) {
      try {
        ex.send(200, JSON.stringify(await sessiond.sessions.health()), "application/json");
      } catch (error) {
        log.warn({ err: error, requestId: ex.requestId }, "health check failed");
        ex.send(503, JSON.stringify({ status: "unavailable", requestId: ex.requestId }), "application/json");
      }
    },
    async metrics(ex) {
      ex.send(200, await sessiond.metrics.text(), sessiond.metrics.registry.contentType);
    },
    openapi: (ex) => ex.send(200, (documentText ??= JSON.stringify(documentOf())), "application/json"),
    doc: (ex) => ex.send(200, (docPage ??= renderDocPage(documentOf())), "text/html; charset=utf-8"),
    "console.html": config.console ? consoleFile("console.html") : notFound,
    "console.js": config.console ? consoleFile("console.js") : notFound,
  };

  /** Each path once, with its routes by method (HEAD answered by GET). */
  const table = createRouter<PathEntry>();
  const byPath = new Map<string, PathEntry>();
  for (const route of routes) {
    let entry = byPath.get(route.path);
    if (!entry) {
      entry = { path: route.path, byMethod: new Map() };
      byPath.set(route.path, entry);
      addRoute(table, "", patternOf(route.path), entry);
    }
    const serve = route.kind === "procedure" ? procedureRoute(rest, route.call, route.path) : kinds[route.kind];
    entry.byMethod.set(route.method, { ...route, serve });
  }

  const trpcEntry = byPath.get(TRPC_ROUTE)!;
  const match = matcherOf(table);

  function notFound(ex: Exchange): void {
    sendRestError(
      ex,
      new TRPCError({ code: "NOT_FOUND", message: `No route ${ex.path.slice(0, 100)}: see ${basePath}/openapi.json` }),
      ex.path.slice(0, 100),
    );
  }

  function serve(ex: Exchange): void | Promise<void> {
    if (hostCheck(ex) || cors(ex)) return;
    // Exact paths: the router would take "/session/" for "/session". Everything under /trpc is tRPC's.
    const path = ex.path;
    const found =
      path === "/trpc" || path.startsWith("/trpc/")
        ? { data: trpcEntry, params: { procedure: path.slice("/trpc/".length) } }
        : path.length > 1 && path.endsWith("/")
          ? undefined
          : match(path);
    if (!found) {
      ex.label = "other";
      return notFound(ex);
    }
    const { byMethod, path: template } = found.data;
    // tRPC's front door answers every method itself, in tRPC's error shape.
    const route = byMethod.get(ex.method === "HEAD" ? "GET" : ex.method) ?? (template === TRPC_ROUTE ? byMethod.get("POST") : undefined);
    if (!route) {
      ex.label = template;
      const allow = METHOD_ORDER.filter((method) => byMethod.has(method === "HEAD" ? "GET" : method)).join(", ");
      ex.setHeader("allow", allow);
      const error = new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `${template} takes ${allow}, not ${ex.method}` });
      return sendRestError(ex, error, template);
    }
    ex.label = route.label;
    const params = found.params ?? {};
    if (route.auth === "none") return route.serve(ex, params, NOBODY);
    const authentication = authenticate(credentialsOf(ex));
    // Synchronous for the default owner, the operator and a JWT verified before; the body is not read meanwhile.
    if (authentication instanceof Promise) return authentication.then((settled) => serveFor(ex, route, params, settled));
    return serveFor(ex, route, params, authentication);
  }

  /** Serves a route for the caller, or answers the refusal (in the REST error shape) without reading the request further. */
  function serveFor(ex: Exchange, route: BoundRoute, params: Record<string, string>, authentication: Authentication) {
    let refusal: TRPCError | undefined;
    if (authentication instanceof AuthenticationError) refusal = authentication;
    else if (route.auth === "operator" && !authentication.operator && !open) {
      refusal = new TRPCError({ code: "FORBIDDEN", message: `${route.path} needs the operator's token` });
    }
    if (refusal) {
      onError({ error: refusal, path: route.path, ex });
      return sendRestError(ex, refusal, route.path);
    }
    return route.serve(ex, params, authentication as Caller);
  }

  /** Serves an exchange; a failure after the answer started cuts the connection. */
  function run(ex: Exchange): void {
    let result: void | Promise<void>;
    try {
      result = serve(ex);
    } catch (error) {
      return fail(ex, error);
    }
    if (result) result.catch((error: unknown) => fail(ex, error));
  }

  function fail(ex: Exchange, cause: unknown): void {
    const error = getTRPCErrorFromUnknown(cause);
    if (ex.signal.aborted) return; // the client went away mid-request: nobody to answer
    log.error({ requestId: ex.requestId, err: cause }, "internal error");
    try {
      sendRestError(ex, error, ex.label);
    } catch {
      ex.disconnect(); // the answer had started
    }
  }

  const requestIdOf = (given: string | undefined) => (given !== undefined && REQUEST_ID.test(given) ? given : randomUUID());

  return {
    router,
    routes,
    document: documentOf,
    node(req, res, next) {
      const target = splitTarget(req.url ?? "/", basePath);
      if (!target) {
        if (next) return next();
        const body = JSON.stringify({ code: "NOT_FOUND", httpStatus: 404, message: `Not under ${basePath}` });
        res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
        return;
      }
      const header = req.headers["x-request-id"];
      const ex = new NodeExchange(req, res, target.path, target.query, requestIdOf(typeof header === "string" ? header : undefined));
      const done = observe(ex.method, ex.requestId);
      res.once("close", () => done(ex.label, res.writableFinished ? res.statusCode : 0));
      if (target.path === "") return redirectToSlash(ex, basePath);
      run(ex);
    },
    async fetch(request) {
      const url = new URL(request.url);
      const target = splitTarget(url.pathname + url.search, basePath);
      if (!target) return Response.json({ code: "NOT_FOUND", httpStatus: 404, message: `Not under ${basePath}` }, { status: 404 });
      const ex = new FetchExchange(request, target.path, target.query, requestIdOf(request.headers.get("x-request-id") ?? undefined));
      const done = observe(ex.method, ex.requestId);
      if (target.path === "") redirectToSlash(ex, basePath);
      else run(ex);
      const response = await ex.response;
      done(ex.label, response.status);
      return response;
    },
  };
}

/**
 * rou3's compiled matcher for the table (the same matches as `findRoute`, in about two thirds of
 * its time), or `findRoute` itself where the process allows no code from strings (`new Function`).
 */
function matcherOf<T>(table: RouterContext<T>): (path: string) => { data: T; params?: Record<string, string> } | undefined {
  try {
    const compiled = compileRouter(table);
    return (path) => compiled("", path);
  } catch {
    return (path) => findRoute(table, "", path);
  }
}

/** The base path without its slash: the console and its relative links live at `<base>/`. */
function redirectToSlash(ex: Exchange, basePath: string): void {
  ex.setHeader("location", `${basePath}/${ex.query ? `?${ex.query}` : ""}`);
  ex.send(308, "", "text/plain");
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
