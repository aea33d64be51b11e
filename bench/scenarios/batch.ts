/** Batched creates in httpBatchLink's format, 10 and 100 per request: sessiond against tRPC's stock adapter. */
import { postJson, smoke } from "../lib/contenders.ts";
import { startServer, type ServerProcess } from "../lib/proc.ts";
import { figure, over, type Figure, type Scenario } from "../lib/scenario.ts";

const batchPath = (size: number): string => `/trpc/${Array(size).fill("session.create").join(",")}?batch=1`;
const batchBody = (size: number): string => JSON.stringify(Object.fromEntries(Array.from({ length: size }, (_, i) => [i, { json: {} }])));

export const scenarioBatch: Scenario = async ({ settings, freshDb, measure }) => {
  const stock = await startServer("stock", freshDb("batch-stock"));
  const sessiond = await startServer("sessiond", freshDb("batch-sessiond"));
  const figures: Figure[] = [];
  for (const [i, size] of settings.batchSizes.entries()) {
    const [path, body] = [batchPath(size), batchBody(size)];
    for (const { url } of [stock, sessiond])
      await smoke(url, path, (answer) => Array.isArray(answer) && answer.length === size, postJson(body));
    const [connections, durationS, warmupS] = [settings.readConnections, settings.durationS, i ? settings.rewarmS : settings.warmupS];
    const spec = (server: ServerProcess) => ({ server, method: "POST" as const, paths: [path], body, connections, durationS, warmupS });
    const results = await measure(`batch ${size}`, { stock: spec(stock), sessiond: spec(sessiond) });
    figures.push(over(`batch ${size}: sessiond / stock`, results.sessiond, results.stock, "creates/s"));
    if (size === Math.max(...settings.batchSizes)) {
      figures.push(figure(`sessiond creates/s at ${size} per request`, results.sessiond.rps * size, "creates/s", { min: 30_000 }));
    }
  }
  return { figures };
};
