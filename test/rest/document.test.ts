/**
 * The OpenAPI document tells the truth about itself: it is valid OpenAPI 3.1 by an independent
 * validator, the server serves exactly the document the test client was generated from (and
 * `sessiond openapi` prints it), every ID carries its pattern, every route and error is there, and
 * the /doc page needs nothing from outside the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { SESSION_ID_PATTERN } from "@sessiond/shared";
import { runCli } from "../support/process.ts";
import { openApiDocument } from "../support/rest.ts";

// biome-ignore lint/suspicious/noExplicitAny: schemas of the document, walked by key
type Json = Record<string, any>;

/** Every (JSON pointer, schema) pair under a value, for walking the document's schemas. */
function* walk(value: unknown, pointer = ""): Generator<[string, Json]> {
  if (value === null || typeof value !== "object") return;
  yield [pointer, value as Json];
  for (const [key, child] of Object.entries(value)) yield* walk(child, `${pointer}/${key}`);
}

describe("the OpenAPI document", () => {
  let server: TestServer;
  let served: Json;
  beforeAll(async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.headers.get("content-type")).toBe("application/json");
    served = (await response.json()) as Json;
  });
  afterAll(() => server?.close());

  it("is valid OpenAPI 3.1 by an independent validator", async () => {
    const validator = new Validator();
    const result = await validator.validate(served);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("is the document the test client was generated from (else run npm run openapi:client)", () => {
    expect(served).toEqual(openApiDocument);
  });

  it("is what `sessiond openapi` prints", async () => {
    const result = await runCli(["openapi"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(served);
  });

  it("documents every route with its parameters, body and errors, 409 on create", () => {
    const operations = Object.entries(served.paths as Json).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== "parameters")
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual([
      "DELETE /session/{id}",
      "GET /event",
      "GET /session",
      "GET /session/{id}",
      "GET /session/{id}/children",
      "PATCH /session/{id}",
      "POST /session",
    ]);
    const create = served.paths["/session"].post;
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404", "409", "413", "415", "503"]));
    expect(create.responses["409"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ConflictError" });
    expect(served.components.schemas.ConflictError.required).toEqual(expect.arrayContaining(["code", "message", "requestId", "conflict"]));
    expect(create.parameters.map((parameter: Json) => parameter.name)).toEqual(["Idempotency-Key"]);
    expect(Object.keys(served.paths["/session/{id}"].patch.responses)).toContain("412");
    expect(served.paths["/session"].get.parameters.map((parameter: Json) => parameter.name).sort()).toEqual([
      "cursor",
      "direction",
      "limit",
      "parentId",
      "roots",
    ]);
  });

  it("gives every session ID field the ID pattern", () => {
    const idFields = [...walk(served)].filter(([pointer]) => /\/(id|parentId)$/.test(pointer) && !pointer.endsWith("/required/id"));
    const deletedItems = served.components.schemas.DeleteResult.properties.deleted.items;
    expect(idFields.length).toBeGreaterThanOrEqual(10);
    for (const [pointer, schema] of [...idFields, ["deleted", deletedItems] as [string, Json]]) {
      const withPattern = schema.pattern ? schema : (schema.anyOf ?? []).find((option: Json) => option.type === "string");
      const pattern = withPattern?.pattern ?? schema.schema?.pattern; // a path parameter keeps it in .schema
      expect(pattern, pointer).toBe(SESSION_ID_PATTERN.source);
    }
  });

  it("shows a readable page at /doc that loads nothing from elsewhere", async () => {
    const response = await fetch(`${server.url}/doc`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await response.text();
    for (const route of ["POST /session", "GET /session/{id}/children", "PATCH /session/{id}", "DELETE /session/{id}"])
      expect(html).toContain(route);
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("names each operation after its tRPC procedure, tagged by its group, as generators expect (session.create → session.create())", () => {
    const operations = Object.values(served.paths as Json).flatMap((item) =>
      Object.entries(item as Json)
        .filter(([key]) => key !== "parameters")
        .map(([, operation]) => [operation.operationId, operation.tags] as const),
    );
    expect(Object.fromEntries(operations)).toEqual({
      "session.create": ["session"],
      "session.list": ["session"],
      "session.get": ["session"],
      "session.update": ["session"],
      "session.delete": ["session"],
      "session.children": ["session"],
      "session.events": ["session"],
    });
  });

  it("types JsonValue so that generated clients take every JSON value, null included", () => {
    expect(served.components.schemas.JsonValue.type).toEqual(["string", "number", "boolean", "null", "array", "object"]);
  });

  it("gives every parameter and request body an example, and the examples together make requests the server accepts", async () => {
    await server.client.session.create.mutate({ id: "ses_0123456789abABCDEFGHIJKLMN", title: "for the examples" });
    for (const [path, item] of Object.entries(served.paths as Json)) {
      for (const [method, operation] of Object.entries(item as Json)) {
        if (method === "parameters" || method === "delete") continue; // the delete would take the others' session
        const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])] as Json[];
        for (const parameter of parameters) expect(parameter.example, `${method} ${path} ${parameter.name}`).toBeDefined();
        const bodyExample = operation.requestBody?.content["application/json"].example;
        if (operation.requestBody) expect(bodyExample, `${method} ${path} body`).toBeDefined();
        // As a tool builds the request from the examples (Dredd, Prism's validation proxy).
        let url = path;
        const query = new URLSearchParams();
        const headers: Record<string, string> = { "content-type": "application/json" };
        for (const parameter of parameters) {
          if (parameter.in === "path") url = url.replace(`{${parameter.name}}`, String(parameter.example));
          else if (parameter.in === "query") query.set(parameter.name, String(parameter.example));
          else if (parameter.in === "header") headers[parameter.name] = String(parameter.example);
        }
        const controller = new AbortController();
        const response = await fetch(`${server.url}${url}?${query}`, {
          method: method.toUpperCase(),
          headers,
          body: bodyExample === undefined ? undefined : JSON.stringify(method === "post" ? { ...bodyExample, id: undefined } : bodyExample),
          signal: controller.signal,
        });
        const answer = response.headers.get("content-type")?.startsWith("text/event-stream") ? "(stream)" : await response.text();
        controller.abort();
        expect([method, path, response.status, answer], "the examples make a valid request").toEqual([method, path, 200, answer]);
      }
    }
  });

  it("answers other methods on the document with 405 and Allow", async () => {
    const response = await fetch(`${server.url}/openapi.json`, { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });
});
