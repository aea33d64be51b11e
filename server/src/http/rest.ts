/**
 * The REST routes: plain JSON over HTTP for callers that do not speak tRPC (opencode's API shape).
 *
 *   POST /session              session.create    (Idempotency-Key header = idempotencyKey)
 *   GET  /session              session.list      (query: limit, cursor, parentId, roots)
 *   GET  /session/{id}         session.get
 *   GET  /session/{id}/children session.children (query: limit, cursor)
 *   PATCH /session/{id}        session.update    (If-Match: "<revision>" = expectedRevision)
 *   DELETE /session/{id}       session.delete
 *   GET  /openapi.json, /doc   the document (openapi.ts) and a page that shows it
 *
 * Each route calls the tRPC procedure itself (`callTRPCProcedure`, as the fast path does), so the
 * same zod schemas validate, the same service runs, and errors are the same TRPCErrors; an error's
 * fields come from the one error formatter (`getTRPCErrorShape`), its status from tRPC's mapping.
 * Only the wire differs: plain JSON in and out, no superjson envelope.
 *
 * `tryHandle` takes only these paths and returns false for anything else.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  TRPCError,
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  type AnyTRPCRouter,
} from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { z } from "zod";
import { renderDocPage } from "./doc-page.ts";
import { readBody } from "./fast-path.ts";
import { createOpenApiDocument } from "./openapi.ts";

type CallType = "query" | "mutation";

export interface RestOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  maxBodyBytes: number;
  /** Throws UNAUTHORIZED for a missing or wrong token; called before the body is read. */
  createContext(req: IncomingMessage): unknown;
  onError(opts: { error: TRPCError; path: string; req: IncomingMessage; input: unknown; ctx: unknown; type: CallType }): void;
  /** The server's version, for the document. */
  version: string;
}

interface Call {
  procedure: string;
  type: CallType;
  /** Builds the procedure's input from the request's parts. */
  input(parts: { id: string | undefined; query: URLSearchParams; body: unknown; req: IncomingMessage }): unknown;
}

