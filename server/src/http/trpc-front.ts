/**
 * The front door of tRPC at /trpc. Every request passes it before any procedure runs, in this
 * order: the method (405), the bearer token (401, before a byte of the body is read), the batch
 * size (400), the content type (415), the body with its size limit (413), and the input's JSON and
 * batch shape (400). Only then does it go to the fast path or, for what that does not serve, to
 * tRPC's stock adapter, which receives the body already read. Both paths therefore refuse the same
 * requests in the same way.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPC_PATH } from "@sessiond/shared";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { HttpHandler } from "../config.ts";
import { createContextInner, requestScope, type Context } from "../context.ts";
import type { EventService } from "../events/types.ts";
import type { Logger } from "../log.ts";
import type { AppRouter } from "../router.ts";
import type { SessionService } from "../session/service.ts";
import { checkBatchInput, parseJson } from "../wire/decode.ts";
import { isJsonContentType, readBody } from "./body.ts";
import { createFastPath, type TRPCCall } from "./fast-path.ts";
import { writeTRPCError } from "./trpc-response.ts";

export interface TRPCFrontOptions {
  router: AppRouter;
  sessions: SessionService;
  events?: EventService;
  log: Logger;
  authorized(header: string | undefined): boolean;
  maxBodyBytes: number;
  maxBatchSize: number;
  maxSessionsPerRequest: number;
  httpHandler: HttpHandler;
}

export type ErrorHook = (opts: { error: TRPCError; path: string | undefined; req: IncomingMessage }) => void;

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

/** Serves a request under /trpc; `onError` hears of every error a call or the door itself answers. */
export function createTRPCFront(options: TRPCFrontOptions, onError: ErrorHook) {
  const { router, sessions, authorized, maxBodyBytes, maxBatchSize, maxSessionsPerRequest } = options;
  const contexts = new WeakMap<IncomingMessage, Context>();
  const stock = createHTTPHandler({
    router,
    basePath: `${TRPC_PATH}/`,
    maxBodySize: maxBodyBytes,
    maxBatchSize,
    // The front door made the context before the request got here.
    createContext: ({ req }) => contexts.get(req)!,
    onError: ({ error, path, req }) => onError({ error, path, req }),
  });
  const fast = options.httpHandler === "fast" ? createFastPath({ router, onError }) : () => false;

  async function serveTRPC(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? "/";
    const queryAt = url.indexOf("?");
    const search = queryAt === -1 ? null : new URLSearchParams(url.slice(queryAt + 1));
    const isBatch = search?.get("batch") === "1";
    const paths = procedurePaths(url.slice(TRPC_PATH.length + 1, queryAt === -1 ? undefined : queryAt), isBatch);
    const refuse = (error: TRPCError, headers: Record<string, string> = {}) => {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      onError({ error, path: paths.join(","), req });
      writeTRPCError(res, router, { paths, isBatch, requestId }, error);
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
    // The stock adapter may format an error before it asks for the context: the formatter then
    // finds the request's ID in this scope.
    await requestScope.run({ requestId }, stock, req, res);
  }

  return serveTRPC;
}
