/**
 * Issue 20's peer: sessiond as users run it (`sessiond serve` with its defaults: access log,
 * metrics, request IDs, `--sqlite-sync full`) against the app a user would write instead
 * (servers/plain.ts), each on its own copy of one seeded file. Before the loads the app's get and
 * list answers must be sessiond's REST answers byte for byte, its create answer of the same shape.
 * Loads: get over stored IDs and the first list page at the read connections, then create at 10
 * and 64; through sessiond's REST routes and its tRPC procedures, alternating with the app.
 */
import { copyFileSync } from "node:fs";
import { REST, TRPC, type Wire } from "../lib/contenders.ts";
import type { LoadSpec } from "../lib/load.ts";
import { startServe, startServer } from "../lib/proc.ts";
import { shapeOf, smoke, smokeCreate } from "../lib/check.ts";
import { createLoad, createTimings, over, readLoad, type Figure, type Scenario } from "../lib/scenario.ts";
import { seed } from "../lib/seed.ts";

export const scenarioPlain: Scenario = async ({ settings, freshDb, measure }) => {
  const seedDb = freshDb("plain-seed");
  const { sampleIds: ids } = await seed(seedDb, settings.readSeedRows, settings.readIds);
  const [sessiondDb, plainDb] = [freshDb("plain-sessiond"), freshDb("plain-app")];
  copyFileSync(seedDb, sessiondDb);
  copyFileSync(seedDb, plainDb);
  const sessiond = (await startServe(["--db", sessiondDb])).url;
  const plain = (await startServer("plain", plainDb)).url;
  const answers = async (url: string, wire: Wire) => [
    (await smoke(url, wire.getPath(ids[0]!), (body) => wire.sessionId(body) === ids[0])).text,
    (await smoke(url, wire.listPath, (body) => wire.pageIds(body)?.length === 50)).text,
    shapeOf((await smokeCreate(url, wire)).text),
  ];
  const [theirs, ours] = [await answers(plain, REST), await answers(sessiond, REST)];
  if (theirs.join() !== ours.join()) throw new Error("the plain app's get, list or create answer differs from sessiond's REST answer");
  await answers(sessiond, TRPC);
  const figures: Figure[] = [];
  const compare = async (load: string, spec: (url: string, wire: Wire) => LoadSpec) => {
    const [app, rest, trpc] = [spec(plain, REST), spec(sessiond, REST), spec(sessiond, TRPC)];
    const results = await measure(load, { plain: app, "sessiond REST": rest, "sessiond tRPC": trpc });
    for (const door of ["REST", "tRPC"] as const) {
      const meaning = "req/s against the plain Hono app on the same file, sessiond with its defaults";
      figures.push(over(`${load}: sessiond ${door} / plain Hono app`, results[`sessiond ${door}`], results.plain, meaning, { min: 1 }));
    }
  };
  await compare("get", (url, wire) => readLoad(settings, url, ids.map(wire.getPath)));
  await compare("list", (url, wire) => readLoad(settings, url, [wire.listPath]));
  for (const timing of createTimings(settings)) {
    await compare(`create c${timing.connections}`, (url, wire) => createLoad(url, timing, wire));
  }
  const stored = `${settings.readSeedRows} sessions stored; get cycles over ${ids.length} of their IDs; list is the first page of 50.`;
  const commits =
    "The app commits each create alone with synchronous = NORMAL; sessiond (`full`, its default) commits concurrent creates together.";
  return { figures, notes: [`${stored} ${commits}`] };
};
