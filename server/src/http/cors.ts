/**
 * Cross-origin calls from browsers (`--cors-origin`): only the exact origins listed may call, and
 * only they get `Access-Control-Allow-*` headers. Preflights are answered here, before the token
 * check (a browser sends no credentials on a preflight) and before any body is read.
 *
 * A browser request that names an origin which is neither listed nor this server's own is refused
 * with 403 before it reaches a procedure: a page elsewhere must not be able to create or delete
 * sessions on a loopback server just because the browser lets it send a "simple" request.
 */
import type { Exchange } from "./exchange.ts";

export const CORS_ALLOWED_METHODS = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";
/** What the documented routes read: the token, the operator's owner, JSON, the request ID, tRPC's links' headers, and REST's conditional, retry and resume headers. */
export const CORS_ALLOWED_HEADERS =
  "authorization, sessiond-owner, content-type, x-request-id, trpc-accept, trpc-batch-mode, x-trpc-source, if-match, idempotency-key, last-event-id";
/** What a page may read of an answer. */
export const CORS_EXPOSED_HEADERS = "x-request-id, etag, retry-after, www-authenticate, allow";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

function refuse(ex: Exchange, message: string): true {
  ex.send(403, JSON.stringify({ code: "FORBIDDEN", httpStatus: 403, message, requestId: ex.requestId }), "application/json");
  return true;
}

/** Whether an Origin header names the server the request was sent to (a same-origin call). */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * A step of the handler: sets the CORS headers of a call from a listed origin, and returns true
 * when it answered the request itself (a preflight, or a refused origin).
 */
export function createCors(allowedOrigins: readonly string[]): (ex: Exchange) => boolean {
  const allowed = new Set(allowedOrigins);
  return (ex) => {
    if (allowed.size > 0) ex.setHeader("vary", "Origin");
    const origin = ex.header("origin");
    if (origin === undefined) return false; // not a browser's cross-origin call
    const listed = allowed.has(origin);
    if (listed) {
      ex.setHeader("access-control-allow-origin", origin);
      ex.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS);
    }
    const preflight = ex.method === "OPTIONS" && ex.header("access-control-request-method") !== undefined;
    if (preflight) {
      if (!listed)
        return refuse(
          ex,
          allowed.size ? `origin ${origin} may not call this server` : "cross-origin calls are off (sessiond serve --cors-origin)",
        );
      ex.setHeader("access-control-allow-methods", CORS_ALLOWED_METHODS);
      ex.setHeader("access-control-allow-headers", CORS_ALLOWED_HEADERS);
      ex.setHeader("access-control-max-age", PREFLIGHT_MAX_AGE_SECONDS);
      ex.send(204, "", "text/plain");
      return true;
    }
    if (!listed && !isSameOrigin(origin, ex.header("host"))) return refuse(ex, `origin ${origin} may not call this server`);
    return false;
  };
}
