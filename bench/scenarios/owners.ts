/**
 * What owners cost (issue 19): sessiond with bearer JWTs (one owner's token on every call, verified
 * once, then from the cache) against no authentication, on the same seeded sessions; then a get
 * load with a new token every request. Beside req/s, each server's CPU per request (steadier).
 */
import { copyFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { signTestToken } from "@sessiond/testing";
import { TRPC, postJson, smoke } from "../lib/contenders.ts";
import type { LoadResult, LoadSpec } from "../lib/load.ts";
import { startServer, type ServerProcess } from "../lib/proc.ts";
import { createLoad, createTimings, figure, over, readLoad, type Figure, type Scenario } from "../lib/scenario.ts";
import { seed, sql } from "../lib/seed.ts";

const OWNER = "bench-owner";
/** Distinct tokens for the load without cache hits: more than the verifier keeps (10,000). */
const FRESH_TOKENS = 20_000;

export const scenarioOwners: Scenario = async ({ settings, freshDb, measure }) => {
  const [secret, exp] = [randomBytes(32).toString("base64url"), Math.floor(Date.now() / 1000) + 86_400];
  const withToken = { authorization: `Bearer ${signTestToken(secret, { sub: OWNER, exp })}` };
  const seedDb = freshDb("owners-seed");
  const { sampleIds: ids } = await seed(seedDb, settings.readSeedRows, settings.readIds);
  const [plainDb, ownedDb] = [freshDb("owners-none"), freshDb("owners-jwt")];
  copyFileSync(seedDb, plainDb);
  copyFileSync(seedDb, ownedDb);
  await sql(ownedDb, `UPDATE session SET owner = '${OWNER}'`);
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
  const compare = async (label: string, spec: (server: ServerProcess) => LoadSpec, jwtSpec: Partial<LoadSpec> = { headers: withToken }) => {
    const r: Record<"none" | "jwt", LoadResult> = await measure(label, { none: spec(none), jwt: { ...spec(jwt), ...jwtSpec } });
    const target = jwtSpec.headersByPath ? {} : { min: 0.95 };
    const [cpu, name] = [r.none.cpuUsPerRequest! / r.jwt.cpuUsPerRequest!, `${label}: server CPU per request, no auth / JWT owners`];
    figures.push(over(`${label}: JWT owners / no auth`, r.jwt, r.none, "req/s with a JWT naming the owner on every call", target));
    figures.push(figure(name, cpu, "the server's CPU per request without authentication over with JWT owners", target));
    return r;
  };
  for (const timing of createTimings(settings)) await compare(`create c${timing.connections}`, (server) => createLoad(server, timing));
  await compare("get", (server) => readLoad(settings, server, ids.map(TRPC.getPath)));
  await compare("list", (server) => readLoad(settings, server, [TRPC.listPath]));
  const fresh = Array.from({ length: FRESH_TOKENS }, (_, i) => ({
    authorization: `Bearer ${signTestToken(secret, { sub: OWNER, exp, jti: String(i) })}`,
  }));
  const paths = fresh.map((_, i) => TRPC.getPath(ids[i % ids.length]!));
  const cold = await compare("get, a new token every request", (server) => readLoad(settings, server, paths), { headersByPath: fresh });
  const verification = (cold.jwt.cpuUsPerRequest! - cold.none.cpuUsPerRequest!).toFixed(0);
  const tokens = `the last sends ${FRESH_TOKENS} distinct tokens in turn (more than the verifier's cache holds)`;
  const verified = `${verification} µs more server CPU per request than without authentication: an HS256 verification`;
  return { figures, notes: [`${settings.readSeedRows} sessions stored. Every load but the last sends one token; ${tokens}: ${verified}.`] };
};
