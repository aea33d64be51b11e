/**
 * The HTTP wire as a non-TypeScript client sees it: status codes, error bodies, the health probe
 * and request IDs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { freshId } from "./support/ids.ts";
import { storedSessions } from "./support/targets.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

interface WireError {
  error: { json: { message: string; code: number; data: Record<string, unknown> } };
}

async function post(path: string, json: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ json }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as WireError & { result: { data: { json: Record<string, unknown> } } },
  };
}

async function get(path: string, json: unknown) {
  const input = encodeURIComponent(JSON.stringify({ json }));
  const response = await fetch(`${server.url}/trpc/${path}?input=${input}`);
  return { status: response.status, body: (await response.json()) as WireError };
}

describe("the tRPC wire", () => {
  it("answers a created session with 200 and a superjson body", async () => {
    const id = freshId();
    const { status, body } = await post("session.create", { id });
    expect(status).toBe(200);
    expect(body.result.data.json).toMatchObject({ id, revision: 1 });
  });

  it("answers a duplicate with 409 and the ID in data.conflict", async () => {
    const id = freshId();
    await post("session.create", { id });
    const { status, body } = await post("session.create", { id });
    expect(status).toBe(409);
    expect(body.error.json.data).toMatchObject({ code: "CONFLICT", httpStatus: 409, conflict: { id } });
    expect(body.error.json.message).toContain(id);
  });

  it("answers invalid input with 400 and field errors", async () => {
    const { status, body } = await post("session.create", { id: "ses_BAD" });
    expect(status).toBe(400);
    expect(body.error.json.data).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { id: [expect.stringContaining("session ID")] } });
  });

  it("answers an unknown session with 404 and a stale revision with 412", async () => {
    const id = freshId();
    expect((await get("session.get", { id })).status).toBe(404);
    await post("session.create", { id });
    await post("session.update", { id, title: "two" });
    const stale = await post("session.update", { id, title: "three", expectedRevision: 1 });
    expect(stale.status).toBe(412);
    expect(stale.body.error.json.data).toMatchObject({ precondition: { id, expectedRevision: 1, actualRevision: 2 } });
  });

  it.each([
    ["__proto__", '{"json":{"metadata":{"__proto__":{"polluted":true}}}}'],
    ["constructor", '{"json":{"metadata":{"constructor":{"prototype":{"polluted":true}}}}}'],
    ["prototype", '{"json":{"metadata":{"a":{"prototype":1}}}}'],
  ])("rejects metadata with a %s key with 400, storing nothing", async (_, body) => {
    const before = await storedSessions(server);
    const response = await fetch(`${server.url}/trpc/session.create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(400);
    const error = (await response.json()) as WireError;
    expect(error.error.json.data).toMatchObject({ fieldErrors: { metadata: [expect.stringContaining("must not be")] } });
    expect(await storedSessions(server)).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("sends no stack trace or file path in a BAD_REQUEST's error body", async () => {
    const { body } = await post("session.create", { id: 42 });
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/stack|\/work\/|node_modules|\.ts:\d+/);
  });

  it("echoes the caller's request ID and puts it in error data", async () => {
    const { headers, body } = await post("session.create", { id: "bad" }, { "x-request-id": "req-123" });
    expect(headers.get("x-request-id")).toBe("req-123");
    expect(body.error.json.data.requestId).toBe("req-123");
  });

  it("gives each answer a request ID of its own when the caller sends none: tRPC success and error, REST, /healthz, /metrics, an unknown path", async () => {
    const answers = [
      (await post("session.create", {})).headers,
      (await post("session.create", { id: "bad" })).headers,
      (await fetch(`${server.url}/session/${freshId()}`)).headers,
      (await fetch(`${server.url}/healthz`)).headers,
      (await fetch(`${server.url}/metrics`)).headers,
      (await fetch(`${server.url}/nope`)).headers,
    ].map((headers) => headers.get("x-request-id"));
    for (const id of answers) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(answers).size).toBe(answers.length);
  });
});

describe("other routes", () => {
  it("serves the health probe at GET /healthz", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", engine: "sqlite" });
  });

  it("answers an unknown path with 404 in the REST error shape (code, httpStatus, message, path, request ID)", async () => {
    const response = await fetch(`${server.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      code: "NOT_FOUND",
      httpStatus: 404,
      message: expect.stringContaining("No route /nope"),
      path: "/nope",
      requestId: response.headers.get("x-request-id"),
    });
  });
});

describe("error bodies", () => {
  it.each(["constructor", "prototype"])("report an unknown %s key as a form error (superjson cannot send it as a field)", async (key) => {
    const { status, body } = await post("session.create", { id: freshId(), [key]: 1 });
    expect(status).toBe(400);
    expect(body.error.json.data).toMatchObject({ code: "BAD_REQUEST", formErrors: [expect.stringContaining(key)] });
  });

  it.each(["valueOf", "toString", "hasOwnProperty"])("report an unknown %s key as a field error like any other", async (key) => {
    const { status, body } = await post("session.create", { id: freshId(), [key]: 1 });
    expect(status).toBe(400);
    expect(body.error.json.data).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { [key]: [`Unrecognized key "${key}"`] } });
  });
});
