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
 * Each route calls the tRPC procedure itself (invoke.ts, as the fast path does), so the
 * same zod schemas validate, the same service runs, and errors are the same TRPCErrors; an error's
 * body is what `describeError` (errors.ts) makes of it for tRPC's `error.data`, plus the message.
 * Only the wire differs: plain JSON in and out, no superjson envelope. Requests pass the same
 * checks as the tRPC front door, in the same order: method (405), token (401, before the body is
 * read), content type (415), body size (413), JSON and its depth (400).
 *
 * `tryHandle` takes only these paths and returns false for anything else.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPCError, getTRPCErrorFromUnknown, type AnyTRPCRouter } from "@trpc/server";
import { describeError, InvalidInputError } from "../errors.ts";
import { measureJson, parseJson } from "../wire/decode.ts";
import { isJsonContentType, readBody } from "./body.ts";
import { renderDocPage } from "./doc-page.ts";
import { createInvokers, hangUpSignal, type CallType } from "./invoke.ts";
import { createOpenApiDocument } from "./openapi.ts";

export interface RestOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  maxBodyBytes: number;
  /** Whether the request carries the bearer token (when the server has one); asked before the body is read. */
  authorized(req: IncomingMessage): boolean;
  /** The procedures' context for one request. */
  createContext(requestId: string): unknown;
  onError(opts: { error: TRPCError; path: string; req: IncomingMessage }): void;
  /** The server's version, for the document. */
  version: string;
}

interface Call {
  procedure: string;
  type: CallType;
  /** Builds the procedure's input from the request's parts. */
  input(parts: { id: string | undefined; query: URLSearchParams; body: unknown; req: IncomingMessage }): unknown;
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
    if (Object.hasOwn(fields, key)) throw new InvalidInputError(`${key} comes from the path, not the query`, key);
    const value =
      /^-?\d+(\.\d+)?$/.test(text) && key !== "cursor" ? Number(text) : text === "true" ? true : text === "false" ? false : text;
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return Object.fromEntries([
    ...[...values].map(([key, list]) => [key, list.length === 1 ? list[0] : list] as const),
    ...Object.entries(fields),
  ]);
}

/** A body's fields together with fields from the path or headers; a body field that disagrees is refused. */
function bodyInput(body: unknown, fields: Record<string, unknown>): unknown {
  if (body === undefined) return Object.keys(fields).length ? fields : undefined;
  if (!isPlainObject(body)) return body; // the schema refuses it with its own message
  for (const [key, value] of Object.entries(fields)) {
    if (Object.hasOwn(body, key) && body[key] !== value)
      throw new InvalidInputError(`${key} in the body disagrees with the ${key === "id" ? "path" : "header"}`, key);
  }
  return { ...body, ...fields };
}

function noQuery(query: URLSearchParams): void {
  for (const key of query.keys()) throw new InvalidInputError(`This route takes no query parameters (got "${key.slice(0, 40)}")`);
}

/** `If-Match: "3"` as expectedRevision 3; anything else is passed on for the schema to refuse. */
function ifMatchRevision(header: string | undefined): Record<string, unknown> {
  if (header === undefined) return {};
  const match = /^"([1-9]\d{0,15})"$/.exec(header.trim());
  if (!match) throw new InvalidInputError(`If-Match must be a quoted revision like "3", got ${header.slice(0, 40)}`, "expectedRevision");
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
function route(pathname: string): { calls: Record<string, Call>; template: string; id?: string } | null {
  const parts = pathname.split("/"); // "", "session", id?, "children"?
  if (parts[1] !== "session") return null;
  if (parts.length === 2) return { calls: COLLECTION, template: "/session" };
  let id: string;
  try {
    id = decodeURIComponent(parts[2]!);
  } catch {
    id = parts[2]!; // not valid percent-encoding: the ID schema refuses it as it stands
  }
  if (parts.length === 3) return { calls: ITEM, template: "/session/{id}", id };
  if (parts.length === 4 && parts[3] === "children") return { calls: CHILDREN, template: "/session/{id}/children", id };
  return null;
}

/** Shared by every request without a query string (never written to). */
const NO_QUERY: URLSearchParams = new URLSearchParams();

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, type = "application/json"): void {
  res.writeHead(status, { "content-type": type, "content-length": String(Buffer.byteLength(body)), ...headers }).end(body);
}

