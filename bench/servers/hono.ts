/**
 * A peer: Hono with the contract's schemas over sessiond's own service and store, on sessiond's REST
 * routes, answering plain `c.json` (less work than superjson's envelope: the stricter comparison).
 */
import type { Server } from "node:http";
import { createSessionService, openStore } from "@sessiond/server";
import { createInputSchemas, DEFAULT_OWNER } from "@sessiond/shared";
import { createAdaptorServer } from "@hono/node-server";
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { z } from "zod";
import { dbArg, listen } from "./common.ts";

const store = await openStore(dbArg(), { sqliteSync: "normal" });
const sessions = createSessionService(store);
/** Every call acts for one owner, as a server without authentication does. */
const scope = { owner: DEFAULT_OWNER };
const inputs = createInputSchemas();

/** Query strings are text: the page size is converted, then the contract's list schema decides. */
const listQuery = z.object({ limit: z.coerce.number().optional(), cursor: z.string().nullable().optional() }).pipe(inputs.list.unwrap());

const app = new Hono()
  .post("/session", zValidator("json", inputs.create), async (c) => c.json(await sessions.create(scope, c.req.valid("json"))))
  .get("/session/:id", zValidator("param", inputs.get), async (c) => c.json(await sessions.get(scope, c.req.valid("param").id)))
  .get("/session", zValidator("query", listQuery), async (c) => c.json(await sessions.list(scope, c.req.valid("query"))));

await listen(createAdaptorServer({ fetch: app.fetch }) as Server, () => store.close());
