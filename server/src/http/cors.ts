/**
 * Cross-origin calls from browsers (`--cors-origin`): only the exact origins listed may call, and
 * only they get `Access-Control-Allow-*` headers. Preflights are answered here, before the token
 * check (a browser sends no credentials on a preflight) and before any body is read.
 *
 * A browser request that names an origin which is neither listed nor this server's own is refused
 * with 403 before it reaches a procedure: a page elsewhere must not be able to create or delete
 * sessions on a loopback server just because the browser lets it send a "simple" request.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

export const CORS_ALLOWED_METHODS = "GET, POST, OPTIONS";
/** The client's headers: the token, JSON, the request ID, and those tRPC's links may send. */
export const CORS_ALLOWED_HEADERS = "authorization, content-type, x-request-id, trpc-accept, trpc-batch-mode, x-trpc-source";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

function refuse(res: ServerResponse, message: string): true {
  const body = JSON.stringify({ error: message });
  res.writeHead(403, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  return true;
}

/**
 * Adds `Origin` to the response's Vary header when its head is written: the handlers behind this
 * one set their own Vary (tRPC's "trpc-accept, accept") and would replace a value set now.
 */
function varyOnOrigin(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    const headers = rest.find((item): item is OutgoingHttpHeaders => typeof item === "object" && item !== null && !Array.isArray(item));
    const current = headers?.vary ?? res.getHeader("vary");
    const vary = current ? `${String(current)}, Origin` : "Origin";
    if (headers?.vary !== undefined) headers.vary = vary;
    else res.setHeader("vary", vary);
    return writeHead.call(this, status, ...(rest as []));
  } as ServerResponse["writeHead"];
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
 * A step of the request handler: sets the CORS headers of a call from a listed origin, and
 * returns true when it answered the request itself (a preflight, or a refused origin).
 */
export function createCors(allowedOrigins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = new Set(allowedOrigins);
  return (req, res) => {
    if (allowed.size > 0) varyOnOrigin(res);
    const origin = req.headers.origin;
    if (origin === undefined) return false; // not a browser's cross-origin call
    const listed = allowed.has(origin);
    if (listed) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", "x-request-id");
    }
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (preflight) {
      if (!listed)
        return refuse(
          res,
          allowed.size ? `origin ${origin} may not call this server` : "cross-origin calls are off (sessiond serve --cors-origin)",
        );
      res.writeHead(204, {
        "access-control-allow-methods": CORS_ALLOWED_METHODS,
        "access-control-allow-headers": CORS_ALLOWED_HEADERS,
        "access-control-max-age": PREFLIGHT_MAX_AGE_SECONDS,
      });
      res.end();
      return true;
    }
    if (!listed && !isSameOrigin(origin, req.headers.host)) return refuse(res, `origin ${origin} may not call this server`);
    return false;
  };
}
