/**
 * Issue 20's peer: `sessiond serve` with its defaults (access log, metrics, request IDs, `full`),
 * REST and tRPC, against the app a user would write instead (servers/plain.ts), each on a copy of
 * one seeded file: get, the first list page, create at 10 and 64.
 */
import { copyFileSync } from "node:fs";
import { REST, TRPC, shapeOf, smoke, smokeCreate, type Wire } from "../lib/contenders.ts";
import type { LoadSpec } from "../lib/load.ts";
import { startServe, startServer, type ServerProcess } from "../lib/proc.ts";
import { createLoad, createTimings, over, readLoad, type Figure, type Scenario, type ScenarioContext } from "../lib/scenario.ts";
import { seed } from "../lib/seed.ts";

/** Both servers, with `nodeArgs` each; the app's get and list must answer sessiond's REST bytes, its create the same shape. */
export async function startPlainAndSessiond({ settings, freshDb }: ScenarioContext, nodeArgs: Record<"sessiond" | "plain", string[]>) {
  const seedDb = freshDb("plain-seed");
  const { sampleIds: ids } = await seed(seedDb, settings.readSeedRows, settings.readIds);
  const [sessiondDb, plainDb] = [freshDb("plain-sessiond"), freshDb("plain-app")];
  copyFileSync(seedDb, sessiondDb);
  copyFileSync(seedDb, plainDb);
  const sessiond = await startServe(["--db", sessiondDb], nodeArgs.sessiond);
  const plain = await startServer("plain", plainDb, [], nodeArgs.plain);
  const answers = async (url: string, wire: Wire) => [
    (await smoke(url, wire.getPath(ids[0]!), (body) => wire.sessionId(body) === ids[0])).text,
    (await smoke(url, wire.listPath, (body) => wire.pageIds(body)?.length === 50)).text,
    shapeOf((await smokeCreate(url, wire)).text),
  ];
  const [theirs, ours] = [await answers(plain.url, REST), await answers(sessiond.url, REST)];
  if (theirs.join() !== ours.join()) throw new Error("the plain app's get, list or create answer differs from sessiond's REST answer");
  await answers(sessiond.url, TRPC);
  /** The same load on the app and on sessiond's two doors. */
  const contenders = (spec: (server: ServerProcess, wire: Wire) => LoadSpec) => ({
    plain: spec(plain, REST),
    "sessiond REST": spec(sessiond, REST),
    "sessiond tRPC": spec(sessiond, TRPC),
  });
  return { sessiond, plain, ids, contenders };
}

export const scenarioPlain: Scenario = async (context) => {
  const { settings, measure } = context;
  const { ids, contenders } = await startPlainAndSessiond(context, { sessiond: [], plain: [] });
  const figures: Figure[] = [];
  const compare = async (load: string, spec: (server: ServerProcess, wire: Wire) => LoadSpec) => {
    const results = await measure(load, contenders(spec));
    for (const door of ["REST", "tRPC"] as const) {
      const meaning = "req/s against the plain Hono app on the same file, sessiond with its defaults";
      figures.push(over(`${load}: sessiond ${door} / plain Hono app`, results[`sessiond ${door}`], results.plain, meaning, { min: 1 }));
    }
  };
  await compare("get", (server, wire) => readLoad(settings, server, ids.map(wire.getPath)));
  await compare("list", (server, wire) => readLoad(settings, server, [wire.listPath]));
  for (const timing of createTimings(settings)) {
    await compare(`create c${timing.connections}`, (server, wire) => createLoad(server, timing, wire));
  }
  const stored = `${settings.readSeedRows} sessions stored; get cycles over ${ids.length} of their IDs; list is the first page of 50.`;
  const commits =
    "The app commits each create alone with synchronous = NORMAL; sessiond (`full`, its default) commits concurrent creates together.";
  return { figures, notes: [`${stored} ${commits}`] };
};
