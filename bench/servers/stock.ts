/** A peer: tRPC's stock standalone adapter serving sessiond's router, service and store, without sessiond's HTTP front. */
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import { createAppRouter, createContextInner, createSessionService, openStore } from "@sessiond/server";
import { dbArg, listen } from "./common.ts";

const store = await openStore(dbArg(), { sqliteSync: "normal" });
const sessions = createSessionService(store);
const server = createHTTPServer({ router: createAppRouter({ sessions }), basePath: "/trpc/", createContext: () => createContextInner() });
await listen(server, () => store.close());
