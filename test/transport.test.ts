/**
 * The fast path speaks tRPC's wire format exactly. Two servers, one on the fast path and one on the
 * stock adapter, each on its own SQLite file, with the same injected clock and the same seeded ID
 * generator, get the same requests in the same order: rejected and accepted ones alike must be
 * answered with the same status, the same headers (all but `date`) and the same bytes. The request
 * ID is fixed so that bodies can be compared whole.
 *
 * SESSIOND_FUZZ_RUNS scales the number of generated requests (default 1000 of each kind).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { createSessionClient, type SessionClient } from "@sessiond/client";
import { createLogger, resolveConfig, startSessiond, type RunningSessiond } from "@sessiond/server";
import { createSessionIdGenerator } from "@sessiond/shared";
import { hostileRequests, type FuzzRequest } from "./support/requests.ts";

const CASES = Number(process.env.SESSIOND_FUZZ_RUNS ?? 1000);
/**
 * Headers that may differ between the two answers: the time they were sent, and the framing (the
 * fast path writes one body with its content-length; the stock adapter streams it chunked).
 */
const UNCOMPARED_HEADERS = new Set(["date", "content-length", "transfer-encoding"]);
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

const scratch = mkdtempSync(join(tmpdir(), "sessiond-transport-"));
let fast: RunningSessiond;
let stock: RunningSessiond;
const parentId = "ses_0123456789abABCDEFGHIJKLMN";
const known: string[] = [parentId];

/** A sessiond with a fixed clock and a generator seeded the same way for both servers. */
async function start(handler: "fast" | "stock"): Promise<RunningSessiond> {
  const config = resolveConfig(
    { host: "127.0.0.1", port: 0, db: join(scratch, `${handler}.db`), logLevel: "silent", httpHandler: handler },
    {},
  );
  let seed = 4711;
  const random = (buffer: Uint8Array) => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = (seed = (seed * 1_103_515_245 + 12_345) >>> 0) >>> 24;
  };
  return startSessiond(config, createLogger("silent"), {
    now: () => NOW,
    generateId: createSessionIdGenerator({ now: () => NOW, random }),
  });
}

