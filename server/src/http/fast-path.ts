/**
 * A lean HTTP path for plain tRPC query and mutation calls, single or batched, built on tRPC's own
 * public building blocks. The stock adapter turns every Node request into a Fetch `Request`, reads
 * the body through a web stream and writes the answer through another in chunks; here the body is
 * read as Buffers and the answer is written once, with a content-length. The wire format is
 * tRPC's: the same status codes, headers, bodies and error shapes (test/transport.test.ts compares
 * the two paths byte for byte).
 *
 * `tryHandle` decides before reading anything. Whatever it does not take (other methods or content
 * types, streaming or SSE requests, subscriptions, unknown procedures, wrong methods, oversized
 * batches, unusual URLs) goes to the stock handler, which answers it as it always does.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  TRPCError,
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  transformTRPCResponse,
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
} from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";

type CallType = "query" | "mutation";

export interface FastPathOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  basePath: string; // e.g. "/trpc/"
  maxBodyBytes: number;
  maxBatchSize: number;
  createContext(req: IncomingMessage): unknown;
  onError(opts: { error: TRPCError; path: string; req: IncomingMessage; input: unknown; ctx: unknown; type: CallType }): void;
}

const METHOD_OF: Record<CallType, string> = { query: "GET", mutation: "POST" };
const SIMPLE_PATH = /^[A-Za-z0-9_.,-]+$/;

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(";");
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase() === "application/json";
}

/** The stock handler's "read the inputs once, lazily" step, with the same errors. */
function inputReader(router: AnyTRPCRouter, isBatch: boolean, paths: string[], source: () => string | undefined) {
  let inputs: Record<number, unknown> | undefined;
  let failure: unknown;
  const read = (): Record<number, unknown> => {
    if (inputs) return inputs;
    if (failure) throw failure;
    try {
      const text = source();
      const parsed: unknown = text ? JSON.parse(text) : undefined;
      const deserialize = (value: unknown) => router._def._config.transformer.input.deserialize(value);
      const result: Record<number, unknown> = {};
      if (parsed !== undefined && !isBatch) {
        result[0] = deserialize(parsed);
      } else if (parsed !== undefined) {
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw new TRPCError({ code: "BAD_REQUEST", message: '"input" needs to be an object when doing a batch call' });
        }
        for (const index of paths.keys()) {
          const value = (parsed as Record<number, unknown>)[index];
          if (value !== undefined) result[index] = deserialize(value);
        }
      }
      return (inputs = result);
    } catch (cause) {
      failure =
        cause instanceof TRPCError
          ? cause
          : new TRPCError({ code: "BAD_REQUEST", message: cause instanceof Error ? cause.message : "Invalid input", cause });
      throw failure;
    }
  };
  return { read, result: (index: number) => inputs?.[index] };
}

/**
 * The body as text, or undefined when it exceeds `limit` bytes (reading stops there). A fetch
 * Request decodes UTF-8 without a byte-order mark, and so does this.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      cleanup();
      req.pause();
      resolve(undefined);
    };
    const onEnd = () => {
      cleanup();
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("the client closed the request before sending its body"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
  });
}

export function createFastPath<TRouter extends AnyTRPCRouter>(options: FastPathOptions<TRouter>) {
  const { router, basePath, maxBodyBytes, maxBatchSize } = options;
  const config = router._def._config;
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    paths: string[],
    type: CallType,
    isBatch: boolean,
    search: URLSearchParams | null,
  ): Promise<void> {
    let tooLarge = false;
    let body: string | undefined;
    if (req.method === "POST") {
      body = await readBody(req, maxBodyBytes);
      if (body === undefined) {
        tooLarge = true;
        // The rest of the body stays unread, so the connection cannot be reused.
        res.setHeader("connection", "close");
      }
    }
    const inputs = inputReader(router, isBatch, paths, () => {
      if (tooLarge) throw new TRPCError({ code: "PAYLOAD_TOO_LARGE" });
      return req.method === "GET" ? (search?.get("input") ?? undefined) : body;
    });

    let ctx: unknown;
    let ctxError: TRPCError | undefined;
    try {
      ctx = await options.createContext(req);
    } catch (cause) {
      ctxError = getTRPCErrorFromUnknown(cause);
    }

    const results = await Promise.all(
      paths.map(async (path, index) => {
        try {
          if (ctxError) throw ctxError;
          const data = await callTRPCProcedure({
            router,
            path,
            type,
            ctx,
            getRawInput: async () => inputs.read()[index],
            signal: undefined,
            batchIndex: index,
          });
          if (data !== null && typeof data === "object" && (Symbol.asyncIterator in data || data instanceof ReadableStream)) {
            throw new TRPCError({
              code: "UNSUPPORTED_MEDIA_TYPE",
              message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink",
            });
          }
          return { result: { data } };
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          const input = inputs.result(index);
          options.onError({ error, path, req, input, ctx: ctxError ? undefined : ctx, type });
          return { error: getTRPCErrorShape({ config, ctx: ctxError ? undefined : ctx, error, input, path, type }) };
        }
      }),
    );

    const untransformed = isBatch ? results : results[0]!;
    const payload = JSON.stringify(transformTRPCResponse(config, untransformed as never));
    res.writeHead(getHTTPStatusCode(untransformed as never), {
      vary: "trpc-accept, accept",
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);
  }

  /** Handles the request if it is a plain call this path serves; returns false to leave it to the stock handler. */
  return function tryHandle(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    if (method !== "GET" && method !== "POST") return false;
    if (method === "POST" && !isJsonContentType(req.headers["content-type"])) return false;
    if (req.headers["trpc-accept"] !== undefined || req.headers.accept?.includes("application/jsonl")) return false;

    const url = req.url ?? "";
    if (!url.startsWith(basePath)) return false;
    const queryAt = url.indexOf("?");
    const pathText = url.slice(basePath.length, queryAt === -1 ? undefined : queryAt);
    if (!SIMPLE_PATH.test(pathText)) return false;
    const search = queryAt === -1 ? null : new URLSearchParams(url.slice(queryAt + 1));
    if (search?.has("connectionParams")) return false;

    const isBatch = search?.get("batch") === "1";
    const paths = isBatch ? pathText.split(",") : [pathText];
    if (paths.length > maxBatchSize) return false;
    let type: CallType | undefined;
    for (const path of paths) {
      const procedureType = procedures[path]?._def.type;
      if ((procedureType !== "query" && procedureType !== "mutation") || METHOD_OF[procedureType] !== method) return false;
      type = procedureType;
    }

    respond(req, res, paths, type!, isBatch, search).catch((error: unknown) => {
      // Only reading the request can fail here (the client went away); there is nobody to answer.
      if (!res.headersSent) res.destroy(error instanceof Error ? error : undefined);
    });
    return true;
  };
}
