/**
 * tRPC at /trpc. Every request passes the front door before any procedure runs, in this order: the
 * method (405), the caller (auth.ts: 401, before a byte of the body is read), the batch size (400),
 * the content type (415), the body with its size limit (413), and the input's JSON and batch shape
 * (400). Only then does it go to the fast path (verified versions) or, for what that does not
 * serve, to tRPC's stock path (`resolveResponse`, tRPC's public adapter core), which receives the
 * body already read. Both paths therefore refuse the same requests in the same way.
 */
import type { AnyTRPCRouter, TRPCError } from "@trpc/server";
import { TRPCError as TRPCErrorClass } from "@trpc/server";
import { resolveResponse } from "@trpc/server/http";
import { createContextInner, type Context } from "../context.ts";
import { checkBatchInput, parseJson } from "../wire/decode.ts";
import { AuthenticationError, type Authentication } from "./auth.ts";
import type { Exchange } from "./exchange.ts";
import { createFastPath, type TRPCCall } from "./fast-path.ts";
import { writeTRPCError } from "./trpc-response.ts";

export interface TRPCEndpointOptions {
  router: AnyTRPCRouter;
  /** The transformer's output serializer (for the front door's own refusals). */
  serialize(value: unknown): unknown;
  /** Who is calling: the caller, or the refusal to answer with. */
  authenticate(ex: Exchange): Authentication | Promise<Authentication>;
  maxBodyBytes: number;
  maxBatchSize: number;
  maxSessionsPerRequest: number;
  /** The router's procedure paths (labels come from this fixed set). */
  procedureNames: ReadonlySet<string>;
  /** The lean path for plain calls (only on verified versions, internals.ts). */
  fastPath: boolean;
  /** Hears of every error a call or the door itself answers. */
  onError(opts: { error: TRPCError; path: string | undefined; ex: Exchange }): void;
  /** The request being served while tRPC's stock path formats an error without a context. */
  runWithRequest<T>(requestId: string, serve: () => T): T;
}

/** The procedure paths of a tRPC URL path (`a,b` → a, b), decoded as tRPC decodes them. */
function procedurePaths(pathText: string, isBatch: boolean): string[] {
  let decoded = pathText;
  try {
    if (pathText.includes("%")) decoded = decodeURIComponent(pathText);
  } catch {
    // Not percent-encoded properly: tRPC looks the raw text up, and finds no procedure.
  }
  return isBatch ? decoded.split(",") : [decoded];
}

const isJsonContentType = (header: string | undefined) =>
  header !== undefined && header.split(";", 1)[0]!.trim().toLowerCase() === "application/json";

/** The label of a tRPC request for logs and metrics: its procedure, "batch:mixed", or "unknown". */
function labelOf(paths: string[], known: ReadonlySet<string>): string {
  if (paths.length === 1) return known.has(paths[0]!) ? paths[0]! : "unknown";
  const names = new Set(paths);
  if (names.size > 1) return "batch:mixed";
  const [name] = names;
  return name !== undefined && known.has(name) ? name : "unknown";
}

const NO_QUERY = { search: null, input: null } as const;

/**
 * The query of a tRPC request: its parameters (null for none) and its `input` parameter. A query
 * that is only `input=…` without `+` (what tRPC's links send) is decoded by decodeURIComponent,
 * which gives what URLSearchParams gives whenever it succeeds, without building the parameters.
 */
export function readQuery(query: string): { search: URLSearchParams | null; input: string | null } {
  if (query === "") return NO_QUERY;
  // A lone surrogate (only in a query that did not come off the wire) is U+FFFD in URLSearchParams.
  if (query.startsWith("input=") && !query.includes("&") && !query.includes("+") && query.isWellFormed()) {
    try {
      return { search: null, input: decodeURIComponent(query.slice("input=".length)) };
    } catch {
      // Not valid percent-encoding: URLSearchParams decodes what it can, as tRPC would.
    }
  }
  const search = new URLSearchParams(query);
  return { search, input: search.get("input") };
}

/**
 * The query of a call by ID as tRPC's links send it, `input={"json":{"id":"<id>"}}` percent-encoded,
 * for an ID of letters, digits and `_` (as every session ID is): such a query decodes and parses to
 * exactly `{ json: { id } }`, which is built directly (decoding and parsing it cost about 1 µs of a
 * get). Any other query, an ID with any other character included, goes through readQuery and
 * JSON.parse.
 */
