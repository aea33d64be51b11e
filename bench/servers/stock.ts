/**
 * The peer: the stock tRPC standalone adapter serving the same router over the same service and
 * store, with nothing of sessiond's HTTP front (no request IDs, no health route, no error hooks).
 */
import { createAppRouter, createContextInner, createSessionService, openStore } from "@sessiond/server";
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import { dbArg, listenAndAnnounce } from "./common.ts";

const db = dbArg();
const store = await openStore(db, { sqliteSync: "normal" });
const sessions = createSessionService(store);
const server = createHTTPServer({
  router: createAppRouter({ sessions }),
  basePath: "/trpc/",
  createContext: () => createContextInner(),
});
await listenAndAnnounce(server, () => store.close());
