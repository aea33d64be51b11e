/**
 * The wire both ends speak: superjson as the data transformer (Dates, createdAt and the rest, cross
 * as Dates), tRPC at TRPC_PATH, and at most DEFAULT_MAX_BATCH_SIZE calls per batched request unless
 * a server is told otherwise (`--max-batch-size`), and the operator's owner header. Free of zod, so a
 * browser client stays small.
 */
import superjson from "superjson";

export const transformer = superjson;

/** Where a sessiond serves tRPC. */
export const TRPC_PATH = "/trpc";

/**
 * The header with which the operator (the server's static `--token`) acts for one owner: every
 * door reads it, and the client's `owner` option sends it. Other callers act as their own owner.
 */
export const OWNER_HEADER = "sessiond-owner";

/** Calls per batched request: the server's default limit, and the client's default batch. */
export const DEFAULT_MAX_BATCH_SIZE = 100;
