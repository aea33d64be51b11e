/**
 * sessiond's HTTP surface mounted in a host's server at a base path: as a fetch handler in a Hono
 * app, and as a Node handler in a node:http server that hands everything else to the host.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createSessiondHandler, openSessiond, type Sessiond } from "@sessiond/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_PATH, startMounted, type MountedServer } from "./support/mounted.ts";
import { openSse } from "./support/sse.ts";

describe("mounted as a fetch handler at a base path", () => {
  let host: MountedServer;
  beforeAll(async () => {
    host = await startMounted();
  });
  afterAll(() => host?.close());

  it("serves the REST routes under the base path, with ETags, and names the base path in the OpenAPI document", async () => {
    const created = await fetch(`${host.url}/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "mounted" }),
    });
    expect(created.status).toBe(200);
    expect(created.headers.get("etag")).toBe('"1"');
    const { id } = (await created.json()) as { id: string };
    const read = await fetch(`${host.url}/session/${id}`);
    expect(((await read.json()) as { title: string }).title).toBe("mounted");
    const document = (await (await fetch(`${host.url}/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(document.servers.map((server) => server.url)).toEqual([BASE_PATH]);
    expect(await (await fetch(`${host.url}/doc`)).text()).toContain('href="openapi.json"');
  });

  it("answers HEAD as GET without a body, and an unknown path under the base in the REST error shape", async () => {
    const head = await fetch(`${host.url}/session`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("application/json");
    expect(await head.text()).toBe("");
    const missing = await fetch(`${host.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "NOT_FOUND", path: "/nope", requestId: missing.headers.get("x-request-id") });
  });

  it("streams GET /event through the host's fetch handling", async () => {
    const events = await openSse(`${host.url}/event`);
    expect(events.status).toBe(200);
    const session = await host.client.session.create.mutate({ title: "streamed" });
    const [first] = await events.waitFor(1);
    expect(JSON.parse(first!.data)).toMatchObject({ type: "session.created", properties: { info: { id: session.id } } });
    events.kill();
  });

  it("serves the console at the base path's / (its scripts and calls stay under the base) and redirects the bare base path there", async () => {
    const redirect = await fetch(host.url, { redirect: "manual" });
    expect([redirect.status, redirect.headers.get("location")]).toEqual([308, `${BASE_PATH}/`]);
    const page = await fetch(`${host.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="console.js"');
  });

  it("leaves the host's own routes alone", async () => {
    expect(await (await fetch(`${host.origin}/hello`)).text()).toBe("the host's own route");
  });
});

describe("mounted as a Node handler at a base path", () => {
  let dir: string;
  let sessiond: Sessiond;
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sessiond-node-mount-"));
    sessiond = await openSessiond({ db: join(dir, "sessions.db") }, { log: createLogger("silent") });
    const handler = createSessiondHandler(sessiond, { basePath: "/sessiond" });
    server = createServer((req, res) => handler.node(req, res, () => res.writeHead(418).end("the host's")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await sessiond?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves what is under the base path and hands everything else to next()", async () => {
    const health = await fetch(`${origin}/sessiond/healthz`);
    expect(((await health.json()) as { status: string }).status).toBe("ok");
    for (const path of ["/", "/session", "/sessiondx/session", "/trpc/health"]) {
      const other = await fetch(`${origin}${path}`);
      expect([path, other.status, await other.text()]).toEqual([path, 418, "the host's"]);
    }
  });
});
