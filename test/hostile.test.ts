/**
 * Small requests that must not hang, crash or bloat the server: each is answered with a clear 4xx
 * and a well-formed body carrying the request ID, nothing is written, and the server keeps serving.
 * Through real HTTP, on both HTTP paths (the fast path and tRPC's stock adapter).
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { freshId } from "./support/ids.ts";
import { storedSessions } from "./support/targets.ts";

const TOKEN = "s3cret-token-for-hostile-tests";

interface WireError {
  error: {
    json: {
      message: string;
      code: number;
      data: { code: string; httpStatus: number; requestId: string; fieldErrors?: Record<string, string[]>; formErrors?: string[] };
    };
  };
}

/** One raw HTTP exchange: any method, any body, no client-side checks. */
function exchange(url: string, method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers: options.headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * Bytes written as they are on a connection of their own, then the client's FIN when `halfClose`;
 * resolves with everything received once the server has closed the connection.
 */
function onConnection(url: string, text: string, halfClose = false): Promise<string> {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk) => (received += chunk));
  const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
  if (halfClose) socket.end(text);
  else socket.write(text);
  return closed;
}

/** A JSON POST as a client writes it on the wire. */
const rawPost = (path: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const json = { "content-type": "application/json" };

/** The error body of a non-batched tRPC answer, checked to be well formed and to carry the response's request ID. */
function wireError(answer: { headers: Record<string, string | string[] | undefined>; text: string }): WireError["error"]["json"] {
  const body = JSON.parse(answer.text) as WireError;
  expect(typeof body.error.json.message).toBe("string");
  expect(body.error.json.data.requestId).toBe(answer.headers["x-request-id"]);
  expect(body.error.json.message).not.toMatch(/Cannot read properties|Maximum call stack|github\.com|is not a function|undefined is not/);
  return body.error.json;
}

describe.each(["fast", "stock"] as const)("hostile requests [%s]", (handler) => {
  let server: TestServer;
  let guarded: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { httpHandler: handler } });
    guarded = await startTestServer({ settings: { httpHandler: handler, token: TOKEN } });
  });
  afterAll(async () => {
    await server?.close();
    await guarded?.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = json) =>
    exchange(server.url, "POST", `/trpc/${path}`, { body, headers });

  it.each(["TRACE", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "PURGE", "MKCOL"])(
    "answers %s with 405, an Allow header and a well-formed error, before the token check",
    async (method) => {
      for (const target of [server, guarded]) {
        const answer = await exchange(target.url, method, "/trpc/session.create", { body: "{}", headers: json });
        expect(answer.status).toBe(405);
        expect(answer.headers.allow).toBe("GET, HEAD, POST");
        expect(wireError(answer).data.code).toBe("METHOD_NOT_SUPPORTED");
      }
    },
  );

  it.each([
    ["a number", "5"],
    ["a string", '"x"'],
    ["an array", "[1,2]"],
    ["the input without its envelope", JSON.stringify({ id: "ses_0123456789abABCDEFGHIJKLMN", title: "mine" })],
    ["an empty object", "{}"],
    ["an envelope with an unknown key", JSON.stringify({ json: { title: "mine" }, extra: 1 })],
  ])("refuses a body that is %s with 400 saying how the envelope looks, writing nothing", async (_, body) => {
    const before = await storedSessions(server);
    const answer = await post("session.create", body);
    expect(answer.status).toBe(400);
    const error = wireError(answer);
    expect(error.message).toContain('{"json": <input>}');
    expect(await storedSessions(server)).toEqual(before);
  });

  it.each([
    ["non-numeric keys", { a: { json: { title: "x" } } }],
    ["an index past the batch", { 0: { json: {} }, 2: { json: {} } }],
    ["a padded index", { "00": { json: {} } }],
  ])("refuses a batch input with %s, writing nothing", async (_, input) => {
    const before = await storedSessions(server);
    const answer = await post("session.create,session.create?batch=1", JSON.stringify(input));
    expect(answer.status).toBe(400);
    const errors = JSON.parse(answer.text) as WireError[];
    expect(errors).toHaveLength(2);
    for (const item of errors) expect(item.error.json.message).toContain("A batch's input is an object");
    expect(await storedSessions(server)).toEqual(before);
  });

  it.each([
    ["a sparse index far past the end of an array", { json: [], meta: { values: { "1000000": ["undefined"] }, v: 1 } }],
    ["the largest array index", { json: { metadata: { a: [] } }, meta: { values: { "metadata.a.4294967294": ["undefined"] }, v: 1 } }],
    ["a path the input does not have", { json: { title: "t" }, meta: { values: { parentId: ["undefined"] }, v: 1 } }],
    ["an annotation on a value that is not null", { json: { title: "t" }, meta: { values: { title: ["undefined"] }, v: 1 } }],
    ["a class annotation", { json: { title: "t" }, meta: { values: { title: [["class", "Evil"]] }, v: 1 } }],
    ["a custom annotation", { json: { title: "t" }, meta: { values: { title: [["custom", "x"]] }, v: 1 } }],
    ["meta that is not an object", { json: { title: "t" }, meta: 5 }],
    ["values that are not a tree", { json: { title: "t" }, meta: { values: 5 } }],
    ["an unknown meta key", { json: { title: "t" }, meta: { evil: {} } }],
    ["an unknown version", { json: { title: "t" }, meta: { v: 99 } }],
    ["a malformed path escape", { json: { title: null }, meta: { values: { "ti\\tle": ["undefined"] }, v: 1 } }],
  ])("refuses superjson meta with %s with 400 at once, writing nothing", async (_, envelope) => {
    const before = await storedSessions(server);
    const answer = await post("session.create", JSON.stringify(envelope));
    expect(answer.status).toBe(400);
    expect(wireError(answer).data.code).toBe("BAD_REQUEST");
    expect(await storedSessions(server)).toEqual(before);
  });

  it("refuses referential equalities (a billion laughs) with 400 while other requests are answered", async () => {
    // Each level's two keys alias the level below: 2^depth paths to walk if applied.
    const depth = 60;
    let value: unknown = { leaf: 1 };
    const equalities: Record<string, string[]> = {};
    let path = "metadata";
    for (let level = 0; level < depth; level++) {
      value = { a: value, b: {} };
      equalities[`${path}.a`] = [`${path}.b`];
      path = `${path}.a`;
    }
    const envelope = { json: { metadata: value }, meta: { referentialEqualities: equalities, v: 1 } };
    const [answer, health] = await Promise.all([post("session.create", JSON.stringify(envelope)), exchange(server.url, "GET", "/healthz")]);
    expect(answer.status).toBe(400);
    expect(wireError(answer).message).toContain("repeats an object");
    expect(health.status).toBe(200);
  });

  it("refuses input nested too deep for validation with a message, not a stack overflow", async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    const answer = await post("session.create", `{"json":{"metadata":${deep}}}`);
    expect(answer.status).toBe(400);
    expect(wireError(answer).message).toContain("nested more than");
  });

  it("says what is wrong with a Date in metadata", async () => {
    const answer = await post(
      "session.create",
      JSON.stringify({ json: { metadata: { at: "2026-01-01T00:00:00.000Z" } }, meta: { values: { "metadata.at": ["Date"] }, v: 1 } }),
    );
    expect(answer.status).toBe(400);
    const error = wireError(answer);
    expect(error.data.fieldErrors?.metadata?.[0]).toContain('Unsupported value type "Date"');
  });

  it.each([
    ["415, for a content type that is not JSON", () => post("session.create", "{}", { "content-type": "text/plain" }), 415],
    [
      "400, for a batch over the size limit",
      () => exchange(server.url, "GET", `/trpc/${Array(101).fill("health").join(",")}?batch=1`),
      400,
    ],
    ["413, for a body over the limit", () => post("session.create", JSON.stringify({ json: { title: "x".repeat(1_100_000) } })), 413],
    ["401, for a missing token", () => exchange(guarded.url, "POST", "/trpc/session.create", { body: "{}", headers: json }), 401],
  ] as const)("answers %s with the request ID and a message written for the caller", async (_, send, status) => {
    const answer = await send();
    expect(answer.status).toBe(status);
    const body = JSON.parse(answer.text) as WireError | WireError[];
    // A batch gets one error per call.
    const error = wireError({ ...answer, text: JSON.stringify(Array.isArray(body) ? body[0] : body) });
    expect(error.data.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // Quotes come in pairs (tRPC's own 415 message left one open).
    expect((error.message.match(/"/g) ?? []).length % 2).toBe(0);
  });

  it("decides the token before reading the body: an unauthorized caller is answered without sending it", async () => {
    const { port } = new URL(guarded.url);
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => (received += chunk));
    const answered = new Promise<void>((resolve) => socket.on("data", () => resolve()));
    // Headers promise a 1 MB body that never comes: the answer must not wait for it.
    socket.write(
      "POST /trpc/session.create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
    );
    await answered;
    socket.destroy();
    expect(received).toMatch(/^HTTP\/1\.1 401/);
  });

  it("answers a request pipelined after a create on the same connection with the created session", async () => {
    const id = freshId();
    const body = JSON.stringify({ json: { id, title: "pipelined" } });
    const input = encodeURIComponent(JSON.stringify({ json: { id } }));
    // The second request asks the server to close the connection once it has answered.
    const received = await onConnection(
      server.url,
      `${rawPost("/trpc/session.create", body)}GET /trpc/session.get?input=${input} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
    expect(statuses, received).toEqual(["200", "200"]);
    expect(received.slice(received.lastIndexOf("HTTP/1.1"))).toContain('"title":"pipelined"');
  });

  it.each([
    ["tRPC", "/trpc/session.create", (id: string) => ({ json: { id } })],
    ["REST", "/session", (id: string) => ({ id })],
  ])("answers a %s create whose client half-closed the connection once the request was sent", async (_, path, input) => {
    const id = freshId();
    // The request, then the client's FIN (shutdown of its writing side): the answer comes after it.
    const received = await onConnection(server.url, rawPost(path, JSON.stringify(input(id))), true);
    expect(received).toMatch(/^HTTP\/1\.1 20[01] /);
    expect(received).toContain(`"id":"${id}"`);
  });

  it("cuts an event stream whose client sent its FIN, rather than streaming on until a heartbeat fails", async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    const started = new Promise<void>((resolve) => socket.on("data", (chunk) => (received += chunk) && resolve()));
    const closed = new Promise<string>((resolve) => socket.on("close", () => resolve("closed")));
    socket.write("GET /event HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
    await started;
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    socket.end();
    // The first heartbeat is 15 s away: only a cut closes the connection sooner.
    const late = new Promise<string>((resolve) => setTimeout(() => resolve("still open after 3 s"), 3000).unref());
    expect(await Promise.race([closed, late])).toBe("closed");
    socket.destroy();
  });
});
