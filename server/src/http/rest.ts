/**
 * The REST routes' behaviour: plain JSON over HTTP for callers that do not speak tRPC (opencode's
 * API shape). Which routes exist is the route table's business (routes.ts); this module turns one
 * request into its procedure's input, calls the procedure (invoke.ts, as the fast path does), and
 * writes the answer. So the same zod schemas validate, the same service runs, and errors are the
 * same TRPCErrors; an error's body is what `describeError` (errors.ts) makes of it for tRPC's
 * `error.data`, plus the message. After the handler's token check (401, before the body is read),
 * requests pass the same checks as the tRPC front door, in the same order: content type (415),
 * body size (413), JSON and its depth (400).
 */
import { TRPCError, getTRPCErrorFromUnknown } from "@trpc/server";
import { describeError, InvalidInputError } from "../errors.ts";
import { measureJson, parseJson } from "../wire/decode.ts";
import { WWW_AUTHENTICATE } from "./auth.ts";
import type { Exchange } from "./exchange.ts";
import type { CallType, Invoke } from "./invoke.ts";

/** The parts of a request a procedure's input is built from. */
export interface RequestParts {
  id: string | undefined;
  query: URLSearchParams;
  body: unknown;
  ex: Exchange;
}

export interface ProcedureCall {
  procedure: string;
  type: CallType;
  /** Whether the route reads a JSON body. */
  hasBody: boolean;
  input(parts: RequestParts): unknown;
}

/** How a query parameter's text becomes an input value (from the input schema's JSON Schema type). */
export type QueryType = "integer" | "boolean" | "string";

/** The query parameters' types of an object input schema (its JSON Schema). */
export function queryTypes(schema: { properties?: unknown }): Record<string, QueryType> {
  const types: Record<string, QueryType> = {};
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, { type?: unknown }>)) {
    types[name] =
      property.type === "integer" || property.type === "number" ? "integer" : property.type === "boolean" ? "boolean" : "string";
  }
  return types;
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false, "1": true, "0": false };

export interface RestDeps {
  invoker(procedure: string): Invoke;
  maxBodyBytes: number;
  /** The procedures' context for one request. */
  createContext(ex: Exchange): unknown;
  onError(opts: { error: TRPCError; path: string; ex: Exchange }): void;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const isJsonContentType = (header: string) => header.split(";", 1)[0]!.trim().toLowerCase() === "application/json";

/**
 * Query parameters as input fields, each converted by its type in the input schema: an integer
 * written as one (`limit=10`), a boolean as other HTTP APIs take them (`roots=true|false|1|0`);
 * anything else stays a string for the schema to refuse, as does an unknown parameter. A repeated
 * parameter becomes an array (refused too). Object.fromEntries defines `__proto__` as an own key,
 * which the strict schemas then refuse as unknown.
 */
export function queryInput(
  query: URLSearchParams,
  types: Record<string, QueryType>,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  const values = new Map<string, unknown[]>();
  for (const [key, text] of query) {
    if (Object.hasOwn(fields, key)) throw new InvalidInputError(`${key} comes from the path, not the query`, key);
    const type = Object.hasOwn(types, key) ? types[key] : "string";
    const value =
      type === "integer" && /^-?\d{1,15}$/.test(text)
        ? Number(text)
        : type === "boolean" && Object.hasOwn(BOOLEANS, text)
          ? BOOLEANS[text]
          : text;
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return Object.fromEntries([
    ...[...values].map(([key, list]) => [key, list.length === 1 ? list[0] : list] as const),
    ...Object.entries(fields),
  ]);
}

/** A body's fields together with fields from the path or headers; a body field that disagrees is refused. */
export function bodyInput(body: unknown, fields: Record<string, unknown>): unknown {
  if (body === undefined) return Object.keys(fields).length ? fields : undefined;
  if (!isPlainObject(body)) return body; // the schema refuses it with its own message
  for (const [key, value] of Object.entries(fields)) {
    if (Object.hasOwn(body, key) && body[key] !== value)
      throw new InvalidInputError(`${key} in the body disagrees with the ${key === "id" ? "path" : "header"}`, key);
  }
  return { ...body, ...fields };
}

export function noQuery(query: URLSearchParams): void {
  for (const key of query.keys()) throw new InvalidInputError(`This route takes no query parameters (got "${key.slice(0, 40)}")`);
}

/** `If-Match: "3"` as expectedRevision 3; anything else is passed on for the schema to refuse. */
export function ifMatchRevision(header: string | undefined): Record<string, unknown> {
  if (header === undefined) return {};
  const match = /^"([1-9]\d{0,15})"$/.exec(header.trim());
  if (!match) throw new InvalidInputError(`If-Match must be a quoted revision like "3", got ${header.slice(0, 40)}`, "expectedRevision");
  return { expectedRevision: Number(match[1]) };
}

/** Shared by every request without a query string (never written to). */
const NO_QUERY: URLSearchParams = new URLSearchParams();

/** The REST error body: `error.data` as tRPC callers get it (describeError), with the message. */
export function sendRestError(ex: Exchange, error: TRPCError, path: string, status?: number): void {
  const { message, data } = describeError(error, { requestId: ex.requestId, path });
  const httpStatus = status ?? data.httpStatus;
  if (httpStatus === 401) ex.setHeader("www-authenticate", WWW_AUTHENTICATE);
  ex.send(httpStatus, JSON.stringify({ ...data, httpStatus, message }), "application/json");
}

/** A route's handler that calls `call.procedure`; `template` is the route's path (for error bodies). */
export function procedureRoute(deps: RestDeps, call: ProcedureCall, template: string) {
  const fail = (ex: Exchange, cause: unknown) => {
    const error = getTRPCErrorFromUnknown(cause);
    deps.onError({ error, path: template, ex });
    sendRestError(ex, error, template);
  };

  return async function serve(ex: Exchange, params: Record<string, string>): Promise<void> {
    let body: unknown;
    if (call.hasBody) {
      const type = ex.header("content-type");
      if (type !== undefined && !isJsonContentType(type)) {
        const message = `Unsupported content type "${type.slice(0, 100)}": send the body as application/json`;
        return fail(ex, new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message }));
      }
      const text = await ex.readBody(deps.maxBodyBytes);
      if (text === undefined) {
        const message = `The request body is larger than ${deps.maxBodyBytes} bytes`;
        return fail(ex, new TRPCError({ code: "PAYLOAD_TOO_LARGE", message }));
      }
      // No body is no input (a create with defaults); a body needs its content type.
      if (text.length > 0 && type === undefined) {
        const message = "Unsupported content type none: send the body as application/json";
        return fail(ex, new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message }));
      }
      try {
        if (text.length > 0) measureJson((body = parseJson(text, "request body")));
      } catch (error) {
        return fail(ex, error);
      }
    }
    try {
      let id = params.id;
      if (id !== undefined) {
        try {
          id = decodeURIComponent(id);
        } catch {
          // not valid percent-encoding: the ID schema refuses it as it stands
        }
      }
      const query = ex.query ? new URLSearchParams(ex.query) : NO_QUERY;
      const input = call.input({ id, query, body, ex });
      const data = await deps.invoker(call.procedure)({
        ctx: deps.createContext(ex),
        path: call.procedure,
        type: call.type,
        rawInput: () => input,
        signal: ex.signal,
        batchIndex: 0,
      });
      const revision = (data as { revision?: unknown }).revision;
      if (typeof revision === "number") ex.setHeader("etag", `"${revision}"`);
      ex.send(200, JSON.stringify(data), "application/json");
    } catch (error) {
      fail(ex, error);
    }
  };
}
