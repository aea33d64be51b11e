/**
 * Property-based fuzzing through real HTTP, on every engine: random and hostile requests to every
 * procedure. Each one must get a 4xx with a well-formed tRPC error body, never a 5xx; the server
 * stays up; and the store is unchanged, byte for byte.
 *
 * Only requests that the contract rejects are sent: a local oracle (support/requests.ts) skips the
 * rare random input that happens to be valid.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import pg from "pg";
import type { TestServer } from "@sessiond/testing";
import { hostileRequests } from "./support/requests.ts";
import { engineTargets } from "./support/targets.ts";

const RUNS_PER_ENGINE = 10_000;
const SEED = 20_261_124;
/** The store's content, for byte-for-byte comparison: SQLite's files, or PostgreSQL's rows. */
async function storeDigest(server: TestServer): Promise<string> {
  const hash = createHash("sha256");
  if (server.db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: server.db });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT row_to_json(session)::text AS row FROM session ORDER BY id");
      for (const { row } of rows) hash.update(row).update("\n");
    } finally {
      await client.end();
    }
  } else {
    for (const file of [server.db, `${server.db}-wal`]) if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

interface WireError {
  error: { json: { message: unknown; code: unknown; data: { code: unknown; httpStatus: unknown } } };
}

function expectWellFormedError(item: unknown, status: number): void {
  const error = (item as WireError).error?.json;
  expect(error, JSON.stringify(item).slice(0, 300)).toBeDefined();
  expect(typeof error.message).toBe("string");
  expect(typeof error.code).toBe("number");
  expect(typeof error.data.code).toBe("string");
  expect(error.data.httpStatus).toBe(status);
}

describe.each(engineTargets)("fuzzing every procedure over HTTP [$name]", (target) => {
  if (target.skip) return void it.skip(`skipped: ${target.skip}`);
  let server: TestServer;
  beforeAll(async () => {
    server = await target.start();
    // Some sessions for the fuzz to (fail to) touch.
    const parent = await server.client.session.create.mutate({ id: "ses_0123456789abABCDEFGHIJKLMN", title: "fuzz parent" });
    for (let i = 0; i < 5; i++) await server.client.session.create.mutate({ parentId: parent.id, metadata: { i } });
  });
  afterAll(() => server?.close());

  it(`answers ${RUNS_PER_ENGINE} hostile requests with 4xx errors, stays up and changes nothing`, async () => {
    const before = await storeDigest(server);
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(hostileRequests, async (request) => {
        fc.pre(!request.accepted);
        sent++;
        const response = await fetch(`${server.url}${request.path}`, {
          method: request.method,
          headers: request.contentType ? { "content-type": request.contentType } : {},
          body: request.body,
        });
        const text = await response.text();
        const context = `${request.label}: ${request.method} ${request.path.slice(0, 200)} -> ${response.status} ${text.slice(0, 300)}`;
        // Node's HTTP parser answers a request line and headers over 16 KiB itself, with 431 and no body.
        if (response.status === 431 && request.method === "GET" && request.path.length > 16_000) return;
        const body = JSON.parse(text) as unknown;
        if (response.status === 207) {
          // tRPC's answer to a batch whose calls failed with different codes: each is its own 4xx.
          expect(Array.isArray(body), context).toBe(true);
          for (const item of body as WireError[]) {
            const status = (item as WireError).error?.json.data.httpStatus as number;
            expect(status, context).toBeGreaterThanOrEqual(400);
            expect(status, context).toBeLessThan(500);
            expectWellFormedError(item, status);
          }
          return;
        }
        expect(response.status, context).toBeGreaterThanOrEqual(400);
        expect(response.status, context).toBeLessThan(500);
        if (Array.isArray(body)) for (const item of body) expectWellFormedError(item, response.status);
        else expectWellFormedError(body, response.status);
      }),
      { numRuns: RUNS_PER_ENGINE, seed: SEED, endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(RUNS_PER_ENGINE);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await storeDigest(server)).toBe(before);
  });
});
