/**
 * The host's HTTP server: its tRPC app at /api/trpc, and sessiond's whole HTTP surface (REST, GET
 * /event, the OpenAPI document, the console, sessiond's own /trpc) mounted at /sessiond.
 *
 *   DB=./sessions.db PORT=3000 node src/server.ts
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createSessiondHandler, openSessiond } from "@sessiond/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { contextFrom, createAppRouter } from "./app.ts";

const sessiond = await openSessiond({ db: process.env.DB ?? "./sessions.db" });

const trpc = createHTTPHandler({
  router: createAppRouter(sessiond),
  basePath: "/api/trpc/",
  createContext: ({ req }) => contextFrom(req.headers),
});
// sessiond's surface checks its own bearer token (unset: open, as on loopback).
const mounted = createSessiondHandler(sessiond, { basePath: "/sessiond", token: process.env.SESSIOND_TOKEN });

const server = createServer((req, res) => {
  if (req.url?.startsWith("/api/trpc/")) return void trpc(req, res);
  mounted.node(req, res, () => {
    res.writeHead(404, { "content-type": "text/plain" }).end("Not one of the host's pages\n");
  });
});

server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ msg: "host listening", url: `http://127.0.0.1:${port}` }));
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void sessiond.close();
  });
}
