/**
 * sessiond mounted inside a host, as library mode gives it: `openSessiond`, then the whole HTTP
 * surface as one fetch handler at a base path of a Hono app (served by @hono/node-server), beside
 * the host's own routes. For the contract suite's "mounted" target and the mount tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { createSessionClient } from "@sessiond/client";
import { createLogger, createSessiondHandler, openSessiond, type SessiondHandlerOptions, type ServerFlags } from "@sessiond/server";
import type { TestServer } from "@sessiond/testing";
import { EventSource } from "eventsource";
import { Hono } from "hono";

export const BASE_PATH = "/api/sessiond";

export interface MountedServer extends TestServer {
  /** The host's origin (the server's own URL, without the base path). */
  origin: string;
}

/** A Hono app with a route of its own at /hello and sessiond's handler at BASE_PATH. */
export async function startMounted(settings: ServerFlags = {}, options: SessiondHandlerOptions = {}): Promise<MountedServer> {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-mounted-"));
  const db = (settings.db as string | undefined) ?? join(dir, "sessions.db");
  const sessiond = await openSessiond({ ...settings, db }, { log: createLogger("silent") });
  const handler = createSessiondHandler(sessiond, { basePath: BASE_PATH, ...options });
  const app = new Hono();
  app.get("/hello", (c) => c.text("the host's own route"));
  app.all(`${BASE_PATH}/*`, (c) => handler.fetch(c.req.raw));
  app.all(BASE_PATH, (c) => handler.fetch(c.req.raw));
  // No global objects replaced: the host's process keeps its own Request and Response.
  const server = createServer(getRequestListener(app.fetch, { overrideGlobalObjects: false }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${origin}${BASE_PATH}`;
  const client = createSessionClient({
    url,
    token: settings.token as string | undefined,
    maxItems: sessiond.config.maxBatchSize,
    EventSource,
  });
  const noOwners = (): never => {
    throw new Error("this mounted sessiond runs without owners");
  };
  return {
    origin,
    url,
    db,
    client,
    sessions: sessiond.sessions,
    clientFor: noOwners,
    tokenFor: noOwners,
    operator: client,
    operatorFor: noOwners,
    operatorToken: undefined,
    async close() {
      await sessiond.events.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sessiond.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
