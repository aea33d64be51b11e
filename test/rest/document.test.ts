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

  it("answers other methods on the document with 405 and Allow", async () => {
    const response = await fetch(`${server.url}/openapi.json`, { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });
});
