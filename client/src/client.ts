import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from "@trpc/client";
import { DEFAULT_MAX_BATCH_SIZE, OWNER_HEADER, TRPC_PATH, transformer } from "@sessiond/shared/transformer";
import type { AppRouter } from "@sessiond/server";

export interface SessionClientOptions {
  /** The server's base URL, e.g. http://127.0.0.1:3000 (the tRPC endpoint /trpc is appended). */
  url: string;
  /**
   * The bearer token, sent as `Authorization: Bearer <token>`: a JWT naming the caller's owner
   * (the server's `--jwks-file`, `--jwks-url` or `--jwt-secret`), or the operator's `--token`. A
   * function is asked before every request and every (re)connection of `session.events`, so a page
   * can hand over its login's short-lived tokens as it refreshes them (undefined: none).
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /**
   * With the operator's token: act for this owner (the `Sessiond-Owner` header on every call and
   * stream), seeing and creating exactly that owner's sessions. Without it the operator's lists and
   * events span every owner, and calls that name a session act in the default owner.
   */
  owner?: string;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /**
   * Calls made in the same tick are sent as one HTTP request, up to this many per request
   * (default 100, the server's default --max-batch-size; keep it at or below the server's).
   */
  maxItems?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /**
   * The EventSource class for `session.events` (default: the global one, which browsers have).
   * Node has none: pass the `eventsource` package's, which also sends `token` and `headers`.
   */
  EventSource?: EventSourceConstructor;
}

/** Any EventSource class tRPC accepts (the `eventsource` package's takes a `fetch` option to send headers). */
type EventSourceConstructor = NonNullable<Parameters<typeof httpSubscriptionLink>[0]["EventSource"]>;

export type SessionClient = TRPCClient<AppRouter>;

/** The server's tRPC endpoint for a base URL given with or without `/trpc`. */
export function trpcEndpoint(url: string): string {
  const base = url.replace(/\/+$/, "");
  return base.endsWith(TRPC_PATH) ? base : `${base}${TRPC_PATH}`;
}

/**
 * The typed client: superjson on the wire, calls of one tick batched into one request,
 * subscriptions (`session.events`) over server-sent events.
 */
export function createSessionClient(options: SessionClientOptions): SessionClient {
  const url = trpcEndpoint(options.url);
  const { token, owner } = options;
  const fixed = { ...options.headers, ...(owner !== undefined ? { [OWNER_HEADER]: owner } : {}) };
  const withToken = (value: string | undefined) => (value ? { ...fixed, authorization: `Bearer ${value}` } : fixed);
  // A fixed token is one object for every request; a function is asked each time.
  const headers: Record<string, string> | (() => Promise<Record<string, string>>) =
    typeof token === "function" ? async () => withToken(await token()) : withToken(token);
  const headersNow = async () => (typeof headers === "function" ? await headers() : headers);
  const anyHeaders = typeof token === "function" || Object.keys(withToken(token)).length > 0;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url,
          transformer,
          EventSource: options.EventSource ?? globalThis.EventSource,
          // A browser's EventSource cannot send headers; the `eventsource` package can, through fetch.
          eventSourceOptions: anyHeaders
            ? {
                fetch: async (input: string | URL, init: RequestInit & { headers: Record<string, string> }) =>
                  fetchImpl(input, { ...init, headers: { ...init.headers, ...(await headersNow()) } }),
              }
            : {},
        }),
        false: httpBatchLink({
          url,
          transformer,
          maxItems: options.maxItems ?? DEFAULT_MAX_BATCH_SIZE,
          headers,
          fetch: options.fetch,
        }),
      }),
    ],
  });
}
