/**
 * The console page at `/` (off with --no-console): static files built by @sessiond/console, read
 * once, served with a Content-Security-Policy that lets them talk to this server only.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "@sessiond/console/console.html", type: "text/html; charset=utf-8" },
  "/console.js": { file: "@sessiond/console/console.js", type: "text/javascript; charset=utf-8" },
};

const NOT_BUILT = "The console is not built here: npm run build -w console\n";

/** A step of the request handler: answers GETs of the console's files; true when it did. */
export function createConsole(enabled: boolean): (req: IncomingMessage, res: ServerResponse) => boolean {
  if (!enabled) return () => false;
  const require = createRequire(import.meta.url);
  const cache = new Map<string, Buffer | null>();
  const load = (specifier: string) => {
    if (!cache.has(specifier)) {
      try {
        cache.set(specifier, readFileSync(require.resolve(specifier)));
      } catch {
        cache.set(specifier, null); // a source checkout where the console was not built
      }
    }
    return cache.get(specifier)!;
  };
  return (req, res) => {
    const entry = FILES[(req.url ?? "/").split("?")[0]!];
    if (!entry || (req.method !== "GET" && req.method !== "HEAD")) return false;
    const body = load(entry.file);
    if (!body) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end(NOT_BUILT);
      return true;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": entry.type, "content-length": body.length });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}
