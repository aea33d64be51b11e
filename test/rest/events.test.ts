/**
 * GET /event as the OpenAPI document describes it: the parameters it names (typed from the
 * generated test/rest/openapi.ts) are the ones the server takes, each frame's data matches the
 * document's SessionEvent, and every error status the server answers with is listed, with a body
 * that matches its schema (support/rest.ts checks them).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import type { operations } from "./openapi.ts";
import { expectDocumented, openApiDocument } from "../support/rest.ts";
import { openSse } from "../support/sse.ts";

type EventQuery = NonNullable<operations["session.events"]["parameters"]["query"]>;
type EventHeaders = NonNullable<operations["session.events"]["parameters"]["header"]>;

/** A GET /event URL from the document's own query parameter names. */
function eventUrl(server: TestServer, query: EventQuery = {}): string {
  const params = new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]));
  return `${server.url}/event${params.size > 0 ? `?${params}` : ""}`;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validateEvent = ajv.compile({ $ref: "#/components/schemas/SessionEvent", components: openApiDocument.components });

describe("GET /event, as the OpenAPI document says", () => {
  const servers: TestServer[] = [];
  const start = async (settings: Record<string, number | string> = {}) => {
    const server = await startTestServer({ settings });
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it("is in the document: an event stream with Last-Event-ID, filters and its errors", () => {
    const operation = (openApiDocument.paths["/event"] as Record<string, Record<string, unknown>>).get!;
    const responses = operation.responses as Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
    expect(Object.keys(responses["200"]!.content!)).toEqual(["text/event-stream"]);
    expect(Object.keys(responses).sort()).toEqual(["200", "400", "401", "403", "405", "410", "500", "503"]);
    expect(Object.keys(responses["503"]!.headers!)).toEqual(["Retry-After"]);
    const parameters = (operation.parameters as { name: string; in: string }[]).map(({ name, in: where }) => `${where} ${name}`);
    expect(parameters.sort()).toEqual(["header Last-Event-ID", "query lastEventId", "query roots", "query sessionId"]);
  });

  it("sends frames whose data is the document's SessionEvent, and resumes after Last-Event-ID", async () => {
    const server = await start();
    const parent = await server.client.session.create.mutate({ title: "parent" });
    await server.client.session.create.mutate({ parentId: parent.id, title: "child" });
    const headers: EventHeaders = { "Last-Event-ID": "0" };
    const all = await openSse(eventUrl(server), headers);
    const frames = await all.waitFor(2);
    all.kill();
    expect(all.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    for (const frame of frames) {
      const data = JSON.parse(frame.data) as unknown;
      expect(validateEvent(data), ajv.errorsText(validateEvent.errors)).toBe(true);
    }
    expect(frames.map((frame) => frame.id)).toEqual(["1", "2"]);
    // The query's filter and start point, by the document's names.
    const roots = await openSse(eventUrl(server, { lastEventId: "0", roots: true }));
    const [root] = await roots.waitFor(1);
    roots.kill();
    expect(JSON.parse(root!.data)).toMatchObject({ type: "session.created", properties: { info: { id: parent.id } } });
    const resumed = await openSse(eventUrl(server, { sessionId: parent.id }), { "Last-Event-ID": "1" });
    const [child] = await resumed.waitFor(1);
    resumed.kill();
    expect(child!.id).toBe("2");
  });

  it("answers 400, 410, 405 and 503 (with Retry-After) as documented", async () => {
    const server = await start({ maxSubscribers: 1 });
    const bad = await fetch(eventUrl(server, { sessionId: "not-an-id" }));
    expect(bad.status).toBe(400);
    await expectDocumented("/event", "get", bad);
    const future = await fetch(eventUrl(server), { headers: { "Last-Event-ID": "999999" } });
    expect(future.status).toBe(410);
    await expectDocumented("/event", "get", future);
    expect(await future.json()).toMatchObject({ code: "UNPROCESSABLE_CONTENT", eventsExpired: { lastEventId: "999999" } });
    const post = await fetch(eventUrl(server), { method: "POST" });
    expect(post.status).toBe(405);
    await expectDocumented("/event", "get", post);
    const first = await openSse(eventUrl(server));
    try {
      const full = await fetch(eventUrl(server));
      expect(full.status).toBe(503);
      expect(full.headers.get("retry-after")).toBe("1");
      await expectDocumented("/event", "get", full);
    } finally {
      first.kill();
    }
  });

  it("answers 401 as documented when the server has a token", async () => {
    const server = await start({ token: "events-doc-token-0123456789" });
    const refused = await fetch(eventUrl(server));
    expect(refused.status).toBe(401);
    await expectDocumented("/event", "get", refused);
  });
});
