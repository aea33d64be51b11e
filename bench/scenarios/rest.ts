/** Create over REST (`POST /session`) against tRPC (`POST /trpc/session.create`) on one sessiond, at 10 and 64. */
import { REST, TRPC, smokeCreate } from "../lib/contenders.ts";
import { startServer } from "../lib/proc.ts";
import { createLoad, createTimings, over, type Scenario } from "../lib/scenario.ts";

export const scenarioRest: Scenario = async ({ settings, freshDb, measure }) => {
  const server = await startServer("sessiond", freshDb("rest"));
  await smokeCreate(server.url, REST);
  await smokeCreate(server.url, TRPC);
  const figures = [];
  for (const timing of createTimings(settings)) {
    const label = `create c${timing.connections}`;
    const { rest, trpc } = await measure(label, { trpc: createLoad(server, timing, TRPC), rest: createLoad(server, timing, REST) });
    figures.push(over(`${label}: REST / tRPC`, rest, trpc, "creates/s, one sessiond", { min: 0.9 }));
  }
  return { figures };
};
