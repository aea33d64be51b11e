/**
 * The OpenAPI 3.1 document of the REST routes (rest.ts), generated from the zod schemas the tRPC
 * procedures validate with (read off the router, so a server with other limits documents its own)
 * and the shared output schemas, by zod's own `z.toJSONSchema` (JSON Schema 2020-12, which is
 * OpenAPI 3.1's dialect). Only the skeleton (routes, parameters, status codes) is written here.
 */
import {
  DeleteSessionOutputSchema,
  SESSION_EVENT_TYPES,
  SESSION_ID_PATTERN,
  SessionIdSchema,
  SessionPageSchema,
  SessionSchema,
} from "@sessiond/shared";
import type { AnyTRPCProcedure, AnyTRPCRouter } from "@trpc/server";
import { z } from "zod";

type JsonSchema = Record<string, unknown>;

/** Session IDs are checked by code (for readable messages); the document states their pattern. Dates travel as ISO strings. */
function describe(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override(ctx) {
      if (ctx.zodSchema === SessionIdSchema) ctx.jsonSchema.pattern = SESSION_ID_PATTERN.source;
      if (ctx.zodSchema._zod.def.type === "date") Object.assign(ctx.jsonSchema, { type: "string", format: "date-time" });
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

const JSON_VALUE_REF = "#/components/schemas/JsonValue";
/** zod's schema of any JSON value (metadata's values), its self-reference pointed at the component. */
const ZOD_JSON_VALUE = JSON.stringify(describe(z.json(), "output")).replaceAll('"$ref":"#"', `"$ref":"${JSON_VALUE_REF}"`);
/**
 * The component says the same without recursion: in a JSON body every value is a JSON value. (The
 * recursive form makes generated TypeScript types refer to themselves, which tsc refuses.)
 */
const JSON_VALUE = { description: "any JSON value" };

/**
 * Moves a schema's local `$defs` into the document's components. The only shared definition zod
 * emits for these schemas is the recursive JSON value of metadata; anything else is a change this
 * code must learn about, so it throws rather than emit a dangling reference.
 */
function hoistDefs(schema: JsonSchema): JsonSchema {
  const defs = (schema.$defs ?? {}) as Record<string, JsonSchema>;
  delete schema.$defs;
  let text = JSON.stringify(schema);
  for (const [name, def] of Object.entries(defs)) {
    const local = `"$ref":"#/$defs/${name}"`;
    const body = JSON.stringify(def).replaceAll(local, `"$ref":"${JSON_VALUE_REF}"`);
    if (body !== ZOD_JSON_VALUE) throw new Error(`openapi: unexpected shared schema ${name}: ${body}`);
    text = text.replaceAll(local, `"$ref":"${JSON_VALUE_REF}"`);
  }
  return JSON.parse(text) as JsonSchema;
}

/** The error body of one status: the fields `error.data` has on the tRPC side, plus the message. */
function errorSchema(code: string, kind?: "fieldErrors" | "conflict" | "notFound" | "precondition" | "eventsExpired"): JsonSchema {
  const idRef = { type: "string", pattern: SESSION_ID_PATTERN.source };
  const kinds: Record<string, JsonSchema> = {
    fieldErrors: {
      type: "object",
      additionalProperties: { type: "array", items: { type: "string" } },
      description: "each bad input field mapped to its messages",
    },
    formErrors: { type: "array", items: { type: "string" }, description: "problems that belong to no single field" },
    conflict: { type: "object", properties: { id: idRef }, required: ["id"], additionalProperties: false },
    notFound: { type: "object", properties: { id: idRef }, required: ["id"], additionalProperties: false },
    precondition: {
      type: "object",
      properties: { id: idRef, expectedRevision: { type: "integer" }, actualRevision: { type: "integer" } },
      required: ["id", "expectedRevision", "actualRevision"],
      additionalProperties: false,
    },
    eventsExpired: {
      type: "object",
      properties: {
        lastEventId: { type: "string", description: "the resume point asked for" },
        prunedThrough: { type: "string", description: "events up to this ID may have been pruned" },
      },
      required: ["lastEventId", "prunedThrough"],
      additionalProperties: false,
    },
  };
  const required = ["code", "message", "httpStatus", "requestId"];
  if (kind === "fieldErrors") required.push("fieldErrors", "formErrors");
  else if (kind) required.push(kind);
  return {
    type: "object",
    properties: {
      code: { const: code },
      message: { type: "string" },
      httpStatus: { type: "integer" },
      requestId: { type: "string", description: "the x-request-id the server logged this error under" },
      path: { type: "string", description: "the route that failed, e.g. /session/{id}" },
      ...kinds,
    },
    required,
    additionalProperties: false,
  };
}

const ERRORS = {
  400: [
    "BadRequest",
    "invalid input: a bad ID, wrong type, unknown key, a limit, malformed JSON",
    errorSchema("BAD_REQUEST", "fieldErrors"),
  ],
  401: ["Unauthorized", "missing or wrong bearer token (when the server has one)", errorSchema("UNAUTHORIZED")],
  404: ["NotFound", "the session (or the parent named on create) does not exist", errorSchema("NOT_FOUND", "notFound")],
  405: ["MethodNotAllowed", "the route does not take this method (see the Allow header)", errorSchema("METHOD_NOT_SUPPORTED")],
  409: ["Conflict", "a session with this ID already exists", errorSchema("CONFLICT", "conflict")],
  410: [
    "Gone",
    "the resume point is older than the retention window (its events were pruned), or not an event of this database: re-list the sessions, then subscribe from now",
    errorSchema("UNPROCESSABLE_CONTENT", "eventsExpired"),
  ],
  412: ["PreconditionFailed", "the session is not at the expected revision", errorSchema("PRECONDITION_FAILED", "precondition")],
  413: ["PayloadTooLarge", "the request body is over the server's limit", errorSchema("PAYLOAD_TOO_LARGE")],
  415: ["UnsupportedMediaType", "a request body that is not application/json", errorSchema("UNSUPPORTED_MEDIA_TYPE")],
  500: ["InternalServerError", "a bug; logged in full under the request ID", errorSchema("INTERNAL_SERVER_ERROR")],
  503: ["ServiceUnavailable", "the database is locked, read-only, full or unreachable; retry later", errorSchema("SERVICE_UNAVAILABLE")],
} as const;
type ErrorStatus = keyof typeof ERRORS;

const json = (schema: JsonSchema) => ({ content: { "application/json": { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function responses(ok: { description: string; schema: JsonSchema; etag?: boolean }, errors: ErrorStatus[]) {
  const all: Record<string, unknown> = {
    200: {
      description: ok.description,
      ...(ok.etag ? { headers: { ETag: { description: 'the revision, quoted: "3"', schema: { type: "string" } } } } : {}),
      ...json(ok.schema),
    },
  };
  for (const status of [...new Set<ErrorStatus>([...errors, 400, 401, 405, 500, 503])].sort()) {
    all[status] = { description: ERRORS[status][1], ...json(ref(`${ERRORS[status][0]}Error`)) };
  }
  return all;
}

/** The input schema a procedure validates with. */
function inputOf(router: AnyTRPCRouter, path: string): z.ZodType {
  const procedure = (router._def.procedures as Record<string, AnyTRPCProcedure | undefined>)[path];
  const schema = (procedure?._def as { inputs?: unknown[] } | undefined)?.inputs?.[0];
  if (!(schema instanceof z.ZodType)) throw new Error(`openapi: ${path} has no zod input schema`);
  return schema;
}

/** A nullable schema (`anyOf` with null) without the null: a query string or header cannot say null. */
function withoutNull(schema: JsonSchema): JsonSchema {
  const { anyOf, ...rest } = schema as JsonSchema & { anyOf?: JsonSchema[] };
  const options = anyOf?.filter((option) => option.type !== "null");
  return options?.length === 1 ? { ...rest, ...options[0] } : schema;
}

/** The properties of an object schema, minus some, as query parameters. */
function queryParameters(schema: JsonSchema, omit: string[]) {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  return Object.entries(properties)
    .filter(([name]) => !omit.includes(name))
    .map(([name, property]) => ({
      name,
      in: "query",
      required: required.includes(name),
      // A null cursor cannot be written in a query string: leave the parameter out for the first page.
      schema: Array.isArray(property.type) ? { ...property, type: property.type.filter((type) => type !== "null") } : property,
    }));
}

function withoutProperty(schema: JsonSchema, name: string): JsonSchema {
  const { [name]: _, ...properties } = schema.properties as Record<string, JsonSchema>;
  const required = ((schema.required ?? []) as string[]).filter((key) => key !== name);
  return { ...schema, properties, ...(required.length ? { required } : { required: undefined }) };
}

const idParameter = { name: "id", in: "path", required: true, schema: { type: "string", pattern: SESSION_ID_PATTERN.source } };

export function createOpenApiDocument(router: AnyTRPCRouter, version: string) {
  const input = (path: string) => hoistDefs(describe(inputOf(router, path), "input"));
  const create = input("session.create");
  const list = input("session.list");
  const children = input("session.children");
  const update = JSON.parse(JSON.stringify(withoutProperty(input("session.update"), "id"))) as JsonSchema;
  const idempotencyKey = (create.properties as Record<string, JsonSchema>).idempotencyKey!;
  const eventParameters = queryParameters(input("session.events"), []).map((parameter) => ({
    ...parameter,
    schema: withoutNull(parameter.schema),
  }));
  const eventId = withoutNull((input("session.events").properties as Record<string, JsonSchema>).lastEventId!);

  const schemas: Record<string, unknown> = {
    Session: hoistDefs(describe(SessionSchema, "output")),
    SessionPage: hoistDefs(describe(SessionPageSchema, "output")),
    DeleteResult: hoistDefs(describe(DeleteSessionOutputSchema, "output")),
    SessionEvent: {
      type: "object",
      description: "the data of one GET /event frame (opencode's shape); the frame's id is the event ID",
      properties: {
        type: { enum: [...SESSION_EVENT_TYPES] },
        properties: {
          type: "object",
          properties: { info: { ...ref("Session"), description: "the session as stored by this change; for a delete, its last state" } },
          required: ["info"],
          additionalProperties: false,
        },
      },
      required: ["type", "properties"],
      additionalProperties: false,
    },
    JsonValue: JSON_VALUE,
  };
  for (const [name, , schema] of Object.values(ERRORS)) schemas[`${name}Error`] = schema;

  return {
    openapi: "3.1.0",
    info: {
      title: "sessiond",
      version,
      description:
        "Sessions with caller-chosen IDs. The same service and validation as the tRPC API at /trpc, as plain JSON: dates are ISO strings.",
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "only when the server runs with --token" } },
    },
    security: [{}, { bearer: [] }],
    paths: {
      "/session": {
        post: {
          operationId: "createSession",
          summary: "Create a session, with the caller's ID or a generated one",
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description: "same as idempotencyKey in the body",
              schema: idempotencyKey,
            },
          ],
          requestBody: { required: false, ...json(create) },
          responses: responses(
            {
              description: "the new session (or, for a retry with the same id and key, the first one)",
              schema: ref("Session"),
              etag: true,
            },
            [404, 409, 413, 415],
          ),
        },
        get: {
          operationId: "listSessions",
          summary: "List sessions, newest first, a page at a time",
          parameters: queryParameters(list, []),
          responses: responses({ description: "one page; pass nextCursor back as cursor", schema: ref("SessionPage") }, []),
        },
      },
      "/session/{id}": {
        parameters: [idParameter],
        get: {
          operationId: "getSession",
          summary: "Get a session",
          responses: responses({ description: "the session", schema: ref("Session"), etag: true }, [404]),
        },
        patch: {
          operationId: "updateSession",
          summary: "Change a session's title, metadata (replaced whole) or archived state",
          parameters: [
            {
              name: "If-Match",
              in: "header",
              required: false,
              description: 'the expected revision, quoted: "3" (like expectedRevision)',
              schema: { type: "string", pattern: '^"[1-9][0-9]*"$' },
            },
          ],
          requestBody: { required: true, ...json(update) },
          responses: responses({ description: "the updated session", schema: ref("Session"), etag: true }, [404, 412, 413, 415]),
        },
        delete: {
          operationId: "deleteSession",
          summary: "Delete a session and all its descendants",
          responses: responses({ description: "the deleted IDs, the session first", schema: ref("DeleteResult") }, [404]),
        },
      },
      "/event": {
        get: {
          operationId: "streamEvents",
          summary: "Live events as server-sent events, resuming after Last-Event-ID",
          description: [
            "A text/event-stream that stays open. Each event is a frame `id: <event ID>` and `data: <SessionEvent as JSON>`, in ID order, each once.",
            "The stream opens with a comment naming its start point (`: sessiond events after <ID>`) and `retry: 1000`;",
            "an idle stream carries `: ping` comments every --event-heartbeat-ms.",
            "If pruning overtakes a slow stream, it ends with an `event: expired` frame whose data is the 410 body.",
            "A client that does not read for --slow-subscriber-timeout-ms is disconnected.",
          ].join(" "),
          parameters: [
            {
              name: "Last-Event-ID",
              in: "header",
              required: false,
              description: "deliver the events after this one (what a reconnecting EventSource sends); wins over lastEventId",
              schema: eventId,
            },
            ...eventParameters,
          ],
          responses: {
            200: {
              description: "the stream of events (see SessionEvent for each frame's data)",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            ...Object.fromEntries(
              ([400, 401, 405, 410, 500] as const).map((status) => [
                status,
                { description: ERRORS[status][1], ...json(ref(`${ERRORS[status][0]}Error`)) },
              ]),
            ),
            503: {
              description:
                "this instance has --max-subscribers streams open (retry later, or another instance), or the database is unavailable",
              headers: { "Retry-After": { description: "seconds", schema: { type: "string" } } },
              ...json(ref("ServiceUnavailableError")),
            },
          },
        },
      },
      "/session/{id}/children": {
        parameters: [idParameter],
        get: {
          operationId: "listChildren",
          summary: "List a session's direct children, newest first",
          parameters: queryParameters(children, ["id"]),
          responses: responses({ description: "one page of children", schema: ref("SessionPage") }, [404]),
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof createOpenApiDocument>;
