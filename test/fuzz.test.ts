/**
 * Property-based fuzzing through real HTTP, on every engine: random and hostile requests to every
 * procedure. Each one must get a 4xx with a well-formed tRPC error body, never a 5xx; the server
 * stays up; and the store is unchanged, byte for byte.
 *
 * Only requests that the contract rejects are sent: a local oracle (superjson + the shared input
 * schemas, exactly as the server decodes them) skips the rare random input that happens to be valid.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import pg from "pg";
import superjson from "superjson";
import { createInputSchemas } from "@sessiond/shared";
import type { TestServer } from "@sessiond/server/testing";
import { targets } from "./support/targets.ts";

const RUNS_PER_ENGINE = 10_000;
const SEED = 20_261_124;
const schemas = createInputSchemas();

const QUERIES = ["session.get", "session.list", "session.children", "health"] as const;
const MUTATIONS = ["session.create", "session.update", "session.delete"] as const;
const PROCEDURES = [...QUERIES, ...MUTATIONS];
type Procedure = (typeof PROCEDURES)[number];
const SCHEMA: Record<Procedure, { safeParse(value: unknown): { success: boolean } } | null> = {
  "session.get": schemas.get,
  "session.list": schemas.list,
  "session.children": schemas.children,
  health: null, // takes no input: anything is accepted, so it is only fuzzed with the wrong method
  "session.create": schemas.create,
  "session.update": schemas.update,
  "session.delete": schemas.delete,
};
const isQuery = (procedure: Procedure) => (QUERIES as readonly string[]).includes(procedure);

interface FuzzRequest {
  label: string;
  method: "GET" | "POST";
  path: string;
  contentType?: string;
  body?: string;
  /** Whether the server would accept it (by the oracle); such requests are not sent. */
  accepted: boolean;
}

/** Whether the server would accept this superjson envelope as the procedure's input. */
function acceptedInput(procedure: Procedure, envelopeText: string): boolean {
  const schema = SCHEMA[procedure];
  if (schema === null) return true; // a procedure without input never decodes it
  if (/"__proto__"\s*:/.test(envelopeText)) return false; // refused before decoding
  let input: unknown;
  try {
    const envelope = JSON.parse(envelopeText) as Parameters<typeof superjson.deserialize>[0];
    input = superjson.deserialize(envelope);
  } catch {
    return false;
  }
  return schema.safeParse(input).success;
}

/** A request carrying an input envelope to a procedure, by the method the procedure takes. */
function call(procedure: Procedure, envelopeText: string, label: string): FuzzRequest {
  const accepted = acceptedInput(procedure, envelopeText);
  return isQuery(procedure)
    ? { label, method: "GET", path: `/trpc/${procedure}?input=${encodeURIComponent(envelopeText)}`, accepted }
    : { label, method: "POST", path: `/trpc/${procedure}`, contentType: "application/json", body: envelopeText, accepted };
}

