/**
 * The fast path for plain tRPC calls: a query by GET or a mutation by POST (batched or not),
 * answered as JSON with exactly the bytes, status and headers that tRPC's stock adapter sends, but
 * without building a fetch Request and Response for each call. It runs after the front door
 * (trpc-endpoint.ts) has checked the method, the token and the content type, read the body and
 * parsed the input, and it calls each procedure as tRPC would (invoke.ts), so input validation
 * and error formatting are tRPC's. Anything else (subscriptions, streaming, unknown procedures, a
 * method that does not match the procedure) it leaves to the stock path by returning false. It
 * exists only on verified versions (internals.ts).
 */
import { TRPCError, getTRPCErrorFromUnknown, getTRPCErrorShape, type AnyTRPCProcedure, type AnyTRPCRouter } from "@trpc/server";
import type { Exchange } from "./exchange.ts";
import { createInvokers, type CallType } from "./invoke.ts";
import { writeTRPCResponse, writeTRPCResult, type TRPCResponseBody, type TRPCResponseItem } from "./trpc-response.ts";

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
  onError(opts: { error: TRPCError; path: string; ex: Exchange }): void;
}

const METHOD_OF: Record<CallType, string> = { query: "GET", mutation: "POST" };
const SIMPLE_PATH = /^[A-Za-z0-9_.-]+$/;

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
  const invokerOf = createInvokers(router, { direct: true });

  /**
   * Calls every procedure of the request and writes the answer. Promise chains rather than async
   * functions: each async layer would add a promise and a turn of the microtask queue to a call.
   */
  function respond(ex: Exchange, call: TRPCCall, type: CallType): Promise<void> {
    const inputs = inputReader(router, call);
    const { ctx } = call;
    const signal = ex.signal;
    const callOne = (path: string, index: number): Promise<TRPCResponseItem> => {
      const failed = (cause: unknown): TRPCResponseItem => {
        const error = getTRPCErrorFromUnknown(cause);
        const input = inputs.result(index);
        options.onError({ error, path, ex });
        return { error: getTRPCErrorShape({ config, ctx, error, input, path, type }) };
      };
      const succeeded = (data: unknown): TRPCResponseItem => {
        if (data !== null && typeof data === "object" && (Symbol.asyncIterator in data || data instanceof ReadableStream)) {
          const message = "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink";
          return failed(new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message }));
        }
        return { result: { data } };
      };
      try {
        const data = invokerOf(path)({ ctx, path, type, rawInput: () => inputs.read()[index], signal, batchIndex: index });
        return Promise.resolve(data).then(succeeded, failed);
      } catch (cause) {
        return Promise.resolve(failed(cause));
      }
    };
    if (call.isBatch) {
      return Promise.all(call.paths.map(callOne)).then((answers) => writeTRPCResponse(ex, router, answers as TRPCResponseBody));
    }
    return callOne(call.paths[0]!, 0).then((answer) => {
      if ("result" in answer) writeTRPCResult(ex, answer.result.data);
      else writeTRPCResponse(ex, router, answer as TRPCResponseBody);
    });
  }

  /** Handles the call if it is a plain one this path serves; returns false to leave it to the stock path. */
  return function tryHandle(ex: Exchange, call: TRPCCall): boolean {
    const method = ex.method === "HEAD" ? "GET" : ex.method;
    if (ex.header("trpc-accept") !== undefined || ex.header("accept")?.includes("application/jsonl")) return false;
    if (call.search?.has("connectionParams")) return false;
    let type: CallType | undefined;
    for (const path of call.paths) {
      if (!SIMPLE_PATH.test(path)) return false;
      const procedureType = procedures[path]?._def.type;
      if ((procedureType !== "query" && procedureType !== "mutation") || METHOD_OF[procedureType] !== method) return false;
      type = procedureType;
    }
    respond(ex, call, type!).catch(() => {
      // Writing the answer failed (the client went away); there is nobody to answer.
      ex.disconnect();
    });
    return true;
  };
}
