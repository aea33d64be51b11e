/** Cross-origin calls from browsers: `--cors-origin` / SESSIOND_CORS_ORIGINS, exact origins only. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "@sessiond/server";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { freshId } from "./support/ids.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/packed.ts";
import { runCli, startServerProcess } from "./support/process.ts";

const APP = "http://app.example:5173";
const OTHER = "http://evil.example";
const TOKEN = "cors-token-for-tests-0123456789";

const createBody = (id: string) => JSON.stringify({ json: { id } });
const corsHeaders = (response: Response) => [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));

function preflight(url: string, origin: string, headers = "content-type, authorization, x-request-id"): Promise<Response> {
  return fetch(`${url}/trpc/session.create`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
  });
}

function createFrom(url: string, origin: string, id: string, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/trpc/session.create`, {
    method: "POST",
    headers: { origin, "content-type": "application/json", ...extra },
    body: createBody(id),
  });
}

describe("CORS with --cors-origin and a token", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { corsOrigin: `${APP}, https://console.example`, token: TOKEN } });
  });
  afterAll(() => server?.close());

  it("answers a listed origin's preflight 204 with the methods and headers, without a token", async () => {
    const response = await preflight(server.url, APP);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    for (const header of ["authorization", "content-type", "x-request-id", "trpc-accept"]) {
      expect(response.headers.get("access-control-allow-headers")).toContain(header);
    }
    expect(response.headers.get("vary")).toBe("Origin");
  });

  it("echoes a listed origin on the call and exposes x-request-id and ETag", async () => {
    const id = freshId();
    const response = await createFrom(server.url, "https://console.example", id, { authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(response.headers.get("access-control-expose-headers")?.split(", ")).toEqual(expect.arrayContaining(["x-request-id", "etag"]));
    expect(response.headers.get("vary")?.split(", ")).toContain("Origin");
    expect((await server.client.session.get.query({ id })).id).toBe(id);
  });

  it("still needs the token on the call itself", async () => {
    const response = await createFrom(server.url, APP, freshId());
    expect(response.status).toBe(401);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP); // so the page can read the 401
  });

  it("gives another origin no CORS headers, refuses its preflight and its call, and changes nothing", async () => {
    const refused = await preflight(server.url, OTHER);
    expect(refused.status).toBe(403);
    expect(corsHeaders(refused)).toEqual([]);
    // Not even a prefix or a different port of a listed origin.
    for (const origin of ["http://app.example", "http://app.example:5174", `${APP}/`])
      expect((await preflight(server.url, origin)).status).toBe(403);

    const id = freshId();
    const call = await createFrom(server.url, OTHER, id, { authorization: `Bearer ${TOKEN}` });
    expect(call.status).toBe(403);
    expect(corsHeaders(call)).toEqual([]);
    await expect(server.client.session.get.query({ id })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });
});

describe("CORS off (the default)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it("refuses a preflight with 403 and no CORS headers, naming --cors-origin", async () => {
    const response = await preflight(server.url, APP);
    expect(response.status).toBe(403);
    expect(corsHeaders(response)).toEqual([]);
    expect(await response.json()).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("--cors-origin") });
  });

  it("serves a same-origin page (its Origin is the server's own) and callers that send no Origin", async () => {
    const id = freshId();
    const sameOrigin = await createFrom(server.url, server.url, id);
    expect(sameOrigin.status).toBe(200);
    expect(corsHeaders(sameOrigin)).toEqual([]);
    expect((await server.client.session.get.query({ id })).id).toBe(id);
  });
});

describe("the CORS setting", () => {
  it("works as the README's 'Use from a browser' command gives it", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const command = /## Use from a browser[\s\S]*?```sh\n(npx sessiond serve .+)\n```/.exec(readme)?.[1];
    expect(command).toBeDefined();
    const args = command!.split(/\s+/).slice(3); // after "npx sessiond serve"
    const origin = args[args.indexOf("--cors-origin") + 1]!;
    const running = await startServerProcess(["--db", ":memory:", ...args]);
    try {
      const response = await preflight(running.url, origin);
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    } finally {
      await running.stop();
    }
  });

  it("comes from SESSIOND_CORS_ORIGINS when the flag is absent, as a list", () => {
    expect(resolveConfig({}, { SESSIOND_CORS_ORIGINS: `${APP},https://b.example` }).corsOrigin).toEqual([APP, "https://b.example"]);
    expect(resolveConfig({}, {}).corsOrigin).toEqual([]);
  });

  it("refuses anything but exact origins, in one line with exit code 2", async () => {
    for (const value of ["app.example", "http://app.example/", "http://app.example/path", "*", "ftp://app.example"]) {
      const result = await runCli(["serve", "--port", "0", "--cors-origin", value]);
      expect(result.code, value).toBe(2);
      expect(result.stderr).toMatch(/^sessiond: invalid configuration: --cors-origin: .+ is not an origin .+\n$/);
    }
  });
});
