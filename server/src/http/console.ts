/**
 * The console page at `/` (off with --no-console): static files built by @sessiond/console, read
 * once, served with a Content-Security-Policy that lets them talk to this server only.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Exchange } from "./exchange.ts";

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

const NOT_BUILT = "The console is not built here: npm run build -w console\n";

/** The handler of one of the console's files (`@sessiond/console/<file>`). */
export function consoleFile(file: "console.html" | "console.js") {
  const type = file.endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8";
  let body: Buffer | null | undefined;
  return (ex: Exchange): void => {
    if (body === undefined) {
      try {
        body = readFileSync(createRequire(import.meta.url).resolve(`@sessiond/console/${file}`));
      } catch {
        body = null; // a source checkout where the console was not built
      }
    }
    if (!body) return ex.send(404, NOT_BUILT, "text/plain; charset=utf-8");
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) ex.setHeader(name, value);
    ex.send(200, body, type);
  };
}
