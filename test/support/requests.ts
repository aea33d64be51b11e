/**
 * Generators of hostile HTTP requests to every procedure, for the fuzz and transport tests. Each
 * request says whether the server would accept it, by a local oracle: superjson and the shared
 * input schemas, exactly as the server decodes and validates.
 */
import fc from "fast-check";
import superjson from "superjson";
import { createInputSchemas } from "@sessiond/shared";

const schemas = createInputSchemas();

const QUERIES = ["session.get", "session.list", "session.children", "health"] as const;
const MUTATIONS = ["session.create", "session.update", "session.delete"] as const;
export const PROCEDURES = [...QUERIES, ...MUTATIONS];
export type Procedure = (typeof PROCEDURES)[number];
const SCHEMA: Record<Procedure, { safeParse(value: unknown): { success: boolean } } | null> = {
  "session.get": schemas.get,
  "session.list": schemas.list,
  "session.children": schemas.children,
  health: null, // takes no input: anything is accepted, so it is only fuzzed with the wrong method
  "session.create": schemas.create,
  "session.update": schemas.update,
  "session.delete": schemas.delete,
};
export const isQuery = (procedure: Procedure) => (QUERIES as readonly string[]).includes(procedure);

export interface FuzzRequest {
  label: string;
  method: "GET" | "POST";
  path: string;
  contentType?: string;
  body?: string;
  /** Whether the server would accept it (by the oracle); such requests are not sent, unless read-only. */
  accepted: boolean;
  /** A request that changes nothing even when accepted (reads): always sent, and may succeed. */
  readOnly?: boolean;
}

/**
 * Meta that sessiond refuses by contract whatever superjson would make of it: referential
 * equalities, and array indexes far past any input's length. superjson itself would build the
 * sparse array (gigabytes for index 4294967294), so the oracle must not ask it.
 */
function refusedMeta(envelopeText: string): boolean {
  return /"referentialEqualities"/.test(envelopeText) || /(^|[".])\d{5,}([".]|$)/.test(envelopeText.slice(envelopeText.indexOf('"meta"')));
}