const INPUT_BY_ID = /^input=%7B%22json%22%3A%7B%22id%22%3A%22([A-Za-z0-9_]{1,64})%22%7D%7D$/;

/** Serves a request whose path is `/trpc/<procedures>`, given as `procedureText`. */
export function createTRPCEndpoint(options: TRPCEndpointOptions) {
  const { router, authenticate, maxBodyBytes, maxBatchSize, maxSessionsPerRequest } = options;
  const fast = options.fastPath
    ? createFastPath({ router, onError: ({ error, path, ex }) => options.onError({ error, path, ex }) })
    : () => false;

  return async function serveTRPC(ex: Exchange, procedureText: string): Promise<void> {
    const byId = ex.method === "POST" ? null : INPUT_BY_ID.exec(ex.query);
    const { search, input: queryInput } = byId ? NO_QUERY : readQuery(ex.query);
    const isBatch = search?.get("batch") === "1";
    const paths = procedurePaths(procedureText, isBatch);
    ex.label = labelOf(paths, options.procedureNames);
    const refuse = (error: TRPCError, headers: Record<string, string> = {}) => {
      for (const [name, value] of Object.entries(headers)) ex.setHeader(name, value);
      options.onError({ error, path: paths.join(","), ex });
      writeTRPCError(ex, { paths, isBatch }, error, options.serialize);
    };
    const method = ex.method;
    if (method !== "GET" && method !== "HEAD" && method !== "POST") {
      const message = `The method ${method} is not allowed here: tRPC takes queries by GET and mutations by POST`;
      return refuse(new TRPCErrorClass({ code: "METHOD_NOT_SUPPORTED", message }), { allow: "GET, HEAD, POST" });
    }
    let caller = authenticate(ex);
    // Synchronous for the default owner, the operator and a JWT verified before.
    if (caller instanceof Promise) caller = await caller;
    if (caller instanceof AuthenticationError) {
      return refuse(caller, caller.challenge === undefined ? {} : { "www-authenticate": caller.challenge });
    }
    if (isBatch && paths.length > maxBatchSize) {
      const message = `This batch has ${paths.length} calls; at most ${maxBatchSize} are allowed per request`;
      return refuse(new TRPCErrorClass({ code: "BAD_REQUEST", message }));
    }
    let text: string | undefined;
    if (method === "POST") {
      const type = ex.header("content-type");
      if (!isJsonContentType(type)) {
        const given = type ? `"${type.slice(0, 100)}"` : "none";
        const message = `Unsupported content type ${given}: send the input as application/json`;
        return refuse(new TRPCErrorClass({ code: "UNSUPPORTED_MEDIA_TYPE", message }));
      }
      text = await ex.readBody(maxBodyBytes);
      if (text === undefined) {
        const message = `The request body is larger than ${maxBodyBytes} bytes`;
        return refuse(new TRPCErrorClass({ code: "PAYLOAD_TOO_LARGE", message }));
      }
    } else {
      text = queryInput || undefined;
    }
    let input: unknown;
    try {
      if (byId) input = { json: { id: byId[1] } };
      else if (text) input = parseJson(text, method === "POST" ? "request body" : '"input" query parameter');
      if (isBatch && input !== undefined) checkBatchInput(input, paths.length);
    } catch (error) {
      return refuse(error as TRPCError);
    }

    const ctx: Context = createContextInner({
      requestId: ex.requestId,
      owner: caller.owner,
      allOwners: caller.allOwners,
      maxReads: maxSessionsPerRequest,
      disconnect: () => ex.disconnect(),
    });
    const call: TRPCCall = { paths, isBatch, search, input, ctx };
    if (fast(ex, call)) return;
    // tRPC's stock path may format an error before it asks for the context: the formatter then
    // finds the request's ID through `runWithRequest`.
    const response = await options.runWithRequest(ex.requestId, () =>
      resolveResponse({
        router,
        req: ex.toRequest(method === "POST" ? text : undefined),
        path: procedureText,
        error: null,
        createContext: async () => ctx,
        onError: ({ error, path }) => options.onError({ error, path, ex }),
      }),
    );
    await ex.sendResponse(response);
  };
}
