/**
 * The route table: every route of sessiond's HTTP surface, once. Routing (handler.ts), the OpenAPI
 * document (openapi.ts), and the access-log and metric labels all come from it. A REST route names
 * the procedure it calls and how its input is made from the request; the others name their kind,
 * which the handler binds to its implementation. Adding a route is one entry here.
 *
 * Paths are below the handler's base path, written as OpenAPI writes them; `{procedure}` in the
 * tRPC route takes the rest of the path (`a,b` for a batch).
 */
import { createInputSchemas, encodeCursor, SessionEventsInputSchema, type Limits } from "@sessiond/shared";
import {
  EXAMPLE_ID,
  ERRORS,
  inputSchema,
  json,
  queryParameters,
  ref,
  responses,
  withoutNull,
  withoutProperty,
  type JsonSchema,
  type Operation,
} from "./openapi.ts";
import { bodyInput, noQuery, queryInput, queryTypes, type ProcedureCall, type QueryType } from "./rest.ts";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** What a non-REST route serves; the handler binds each kind to its implementation. */
export type RouteKind = "trpc" | "events" | "healthz" | "metrics" | "openapi" | "doc" | "console.html" | "console.js";

/**
 * Who may call a route, decided before anything else of the request is read: anyone ("none"), a
 * caller the server authenticates, whose owner the route acts for ("caller"), or the operator
 * ("operator": the static token; anyone on a server without authentication).
 */
export type RouteAuth = "none" | "caller" | "operator";

interface RouteBase {
  method: Method;
  path: string;
  auth: RouteAuth;
  /** The access-log and metric label (default: the path). */
  label: string;
  /** The route's operation in the OpenAPI document; absent: not in the document. */
  operation?: Operation;
  /** Its query parameters' types, from its input schema (GET /event reads them too). */
  query?: Record<string, QueryType>;
}

/**
 * Examples for every parameter and body, for tools that build requests from them (Prism, Dredd):
 * together they make valid requests (e.g. `roots=false` beside a `parentId`).
 */
const EXAMPLES = {
  cursor: encodeCursor({ createdAt: 1_764_000_000_000, id: EXAMPLE_ID }),
  page: { limit: 20, direction: "forward", parentId: EXAMPLE_ID, roots: false },
  create: { id: EXAMPLE_ID, title: "Refactor the parser", metadata: { worker: "w-17" } },
  update: { title: "Renamed" },
  events: { lastEventId: "0", sessionId: EXAMPLE_ID, roots: false },
};

export type Route = RouteBase & ({ kind: "procedure"; call: ProcedureCall } | { kind: RouteKind });

const fixed = (method: Method, path: string, kind: RouteKind, auth: RouteAuth, operation?: Operation): Route => ({
  method,
  path,
  kind,
  auth,
  label: path,
  operation,
});

/** A REST route; its operation is named and tagged as its tRPC procedure (`session.create`: a generated client's `session.create()`). */
const rest = (
  method: Method,
  path: string,
  call: ProcedureCall,
  operation: Omit<Operation, "operationId"> & { summary: string },
): Route => ({
  method,
  path,
  kind: "procedure",
  call,
  auth: "caller",
  label: `${method} ${path}`,
  operation: { operationId: call.procedure, tags: [call.procedure.split(".")[0]!], ...operation },
});