beforeAll(async () => {
  [fast, stock] = await Promise.all([start("fast"), start("stock")]);
  // The same seed on both, one request at a time.
  for (const server of [fast, stock]) {
    const client: SessionClient = createSessionClient({ url: server.url, maxItems: 1 });
    await client.session.create.mutate({ id: parentId, title: "parent", metadata: { k: [1, "two"] } });
    for (let i = 0; i < 7; i++) {
      const child = await client.session.create.mutate({ parentId, title: `child ${i}` });
      if (server === fast) known.push(child.id);
    }
  }
});
afterAll(async () => {
  await fast?.close();
  await stock?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function answer(server: RunningSessiond, request: Omit<FuzzRequest, "accepted">) {
  const response = await fetch(`${server.url}${request.path}`, {
    method: request.method,
    headers: { "x-request-id": "same-for-both", ...(request.contentType ? { "content-type": request.contentType } : {}) },
    body: request.body,
  });
  const headers = Object.fromEntries([...response.headers].filter(([name]) => !UNCOMPARED_HEADERS.has(name)));
  return { status: response.status, headers, body: await response.text() };
}

/** Sends the request to the fast server, then to the stock one, and compares the answers. */
async function expectSameAnswer(request: Omit<FuzzRequest, "accepted">): Promise<void> {
  const fromFast = await answer(fast, request);
  const fromStock = await answer(stock, request);
  expect(fromFast, `${request.method} ${request.path.slice(0, 200)}`).toEqual(fromStock);
}

const input = (json: unknown) => encodeURIComponent(JSON.stringify({ json }));
const batchInput = (...items: unknown[]) => encodeURIComponent(JSON.stringify(Object.fromEntries(items.map((json, i) => [i, { json }]))));
const post = (path: string, body: string, contentType = "application/json") => ({
  label: "",
  method: "POST" as const,
  path,
  body,
  contentType,
});
const get = (path: string) => ({ label: "", method: "GET" as const, path });

describe("the fast path and the stock adapter", () => {
  it("are what they say: the fast server answers a plain call itself (one body with its length), the stock one through tRPC (streamed)", async () => {
    const path = `${"/trpc/session.get"}?input=${input({ id: parentId })}`;
    const [fromFast, fromStock] = await Promise.all([fetch(`${fast.url}${path}`), fetch(`${stock.url}${path}`)]);
    expect(fromFast.headers.get("content-length")).not.toBeNull();
    expect(fromStock.headers.get("transfer-encoding")).toBe("chunked");
  });

  it.each([
    ["a get", get(`/trpc/session.get?input=${input({ id: parentId })}`)],
    ["a list page", get(`/trpc/session.list?input=${input({ parentId, limit: 3 })}`)],
    ["children", get(`/trpc/session.children?input=${input({ id: parentId })}`)],
    ["a list without input", get("/trpc/session.list")],
    ["health", get("/trpc/health")],
    ["a batch of reads", get(`/trpc/session.get,session.list,health?batch=1&input=${batchInput({ id: parentId }, { limit: 2 })}`)],
    ["a duplicate create", post("/trpc/session.create", JSON.stringify({ json: { id: parentId } }))],
    [
      "a batch of duplicate creates",
      post("/trpc/session.create,session.create?batch=1", JSON.stringify({ 0: { json: { id: parentId } }, 1: { json: { id: parentId } } })),
    ],
    ["a mixed batch (207)", get(`/trpc/session.get,session.get?batch=1&input=${batchInput({ id: parentId }, { id: "ses_nope" })}`)],
    ["a get of a missing session", get(`/trpc/session.get?input=${input({ id: "ses_000000000000AAAAAAAAAAAAAA" })}`)],
    // A call by ID as tRPC's links encode it is read without decoding (trpc-endpoint.ts); these are
    // near it, and are decoded as any other query.
    [
      "a get by ID in lowercase percent-encoding",
      get(`/trpc/session.get?input=${input({ id: parentId }).replace(/%[0-9A-F]{2}/g, (code) => code.toLowerCase())}`),
    ],
    ["a get by ID with a letter percent-encoded", get(`/trpc/session.get?input=${input({ id: parentId }).replace("ses_", "%73es_")}`)],
    ["a get by an ID of letters that is not one", get(`/trpc/session.get?input=${input({ id: "abc_DEF_123" })}`)],
    ["a get by an ID of 65 characters", get(`/trpc/session.get?input=${input({ id: "s".repeat(65) })}`)],
    ["a get by an ID with a hyphen", get(`/trpc/session.get?input=${input({ id: "ses-000000000000AAAAAAAAAAAAAA" })}`)],
    ["a get by ID with another parameter", get(`/trpc/session.get?input=${input({ id: parentId })}&x=1`)],
    ["a stale update", post("/trpc/session.update", JSON.stringify({ json: { id: parentId, title: "x", expectedRevision: 99 } }))],
    ["a body with a byte-order mark", post("/trpc/session.create", `\ufeff${JSON.stringify({ json: { id: parentId } })}`)],
    [
      "a JSON content type with a charset",
      post("/trpc/session.create", JSON.stringify({ json: { id: parentId } }), "application/json; charset=utf-8"),
    ],
    ["a body over the limit", post("/trpc/session.create", JSON.stringify({ json: { title: "x".repeat(1_100_000) } }))],
    ["a batch input that is not an object", post("/trpc/session.create,session.create?batch=1", "[1,2]")],
    ["an empty batch input", post("/trpc/session.delete,session.delete?batch=1", "{}")],
  ])("answer %s identically", async (_, request) => {
    await expectSameAnswer(request);
  });

  it("accept the typed client's batches identically", async () => {
    const batch = (server: RunningSessiond) => {
      const client = createSessionClient({ url: server.url });
      return Promise.all([client.session.get.query({ id: parentId }), client.session.list.query({ parentId, limit: 2 })]);
    };
    expect(await batch(fast)).toEqual(await batch(stock));
  });

  it(`answer ${CASES} accepted calls identically, byte for byte, writes included`, async () => {
    const id = fc.oneof(fc.constantFrom(...known), fc.constantFrom("ses_000000000000AAAAAAAAAAAAAA", "ses_ffffffffffffZZZZZZZZZZZZZZ"));
    const metadata = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
    const title = fc
      .string({ minLength: 1, maxLength: 30 })
      .filter((text) => !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text) && text.isWellFormed());
    const page = fc.record({ limit: fc.integer({ min: 1, max: 20 }) }, { requiredKeys: [] });
    const envelope = (json: unknown) => JSON.stringify({ json });
    const query = (procedure: string, json: unknown) => ({
      label: "",
      method: "GET" as const,
      path: `/trpc/${procedure}?input=${encodeURIComponent(envelope(json))}`,
    });
    const mutation = (procedure: string, json: unknown) => ({
      label: "",
      method: "POST" as const,
      path: `/trpc/${procedure}`,
      contentType: "application/json",
      body: envelope(json),
    });
    const calls = fc.oneof(
      fc
        .record({ title, metadata, parentId: fc.option(fc.constant(parentId), { nil: undefined }) }, { requiredKeys: [] })
        .map((input) => mutation("session.create", input)),
      fc
        .record({ id: fc.constantFrom("ses_0a0a0a0a0a0aChosenIdNumber01", "ses_0b0b0b0b0b0bChosenIdNumber02"), title })
        .map((input) => mutation("session.create", input)),
      id.map((value) => query("session.get", { id: value })),
      page.map((input) => query("session.list", input)),
      fc.tuple(id, page).map(([value, input]) => query("session.children", { id: value, ...input })),
      fc
        .record({ id, title, expectedRevision: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }) })
        .map((input) => mutation("session.update", input)),
      fc.record({ id, archived: fc.boolean() }).map((input) => mutation("session.update", input)),
      id.map((value) => mutation("session.delete", { id: value })),
    );
    await fc.assert(fc.asyncProperty(calls, expectSameAnswer), { numRuns: CASES, seed: 1811, endOnFailure: true });
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
