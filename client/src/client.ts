import { createTRPCClient, httpBatchLink, type TRPCClient } from "@trpc/client";
import { transformer } from "@sessiond/shared/transformer";
import type { AppRouter } from "@sessiond/server";

export interface SessionClientOptions {
  /** The server's base URL, e.g. http://127.0.0.1:3000 (the tRPC endpoint /trpc is appended). */
  url: string;
  /** The server's bearer token (`sessiond serve --token`), sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /**
   * Calls made in the same tick are sent as one HTTP request, up to this many per request
   * (default 100, the server's default --max-batch-size; keep it at or below the server's).
   */
  maxItems?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

export type SessionClient = TRPCClient<AppRouter>;

/** The server's tRPC endpoint for a base URL given with or without `/trpc`. */
export function trpcEndpoint(url: string): string {
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/trpc") ? base : `${base}/trpc`;
}

/** The typed client: superjson on the wire, calls of one tick batched into one request. */
export function createSessionClient(options: SessionClientOptions): SessionClient {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: trpcEndpoint(options.url),
        transformer,
        maxItems: options.maxItems ?? 100,
        headers: options.token ? { ...options.headers, authorization: `Bearer ${options.token}` } : options.headers,
        fetch: options.fetch,
      }),
    ],
  });
}
