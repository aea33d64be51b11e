/**
 * A peer a user might pick instead of tRPC for speed: oRPC's RPC handler on its Node adapter,
 * serving create, get and list with the contract's zod schemas (zod 4 is a Standard Schema, which
 * oRPC validates directly) over the same session service and group-commit store as sessiond.
 * Reads are GET procedures (`?data=` carries the input), as tRPC's queries are; oRPC's own
 * serializer carries the Dates (its `meta`, as superjson's).
 */
import { createServer } from "node:http";
import { createSessionService, openStore } from "@sessiond/server";
import { createInputSchemas } from "@sessiond/shared";
import { os } from "@orpc/server";
import { RPCHandler } from "@orpc/server/node";
import { dbArg, listen } from "./common.ts";

const store = await openStore(dbArg(), { sqliteSync: "normal" });
const sessions = createSessionService(store);
const inputs = createInputSchemas();

const router = {
  session: {
    create: os.input(inputs.create).handler(({ input }) => sessions.create(input)),
    get: os
      .route({ method: "GET" })
      .input(inputs.get)
      .handler(({ input }) => sessions.get(input.id)),
    list: os
      .route({ method: "GET" })
      .input(inputs.list)
      .handler(({ input }) => sessions.list(input)),
  },
};

const handler = new RPCHandler(router);
const server = createServer((req, res) => {
  handler.handle(req, res, { prefix: "/rpc", context: {} }).then(
    ({ matched }) => {
      if (!matched) res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    },
    (error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end();
      process.stderr.write(`orpc handler failed: ${String(error)}\n`);
    },
  );
});
await listen(server, () => store.close());
