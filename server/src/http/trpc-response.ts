/**
 * Writing tRPC answers the way tRPC's own adapter does: one JSON body with its content length, the
 * status tRPC would pick, and tRPC's `vary` header. Used by the fast path for every answer and by
 * the front door for the errors it answers before any procedure runs.
 */
import type { ServerResponse } from "node:http";
import { getTRPCErrorShape, transformTRPCResponse, type AnyTRPCRouter, type TRPCError } from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";
import { serializeText } from "../wire/serialize.ts";

export type TRPCResponseBody = Parameters<typeof getHTTPStatusCode>[0];
type TRPCResponseItem = Extract<TRPCResponseBody, { result?: unknown; error?: unknown }>;

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

export function writeTRPCResponse(res: ServerResponse, router: AnyTRPCRouter, untransformed: TRPCResponseBody): void {
  const payload = Array.isArray(untransformed)
    ? `[${untransformed.map((item) => itemText(router, item)).join(",")}]`
    : itemText(router, untransformed as TRPCResponseItem);
  writeJson(res, getHTTPStatusCode(untransformed), payload);
}

/** The answer to one call that succeeded: `{"result":{"data":…}}` with status 200, as tRPC writes it. */
export function writeTRPCResult(res: ServerResponse, data: unknown): void {
  writeJson(res, 200, `{"result":{"data":${serializeText(data)}}}`);
}

function writeJson(res: ServerResponse, status: number, payload: string): void {
  res.writeHead(status, {
    vary: "trpc-accept, accept",
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** One error for every call of the request (an array for a batch), as tRPC answers a request it refuses whole. */
export function writeTRPCError(
  res: ServerResponse,
  router: AnyTRPCRouter,
  call: { paths: string[]; isBatch: boolean; requestId: string },
  error: TRPCError,
): void {
  const config = router._def._config;
  // No context exists yet; the error formatter reads the request's ID from this one.
  const ctx = { requestId: call.requestId };
  const shape = (path: string) => ({
    error: getTRPCErrorShape({ config, ctx, error, input: undefined, path, type: "unknown" }),
  });
  writeTRPCResponse(res, router, (call.isBatch ? call.paths.map(shape) : shape(call.paths[0] ?? "")) as TRPCResponseBody);
}
