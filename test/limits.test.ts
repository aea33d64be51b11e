/** Request limits: each configurable, each answered with the right code, nothing written. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient, isPayloadTooLarge } from "@sessiond/client";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { expectBadRequest } from "./support/expect.ts";
import { freshId } from "./support/ids.ts";
import { storedSessions } from "./support/targets.ts";

describe("default limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it("answers a body over 1 MiB with 413 PAYLOAD_TOO_LARGE, writing nothing", async () => {
    const before = await storedSessions(server);
    const body = JSON.stringify({ json: { title: "x", metadata: { blob: "y".repeat(1024 * 1024) } } });
    const response = await fetch(`${server.url}/trpc/session.create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(413);
    const error = (await response.json()) as { error: { json: { data: { code: string } } } };
    expect(error.error.json.data.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await storedSessions(server)).toEqual(before);
  });

  it("tells the typed client the payload is too large", async () => {
    const call = server.client.session.create.mutate({ metadata: { blob: "y".repeat(1024 * 1024) } });
    await expect(call).rejects.toSatisfy(isPayloadTooLarge);
  });

  it("refuses a batch of more than 100 calls with 400", async () => {
    const paths = Array(101).fill("session.list").join(",");
    const response = await fetch(`${server.url}/trpc/${paths}?batch=1`);
    expect(response.status).toBe(400);
  });

  it("lets the client split more than 100 concurrent calls into batches the server accepts", async () => {
    const results = await Promise.all(Array.from({ length: 250 }, () => server.client.session.create.mutate({})));
    expect(new Set(results.map((session) => session.id)).size).toBe(250);
  });
});

describe("configured limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      settings: {
        maxBodyBytes: 4096,
        maxBatchSize: 5,
        titleMaxLength: 10,
        metadataMaxBytes: 64,
        metadataMaxDepth: 2,
        pageSizeDefault: 3,
        pageSizeMax: 4,
      },
    });
  });
  afterAll(() => server?.close());

  it("applies the configured title, metadata and page limits", async () => {
    await expectBadRequest(server.client.session.create.mutate({ title: "eleven chars" }), "title");
    await expectBadRequest(server.client.session.create.mutate({ metadata: { blob: "z".repeat(64) } }), "metadata");
    await expectBadRequest(server.client.session.create.mutate({ metadata: { a: { b: {} } } }), "metadata");
    await expectBadRequest(server.client.session.list.query({ limit: 5 }), "limit");
    const messages = await expectBadRequest(server.client.session.create.mutate({ title: "x".repeat(11) }), "title");
    expect(messages.join(" ")).toContain("at most 10");

    const parent = await server.client.session.create.mutate({ title: "ten chars!", metadata: { a: { b: 1 } } });
    for (let i = 0; i < 5; i++) await server.client.session.create.mutate({ parentId: parent.id });
    expect((await server.client.session.list.query({ parentId: parent.id })).items).toHaveLength(3);
    expect((await server.client.session.list.query({ parentId: parent.id, limit: 4 })).items).toHaveLength(4);
  });

  it("applies the configured body and batch sizes", async () => {
    const body = JSON.stringify({ json: { id: freshId(), title: "x".repeat(5000) } });
    const big = await fetch(`${server.url}/trpc/session.create`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(big.status).toBe(413);
    expect((await fetch(`${server.url}/trpc/${Array(6).fill("health").join(",")}?batch=1`)).status).toBe(400);
    expect((await fetch(`${server.url}/trpc/${Array(5).fill("health").join(",")}?batch=1`)).status).toBe(200);
    // The test kit's client uses the server's batch size, so many calls still succeed.
    const client = createSessionClient({ url: server.url, maxItems: 5 });
    expect(await Promise.all(Array.from({ length: 12 }, () => client.health.query()))).toHaveLength(12);
  });
});