/** The table, for a server with these limits (its input schemas, and so its document, follow them). */
export function createRouteTable(limits?: Limits): Route[] {
  const inputs = createInputSchemas(limits);
  const create = inputSchema(inputs.create);
  const list = inputSchema(inputs.list);
  const children = inputSchema(inputs.children);
  const update = JSON.parse(JSON.stringify(withoutProperty(inputSchema(inputs.update), "id"))) as JsonSchema;
  const events = inputSchema(SessionEventsInputSchema);
  const idempotencyKey = (create.properties as Record<string, JsonSchema>).idempotencyKey!;
  const eventId = withoutNull((events.properties as Record<string, JsonSchema>).lastEventId!);
  const listQuery = queryTypes(list);
  const childrenQuery = queryTypes(children);
  const ifMatch = {
    name: "If-Match",
    in: "header",
    required: false,
    description:
      'write only if the session is at this revision: its ETag ("3"), a list of them ("2", "3"), or * for any; a weak tag (W/"3") never matches (RFC 9110 §13.1.1)',
    schema: { type: "string" },
    example: '"1"',
  };

  return [
    rest(
      "POST",
      "/session",
      {
        procedure: "session.create",
        type: "mutation",
        hasBody: true,
        input: ({ query, body, ex }) => {
          noQuery(query);
          const key = ex.header("idempotency-key");
          return bodyInput(body, key !== undefined ? { idempotencyKey: key } : {});
        },
      },
      {
        summary: "Create a session, with the caller's ID or a generated one",
        parameters: [
          {
            name: "Idempotency-Key",
            in: "header",
            required: false,
            description:
              "same as idempotencyKey in the body: a retry with the same key and body gets the session the first create made; the same key with another body is 422 (per owner, while that session exists)",
            schema: idempotencyKey,
            example: "job-4711",
          },
        ],
        requestBody: { required: false, content: { "application/json": { schema: create, example: EXAMPLES.create } } },
        responses: responses(
          {
            description: "the new session (or, for a retry with the same key and body, the first one)",
            schema: ref("Session"),
            etag: true,
          },
          [403, 404, 409, 413, 415, 422],
        ),
      },
    ),
    rest(
      "GET",
      "/session",
      { procedure: "session.list", type: "query", hasBody: false, input: ({ query }) => queryInput(query, listQuery) },
      {
        summary: "List sessions, newest first, a page at a time",
        parameters: queryParameters(list, [], { ...EXAMPLES.page, cursor: EXAMPLES.cursor }),
        responses: responses({ description: "one page; pass nextCursor back as cursor", schema: ref("SessionPage") }, [403]),
      },
    ),
    rest(
      "GET",
      "/session/{id}",
      { procedure: "session.get", type: "query", hasBody: false, input: ({ id, query }) => queryInput(query, {}, { id }) },
      {
        summary: "Get a session",
        responses: responses({ description: "the session", schema: ref("Session"), etag: true }, [403, 404]),
      },
    ),
    rest(
      "PATCH",
      "/session/{id}",
      {
        procedure: "session.update",
        type: "mutation",
        hasBody: true,
        conditional: true,
        input: ({ id, query, body }) => {
          noQuery(query);
          return bodyInput(body ?? {}, { id });
        },
      },
      {
        summary: "Change a session's title, metadata (replaced whole) or archived state",
        parameters: [ifMatch],
        requestBody: { required: true, content: { "application/json": { schema: update, example: EXAMPLES.update } } },
        responses: responses({ description: "the updated session", schema: ref("Session"), etag: true }, [403, 404, 412, 413, 415]),
      },
    ),
    rest(
      "DELETE",
      "/session/{id}",
      {
        procedure: "session.delete",
        type: "mutation",
        hasBody: false,
        conditional: true,
        input: ({ id, query }) => {
          noQuery(query);
          return { id };
        },
      },
      {
        summary: "Delete a session and all its descendants",
        parameters: [ifMatch],
        responses: responses({ description: "the deleted IDs, the session first", schema: ref("DeleteResult") }, [403, 404, 412]),
      },
    ),
    rest(
      "GET",
      "/session/{id}/children",
      { procedure: "session.children", type: "query", hasBody: false, input: ({ id, query }) => queryInput(query, childrenQuery, { id }) },
      {
        summary: "List a session's direct children, newest first",
        parameters: queryParameters(children, ["id"], { ...EXAMPLES.page, cursor: EXAMPLES.cursor }),
        responses: responses({ description: "one page of children", schema: ref("SessionPage") }, [403, 404]),
      },
    ),
    { ...fixed("GET", "/event", "events", "caller", eventsOperation(events, eventId)), query: queryTypes(events) },
    // tRPC authenticates its callers itself, in tRPC's error shape.
    fixed("GET", "/trpc/{procedure}", "trpc", "none"),
    fixed("POST", "/trpc/{procedure}", "trpc", "none"),
    fixed("GET", "/healthz", "healthz", "none"),
    // Counts of every owner's calls: the operator's.
    fixed("GET", "/metrics", "metrics", "operator"),
    fixed("GET", "/openapi.json", "openapi", "none"),
    fixed("GET", "/doc", "doc", "none"),
    fixed("GET", "/", "console.html", "none"),
    fixed("GET", "/console.js", "console.js", "none"),
  ];
}

/** GET /event in the document: a stream that stays open, its frames, its resume header and filters. */
function eventsOperation(events: JsonSchema, eventId: JsonSchema): Operation {
  return {
    operationId: "session.events",
    tags: ["session"],
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
        example: "0",
      },
      ...queryParameters(events, [], EXAMPLES.events).map((parameter) => ({ ...parameter, schema: withoutNull(parameter.schema) })),
    ],
    responses: {
      200: {
        description: "the stream of events (see SessionEvent for each frame's data)",
        content: { "text/event-stream": { schema: { type: "string" } } },
      },
      ...Object.fromEntries(
        ([400, 401, 403, 405, 410, 500] as const).map((status) => [
          status,
          { description: ERRORS[status][1], ...json(ref(`${ERRORS[status][0]}Error`)) },
        ]),
      ),
      503: {
        description: "this instance has --max-subscribers streams open (retry later, or another instance), or the database is unavailable",
        headers: { "Retry-After": { description: "seconds", schema: { type: "string" } } },
        ...json(ref("ServiceUnavailableError")),
      },
    },
  };
}
