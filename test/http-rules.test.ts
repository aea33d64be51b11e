/**
 * The HTTP rules browsers, proxies and retrying clients rely on (RFC 9110, 9112), on every route:
 * HEAD wherever GET is, the bearer scheme and WWW-Authenticate, query booleans as other APIs take
 * them, and the Host check that keeps a DNS-rebinding page away from a loopback server.
 */
import { startTestServer, type TestServer } from "@sessiond/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { rawHttp } from "./support/raw-http.ts";

const TOKEN = "a-test-token-of-sixteen-plus";
const ID = "ses_0123456789abABCDEFGHIJKLMN";
const input = (json: unknown) => encodeURIComponent(JSON.stringify({ json }));

describe("HEAD and the bearer token", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { token: TOKEN } });
    await server.client.session.create.mutate({ id: ID, title: "head" });
  });
  afterAll(() => server?.close());

  const auth = { authorization: `Bearer ${TOKEN}` };
  it.each([
    "/session",
    `/session/${ID}`,
    `/session/${ID}/children`,
    "/openapi.json",
    "/doc",
    "/metrics",
    "/healthz",
    "/",
    `/trpc/session.get?input=${input({ id: ID })}`,
  ])("answers HEAD %s as its GET, without the body (RFC 9110 §9.3.2)", async (path) => {
    const get = await fetch(`${server.url}${path}`, { headers: auth });
    const getBody = await get.text();
    const head = await fetch(`${server.url}${path}`, { method: "HEAD", headers: auth });
    expect(head.status).toBe(get.status);
    expect(get.status).toBe(200);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    // /metrics changes between two requests; the rest are the same bytes.
    if (path !== "/metrics") expect(head.headers.get("content-length")).toBe(String(Buffer.byteLength(getBody)));
    else expect(head.headers.get("content-length")).toMatch(/^\d+$/);
    expect(await head.text()).toBe("");
  });

  it("answers HEAD /event with the stream's headers and ends at once", async () => {
    const head = await fetch(`${server.url}/event`, { method: "HEAD", headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await head.text()).toBe("");
  });

  it.each(["bearer", "BEARER", "BeArEr"])(
    "takes the scheme written as %s (schemes are case-insensitive, RFC 9110 §11.1)",
    async (scheme) => {
      const headers = { authorization: `${scheme} ${TOKEN}` };
      expect((await fetch(`${server.url}/session/${ID}`, { headers })).status).toBe(200);
      expect((await fetch(`${server.url}/trpc/session.get?input=${input({ id: ID })}`, { headers })).status).toBe(200);
    },
  );

  it.each([
    ["REST", "GET", `/session/${ID}`],
    ["REST with a body", "POST", "/session"],
    ["tRPC", "GET", `/trpc/session.get?input=${input({ id: ID })}`],
    ["tRPC with a body", "POST", "/trpc/session.create"],
    ["GET /event", "GET", "/event"],
    ["GET /metrics", "GET", "/metrics"],
  ])("sends WWW-Authenticate: Bearer with every 401 (%s)", async (_, method, path) => {
    for (const authorization of [undefined, "Bearer wrong-token-wrong-token", "Basic dXNlcjpwYXNz"]) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: method === "POST" ? "{}" : undefined,
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="sessiond"/);
    }
  });
});

