/**
 * The fast path for plain tRPC calls: a query by GET or a mutation by POST (batched or not),
 * answered as JSON with exactly the bytes, status and headers that tRPC's stock adapter sends, but
 * without building a fetch Request and Response for each call. It runs after the front door
 * (server.ts) has checked the method, the token and the content type, read the body and parsed
 * the input, and it calls tRPC's own `callTRPCProcedure`, so middleware, input validation and error
 * formatting are tRPC's. Anything else (subscriptions, streaming, unknown procedures, a method that
 * does not match the procedure) it leaves to the stock adapter by returning false.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  TRPCError,
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
} from "@trpc/server";
import { getParseFn } from "@trpc/server/unstable-core-do-not-import";
import { writeTRPCResponse, writeTRPCResult, type TRPCResponseBody } from "./trpc-response.ts";

type CallType = "query" | "mutation";

/** A tRPC request as the front door parsed it. */
export interface TRPCCall {
  paths: string[];
  isBatch: boolean;
  search: URLSearchParams | null;
  /** The parsed JSON input (for a batch, the object of envelopes by index), or undefined for none. */
  input: unknown;
  ctx: unknown;
}

export interface FastPathOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  onError(opts: { error: TRPCError; path: string; req: IncomingMessage; input: unknown; ctx: unknown; type: CallType }): void;
}

const METHOD_OF: Record<CallType, string> = { query: "GET", mutation: "POST" };
const SIMPLE_PATH = /^[A-Za-z0-9_.-]+$/;

interface ProcedureDef {
  middlewares: ((...args: never[]) => unknown)[] & { _type?: string }[];
  inputs: unknown[];
  resolver?: (opts: Record<string, unknown>) => unknown;
}

/** What calling a procedure takes: tRPC's middleware chain, or the direct call below. */
type Invoke = (opts: {
  ctx: unknown;
  path: string;
  type: CallType;
  rawInput: () => unknown;
  signal: AbortSignal;
  batchIndex: number;
}) => unknown;

/**
 * A procedure built as `procedure.input(schema).query|mutation(resolver)` runs two middlewares:
 * tRPC's input validator and the resolver's. Each step of tRPC's chain copies its options object
 * (measured: 10 % of a `session.get`); this does what those two do, in the same order with the
 * same errors: parse the raw input with tRPC's own parse function (a failure is BAD_REQUEST with
 * the parser's error as cause), then call the resolver. Anything else (other middlewares, several
 * inputs, an output parser) goes through tRPC's `callTRPCProcedure`.
 */
function directCall(procedure: AnyTRPCProcedure): Invoke | undefined {
  const def = procedure._def as unknown as ProcedureDef;
  const { middlewares, inputs, resolver } = def;
  if (!resolver || inputs.length > 1 || middlewares.length !== inputs.length + 1) return undefined;
  if (inputs.length === 1 && middlewares[0]!._type !== "input") return undefined;
  if (middlewares.at(-1)!.name !== "resolveMiddleware") return undefined;
  const parse = inputs.length === 1 ? getParseFn(inputs[0] as never) : undefined;
  const meta = (def as { meta?: unknown }).meta;
  const invalid = (cause: unknown) => new TRPCError({ code: "BAD_REQUEST", cause });
  // Not an async function: a schema without async checks parses at once and the resolver's own
  // promise is the answer (each async layer costs a promise and a hop). The caller awaits it, so
  // a synchronous throw is caught as a rejection would be.
  return ({ ctx, path, type, rawInput, signal, batchIndex }) => {
    const resolve = (input: unknown) => resolver({ ctx, path, type, input, signal, batchIndex, meta, getRawInput: async () => rawInput() });
    if (!parse) return resolve(undefined);
    const raw = rawInput();
    let parsed: unknown;
    try {
      parsed = parse(raw);
    } catch (cause) {
      throw invalid(cause);
    }
    if (!(parsed instanceof Promise)) return resolve(parsed);
    return parsed.then(resolve, (cause: unknown) => {
      throw invalid(cause);
    });
  };
}

