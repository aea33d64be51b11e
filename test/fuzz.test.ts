/**
 * Property-based fuzzing through real HTTP, on every engine: random and hostile requests to every
 * procedure (bad inputs, malformed envelopes, superjson meta that would expand, sessions as their
 * own parents, batches of large pages). Each one must get a 4xx with a well-formed tRPC error body,
 * never a 5xx; read-only batches may succeed but their answers stay bounded; the server stays up;
 * and the store is unchanged, byte for byte.
 *
 * Meanwhile a second client measures how long /healthz takes (the event loop's delay as a caller
 * sees it) and the server's resident memory is sampled: a stall over STALL_BOUND_MS or growth over
 * RSS_BOUND_BYTES fails the run.
 *
 * Only requests that the contract rejects are sent, read-only ones aside: a local oracle
 * (support/requests.ts) skips the rare random input that happens to be valid.
 *
 * SESSIOND_FUZZ_RUNS sets the number of requests per engine (default 1500; a scheduled run or a
 * developer can ask for 10000 or more).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createSessionClient } from "@sessiond/client";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { storeDigest } from "./support/digest.ts";
import { hostileRequests } from "./support/requests.ts";
import { engineTargets, freshPostgresDatabase } from "./support/targets.ts";

const RUNS_PER_ENGINE = Number(process.env.SESSIOND_FUZZ_RUNS ?? 1500);
const SEED = 20_261_124;
/** The slowest /healthz answer allowed while the fuzz runs (generous: the machine is shared). */
const STALL_BOUND_MS = 2000;
/** The most the server's resident memory may grow during the run (10,000 requests peaked at +300 MiB: V8 keeps the heap it grew for 4 MB answers). */
const RSS_BOUND_BYTES = 512 * 1024 * 1024;
/** The largest answer a read-only request may get (the read budget's 1,000 sessions, small ones here). */
const ANSWER_BOUND_BYTES = 25 * 1024 * 1024;

const scratch = mkdtempSync(join(tmpdir(), "sessiond-fuzz-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
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
  let server: ServerProcess;
  let db: string;
  beforeAll(async () => {
    db = target.engine === "postgres" ? await freshPostgresDatabase() : join(scratch, `${target.engine}.db`);
    server = await startServerProcess(["--db", db]);
    // Sessions for the fuzz to (fail to) touch, and enough metadata that a batch of 100 full pages
    // would answer 80 MB without the read budget.
    const client = createSessionClient({ url: server.url, maxItems: 50 });
    const parent = await client.session.create.mutate({ id: "ses_0123456789abABCDEFGHIJKLMN", title: "fuzz parent" });
    const blob = "f".repeat(4000);
    await Promise.all(Array.from({ length: 200 }, (_, i) => client.session.create.mutate({ parentId: parent.id, metadata: { i, blob } })));
  });
  afterAll(() => server?.stop());

  it(`answers ${RUNS_PER_ENGINE} hostile requests with 4xx errors, stays responsive and bounded, and changes nothing`, async () => {
    const before = await storeDigest(db);
    const pid = server.child.pid!;
    const baseline = rss(pid);
    let peak = baseline;
    let slowest = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        const health = await fetch(`${server.url}/healthz`);
        await health.arrayBuffer();
        slowest = Math.max(slowest, performance.now() - started);
        peak = Math.max(peak, rss(pid));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    let sent = 0;
    try {
      await fc.assert(
        fc.asyncProperty(hostileRequests, async (request) => {
          fc.pre(!request.accepted || request.readOnly === true);
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
          expect(response.status, context).toBeLessThan(500);
          if (request.readOnly) {
            expect(text.length, context).toBeLessThan(ANSWER_BOUND_BYTES);
            if (response.status < 300) return;
          }
          const body = JSON.parse(text) as unknown;
          if (response.status === 207) {
            // tRPC's answer to a batch whose calls ended differently: each error is its own 4xx.
            expect(Array.isArray(body), context).toBe(true);
            for (const item of body as WireError[]) {
              if (!(item as WireError).error) continue;
              const status = (item as WireError).error.json.data.httpStatus as number;
              expect(status, context).toBeGreaterThanOrEqual(400);
              expect(status, context).toBeLessThan(500);
              expectWellFormedError(item, status);
            }
            return;
          }
          expect(response.status, context).toBeGreaterThanOrEqual(400);
          if (Array.isArray(body)) for (const item of body) expectWellFormedError(item, response.status);
          else expectWellFormedError(body, response.status);
        }),
        { numRuns: RUNS_PER_ENGINE, seed: SEED, endOnFailure: true },
      );
    } finally {
      probing = false;
      await probe;
    }
    expect(sent).toBeGreaterThanOrEqual(RUNS_PER_ENGINE);
    console.info(
      `fuzz [${target.name}]: ${sent} requests, slowest /healthz ${slowest.toFixed(0)} ms, RSS ${(baseline / 2 ** 20).toFixed(0)} -> peak ${(peak / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(slowest, "the slowest /healthz answer during the fuzz (ms)").toBeLessThan(STALL_BOUND_MS);
    expect(peak - baseline, "RSS growth during the fuzz (bytes)").toBeLessThan(RSS_BOUND_BYTES);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await storeDigest(db)).toBe(before);
  });
});