/** A BAD_REQUEST whose cause is a ZodError, so the formatter reports it in fieldErrors / formErrors like any input error. */
function badInput(path: (string | number)[], message: string): TRPCError {
  return new TRPCError({ code: "BAD_REQUEST", cause: new z.ZodRealError([{ code: "custom", path, message, input: undefined }]) });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * Query parameters as input fields. Numbers and booleans are converted only when written exactly
 * (`limit=10`, `roots=true`); anything else stays a string for the schema to refuse. A repeated
 * parameter becomes an array (refused too). Object.fromEntries defines `__proto__` as an own key,
 * which the strict schemas then refuse as unknown.
 */
function queryInput(query: URLSearchParams, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const values = new Map<string, unknown[]>();
  for (const [key, text] of query) {
    const value = /^-?\d+(\.\d+)?$/.test(text) && key !== "cursor" ? Number(text) : text === "true" ? true : text === "false" ? false : text;
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return Object.fromEntries([...[...values].map(([key, list]) => [key, list.length === 1 ? list[0] : list] as const), ...Object.entries(fields)]);
}

/** A body's fields together with fields from the path or headers; a body field that disagrees is refused. */
function bodyInput(body: unknown, fields: Record<string, unknown>): unknown {
  if (body === undefined) return Object.keys(fields).length ? fields : undefined;
  if (!isPlainObject(body)) return body; // the schema refuses it with its own message
  for (const [key, value] of Object.entries(fields)) {
    if (Object.hasOwn(body, key) && body[key] !== value) throw badInput([key], `${key} in the body disagrees with the ${key === "id" ? "path" : "header"}`);
  }
  return { ...body, ...fields };
}

function noQuery(query: URLSearchParams): void {
  for (const key of query.keys()) throw badInput([], `This route takes no query parameters (got "${key}")`);
}

/** `If-Match: "3"` as expectedRevision 3; anything else is passed on for the schema to refuse. */
function ifMatchRevision(header: string | undefined): Record<string, unknown> {
  if (header === undefined) return {};
  const match = /^"([1-9]\d{0,15})"$/.exec(header.trim());
  if (!match) throw badInput(["expectedRevision"], `If-Match must be a quoted revision like "3", got ${header.slice(0, 40)}`);
  return { expectedRevision: Number(match[1]) };
}

const COLLECTION: Record<string, Call> = {
  GET: { procedure: "session.list", type: "query", input: ({ query }) => queryInput(query) },
  POST: {
    procedure: "session.create",
    type: "mutation",
    input: ({ query, body, req }) => {
      noQuery(query);
      const key = req.headers["idempotency-key"];
      return bodyInput(body, typeof key === "string" ? { idempotencyKey: key } : {});
    },
  },
};

const ITEM: Record<string, Call> = {
  GET: { procedure: "session.get", type: "query", input: ({ id, query }) => queryInput(query, { id }) },
  PATCH: {
    procedure: "session.update",
    type: "mutation",
    input: ({ id, query, body, req }) => {
      noQuery(query);
      return bodyInput(body ?? {}, { id, ...ifMatchRevision(req.headers["if-match"]) });
    },
  },
  DELETE: { procedure: "session.delete", type: "mutation", input: ({ id, query }) => queryInput(query, { id }) },
};

const CHILDREN: Record<string, Call> = {
  GET: { procedure: "session.children", type: "query", input: ({ id, query }) => queryInput(query, { id }) },
};

/** The routes of a path: its calls by method and the session ID in it, or null for a path that is not a route. */
function route(pathname: string): { calls: Record<string, Call>; id?: string } | null {
  const parts = pathname.split("/"); // "", "session", id?, "children"?
  if (parts[1] !== "session") return null;
  if (parts.length === 2) return { calls: COLLECTION };
  let id: string;
  try {
    id = decodeURIComponent(parts[2]!);
  } catch {
    id = parts[2]!; // not valid percent-encoding: the ID schema refuses it as it stands
  }
  if (parts.length === 3) return { calls: ITEM, id };
  if (parts.length === 4 && parts[3] === "children") return { calls: CHILDREN, id };
  return null;
}

/** Shared by every request without a query string (never written to). */
const NO_QUERY: URLSearchParams = new URLSearchParams();

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(";");
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase() === "application/json";
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, type = "application/json"): void {
  res.writeHead(status, { "content-type": type, "content-length": String(Buffer.byteLength(body)), ...headers }).end(body);
}

export function createRestHandler<TRouter extends AnyTRPCRouter>(options: RestOptions<TRouter>) {
  const { router, maxBodyBytes } = options;
  const config = router._def._config;
  let documentText: string | undefined;
  let docPage: string | undefined;
  const document = () => (documentText ??= JSON.stringify(createOpenApiDocument(router, options.version)));

  /** The REST error body: the fields of tRPC's `error.data` (by the same formatter) and the message. */
  function sendError(req: IncomingMessage, res: ServerResponse, cause: unknown, call: { path: string; type: CallType; ctx?: unknown; input?: unknown }, headers: Record<string, string> = {}): void {
    const error = getTRPCErrorFromUnknown(cause);
    options.onError({ error, path: call.path, req, input: call.input, ctx: call.ctx, type: call.type });
    const shape = getTRPCErrorShape({ config, ctx: call.ctx, error, input: call.input, path: call.path, type: call.type });
    const { path: _, ...data } = shape.data as Record<string, unknown>;
    const body = { ...data, message: shape.message, requestId: data.requestId ?? String(res.getHeader("x-request-id")) };
    send(res, getHTTPStatusCodeFromError(error), JSON.stringify(body), headers);
  }

  async function respond(req: IncomingMessage, res: ServerResponse, call: Call, id: string | undefined, query: URLSearchParams): Promise<void> {
    const where = { path: call.procedure, type: call.type };
    let ctx: unknown;
    try {
      ctx = await options.createContext(req);
    } catch (cause) {
      return sendError(req, res, cause, where);
    }
    let body: unknown;
    let input: unknown;
    try {
      if (req.method === "POST" || req.method === "PATCH") {
        const type = req.headers["content-type"];
        if (type !== undefined && !isJsonContentType(type)) {
          res.setHeader("connection", "close"); // the body stays unread
          throw new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message: `Send the body as application/json, not ${type.slice(0, 80)}` });
        }
        const text = await readBody(req, maxBodyBytes);
        if (text === undefined) {
          res.setHeader("connection", "close"); // the rest of the body stays unread
          throw new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The request body is over ${maxBodyBytes} bytes` });
        }
        if (text.length > 0 && type === undefined) {
          throw new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message: "Send the body as application/json (content-type header missing)" });
        }
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch (error) {
          throw badInput([], `The body is not valid JSON: ${(error as Error).message}`);
        }
      }
      input = call.input({ id, query, body, req });
      const data = await callTRPCProcedure({ router, path: call.procedure, type: call.type, ctx, getRawInput: async () => input, signal: undefined, batchIndex: 0 });
      const revision = (data as { revision?: unknown }).revision;
      send(res, 200, JSON.stringify(data), typeof revision === "number" ? { etag: `"${revision}"` } : {});
    } catch (cause) {
      sendError(req, res, cause, { ...where, ctx, input });
    }
  }

  return function tryHandle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);

    if (pathname === "/openapi.json" || pathname === "/doc") {
      if (req.method !== "GET") {
        sendError(req, res, new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `${pathname} takes GET` }), { path: pathname, type: "query" }, { allow: "GET" });
      } else if (pathname === "/openapi.json") {
        send(res, 200, document());
      } else {
        send(res, 200, (docPage ??= renderDocPage(JSON.parse(document()))), {}, "text/html; charset=utf-8");
      }
      return true;
    }

    const found = route(pathname);
    if (found === null) {
      if (pathname !== "/session/" && !pathname.startsWith("/session/")) return false;
      sendError(req, res, new TRPCError({ code: "NOT_FOUND", message: `No route ${pathname.slice(0, 100)}: see /openapi.json` }), { path: pathname, type: "query" });
      return true;
    }
    const call = found.calls[req.method ?? ""];
    if (!call) {
      const allow = Object.keys(found.calls).join(", ");
      const error = new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `${pathname.slice(0, 100)} takes ${allow}, not ${req.method}` });
      sendError(req, res, error, { path: pathname, type: "query" }, { allow });
      return true;
    }
    const query = queryAt === -1 ? NO_QUERY : new URLSearchParams(url.slice(queryAt + 1));
    respond(req, res, call, found.id, query).catch((error: unknown) => {
      // Only reading the request can fail here (the client went away); there is nobody to answer.
      if (!res.headersSent) res.destroy(error instanceof Error ? error : undefined);
    });
    return true;
  };
}
