/** sessiond as `sessiond serve` assembles it, through the public API, with logs off and `synchronous = NORMAL` like the peers. */
import { createLogger, resolveConfig, startSessiond } from "@sessiond/server";
import { announce, dbArg } from "./common.ts";

// `--jwt-secret <secret>`: bearer JWTs name the owner of every call (the owners scenario).
const secretAt = process.argv.indexOf("--jwt-secret");
const jwtSecret = secretAt === -1 ? undefined : process.argv[secretAt + 1];
const config = resolveConfig({ host: "127.0.0.1", port: 0, db: dbArg(), logLevel: "silent", sqliteSync: "normal", jwtSecret }, {});
const sessiond = await startSessiond(config, createLogger("silent"));
announce(sessiond.url, () => sessiond.close());
