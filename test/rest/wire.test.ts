/**
 * The REST routes on the wire: request IDs, the bearer token (checked before the body is read),
 * body limits, content types, methods, hostile keys, a locked database, and a REST caller racing a
 * tRPC caller for one ID. Responses the generated client sees are checked against the document.
 */
import { request } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isConflict } from "@sessiond/client";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { freshId } from "../support/ids.ts";
import { createRestClient, expectDocumented, expectRestError } from "../support/rest.ts";
import { engineTargets, storedSessions } from "../support/targets.ts";

const TOKEN = "a-test-token-of-some-length";

/** A raw request (fetch refuses methods like TRACE), resolving with status, headers and body. */
function rawRequest(url: string, method: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("REST on the wire", () => {
  let server: TestServer;
  const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
    fetch(`${server.url}/session`, { method: "POST", headers, body });
  beforeAll(async () => {
    server = await startTestServer({ settings: { maxBodyBytes: 4096 } });
  });
  afterAll(() => server?.close());

  it("answers with the caller's x-request-id, which an error body repeats", async () => {
    const response = await fetch(`${server.url}/session/${freshId()}`, { headers: { "x-request-id": "trace-42" } });
    expect(response.headers.get("x-request-id")).toBe("trace-42");
    expect(await response.json()).toMatchObject({ code: "NOT_FOUND", requestId: "trace-42" });
    const own = await fetch(`${server.url}/session/nope`);
    expect(((await own.json()) as { requestId: string }).requestId).toBe(own.headers.get("x-request-id"));
  });

  it("answers a body over the limit with 413, storing nothing", async () => {
    const before = await storedSessions(server);
    const response = await post(JSON.stringify({ title: "x", metadata: { blob: "y".repeat(5000) } }));
    expect(response.status).toBe(413);
    await expectDocumented("/session", "POST", response);
    expect(await response.json()).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(await storedSessions(server)).toEqual(before);
  });

  it.each([
    ["text/plain", { "content-type": "text/plain" }],
    ["form data", { "content-type": "application/x-www-form-urlencoded" }],
    ["no content type", {}],
  ])("answers a body sent as %s with 415", async (_, headers) => {
    const response = await fetch(`${server.url}/session`, { method: "POST", headers, body: new TextEncoder().encode("{}") });
    expect(response.status).toBe(415);
    await expectDocumented("/session", "POST", response);
  });

  it.each([
    ["malformed JSON", "{bad"],
    ["a __proto__ key at the top", '{"__proto__":{"polluted":1}}'],
    ["a __proto__ key in metadata", '{"metadata":{"a":{"__proto__":{"polluted":1}}}}'],
    ["a constructor key in metadata", '{"metadata":{"constructor":{"prototype":1}}}'],
    ["JSON nested 1500 deep", `{"title":${"[".repeat(1500)}${"]".repeat(1500)}}`],
    ["metadata nested 600 deep", `{"metadata":${'{"a":'.repeat(600)}1${"}".repeat(600)}}`],
  ])("answers %s with 400, storing nothing and polluting nothing", async (_, body) => {
    const before = await storedSessions(server);
    const response = await post(body);
    expect(response.status).toBe(400);
    await expectDocumented("/session", "POST", response);
    expect(await storedSessions(server)).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses __proto__ as a query parameter", async () => {
    const response = await fetch(`${server.url}/session?__proto__=x`);
    expect(response.status).toBe(400);
    await expectDocumented("/session", "GET", response);
  });

  it.each([
    ["TRACE", "/session", "GET, HEAD, POST"],
    ["PUT", "/session", "GET, HEAD, POST"],
    ["POST", `/session/ses_0123456789abABCDEFGHIJKLMN`, "GET, HEAD, PATCH, DELETE"],
    ["TRACE", `/session/ses_0123456789abABCDEFGHIJKLMN`, "GET, HEAD, PATCH, DELETE"],
    ["DELETE", `/session/ses_0123456789abABCDEFGHIJKLMN/children`, "GET, HEAD"],
  ])("answers %s %s with 405 and Allow: %s", async (method, path, allow) => {
    const response = await rawRequest(`${server.url}${path}`, method);
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(JSON.parse(response.body)).toMatchObject({ code: "METHOD_NOT_SUPPORTED", httpStatus: 405 });
  });

  it("answers an unknown route under /session with a JSON 404", async () => {
    const response = await fetch(`${server.url}/session/ses_0123456789abABCDEFGHIJKLMN/parent`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "NOT_FOUND", requestId: expect.any(String) });
  });
});

describe("REST with a bearer token", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { token: TOKEN, maxBodyBytes: 4096 } });
  });
  afterAll(() => server?.close());

  it("answers 401 without the token or with a wrong one, and serves the caller with it", async () => {
    for (const headers of [{}, { Authorization: "Bearer wrong-token-wrong-token" }, { Authorization: TOKEN }] as Record<string, string>[]) {
      const result = await createRestClient(server.url, headers).POST("/session", { body: {} });
      expect(expectRestError(result, 401, "UNAUTHORIZED").requestId).toBe(result.response.headers.get("x-request-id"));
    }
    const ok = await createRestClient(server.url, { Authorization: `Bearer ${TOKEN}` }).POST("/session", { body: { title: "mine" } });
    expect(ok.data!.title).toBe("mine");
  });

  it("checks the token before reading the body: an oversized body without it is 401, not 413", async () => {
    const response = await fetch(`${server.url}/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(100_000),
    });
    expect(response.status).toBe(401);
  });

  it("keeps the document open, like /healthz", async () => {
    expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
  });
});

describe("REST with the database locked", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { busyTimeoutMs: 50 } });
  });
  afterAll(() => server?.close());

  it("answers 503 SERVICE_UNAVAILABLE while another process holds the write lock, and 200 after", async () => {
    const rest = createRestClient(server.url);
    const other = new DatabaseSync(server.db);
    try {
      other.exec("BEGIN IMMEDIATE");
      expectRestError(await rest.POST("/session", { body: {} }), 503, "SERVICE_UNAVAILABLE");
      other.exec("ROLLBACK");
    } finally {
      other.close();
    }
    expect((await rest.POST("/session", { body: {} })).response.status).toBe(200);
  });
});

describe.each(engineTargets)("a REST caller and a tRPC caller racing for one ID [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await target.start();
  });
  afterAll(() => server?.close());

  it("lets exactly one win in each of 40 rounds; the other gets CONFLICT", async () => {
    const rest = createRestClient(server.url);
    const wins = { rest: 0, trpc: 0 };
    for (let round = 0; round < 40; round++) {
      const id = freshId();
      const [viaRest, viaTrpc] = await Promise.allSettled([
        rest.POST("/session", { body: { id, title: "rest" } }),
        server.client.session.create.mutate({ id, title: "trpc" }),
      ]);
      const restWon = viaRest.status === "fulfilled" && viaRest.value.response.status === 200;
      const trpcWon = viaTrpc.status === "fulfilled";
      expect(restWon !== trpcWon, `round ${round}: rest ${restWon}, trpc ${trpcWon}`).toBe(true);
      if (restWon) {
        expect(viaTrpc.status === "rejected" && isConflict(viaTrpc.reason)).toBe(true);
      } else {
        expectRestError((viaRest as PromiseFulfilledResult<Awaited<ReturnType<typeof rest.POST>>>).value, 409, "CONFLICT");
      }
      expect((await server.client.session.get.query({ id })).title).toBe(restWon ? "rest" : "trpc");
      wins[restWon ? "rest" : "trpc"]++;
    }
    expect(wins.rest + wins.trpc).toBe(40);
  });
});
