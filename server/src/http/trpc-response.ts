/**
 * Writing tRPC answers the way tRPC's own adapter does: one JSON body, the status tRPC would pick,
 * and tRPC's `vary` header. `writeTRPCError` (the front door's refusals) uses only public API and
 * sessiond's own formatter and transformer; the rest serves the fast path, on verified versions.
 */
import { transformTRPCResponse, type AnyTRPCRouter, type TRPCError } from "@trpc/server";
import { getHTTPStatusCode, getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { sessiondErrorFormatter } from "../trpc.ts";
import { serializeText } from "../wire/serialize.ts";
import type { Exchange } from "./exchange.ts";

export type TRPCResponseBody = Parameters<typeof getHTTPStatusCode>[0];
export type TRPCResponseItem = Extract<TRPCResponseBody, { result?: unknown; error?: unknown }>;

const VARY = "trpc-accept, accept";

function writeJson(ex: Exchange, status: number, payload: string): void {
  ex.setHeader("vary", VARY);
  ex.send(status, payload, "application/json");
}

/**
 * One item as `JSON.stringify(transformTRPCResponse(...))` writes it. A result's data is written by
 * `serializeText` (sessions and pages field by field); errors take tRPC's own transform.
 */
function itemText(router: AnyTRPCRouter, item: TRPCResponseItem): string {
  if ("result" in item && item.result !== undefined && Object.keys(item).length === 1 && Object.keys(item.result).length === 1) {
    return `{"result":{"data":${serializeText(item.result.data)}}}`;
  }
  return JSON.stringify(transformTRPCResponse(router._def._config, item as never));
}

/** The fast path's answer to a call or a batch (verified versions only: it reads the router's config). */
export function writeTRPCResponse(ex: Exchange, router: AnyTRPCRouter, untransformed: TRPCResponseBody): void {
  const payload = Array.isArray(untransformed)
    ? `[${untransformed.map((item) => itemText(router, item)).join(",")}]`
    : itemText(router, untransformed as TRPCResponseItem);
  writeJson(ex, getHTTPStatusCode(untransformed), payload);
}

/** The answer to one call that succeeded: `{"result":{"data":…}}` with status 200, as tRPC writes it. */
export function writeTRPCResult(ex: Exchange, data: unknown): void {
  writeJson(ex, 200, `{"result":{"data":${serializeText(data)}}}`);
}

/**
 * One error for every call of the request (an array for a batch), as tRPC answers a request it
 * refuses whole, shaped by sessiond's formatter and serialised by its transformer.
 */
export function writeTRPCError(
  ex: Exchange,
  call: { paths: string[]; isBatch: boolean },
  error: TRPCError,
  serialize: (value: unknown) => unknown,
): void {
  const item = (path: string) => {
    const shape = { code: TRPC_ERROR_CODES_BY_KEY[error.code], message: error.message };
    return { error: serialize(sessiondErrorFormatter({ shape, error, ctx: { requestId: ex.requestId }, path })) };
  };
  const body = call.isBatch ? call.paths.map(item) : item(call.paths[0] ?? "");
  writeJson(ex, getHTTPStatusCodeFromError(error), JSON.stringify(body));
}
