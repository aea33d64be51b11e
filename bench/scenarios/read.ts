/**
 * Reads: session.get over 1,000 of 10,000 stored IDs, and the first session.list page of 50:
 * sessiond against the bare handler and the peers, each on its own copy of one seeded file. The
 * bare handler must answer sessiond's bytes, the peers the same page in the same order.
 */
import { copyFileSync } from "node:fs";
import { WIRE, smoke, type ServerKind } from "../lib/contenders.ts";
import { startServer, type ServerProcess } from "../lib/proc.ts";
import { readLoad, type Figure, type Scenario } from "../lib/scenario.ts";
import { seed } from "../lib/seed.ts";
import { KINDS, ratiosOver } from "./create.ts";

export const scenarioRead: Scenario = async ({ settings, freshDb, measure }) => {
  const seedDb = freshDb("read-seed");
  const { sampleIds: ids } = await seed(seedDb, settings.readSeedRows, settings.readIds);
  const servers = {} as Record<ServerKind, ServerProcess>;
  let reference = { get: "", list: "", page: "" };
  for (const kind of KINDS) {
    const db = freshDb(`read-${kind}`);
    copyFileSync(seedDb, db);
    const [{ url }, wire] = [(servers[kind] = await startServer(kind, db)), WIRE[kind]];
    const get = (await smoke(url, wire.getPath(ids[0]!), (body) => wire.sessionId(body) === ids[0])).text;
    const list = await smoke(url, wire.listPath, (body) => wire.pageIds(body)?.length === 50);
    const answer = { get, list: list.text, page: wire.pageIds(list.body)!.join() };
    if (kind === "sessiond") reference = answer;
    else if (kind === "raw" ? get !== reference.get || answer.list !== reference.list : answer.page !== reference.page) {
      throw new Error(`${kind} does not answer what sessiond answers (${kind === "raw" ? "byte for byte" : "the same page"})`);
    }
  }
  const figures: Figure[] = [];
  for (const endpoint of ["get", "list"] as const) {
    const paths = (kind: ServerKind) => (endpoint === "get" ? ids.map(WIRE[kind].getPath) : [WIRE[kind].listPath]);
    const specs = Object.fromEntries(KINDS.map((kind) => [kind, readLoad(settings, servers[kind], paths(kind))]));
    figures.push(...ratiosOver(endpoint, endpoint, await measure(endpoint, specs)));
  }
  return {
    figures,
    notes: [`${settings.readSeedRows} sessions stored; get cycles over ${ids.length} of their IDs; list is one page of 50.`],
  };
};
