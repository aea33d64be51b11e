/**
 * A peer a user might pick instead of tRPC for speed: Hono on its Node server, with zod validation
 * (@hono/zod-validator) of the contract's schemas, over the same session service and group-commit
 * store as sessiond. The routes are the REST shape a Hono user would write (POST /session,
 * GET /session/:id, GET /session?limit=50) and the answers plain `c.json`: Dates become ISO
 * strings with no type meta, which is less work than sessiond's superjson envelope, so this is the
 * stricter comparison.
 */
import { createSessionService, openStore } from "@sessiond/server";
import { createInputSchemas } from "@sessiond/shared";
import { createAdaptorServer } from "@hono/node-server";
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { z } from "zod";
import { dbArg, listen } from "./common.ts";

const store = await openStore(dbArg(), { sqliteSync: "normal" });
const sessions = createSessionService(store);
const inputs = createInputSchemas();

/** Query strings are text: the page size and flag are converted, then the contract's list schema decides. */
const listQuery = z
  .object({
    limit: z.coerce.number().optional(),
    cursor: z.string().nullable().optional(),
    parentId: z.string().optional(),
    roots: z.stringbool().optional(),
  })
  .pipe(inputs.list.unwrap());

const app = new Hono()
  .post("/session", zValidator("json", inputs.create), async (c) => c.json(await sessions.create(c.req.valid("json"))))
  .get("/session/:id", zValidator("param", inputs.get), async (c) => c.json(await sessions.get(c.req.valid("param").id)))
  .get("/session", zValidator("query", listQuery), async (c) => c.json(await sessions.list(c.req.valid("query"))));

await listen(createAdaptorServer({ fetch: app.fetch }) as import("node:http").Server, () => store.close());
