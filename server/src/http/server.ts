/**
 * The HTTP front: tRPC at /trpc, a health probe at /healthz, a request ID on every response.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { createContextInner } from "../context.ts";
import type { Logger } from "../log.ts";
import { appRouter } from "../router.ts";
import type { SessionService } from "../session/service.ts";

export interface HttpServerOptions {
  sessions: SessionService;
  log: Logger;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's `x-request-id` when it is a sane token, else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

export function createRequestListener({ sessions, log }: HttpServerOptions) {
  const requestIds = new WeakMap<IncomingMessage, string>();

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    createContext: ({ req }) => createContextInner({ sessions, log, requestId: requestIds.get(req) }),
    onError({ error, path, req }) {
      const requestId = requestIds.get(req);
      if (error.code === "INTERNAL_SERVER_ERROR") log.error({ requestId, path, err: error }, "internal error");
      else log.debug({ requestId, path, code: error.code, message: error.message }, "request failed");
    },
  });

  async function health(res: ServerResponse): Promise<void> {
    try {
      const body = JSON.stringify(await sessions.health());
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    } catch (error) {
      log.warn({ err: error }, "health check failed");
      const body = JSON.stringify({ status: "unavailable" });
      res.writeHead(503, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    }
  }

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = requestIdOf(req);
    requestIds.set(req, requestId);
    res.setHeader("x-request-id", requestId);
    const url = req.url ?? "/";
    if (url === "/trpc" || url.startsWith("/trpc/") || url.startsWith("/trpc?")) {
      trpc(req, res);
    } else if ((url === "/healthz" || url.startsWith("/healthz?")) && (req.method === "GET" || req.method === "HEAD")) {
      void health(res);
    } else {
      const body = JSON.stringify({ error: "not found", path: url.split("?")[0] });
      res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    }
  };
}

export interface RunningHttpServer {
  server: Server;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  /** Stops accepting connections and resolves when the in-flight requests have been answered. */
  close(): Promise<void>;
}

export async function listen(options: HttpServerOptions & { host: string; port: number }): Promise<RunningHttpServer> {
  const server = createServer(createRequestListener(options));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
