/**
 * Generators of hostile HTTP requests to the REST routes, for test/fuzz-rest.test.ts. Each says
 * whether the server would accept it, by a local oracle: the shared input schemas applied to the
 * input the route builds (body fields, path ID, query parameters, headers).
 */
import fc from "fast-check";
import { createInputSchemas } from "@sessiond/shared";

const schemas = createInputSchemas();
const VALID_ID = "ses_0123456789abABCDEFGHIJKLMN";

export interface RestFuzzRequest {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  accepted: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** Query parameters as the routes read them: exact numbers and booleans converted, repeats as arrays. */
function queryFields(search: URLSearchParams): Record<string, unknown> {
  const fields = new Map<string, unknown[]>();
  for (const [key, text] of search) {
    const value =
      /^-?\d+(\.\d+)?$/.test(text) && key !== "cursor" ? Number(text) : text === "true" ? true : text === "false" ? false : text;
    fields.set(key, [...(fields.get(key) ?? []), value]);
  }
  return Object.fromEntries([...fields].map(([key, list]) => [key, list.length === 1 ? list[0] : list]));
}

const ENTITY_TAG = '(W/)?"([\\x21\\x23-\\x7e\\x80-\\xff]*)"';
const IF_MATCH_LIST = new RegExp(`^[ \\t,]*${ENTITY_TAG}(?:[ \\t]*,[ \\t,]*${ENTITY_TAG})*[ \\t,]*$`);

/**
 * The revisions an If-Match accepts, as RFC 9110 §13.1.1 reads it: undefined for none or `*`, the
 * strong tags that are revisions for a list of entity tags, false for anything else.
 */
function ifMatchRevisions(header: string | undefined): number[] | undefined | false {
  if (header === undefined || header.trim() === "*") return undefined;
  if (!IF_MATCH_LIST.test(header.trim())) return false;
  return [...header.matchAll(new RegExp(ENTITY_TAG, "g"))]
    .filter((tag) => tag[1] === undefined && /^[1-9]\d{0,15}$/.test(tag[2]!))
    .map((tag) => Number(tag[2]));
}

/** Whether the route would pass this request's input to the service (the oracle). */
function accepted(method: string, path: string, headers: Record<string, string>, body: string | undefined): boolean {
  const url = new URL(path, "http://x");
  const parts = url.pathname.split("/");
  if (parts[1] !== "session" || parts.length > 4 || (parts.length === 4 && parts[3] !== "children")) return false;
  let id: string | undefined;
  try {
    id = parts.length > 2 ? decodeURIComponent(parts[2]!) : undefined;
  } catch {
    id = parts[2];
  }
  const query = queryFields(url.searchParams);
  if (id !== undefined && url.searchParams.has("id")) return false; // the ID comes from the path only
  let parsed: unknown;
  if (method === "POST" || method === "PATCH") {
    if (body && headers["content-type"] !== "application/json") return false;
    if (url.search) return false;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      return false;
    }
  }
  const route = parts.length === 2 ? "collection" : parts.length === 3 ? "item" : "children";
  const ok = (schema: { safeParse(value: unknown): { success: boolean } }, input: unknown) => schema.safeParse(input).success;
  if (route === "collection" && method === "GET") return ok(schemas.list, query);
  if (route === "collection" && method === "POST") {
    const key = headers["idempotency-key"];
    if (key === undefined) return ok(schemas.create, parsed);
    if (parsed === undefined) return ok(schemas.create, { idempotencyKey: key });
    if (!isObject(parsed)) return false;
    if (Object.hasOwn(parsed, "idempotencyKey") && parsed.idempotencyKey !== key) return false;
    return ok(schemas.create, { ...parsed, idempotencyKey: key });
  }
  if (route === "item" && (method === "GET" || method === "DELETE")) return ok(schemas.get, { ...query, id });
  if (route === "children" && method === "GET") return ok(schemas.children, { ...query, id });
  if (route === "item" && method === "PATCH") {
    const fields: Record<string, unknown> = { id };
    const revisions = ifMatchRevisions(headers["if-match"]);
    if (revisions === false) return false;
    const patch = parsed ?? {};
    if (!isObject(patch)) return false;
    for (const [key, value] of Object.entries(fields)) if (Object.hasOwn(patch, key) && patch[key] !== value) return false;
    if (!ok(schemas.update, { ...patch, ...fields })) return false;
    // A body's expectedRevision that the If-Match does not accept contradicts it.
    return revisions === undefined || patch.expectedRevision === undefined || revisions.includes(patch.expectedRevision as number);
  }
  return false; // a method the route does not take
}

function make(label: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): RestFuzzRequest {
  return { label, method, path, headers, body, accepted: accepted(method, path, headers, body) };
}

const json = { "content-type": "application/json" };
const anyJson = fc.jsonValue({ maxDepth: 4 });
const badId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc
    .tuple(fc.nat({ max: 29 }), fc.constantFrom("\u0000", "\n", " ", "\u200b", "Н", "\ufeff", "ｓ", "-", "_", "/", "%", "?", "#"))
    .map(([at, char]) => VALID_ID.slice(0, at) + char + VALID_ID.slice(at + 1)),
);
// "." and ".." would be resolved away by the URL parser before the request is sent.
const pathId = fc
  .oneof(badId.map(encodeURIComponent), fc.constant(VALID_ID), fc.constantFrom("%", "%E0%A4%A", "%2F", "%2e%2"))
  .filter((id) => id !== "." && id !== "..");
