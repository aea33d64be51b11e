/**
 * Writing tRPC answers the way tRPC's own adapter does: one JSON body with its content length, the
 * status tRPC would pick, and tRPC's `vary` header. Used by the fast path for every answer and by
 * the front door for the errors it answers before any procedure runs.
 */
import type { ServerResponse } from "node:http";
import { getTRPCErrorShape, transformTRPCResponse, type AnyTRPCRouter, type TRPCError } from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";

export type TRPCResponseBody = Parameters<typeof getHTTPStatusCode>[0];

export function writeTRPCResponse(res: ServerResponse, router: AnyTRPCRouter, untransformed: TRPCResponseBody): void {
  const payload = JSON.stringify(transformTRPCResponse(router._def._config, untransformed as never));
  res.writeHead(getHTTPStatusCode(untransformed), {
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
  call: { paths: string[]; isBatch: boolean },
  error: TRPCError,
): void {
  const config = router._def._config;
  const shape = (path: string) => ({
    error: getTRPCErrorShape({ config, ctx: undefined, error, input: undefined, path, type: "unknown" }),
  });
  writeTRPCResponse(res, router, (call.isBatch ? call.paths.map(shape) : shape(call.paths[0] ?? "")) as TRPCResponseBody);
}
