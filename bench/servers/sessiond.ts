/**
 * The real server, exactly as `sessiond serve` assembles it, with logs off and SQLite on
 * `synchronous = NORMAL` like the bare handler and the peers: these scenarios compare the HTTP path
 * (scenario 8 compares `full` with `normal`).
 */
import { createLogger, resolveConfig, startSessiond } from "@sessiond/server";
import { announce, dbArg } from "./common.ts";

const db = dbArg();
const sessiond = await startSessiond(
  resolveConfig({ host: "127.0.0.1", port: 0, db, logLevel: "silent", sqliteSync: "normal" }, {}),
  createLogger("silent"),
);
announce(sessiond.url, () => sessiond.close());
