/**
 * The REST routes' behaviour: plain JSON over HTTP for callers that do not speak tRPC (opencode's
 * API shape). Which routes exist is the route table's business (routes.ts); this module turns one
 * request into its procedure's input, calls the procedure (invoke.ts, as the fast path does), and
 * writes the answer. So the same zod schemas validate, the same service runs, and errors are the
 * same TRPCErrors; an error's body is what `describeError` (errors.ts) makes of it for tRPC's
 * `error.data`, plus the message. Requests pass the same checks as the tRPC front door, in the
 * same order: the caller (the handler's, before the body is read: 401), content type (415), body
 * size (413), JSON and its depth (400). A conditional route evaluates `If-Match` (RFC 9110 §13.1.1)
 * into the revisions it accepts, which the store checks atomically with the write.
 */
import { TRPCError, getTRPCErrorFromUnknown } from "@trpc/server";
import { describeError, InvalidInputError } from "../errors.ts";
import { measureJson, parseJson } from "../wire/decode.ts";
import { jsonText } from "../wire/serialize.ts";
import { AuthenticationError, type Caller, WWW_AUTHENTICATE } from "./auth.ts";
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
  /** Whether the route writes only if `If-Match` holds (PATCH and DELETE). */
  conditional?: boolean;
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
  /** The procedures' context for one request of this caller, with the revisions its If-Match accepts. */
  createContext(ex: Exchange, caller: Caller, ifMatch: readonly number[] | undefined): unknown;
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
  if (query.size === 0) return { ...fields };
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

/** One entity tag of a list (RFC 9110 §8.8.3): an optional `W/`, then any visible characters but `"` in quotes. */
const ENTITY_TAG = /(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/y;
/** Optional whitespace and the commas of a list, empty elements included (RFC 9110 §5.6.1). */
const LIST_SEPARATORS = /[ \t,]*/y;

/**
 * The revisions an `If-Match` accepts (RFC 9110 §13.1.1): undefined for no header or `*` (any
 * current session: a missing one is 404 either way); else the revisions of its strong tags. Our
 * ETags are `"<revision>"`: a weak tag never matches (strong comparison), nor does a strong tag
 * that is not a revision, so a list of only those accepts none (412). Malformed: 400.
 */
export function ifMatchRevisions(header: string | undefined): readonly number[] | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (text === "*") return undefined;
  const revisions: number[] = [];
  let tags = 0;
  const malformed = () =>
    new InvalidInputError(
      'If-Match must be * or a list of entity tags such as "3" or "2", "3" (the ETags that responses carry)',
      "expectedRevision",
    );
  for (let at = 0; ; ) {
    LIST_SEPARATORS.lastIndex = at;
    LIST_SEPARATORS.exec(text);
    const next = LIST_SEPARATORS.lastIndex;
    if (next >= text.length) break;
    // Tags are separated by commas (empty elements allowed).
    if (tags > 0 && !text.slice(at, next).includes(",")) throw malformed();
    ENTITY_TAG.lastIndex = next;
    const tag = ENTITY_TAG.exec(text);
    if (!tag) throw malformed();
    tags++;
    if (tag[1] === undefined && /^[1-9]\d{0,15}$/.test(tag[2]!)) revisions.push(Number(tag[2]));
    at = ENTITY_TAG.lastIndex;
  }
  if (tags === 0) throw malformed();
  return revisions;
}

/** Shared by every request without a query string (never written to). */
const NO_QUERY: URLSearchParams = new URLSearchParams();

/** The REST error body: `error.data` as tRPC callers get it (describeError), with the message. */
export function sendRestError(ex: Exchange, error: TRPCError, path: string, status?: number): void {
  const { message, data } = describeError(error, { requestId: ex.requestId, path });
  const httpStatus = status ?? data.httpStatus;
  if (httpStatus === 401) ex.setHeader("www-authenticate", (error instanceof AuthenticationError && error.challenge) || WWW_AUTHENTICATE);
  ex.send(httpStatus, JSON.stringify({ ...data, httpStatus, message }), "application/json");
}

/** A route's handler that calls `call.procedure`; `template` is the route's path (for error bodies). */
export function procedureRoute(deps: RestDeps, call: ProcedureCall, template: string) {
  const fail = (ex: Exchange, cause: unknown) => {
    const error = getTRPCErrorFromUnknown(cause);
    deps.onError({ error, path: template, ex });
    sendRestError(ex, error, template);
  };

  /** Serves the route for a caller the handler has authenticated. */
  return async function serve(ex: Exchange, params: Record<string, string>, caller: Caller): Promise<void> {
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
      const ifMatch = call.conditional ? ifMatchRevisions(ex.header("if-match")) : undefined;
      // A body's expectedRevision that no tag of the If-Match accepts contradicts it (both would apply).
      const expected = (input as { expectedRevision?: unknown } | undefined)?.expectedRevision;
      if (ifMatch !== undefined && typeof expected === "number" && !ifMatch.includes(expected)) {
        throw new InvalidInputError("expectedRevision in the body disagrees with the If-Match header", "expectedRevision");
      }
      const data = await deps.invoker(call.procedure)({
        ctx: deps.createContext(ex, caller, ifMatch),
        path: call.procedure,
        type: call.type,
        rawInput: () => input,
        signal: ex.signal,
        batchIndex: 0,
      });
      const revision = (data as { revision?: unknown }).revision;
      if (typeof revision === "number") ex.setHeader("etag", `"${revision}"`);
      ex.send(200, jsonText(data), "application/json");
    } catch (error) {
      fail(ex, error);
    }
  };
}
