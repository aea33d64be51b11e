/**
 * The OpenAPI 3.1 document of the HTTP surface, assembled from the route table (routes.ts): each
 * route describes its own operation there, with schemas made here from the zod schemas the
 * procedures validate with (built for the server's limits, so a server with other limits
 * documents its own) and the shared output schemas, by zod's own `z.toJSONSchema` (JSON Schema
 * 2020-12, which is OpenAPI 3.1's dialect).
 */
import {
  DeleteSessionOutputSchema,
  MetadataValueSchema,
  SESSION_EVENT_TYPES,
  SESSION_ID_PATTERN,
  SessionIdSchema,
  SessionPageSchema,
  SessionSchema,
} from "@sessiond/shared";
import { z } from "zod";

export type JsonSchema = Record<string, unknown>;

const JSON_VALUE_REF = "#/components/schemas/JsonValue";

/**
 * Session IDs are checked by code (for readable messages); the document states their pattern. Dates
 * travel as ISO strings. Metadata's values are the JsonValue component. zod emits `$defs` only for
 * a recursive schema, which these have none of: one would be a change this code must learn about,
 * so it throws rather than emit a dangling reference.
 */
function describe(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override(ctx) {
      if (ctx.zodSchema === SessionIdSchema) ctx.jsonSchema.pattern = SESSION_ID_PATTERN.source;
      if (ctx.zodSchema === MetadataValueSchema) ctx.jsonSchema.$ref = JSON_VALUE_REF;
      if (ctx.zodSchema._zod.def.type === "date") Object.assign(ctx.jsonSchema, { type: "string", format: "date-time" });
    },
  }) as JsonSchema;
  if (json.$defs) throw new Error(`openapi: unexpected shared schemas ${Object.keys(json.$defs).join(", ")}`);
  delete json.$schema;
  return json;
}

/**
 * Any JSON value, without recursion (in a JSON body every value below is a JSON value; a recursive
 * form makes generated TypeScript types refer to themselves, which tsc refuses), with the types
 * spelled out, so generators type it as a union that includes null.
 */
const JSON_VALUE = {
  description: "any JSON value",
  type: ["string", "number", "boolean", "null", "array", "object"],
  items: {},
  additionalProperties: {},
};

/** The error body of one status: the fields `error.data` has on the tRPC side, plus the message. */
function errorSchema(
  code: string,
  kind?: "fieldErrors" | "conflict" | "notFound" | "precondition" | "eventsExpired" | "idempotencyKeyReused",
): JsonSchema {
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
      properties: {
        id: idRef,
        expectedRevision: { type: "integer", description: "the first revision the caller accepted (0: none, e.g. only weak tags)" },
        actualRevision: { type: "integer" },
      },
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
    idempotencyKeyReused: {
      type: "object",
      properties: { key: { type: "string", description: "the key an earlier create of this owner used with another body" } },
      required: ["key"],
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

export const ERRORS = {
  400: [
    "BadRequest",
    "invalid input: a bad ID, wrong type, unknown key, a limit, malformed JSON",
    errorSchema("BAD_REQUEST", "fieldErrors"),
  ],
  401: [
    "Unauthorized",
    "a missing or refused bearer token (when the server has a token or JWT keys); WWW-Authenticate says which",
    errorSchema("UNAUTHORIZED"),
  ],
  403: ["Forbidden", "the Sessiond-Owner header from a caller that is not the operator", errorSchema("FORBIDDEN")],
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
  422: [
    "UnprocessableContent",
    "the idempotency key was used before, by this owner, with another body",
    errorSchema("UNPROCESSABLE_CONTENT", "idempotencyKeyReused"),
  ],
  500: ["InternalServerError", "a bug; logged in full under the request ID", errorSchema("INTERNAL_SERVER_ERROR")],
  503: ["ServiceUnavailable", "the database is locked, read-only, full or unreachable; retry later", errorSchema("SERVICE_UNAVAILABLE")],
} as const;
export type ErrorStatus = keyof typeof ERRORS;

export const json = (schema: JsonSchema) => ({ content: { "application/json": { schema } } });
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export function responses(ok: { description: string; schema: JsonSchema; etag?: boolean }, errors: ErrorStatus[]) {
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

/** An input schema as the document states it. */
export function inputSchema(schema: z.ZodType): JsonSchema {
  return describe(schema, "input");
}

/** A nullable schema (`anyOf` with null) without the null: a query string or header cannot say null. */
export function withoutNull(schema: JsonSchema): JsonSchema {
  const { anyOf, ...rest } = schema as JsonSchema & { anyOf?: JsonSchema[] };
  const options = anyOf?.filter((option) => option.type !== "null");
  return options?.length === 1 ? { ...rest, ...options[0] } : schema;
}

/** The properties of an object schema, minus some, as query parameters, each with its example. */
export function queryParameters(schema: JsonSchema, omit: string[], examples: Record<string, unknown>) {
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
      example: examples[name],
    }));
}

export function withoutProperty(schema: JsonSchema, name: string): JsonSchema {
  const { [name]: _, ...properties } = schema.properties as Record<string, JsonSchema>;
  const required = ((schema.required ?? []) as string[]).filter((key) => key !== name);
  return { ...schema, properties, ...(required.length ? { required } : { required: undefined }) };
}

/** An ID to show in examples: valid, as a tool that builds requests from examples needs. */
export const EXAMPLE_ID = "ses_0123456789abABCDEFGHIJKLMN";

export const idParameter = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", pattern: SESSION_ID_PATTERN.source },
  example: EXAMPLE_ID,
};

/** How a route is described in the document: an OpenAPI operation object, by the route itself. */
export type Operation = Record<string, unknown> & { operationId: string; summary: string };

export interface DocumentedRoute {
  method: string;
  path: string;
  operation?: Operation;
}

export interface DocumentOptions {
  version: string;
  /** The path the surface is mounted at ("" at the root): the document's server URL. */
  basePath?: string;
}

export function createOpenApiDocument(routes: readonly DocumentedRoute[], options: DocumentOptions) {
  const schemas: Record<string, unknown> = {
    Session: describe(SessionSchema, "output"),
    SessionPage: describe(SessionPageSchema, "output"),
    DeleteResult: describe(DeleteSessionOutputSchema, "output"),
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

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (!route.operation) continue;
    const item = (paths[route.path] ??= route.path.includes("{id}") ? { parameters: [idParameter] } : {});
    item[route.method.toLowerCase()] = route.operation;
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "sessiond",
      version: options.version,
      description:
        "Sessions with caller-chosen IDs. The same service and validation as the tRPC API at /trpc, as plain JSON: dates are ISO strings.",
    },
    ...(options.basePath ? { servers: [{ url: options.basePath, description: "where this server mounts sessiond" }] } : {}),
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "a JWT whose owner claim names the caller's owner (--jwks-file, --jwks-url, --jwt-secret), or the operator's --token (with a Sessiond-Owner header to act for one owner); none on a server without either",
        },
      },
    },
    security: [{}, { bearer: [] }],
    paths,
  };
}

export type OpenApiDocument = ReturnType<typeof createOpenApiDocument>;
