/**
 * Scenario 12: what owners cost (issue 19). sessiond with bearer JWTs (`--jwt-secret`, every call
 * carrying one owner's token) against sessiond without authentication, in alternating rounds:
 * create at 10 and 64 connections, get over 1,000 of 10,000 stored sessions, the first list page
 * of 50. Both read the same seeded sessions, owned by the token's owner on the JWT side. A token is
 * verified once and then served from the verifier's cache, as a client that keeps its token is;
 * the last load gives every request a token of its own (no cache hits), to show what a first call
 * costs. On a machine other processes keep busy, req/s ratios swing from round to round, so each
 * server's own CPU time per request is measured too (from /proc, in short alternating loads): a
 * ratio of that is what ownership costs the server, whatever else runs.
 */
import { copyFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { signTestToken } from "@sessiond/testing";
import { TRPC } from "../lib/contenders.ts";
import { postJson, smoke } from "../lib/check.ts";
import { treeCpuSeconds } from "../lib/cpu.ts";
import { runLoad, type LoadSpec } from "../lib/load.ts";
import { startServer, type ServerProcess } from "../lib/proc.ts";
import { createLoad, createTimings, figure, over, readLoad, type Figure, type Scenario, type Settings } from "../lib/scenario.ts";
import { seed } from "../lib/seed.ts";

const OWNER = "bench-owner";
const TARGET = { min: 0.95 };
const MEANING = "req/s with a JWT naming the owner on every call, against no authentication";
const CPU_MEANING = "the server's own CPU time per request without authentication, over the same with JWT owners (robust to other load)";
/** Distinct tokens for the load without cache hits: more than the verifier keeps (10,000). */
const FRESH_TOKENS = 20_000;

/**
 * Each server's own CPU seconds per request (its process, from /proc) over short loads that
 * alternate between the two, `rounds` times; the median of each. Returns µs per request.
 */
async function cpuPerRequest(
  settings: Settings,
  servers: Record<"none" | "jwt", { server: ServerProcess; spec: LoadSpec }>,
): Promise<Record<"none" | "jwt", number>> {
  const samples = { none: [] as number[], jwt: [] as number[] };
  const keys = ["none", "jwt"] as const;
  for (let round = 0; round < settings.rounds; round++) {
    for (const key of round % 2 ? [...keys].reverse() : keys) {
      const { server, spec } = servers[key];
      const before = treeCpuSeconds(server.pid) ?? Number.NaN;
      const result = await runLoad({ ...spec, warmupS: 0, durationS: Math.max(1, settings.durationS / 4) });
      if (result.non2xx + result.errors > 0) throw new Error(`${key}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      samples[key].push((((treeCpuSeconds(server.pid) ?? Number.NaN) - before) * 1e6) / result.responses);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { none: median(samples.none), jwt: median(samples.jwt) };
}

export const scenarioOwners: Scenario = async ({ settings, freshDb, measure }) => {
  const secret = randomBytes(32).toString("base64url");
  const expiry = Math.floor(Date.now() / 1000) + 86_400;
  const token = signTestToken(secret, { sub: OWNER, exp: expiry });
  const withToken = { authorization: `Bearer ${token}` };

  const seedDb = freshDb("owners-seed");
  const { sampleIds: ids } = await seed(seedDb, settings.readSeedRows, settings.readIds);
  const [plainDb, ownedDb] = [freshDb("owners-none"), freshDb("owners-jwt")];
  copyFileSync(seedDb, plainDb);
  copyFileSync(seedDb, ownedDb);
  const owned = new DatabaseSync(ownedDb);
  owned.prepare("UPDATE session SET owner = ?").run(OWNER);
  owned.close();
  const none = await startServer("sessiond", plainDb);
  const jwt = await startServer("sessiond", ownedDb, ["--jwt-secret", secret]);

  // Both answer the same session, each as its owner's; the JWT side refuses a call without a token.
  const owner = (body: unknown) => (body as { result?: { data?: { json?: { owner?: string } } } }).result?.data?.json?.owner;
  await smoke(none.url, TRPC.getPath(ids[0]!), (body) => owner(body) === "default");
  await smoke(jwt.url, TRPC.getPath(ids[0]!), (body) => owner(body) === OWNER, { headers: withToken });
  const create = postJson(TRPC.create.body);
  await smoke(jwt.url, TRPC.create.path, (body) => owner(body) === OWNER, { ...create, headers: { ...create.headers, ...withToken } });
  const refused = await fetch(jwt.url + TRPC.listPath);
  if (refused.status !== 401) throw new Error(`the JWT server answered ${refused.status} without a token`);
  await refused.arrayBuffer();

  const figures: Figure[] = [];
  const cpu: string[] = [];
  const compare = async (label: string, specs: Record<"none" | "jwt", LoadSpec>) => {
    const results = await measure(label, specs);
    figures.push(over(`${label}: JWT owners / no auth`, results.jwt, results.none, MEANING, TARGET));
    const perRequest = await cpuPerRequest(settings, { none: { server: none, spec: specs.none }, jwt: { server: jwt, spec: specs.jwt } });
    figures.push(figure(`${label}: server CPU per request, no auth / JWT owners`, perRequest.none / perRequest.jwt, CPU_MEANING, TARGET));
    cpu.push(`${label} ${perRequest.none.toFixed(1)} and ${perRequest.jwt.toFixed(1)}`);
  };
  for (const timing of createTimings(settings)) {
    await compare(`create c${timing.connections}`, {
      none: createLoad(none.url, timing),
      jwt: { ...createLoad(jwt.url, timing), headers: withToken },
    });
  }
  for (const [label, paths] of [
    ["get", ids.map(TRPC.getPath)],
    ["list", [TRPC.listPath]],
  ] as const) {
    await compare(label, {
      none: readLoad(settings, none.url, [...paths]),
      jwt: { ...readLoad(settings, jwt.url, [...paths]), headers: withToken },
    });
  }
  const fresh = Array.from({ length: FRESH_TOKENS }, (_, i) => ({
    authorization: `Bearer ${signTestToken(secret, { sub: OWNER, exp: expiry, jti: String(i) })}`,
  }));
  const cold = await measure("get, a new token every request", {
    none: readLoad(settings, none.url, ids.map(TRPC.getPath)),
    jwt: {
      ...readLoad(
        settings,
        jwt.url,
        fresh.map((_, i) => TRPC.getPath(ids[i % ids.length]!)),
      ),
      headersByPath: fresh,
    },
  });
  figures.push(
    over(
      "get, a new token every request: JWT owners / no auth",
      cold.jwt,
      cold.none,
      "req/s when every call's token is verified (HS256, no cache hits)",
    ),
  );
  const perVerification = 1e6 / cold.jwt.rps - 1e6 / cold.none.rps;
  return {
    figures,
    notes: [
      `${settings.readSeedRows} sessions stored, owned by the token's owner on the JWT side; every load but the last sends one token, verified once and then served from the cache.`,
      `The last load sends ${FRESH_TOKENS} distinct tokens in turn (more than the cache holds): about ${perVerification.toFixed(0)} µs more per request, the verification of an HS256 token.`,
      `Each server's own CPU per request, µs, without authentication and with JWT owners (median of ${settings.rounds} alternating short loads): ${cpu.join("; ")}.`,
    ],
  };
};
