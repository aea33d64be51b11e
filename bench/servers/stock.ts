/**
 * The peer: the stock tRPC standalone adapter serving the same appRouter over the same service and
 * store, with nothing of sessiond's HTTP front (no request IDs, no health route, no error hooks).
 */
import type { AddressInfo } from "node:net";
import { appRouter, createContextInner, createLogger, createSessionService, openStore } from "@sessiond/server";
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import { announce, dbArg } from "./common.ts";

const db = dbArg();
const log = createLogger("silent");
const store = await openStore(db);
const sessions = createSessionService(store);
const server = createHTTPServer({
  router: appRouter,
  basePath: "/trpc/",
  createContext: () => createContextInner({ sessions, log }),
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;
announce(`http://127.0.0.1:${port}`, async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await store.close();
});
