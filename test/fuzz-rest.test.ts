/**
 * Property-based fuzzing of the REST routes through real HTTP, on every engine: random and hostile
 * bodies, headers, queries, path IDs and methods. Each must get a 4xx with a well-formed REST error
 * body (code, message, httpStatus, the request ID), never a 5xx; the server stays up; and the
 * store is unchanged, byte for byte. A local oracle (support/rest-requests.ts) skips the rare
 * random request that the contract accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { TestServer } from "@sessiond/testing";
import { storeDigest } from "./support/digest.ts";
import { hostileRestRequests } from "./support/rest-requests.ts";
import { engineTargets } from "./support/targets.ts";

/** As in fuzz.test.ts: SESSIOND_FUZZ_RUNS sets the requests per engine (default 1500; more for a scheduled run). */
const RUNS_PER_ENGINE = Number(process.env.SESSIOND_FUZZ_RUNS ?? 1500);
const SEED = 20_261_125;

describe.each(engineTargets)("fuzzing the REST routes over HTTP [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await target.start();
    // Some sessions for the fuzz to (fail to) touch, the first under the ID the generators use.
    const parent = await server.client.session.create.mutate({ id: "ses_0123456789abABCDEFGHIJKLMN", title: "fuzz parent" });
    for (let i = 0; i < 5; i++) await server.client.session.create.mutate({ parentId: parent.id, metadata: { i } });
  });
  afterAll(() => server?.close());

  it(`answers ${RUNS_PER_ENGINE} hostile requests with 4xx errors, stays up and changes nothing`, async () => {
    const before = await storeDigest(server.db);
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(hostileRestRequests, async (request) => {
        fc.pre(!request.accepted);
        sent++;
        const response = await fetch(`${server.url}${request.path}`, {
          method: request.method,
          headers: request.headers,
          body: request.body,
        });
        const text = await response.text();
        const context = `${request.label}: ${request.method} ${request.path.slice(0, 200)} ${JSON.stringify(request.headers).slice(0, 200)} ${request.body?.slice(0, 200)} -> ${response.status} ${text.slice(0, 300)}`;
        expect(response.status, context).toBeGreaterThanOrEqual(400);
        expect(response.status, context).toBeLessThan(500);
        const body = JSON.parse(text) as Record<string, unknown>;
        expect(typeof body.code, context).toBe("string");
        expect(typeof body.message, context).toBe("string");
        expect(body.httpStatus, context).toBe(response.status);
        expect(body.requestId, context).toBe(response.headers.get("x-request-id"));
        if (response.status === 405) expect(response.headers.get("allow"), context).toBeTruthy();
      }),
      { numRuns: RUNS_PER_ENGINE, seed: SEED, endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(RUNS_PER_ENGINE);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await storeDigest(server.db)).toBe(before);
  });
});