/** The stock handler's "decode the inputs once, lazily" step, with the same errors. */
function inputReader(router: AnyTRPCRouter, call: TRPCCall) {
  let inputs: Record<number, unknown> | undefined;
  let failure: unknown;
  const deserialize = (value: unknown) => router._def._config.transformer.input.deserialize(value);
  const read = (): Record<number, unknown> => {
    if (inputs) return inputs;
    if (failure) throw failure;
    try {
      const result: Record<number, unknown> = {};
      if (call.input !== undefined && !call.isBatch) {
        result[0] = deserialize(call.input);
      } else if (call.input !== undefined) {
        for (const index of call.paths.keys()) {
          const value = (call.input as Record<number, unknown>)[index];
          if (value !== undefined) result[index] = deserialize(value);
        }
      }
      return (inputs = result);
    } catch (cause) {
      failure = getTRPCErrorFromUnknown(cause);
      throw failure;
    }
  };
  return { read, result: (index: number) => inputs?.[index] };
}

export function createFastPath<TRouter extends AnyTRPCRouter>(options: FastPathOptions<TRouter>) {
  const { router } = options;
  const config = router._def._config;
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;
  const invokers = new Map<string, Invoke>();
  for (const [path, procedure] of Object.entries(procedures)) {
    const direct = procedure && directCall(procedure);
    invokers.set(
      path,
      direct ??
        (({ ctx, type, rawInput, signal, batchIndex }) =>
          callTRPCProcedure({ router, path, type, ctx, getRawInput: async () => rawInput(), signal, batchIndex })),
    );
  }

  async function respond(req: IncomingMessage, res: ServerResponse, call: TRPCCall, type: CallType): Promise<void> {
    const inputs = inputReader(router, call);
    const { ctx } = call;
    // As the stock adapter does: the calls' signal aborts when the client goes away before its answer.
    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableEnded) abort.abort();
    });
    const callOne = async (path: string, index: number) => {
      try {
        const invoke = invokers.get(path)!;
        const data = await invoke({ ctx, path, type, rawInput: () => inputs.read()[index], signal: abort.signal, batchIndex: index });
        if (data !== null && typeof data === "object" && (Symbol.asyncIterator in data || data instanceof ReadableStream)) {
          throw new TRPCError({
            code: "UNSUPPORTED_MEDIA_TYPE",
            message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink",
          });
        }
        return { result: { data }, error: undefined };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        const input = inputs.result(index);
        options.onError({ error, path, req, input, ctx, type });
        return { result: undefined, error: getTRPCErrorShape({ config, ctx, error, input, path, type }) };
      }
    };
    if (call.isBatch) {
      const answers = await Promise.all(call.paths.map(callOne));
      writeTRPCResponse(res, router, answers.map(({ result, error }) => (result ? { result } : { error })) as TRPCResponseBody);
      return;
    }
    const answer = await callOne(call.paths[0]!, 0);
    if (answer.result) writeTRPCResult(res, answer.result.data);
    else writeTRPCResponse(res, router, { error: answer.error } as TRPCResponseBody);
  }

  /** Handles the call if it is a plain one this path serves; returns false to leave it to the stock handler. */
  return function tryHandle(req: IncomingMessage, res: ServerResponse, call: TRPCCall): boolean {
    const method = req.method;
    if (req.headers["trpc-accept"] !== undefined || req.headers.accept?.includes("application/jsonl")) return false;
    if (call.search?.has("connectionParams")) return false;
    let type: CallType | undefined;
    for (const path of call.paths) {
      if (!SIMPLE_PATH.test(path)) return false;
      const procedureType = procedures[path]?._def.type;
      if ((procedureType !== "query" && procedureType !== "mutation") || METHOD_OF[procedureType] !== method) return false;
      type = procedureType;
    }
    respond(req, res, call, type!).catch((error: unknown) => {
      // Writing the answer failed (the client went away); there is nobody to answer.
      if (!res.headersSent) res.destroy(error instanceof Error ? error : undefined);
    });
    return true;
  };
}
