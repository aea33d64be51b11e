/**
 * Calling a tRPC procedure from sessiond's own HTTP paths (the fast path and the REST routes), with
 * what tRPC's stock adapter gives a call: its input, its context and a signal that aborts when the
 * client goes away. The call goes through tRPC's public `callTRPCProcedure`, or, for a plain
 * procedure on a verified tRPC version (internals.ts), the direct call below.
 */
import { TRPCError, callTRPCProcedure, type AnyTRPCProcedure, type AnyTRPCRouter } from "@trpc/server";
// A namespace import: a version without the function leaves it undefined instead of failing to load.
import * as trpcCore from "@trpc/server/unstable-core-do-not-import";

export type CallType = "query" | "mutation";

interface ProcedureDef {
  middlewares: ((...args: never[]) => unknown)[] & { _type?: string }[];
  inputs: unknown[];
  resolver?: (opts: Record<string, unknown>) => unknown;
  meta?: unknown;
}

/** What calling a procedure takes: tRPC's middleware chain, or the direct call below. */
export type Invoke = (opts: {
  ctx: unknown;
  path: string;
  type: CallType;
  rawInput: () => unknown;
  /**
   * Made for every call, although none of sessiond's queries and mutations reads it (about 0.3 µs
   * of a get: an AbortController and a close listener). Made lazily instead, through a getter on
   * the resolver's options (an object literal with a getter, then a class), it made V8 keep each
   * request's objects alive across young collections: garbage collection went from 0.8 to 5.3 µs
   * of a tRPC get and the get's CPU up by a fifth (twice, 2026-12-05); both tries were reverted.
   */
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
  const getParseFn = (trpcCore as { getParseFn?: (schema: never) => (input: unknown) => unknown }).getParseFn;
  const def = procedure._def as unknown as ProcedureDef;
  const { middlewares, inputs, resolver, meta } = def;
  if (typeof getParseFn !== "function" || !resolver || !Array.isArray(inputs) || !Array.isArray(middlewares)) return undefined;
  if (inputs.length > 1 || middlewares.length !== inputs.length + 1) return undefined;
  if (inputs.length === 1 && middlewares[0]!._type !== "input") return undefined;
  if (middlewares.at(-1)!.name !== "resolveMiddleware") return undefined;
  const parse = inputs.length === 1 ? getParseFn(inputs[0] as never) : undefined;
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

/**
 * The invoker of a procedure by path: the direct call where `direct` allows it (a verified tRPC,
 * which is also the only case where the router's `_def` is read) and the procedure is a plain one,
 * tRPC's public `callTRPCProcedure` otherwise (which answers NOT_FOUND for an unknown path).
 */
export function createInvokers(router: AnyTRPCRouter, options: { direct: boolean }): (path: string) => Invoke {
  const viaTRPC =
    (path: string): Invoke =>
    ({ ctx, type, rawInput, signal, batchIndex }) =>
      callTRPCProcedure({ router, path, type, ctx, getRawInput: async () => rawInput(), signal, batchIndex });
  const invokers = new Map<string, Invoke>();
  if (options.direct) {
    const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;
    for (const [path, procedure] of Object.entries(procedures)) invokers.set(path, (procedure && directCall(procedure)) ?? viaTRPC(path));
  }
  return (path) => invokers.get(path) ?? viaTRPC(path);
}