describe("query booleans", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it.each([
    ["true", true],
    ["1", true],
    ["false", false],
    ["0", false],
  ])("take roots=%s on GET /session as %s", async (text, roots) => {
    const root = await server.client.session.create.mutate({});
    const child = await server.client.session.create.mutate({ parentId: root.id });
    const response = await fetch(`${server.url}/session?limit=200&roots=${text}`);
    expect(response.status).toBe(200);
    const ids = ((await response.json()) as { items: { id: string }[] }).items.map((session) => session.id);
    expect(ids).toContain(root.id);
    expect(ids.includes(child.id)).toBe(!roots);
  });

  it.each(["true", "1", "false", "0"])("take roots=%s on GET /event", async (text) => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/event?roots=${text}`, { signal: controller.signal });
    expect(response.status).toBe(200);
    controller.abort();
  });

  it.each(["/session?roots=yes", "/event?roots=yes", "/session?limit=ten"])("refuses %s with 400 naming the field", async (path) => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { fieldErrors: Record<string, string[]> };
    expect(Object.keys(body.fieldErrors)).toEqual([path.includes("limit") ? "limit" : "roots"]);
  });
});

describe("the Host check (DNS rebinding)", () => {
  let server: TestServer;
  let guarded: TestServer;
  let listed: TestServer;
  beforeAll(async () => {
    [server, guarded, listed] = await Promise.all([
      startTestServer(),
      startTestServer({ settings: { token: TOKEN } }),
      startTestServer({ settings: { allowedHosts: "sessions.test" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server?.close(), guarded?.close(), listed?.close()]);
  });

  const port = (target: TestServer) => new URL(target.url).port;
  const create = (target: TestServer, host: string) =>
    rawHttp(
      target.url,
      ["POST /session HTTP/1.1", `host: ${host}`, `origin: http://${host}`, "content-type: application/json"],
      '{"title":"rebound"}',
    );

  it("refuses a loopback server's calls that name another host, as a rebinding page's do, and writes nothing", async () => {
    const before = await server.client.session.list.query({});
    const answer = await create(server, `rebind.test:${port(server)}`);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("--allowed-hosts") });
    const reads = await rawHttp(server.url, ["GET /session HTTP/1.1", `host: rebind.test:${port(server)}`]);
    expect(reads.status).toBe(403);
    // (The loopback names' tests below write "rebound" sessions here too, before or after this one.)
    expect(await server.client.session.list.query({})).toEqual(before);
  });

  it.each(["127.0.0.1", "localhost", "app.localhost", "[::1]"])("answers the loopback name %s", async (name) => {
    expect((await create(server, `${name}:${port(server)}`)).status).toBe(200);
  });

  it("answers the names listed with --allowed-hosts, and still refuses others", async () => {
    expect((await create(listed, `sessions.test:${port(listed)}`)).status).toBe(200);
    expect((await create(listed, `other.test:${port(listed)}`)).status).toBe(403);
  });

  it("leaves a server with a token to answer any name (a rebinding page has no token) unless names are listed", async () => {
    const answer = await rawHttp(guarded.url, ["GET /healthz HTTP/1.1", `host: sessions.example.com`]);
    expect(answer.status).toBe(200);
  });

  it("refuses two Host headers with 400 (RFC 9112 §3.2)", async () => {
    const answer = await rawHttp(guarded.url, ["GET /healthz HTTP/1.1", "host: 127.0.0.1", "host: rebind.test"]);
    expect(answer.status).toBe(400);
  });
});

describe("routing where the process allows no code from strings", () => {
  // The handler matches routes with rou3's compiled matcher (`new Function`); a host that runs
  // Node with --disallow-code-generation-from-strings gets rou3's `findRoute`, with the same answers.
  let plain: TestServer;
  let strict: ServerProcess;
  beforeAll(async () => {
    plain = await startTestServer();
    const options = `${process.env.NODE_OPTIONS ?? ""} --disallow-code-generation-from-strings`;
    strict = await startServerProcess(["--db", ":memory:"], { NODE_OPTIONS: options });
    for (const url of [plain.url, strict.url]) {
      const created = await fetch(`${url}/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: ID }),
      });
      expect(created.status).toBe(200);
    }
  });
  afterAll(async () => {
    await plain?.close();
    await strict?.stop();
  });

  it.each([
    ["GET", `/session/${ID}`, 200],
    ["GET", `/session/${ID}/children`, 200],
    ["GET", "/session?limit=1", 200],
    ["GET", `/trpc/session.get?input=${input({ id: ID })}`, 200],
    ["GET", "/healthz", 200],
    ["GET", "/session/", 404],
    ["GET", `/session/${ID}/children/more`, 404],
    ["GET", "/nope", 404],
    ["PUT", "/session", 405],
    ["POST", `/session/${ID}`, 405],
  ])("%s %s: %i on both", async (method, path, status) => {
    for (const url of [plain.url, strict.url]) {
      const response = await fetch(`${url}${path}`, { method });
      expect({ url, status: response.status }).toEqual({ url, status });
      if (status === 200 && path === `/session/${ID}`) expect(await response.text()).toContain(ID);
      else await response.body?.cancel();
    }
  });
});