/** Header values fetch sends as they are: printable ASCII, no surrounding spaces. */
const headerText = fc.string({ maxLength: 200 }).filter((text) => /^([\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?)?$/.test(text));
const hugeString = fc.integer({ min: 600, max: 200_000 }).map((length) => "x".repeat(length));
const deepJson = fc.integer({ min: 9, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype");
const fields = fc.record(
  {
    id: fc.oneof(badId, fc.constant(VALID_ID), anyJson),
    title: fc.oneof(hugeString, fc.string({ maxLength: 20 }), anyJson),
    parentId: fc.oneof(badId, anyJson),
    metadata: fc.oneof(anyJson, fc.dictionary(fc.string(), anyJson)),
    idempotencyKey: fc.oneof(fc.string({ maxLength: 200 }), anyJson),
    archived: anyJson,
    expectedRevision: fc.oneof(fc.integer(), fc.double(), anyJson),
    extra: anyJson,
  },
  { requiredKeys: [] },
);
const queryParams = fc.dictionary(
  fc.oneof(fc.constantFrom("limit", "cursor", "parentId", "roots", "id", "__proto__", "constructor"), fc.string({ maxLength: 10 })),
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.integer().map(String),
    fc.double().map(String),
    fc.constantFrom("true", "false", "", "null", VALID_ID),
  ),
  { maxKeys: 4 },
);
const queryString = queryParams.map((params) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) search.append(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
});
const bodyRoute = fc.oneof(
  fc.constant({ method: "POST", path: "/session" }),
  pathId.map((id) => ({ method: "PATCH", path: `/session/${id}` })),
);

export const hostileRestRequests: fc.Arbitrary<RestFuzzRequest> = fc.oneof(
  // Bodies: random JSON, fields of the right names with wrong values, hostile keys, depth, size.
  fc.tuple(bodyRoute, anyJson).map(([route, value]) => make("random json", route.method, route.path, json, JSON.stringify(value))),
  fc.tuple(bodyRoute, fields).map(([route, value]) => make("structured", route.method, route.path, json, JSON.stringify(value))),
  fc.tuple(bodyRoute, hostileKey, anyJson, fc.boolean()).map(([route, key, value, top]) => {
    const entry = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    return make(
      "hostile key",
      route.method,
      route.path,
      json,
      top ? `{"title":"t",${entry}}` : `{"title":"t","metadata":{"outer":{${entry}}}}`,
    );
  }),
  fc.tuple(bodyRoute, deepJson).map(([route, deep]) => make("deep", route.method, route.path, json, `{"metadata":${deep}}`)),
  fc
    .tuple(bodyRoute, hugeString)
    .map(([route, huge]) => make("huge", route.method, route.path, json, JSON.stringify({ title: huge, metadata: { huge } }))),
  // Not JSON, wrong content types.
  fc
    .tuple(bodyRoute, fc.string({ minLength: 1, maxLength: 200 }))
    .map(([route, text]) => make("not json", route.method, route.path, json, text)),
  fc
    .tuple(
      bodyRoute,
      fc.constantFrom(
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/jsonx",
      ),
      fields,
    )
    .map(([route, type, value]) => make("content type", route.method, route.path, { "content-type": type }, JSON.stringify(value))),
  // Headers: Idempotency-Key and If-Match.
  fc
    .tuple(headerText, fields)
    .map(([key, value]) => make("idempotency key", "POST", "/session", { ...json, "idempotency-key": key }, JSON.stringify(value))),
  fc
    .tuple(
      pathId,
      fc.oneof(
        headerText,
        fc.integer().map((n) => `"${n}"`),
        fc.constantFrom("*", 'W/"1"', '"0"', '"01"'),
      ),
      fields,
    )
    .map(([id, ifMatch, value]) => make("if-match", "PATCH", `/session/${id}`, { ...json, "if-match": ifMatch }, JSON.stringify(value))),
  // Queries and path IDs.
  queryString.map((query) => make("list query", "GET", `/session${query}`)),
  fc.tuple(pathId, queryString).map(([id, query]) => make("get", "GET", `/session/${id}${query}`)),
  fc.tuple(pathId, queryString).map(([id, query]) => make("children", "GET", `/session/${id}/children${query}`)),
  fc.tuple(pathId, queryString).map(([id, query]) => make("delete", "DELETE", `/session/${id}${query}`)),
  // Wrong methods and unknown routes. (A method Node's HTTP parser does not know, like FOO, gets
  // the parser's bare 400 before any handler runs.)
  fc
    .tuple(
      fc.constantFrom("PUT", "OPTIONS", "PROPFIND", "MKCOL", "PURGE", "PATCH", "POST", "DELETE"),
      fc.constantFrom("/session", `/session/${VALID_ID}`, `/session/${VALID_ID}/children`),
    )
    .map(([method, path]) => make("method", method, path, json, "{}")),
  fc.stringMatching(/^[A-Za-z0-9._~%-]{1,40}$/).map((tail) => make("unknown route", "GET", `/session/${VALID_ID}/${tail}`)),
);