const procedure = fc.constantFrom(...PROCEDURES);
const validId = fc.constant("ses_0123456789abABCDEFGHIJKLMN");
/** Strings that look like session IDs but are not: look-alikes, control and invisible characters. */
const badId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc
    .tuple(fc.nat({ max: 29 }), fc.constantFrom("\u0000", "\n", "\t", " ", "\u200b", "\u00a0", "Н", "ο", "\ufeff", "ｓ", "\ud800", "-", "_", "A"))
    .map(([at, char]) => `ses_0123456789abABCDEFGHIJKLMN`.slice(0, at) + char + `ses_0123456789abABCDEFGHIJKLMN`.slice(at + 1)),
  fc.constantFrom("SES_0123456789abABCDEFGHIJKLMN", "ses_0123456789abABCDEFGHIJKLMN\n", "ses_0123456789ab" + "A".repeat(15)),
);
const anyJson = fc.jsonValue({ maxDepth: 4 });
const deepJson = fc.integer({ min: 9, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
const hugeString = fc.integer({ min: 600, max: 200_000 }).map((length) => "x".repeat(length));
const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype");

/** Inputs shaped like a procedure's, with one field broken. */
const structuredInput = fc.record(
  {
    id: fc.oneof(badId, validId, anyJson),
    title: fc.oneof(hugeString, fc.string({ maxLength: 20 }), anyJson),
    parentId: fc.oneof(badId, anyJson),
    metadata: fc.oneof(anyJson, fc.dictionary(fc.string(), anyJson)),
    limit: fc.oneof(fc.integer(), fc.double(), anyJson),
    cursor: fc.oneof(fc.string({ maxLength: 80 }), anyJson),
    archived: anyJson,
    expectedRevision: fc.oneof(fc.integer(), fc.double(), anyJson),
    roots: anyJson,
    extra: anyJson,
  },
  { requiredKeys: [] },
);

const requests: fc.Arbitrary<FuzzRequest> = fc.oneof(
  // Random JSON of any shape as input.
  fc.tuple(procedure, anyJson).map(([p, value]) => call(p, JSON.stringify({ json: value }), "random json")),
  // Inputs of the right shape with wrong fields.
  fc.tuple(procedure, structuredInput).map(([p, value]) => call(p, JSON.stringify({ json: value }), "structured")),
  // Hostile keys in metadata, written as raw JSON so __proto__ stays a key.
  fc
    .tuple(fc.constantFrom<Procedure>("session.create", "session.update"), hostileKey, anyJson, fc.boolean())
    .map(([p, key, value, nested]) => {
      const entry = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
      const metadata = nested ? `{"outer":{${entry}}}` : `{${entry}}`;
      return call(p, `{"json":{"id":"ses_0123456789abABCDEFGHIJKLMN","title":"t","metadata":${metadata}}}`, "hostile key");
    }),
  // Deep nesting and huge values.
  fc.tuple(procedure, deepJson).map(([p, deep]) => call(p, `{"json":{"id":"ses_0123456789abABCDEFGHIJKLMN","metadata":${deep}}}`, "deep")),
  fc.tuple(procedure, hugeString).map(([p, huge]) => call(p, JSON.stringify({ json: { id: huge, title: huge } }), "huge")),
  // Malformed superjson envelopes.
  fc
    .tuple(procedure, anyJson, anyJson)
    .map(([p, json, meta]) => call(p, JSON.stringify({ json, meta }), "envelope meta")),
  fc
    .tuple(procedure, fc.constantFrom("Date", "bigint", "set", "map", "regexp", "undefined", "number", "error", "URL", ["class", "X"], ["custom", "y"]))
    .map(([p, type]) => call(p, JSON.stringify({ json: { id: "ses_0123456789abABCDEFGHIJKLMN", title: "x" }, meta: { values: { id: [type], title: [type] } } }), "envelope types")),
  // Bodies that are not JSON, and wrong content types.
  fc
    // (An empty body is no input at all, which session.create accepts.)
    .tuple(fc.constantFrom(...MUTATIONS), fc.string({ minLength: 1, maxLength: 200 }).filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    }))
    .map(([p, body]) => ({ label: "not json", method: "POST" as const, path: `/trpc/${p}`, contentType: "application/json", body, accepted: false })),
  fc
    .tuple(fc.constantFrom(...MUTATIONS), fc.constantFrom("text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/octet-stream", "image/png"), structuredInput)
    .map(([p, contentType, value]) => ({ label: "content type", method: "POST" as const, path: `/trpc/${p}`, contentType, body: JSON.stringify({ json: value }), accepted: false })),
  // Wrong methods.
  fc.tuple(fc.constantFrom(...MUTATIONS), structuredInput).map(([p, value]) => ({
    label: "GET on a mutation",
    method: "GET" as const,
    path: `/trpc/${p}?input=${encodeURIComponent(JSON.stringify({ json: value }))}`,
    accepted: false,
  })),
  fc.constantFrom(...QUERIES).map((p) => ({ label: "POST on a query", method: "POST" as const, path: `/trpc/${p}`, contentType: "application/json", body: "{}", accepted: false })),
  // Unknown procedures.
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,60}$/).filter((path) => !(PROCEDURES as readonly string[]).includes(path)).map((path) => ({
    label: "unknown path",
    method: "GET" as const,
    path: `/trpc/${path}`,
    accepted: false,
  })),
  // Malformed and oversized batches: accepted when any one of its calls would succeed.
  fc
    .tuple(fc.array(fc.constantFrom("session.get", "session.children", "session.list", "", "nope", "session..get"), { minLength: 1, maxLength: 120 }), fc.array(anyJson, { maxLength: 120 }))
    .map(([paths, values]) => {
      const input = Object.fromEntries(values.map((value, index) => [index, { json: value }]));
      const accepted =
        paths.length <= 100 &&
        paths.some((path, index) => (PROCEDURES as readonly string[]).includes(path) && acceptedInput(path as Procedure, JSON.stringify(input[index] ?? {})));
      return { label: "batch", method: "GET" as const, path: `/trpc/${paths.join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, accepted };
    }),
);

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

describe.each(targets)("fuzzing every procedure over HTTP [$name]", (target) => {
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
      fc.asyncProperty(requests, async (request) => {
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
