/** A peer: oRPC's Node RPC handler with the contract's schemas over sessiond's own service and store; reads by GET. */
import { createServer } from "node:http";
import { createSessionService, openStore } from "@sessiond/server";
import { createInputSchemas, DEFAULT_OWNER } from "@sessiond/shared";
import { os } from "@orpc/server";
import { RPCHandler } from "@orpc/server/node";
import { dbArg, listen } from "./common.ts";

const store = await openStore(dbArg(), { sqliteSync: "normal" });
const sessions = createSessionService(store);
/** Every call acts for one owner, as a server without authentication does. */
const scope = { owner: DEFAULT_OWNER };
const inputs = createInputSchemas();

const router = {
  session: {
    create: os.input(inputs.create).handler(({ input }) => sessions.create(scope, input)),
    get: os
      .route({ method: "GET" })
      .input(inputs.get)
      .handler(({ input }) => sessions.get(scope, input.id)),
    list: os
      .route({ method: "GET" })
      .input(inputs.list)
      .handler(({ input }) => sessions.list(scope, input)),
  },
};

const handler = new RPCHandler(router);
const server = createServer(async (req, res) => {
  const { matched } = await handler.handle(req, res, { prefix: "/rpc", context: {} });
  if (!matched) res.writeHead(404).end();
});
await listen(server, () => store.close());