export function createRestHandler<TRouter extends AnyTRPCRouter>(options: RestOptions<TRouter>) {
  const { router, maxBodyBytes } = options;
  const invokers = createInvokers(router);
  let documentText: string | undefined;
  let docPage: string | undefined;
  const document = () => (documentText ??= JSON.stringify(createOpenApiDocument(router, options.version)));

  /** The error body: `error.data` as tRPC callers get it (describeError), with the message. */
  function sendError(
    req: IncomingMessage,
    res: ServerResponse,
    cause: unknown,
    where: { requestId: string; path: string },
    headers: Record<string, string> = {},
  ): void {
    const error = getTRPCErrorFromUnknown(cause);
    options.onError({ error, path: where.path, req });
    const { message, data } = describeError(error, where);
    send(res, data.httpStatus, JSON.stringify({ ...data, message }), headers);
  }

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    call: Call,
    id: string | undefined,
    query: URLSearchParams,
    where: { requestId: string; path: string },
  ): Promise<void> {
    const hasBody = req.method === "POST" || req.method === "PATCH";
    // A refused request with a body leaves it unread: the connection cannot carry another request.
    const unread: Record<string, string> = hasBody ? { connection: "close" } : {};
    if (!options.authorized(req)) {
      return sendError(req, res, new TRPCError({ code: "UNAUTHORIZED", message: "Missing or wrong bearer token" }), where, unread);
    }
    let body: unknown;
    if (hasBody) {
      const type = req.headers["content-type"];
      if (type !== undefined && !isJsonContentType(type)) {
        const message = `Unsupported content type "${type.slice(0, 100)}": send the body as application/json`;
        return sendError(req, res, new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message }), where, unread);
      }
      const text = await readBody(req, maxBodyBytes);
      if (text === undefined) {
        const message = `The request body is larger than ${maxBodyBytes} bytes`;
        return sendError(req, res, new TRPCError({ code: "PAYLOAD_TOO_LARGE", message }), where, unread);
      }
      // No body is no input (a create with defaults); a body needs its content type.
      if (text.length > 0 && type === undefined) {
        const message = "Unsupported content type none: send the body as application/json";
        return sendError(req, res, new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message }), where);
      }
      try {
        if (text.length > 0) measureJson((body = parseJson(text, "request body")));
      } catch (error) {
        return sendError(req, res, error, where);
      }
    }
    try {
      const input = call.input({ id, query, body, req });
      const ctx = options.createContext(where.requestId);
      const invoke = invokers.get(call.procedure)!;
      const data = await invoke({
        ctx,
        path: call.procedure,
        type: call.type,
        rawInput: () => input,
        signal: hangUpSignal(res),
        batchIndex: 0,
      });
      const revision = (data as { revision?: unknown }).revision;
      send(res, 200, JSON.stringify(data), typeof revision === "number" ? { etag: `"${revision}"` } : {});
    } catch (error) {
      sendError(req, res, error, where);
    }
  }

  /** Serves the request if its path is a REST route or the document; returns false for any other path. */
  return function tryHandle(req: IncomingMessage, res: ServerResponse, requestId: string): boolean {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);

    if (pathname === "/openapi.json" || pathname === "/doc") {
      if (req.method !== "GET") {
        const error = new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `${pathname} takes GET, not ${req.method}` });
        sendError(req, res, error, { requestId, path: pathname }, { allow: "GET" });
      } else if (pathname === "/openapi.json") {
        send(res, 200, document());
      } else {
        send(res, 200, (docPage ??= renderDocPage(JSON.parse(document()))), {}, "text/html; charset=utf-8");
      }
      return true;
    }

    const found = route(pathname);
    if (found === null) {
      if (!pathname.startsWith("/session/")) return false;
      const error = new TRPCError({ code: "NOT_FOUND", message: `No route ${pathname.slice(0, 100)}: see /openapi.json` });
      sendError(req, res, error, { requestId, path: pathname.slice(0, 100) });
      return true;
    }
    const where = { requestId, path: found.template };
    const call = found.calls[req.method ?? ""];
    if (!call) {
      const allow = Object.keys(found.calls).join(", ");
      const error = new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: `${found.template} takes ${allow}, not ${req.method}` });
      // A body this route does not take stays unread.
      sendError(req, res, error, where, { allow, connection: "close" });
      return true;
    }
    const query = queryAt === -1 ? NO_QUERY : new URLSearchParams(url.slice(queryAt + 1));
    respond(req, res, call, found.id, query, where).catch((error: unknown) => {
      // Only reading the request can fail here (the client went away); there is nobody to answer.
      if (!res.headersSent) res.destroy(error instanceof Error ? error : undefined);
    });
    return true;
  };
}
