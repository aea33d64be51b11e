/**
 * The fast path speaks tRPC's wire format exactly: two servers on one database, one on the fast
 * path and one on the stock adapter, must answer the same requests with the same status, headers
 * and bytes. The request ID is fixed so that bodies can be compared whole.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { hostileRequests, type FuzzRequest } from "./support/requests.ts";

const CASES = 3000;

let fast: TestServer;
let stock: TestServer;
const parentId = "ses_0123456789abABCDEFGHIJKLMN";

beforeAll(async () => {
  stock = await startTestServer({ settings: { httpHandler: "stock" } });
  fast = await startTestServer({ db: stock.db, settings: { httpHandler: "fast" } });
  await fast.client.session.create.mutate({ id: parentId, title: "parent", metadata: { k: [1, "two"] } });
  for (let i = 0; i < 7; i++) await fast.client.session.create.mutate({ parentId, title: `child ${i}` });
});
afterAll(async () => {
  await fast?.close();
  await stock?.close();
});

async function answer(server: TestServer, request: Omit<FuzzRequest, "accepted">) {
  const response = await fetch(`${server.url}${request.path}`, {
    method: request.method,
    headers: { "x-request-id": "same-for-both", ...(request.contentType ? { "content-type": request.contentType } : {}) },
    body: request.body,
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    vary: response.headers.get("vary"),
    allow: response.headers.get("allow"),
    body: await response.text(),
  };
}

async function expectSameAnswer(request: Omit<FuzzRequest, "accepted">): Promise<void> {
  const [fromFast, fromStock] = await Promise.all([answer(fast, request), answer(stock, request)]);
  expect(fromFast, `${request.method} ${request.path.slice(0, 200)}`).toEqual(fromStock);
}

const input = (json: unknown) => encodeURIComponent(JSON.stringify({ json }));
const batchInput = (...items: unknown[]) => encodeURIComponent(JSON.stringify(Object.fromEntries(items.map((json, i) => [i, { json }]))));
const post = (path: string, body: string, contentType = "application/json") => ({ label: "", method: "POST" as const, path, body, contentType });
const get = (path: string) => ({ label: "", method: "GET" as const, path });

describe("the fast path and the stock adapter", () => {
  it.each([
    ["a get", get(`/trpc/session.get?input=${input({ id: parentId })}`)],
    ["a list page", get(`/trpc/session.list?input=${input({ parentId, limit: 3 })}`)],
    ["children", get(`/trpc/session.children?input=${input({ id: parentId })}`)],
    ["a list without input", get("/trpc/session.list")],
    ["health", get("/trpc/health")],
    ["a batch of reads", get(`/trpc/session.get,session.list,health?batch=1&input=${batchInput({ id: parentId }, { limit: 2 })}`)],
    ["a duplicate create", post("/trpc/session.create", JSON.stringify({ json: { id: parentId } }))],
    ["a batch of duplicate creates", post("/trpc/session.create,session.create?batch=1", JSON.stringify({ 0: { json: { id: parentId } }, 1: { json: { id: parentId } } }))],
    ["a mixed batch (207)", get(`/trpc/session.get,session.get?batch=1&input=${batchInput({ id: parentId }, { id: "ses_nope" })}`)],
    ["a get of a missing session", get(`/trpc/session.get?input=${input({ id: "ses_000000000000AAAAAAAAAAAAAA" })}`)],
    ["a stale update", post("/trpc/session.update", JSON.stringify({ json: { id: parentId, title: "x", expectedRevision: 99 } }))],
    ["a body with a byte-order mark", post("/trpc/session.create", `\ufeff${JSON.stringify({ json: { id: parentId } })}`)],
    ["a JSON content type with a charset", post("/trpc/session.create", JSON.stringify({ json: { id: parentId } }), "application/json; charset=utf-8")],
    ["a body over the limit", post("/trpc/session.create", JSON.stringify({ json: { title: "x".repeat(1_100_000) } }))],
    ["a batch input that is not an object", post("/trpc/session.create,session.create?batch=1", "[1,2]")],
    ["an empty batch input", post("/trpc/session.delete,session.delete?batch=1", "{}")],
  ])("answer %s identically", async (_, request) => {
    await expectSameAnswer(request);
  });

  it("accept the typed client's batches identically", async () => {
    const [a, b] = await Promise.all([
      Promise.all([fast.client.session.get.query({ id: parentId }), fast.client.session.list.query({ parentId, limit: 2 })]),
      Promise.all([stock.client.session.get.query({ id: parentId }), stock.client.session.list.query({ parentId, limit: 2 })]),
    ]);
    expect(a).toEqual(b);
  });

  it(`answer ${CASES} hostile requests identically, byte for byte`, async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequests, async (request) => {
        fc.pre(!request.accepted);
        await expectSameAnswer(request);
      }),
      { numRuns: CASES, seed: 4711, endOnFailure: true },
    );
  });
});