/** Whether the server would accept this superjson envelope as the procedure's input. */
function acceptedInput(procedure: Procedure, envelopeText: string): boolean {
  const schema = SCHEMA[procedure];
  if (schema === null) return true; // a procedure without input never decodes it
  if (/"__proto__"\s*:/.test(envelopeText)) return false; // refused before decoding
  if (envelopeText.includes('"meta"') && refusedMeta(envelopeText)) return false;
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
    .tuple(
      fc.nat({ max: 29 }),
      fc.constantFrom("\u0000", "\n", "\t", " ", "\u200b", "\u00a0", "Н", "ο", "\ufeff", "ｓ", "\ud800", "-", "_", "A"),
    )
    .map(([at, char]) => `ses_0123456789abABCDEFGHIJKLMN`.slice(0, at) + char + `ses_0123456789abABCDEFGHIJKLMN`.slice(at + 1)),
  fc.constantFrom("SES_0123456789abABCDEFGHIJKLMN", "ses_0123456789abABCDEFGHIJKLMN\n", `ses_0123456789ab${"A".repeat(15)}`),
);
const anyJson = fc.jsonValue({ maxDepth: 4 });
const deepJson = fc.integer({ min: 9, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
const hugeString = fc.integer({ min: 600, max: 200_000 }).map((length) => "x".repeat(length));
const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype");

/** superjson meta paths: real fields, missing ones, sparse and huge array indexes, escapes. */
const metaPath = fc.oneof(
  fc.constantFrom(
    "",
    "id",
    "title",
    "parentId",
    "metadata",
    "metadata.a",
    "metadata.a.0",
    "0",
    "1000000",
    "4294967294",
    "metadata.a.4294967294",
    "a\\.b",
    "a\\\\b",
    "\\x",
    "__proto__",
    "metadata.__proto__",
  ),
  fc
    .array(fc.oneof(fc.string({ maxLength: 4 }), fc.nat({ max: 5 }).map(String)), { minLength: 1, maxLength: 5 })
    .map((segments) => segments.join(".")),
);
const metaType = fc.oneof(
  fc.constantFrom<unknown>("undefined", "number", "Date", "bigint", "set", "map", "regexp", "Error", "URL", "symbol", 5, null, {}),
  fc.tuple(fc.constantFrom("class", "custom", "symbol", "typed-array"), fc.string({ maxLength: 6 })),
);
const annotationTree: fc.Arbitrary<unknown> = fc.oneof(
  fc.dictionary(
    metaPath,
    metaType.map((type) => [type]),
    { maxKeys: 4 },
  ),
  fc
    .tuple(
      metaType,
      fc.option(
        fc.dictionary(
          metaPath,
          metaType.map((type) => [type]),
          { maxKeys: 3 },
        ),
        { nil: undefined },
      ),
    )
    .map(([type, children]) => (children ? [type, children] : [type])),
  fc.jsonValue({ maxDepth: 3 }),
);
const superjsonMeta = fc.record(
  {
    values: annotationTree,
    referentialEqualities: fc.oneof(
      fc.dictionary(metaPath, fc.array(metaPath, { maxLength: 3 }), { maxKeys: 3 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    v: fc.constantFrom<unknown>(1, 0, 2, "1", null),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

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

export const hostileRequests: fc.Arbitrary<FuzzRequest> = fc.oneof(
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
  fc.tuple(procedure, anyJson, anyJson).map(([p, json, meta]) => call(p, JSON.stringify({ json, meta }), "envelope meta")),
  fc
    .tuple(
      procedure,
      fc.constantFrom("Date", "bigint", "set", "map", "regexp", "undefined", "number", "error", "URL", ["class", "X"], ["custom", "y"]),
    )
    .map(([p, type]) =>
      call(
        p,
        JSON.stringify({ json: { id: "ses_0123456789abABCDEFGHIJKLMN", title: "x" }, meta: { values: { id: [type], title: [type] } } }),
        "envelope types",
      ),
    ),
  // Bodies that are not JSON, and wrong content types.
  fc
    // (An empty body is no input at all, which session.create accepts.)
    .tuple(
      fc.constantFrom(...MUTATIONS),
      fc.string({ minLength: 1, maxLength: 200 }).filter((text) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return true;
        }
      }),
    )
    .map(([p, body]) => ({
      label: "not json",
      method: "POST" as const,
      path: `/trpc/${p}`,
      contentType: "application/json",
      body,
      accepted: false,
    })),
  fc
    .tuple(
      fc.constantFrom(...MUTATIONS),
      fc.constantFrom(
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "image/png",
      ),
      structuredInput,
    )
    .map(([p, contentType, value]) => ({
      label: "content type",
      method: "POST" as const,
      path: `/trpc/${p}`,
      contentType,
      body: JSON.stringify({ json: value }),
      accepted: false,
    })),
  // Wrong methods.
  fc.tuple(fc.constantFrom(...MUTATIONS), structuredInput).map(([p, value]) => ({
    label: "GET on a mutation",
    method: "GET" as const,
    path: `/trpc/${p}?input=${encodeURIComponent(JSON.stringify({ json: value }))}`,
    accepted: false,
  })),
  fc.constantFrom(...QUERIES).map((p) => ({
    label: "POST on a query",
    method: "POST" as const,
    path: `/trpc/${p}`,
    contentType: "application/json",
    body: "{}",
    accepted: false,
  })),
  // Unknown procedures.
  fc
    .stringMatching(/^[A-Za-z0-9._~-]{1,60}$/)
    .filter((path) => !(PROCEDURES as readonly string[]).includes(path) && path !== "." && path !== "..")
    .map((path) => ({
      label: "unknown path",
      method: "GET" as const,
      path: `/trpc/${path}`,
      accepted: false,
    })),
  // superjson meta: annotations of every type at real, missing and sparse paths, aliases.
  fc
    .tuple(procedure, structuredInput, superjsonMeta)
    .map(([p, value, meta]) => call(p, JSON.stringify({ json: value, meta }), "superjson meta")),
  // Envelopes that are not envelopes.
  fc
    .tuple(fc.constantFrom(...MUTATIONS), fc.oneof(anyJson, structuredInput))
    .filter(([, value]) => !(value !== null && typeof value === "object" && !Array.isArray(value) && "json" in value))
    .map(([p, value]) => ({
      label: "no envelope",
      method: "POST" as const,
      path: `/trpc/${p}`,
      contentType: "application/json",
      body: JSON.stringify(value),
      accepted: false,
    })),
  // A session as its own parent.
  fc
    .constantFrom("ses_0123456789abABCDEFGHIJKLMN", "ses_fffffffffffffuzzparentXYZ1")
    .map((id) => call("session.create", JSON.stringify({ json: { id, parentId: id } }), "own parent")),
  // Batches of large list pages: read-only, so sent even when accepted; the answer must stay bounded.
  fc
    .tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 200 }), fc.constantFrom("session.list", "session.children"))
    .map(([calls, limit, procedure]) => {
      const json = procedure === "session.list" ? { limit } : { id: "ses_0123456789abABCDEFGHIJKLMN", limit };
      const input = Object.fromEntries(Array.from({ length: calls }, (_, index) => [index, { json }]));
      const path = `/trpc/${Array(calls).fill(procedure).join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
      return { label: "batched reads", method: "GET" as const, path, accepted: true, readOnly: true };
    }),
  // Malformed and oversized batches: accepted when any one of its calls would succeed.
  fc
    .tuple(
      fc.array(fc.constantFrom("session.get", "session.children", "session.list", "", "nope", "session..get"), {
        minLength: 1,
        maxLength: 120,
      }),
      fc.array(anyJson, { maxLength: 120 }),
    )
    .map(([paths, values]) => {
      const input = Object.fromEntries(values.map((value, index) => [index, { json: value }]));
      const accepted =
        paths.length <= 100 &&
        paths.some(
          (path, index) =>
            (PROCEDURES as readonly string[]).includes(path) && acceptedInput(path as Procedure, JSON.stringify(input[index] ?? {})),
        );
      return {
        label: "batch",
        method: "GET" as const,
        path: `/trpc/${paths.join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`,
        accepted,
      };
    }),
);
