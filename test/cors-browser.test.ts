/**
 * A page on a listed --cors-origin uses every REST route and header through the browser's own
 * fetch, in headless Chromium: the preflights must allow each method and header, and the answers
 * must expose what the page reads (ETag, x-request-id). Behind a token, as a real deployment.
 */
import { startTestServer, type TestServer } from "@sessiond/testing";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserUnavailable, launchChromium, serveStatic, type StaticSite } from "./support/browser.ts";

const TOKEN = "cors-browser-token-0123456789";

/** Runs in the page: every REST route, as a script on the page's own origin would call them. */
const PAGE_SCRIPT = `
window.useEveryRoute = async (base, token) => {
  const auth = { authorization: "Bearer " + token };
  const json = { ...auth, "content-type": "application/json" };
  const steps = {};
  const call = async (name, path, init = {}) => {
    const response = await fetch(base + path, init);
    steps[name] = { status: response.status, etag: response.headers.get("etag"), requestId: response.headers.get("x-request-id") !== null };
    return response.status === 200 && init.method !== "HEAD" && !path.startsWith("/event") ? response.json() : undefined;
  };
  const parent = await call("create", "/session", { method: "POST", headers: { ...json, "idempotency-key": "page-key-1" }, body: JSON.stringify({ title: "from the page" }) });
  // The retry of a create whose answer was lost: the same key and body, the same session.
  const retried = await call("create again with the key", "/session", { method: "POST", headers: { ...json, "idempotency-key": "page-key-1" }, body: JSON.stringify({ title: "from the page" }) });
  steps["create again with the key"].same = retried.id === parent.id;
  const child = await call("create a child", "/session", { method: "POST", headers: json, body: JSON.stringify({ parentId: parent.id }) });
  await call("list", "/session?limit=5&roots=true", { headers: auth });
  await call("get", "/session/" + parent.id, { headers: auth });
  await call("head", "/session/" + parent.id, { method: "HEAD", headers: auth });
  await call("children", "/session/" + parent.id + "/children?limit=5", { headers: auth });
  await call("update if unchanged", "/session/" + parent.id, { method: "PATCH", headers: { ...json, "if-match": '"1"' }, body: JSON.stringify({ title: "renamed" }) });
  await call("update with a stale If-Match", "/session/" + parent.id, { method: "PATCH", headers: { ...json, "if-match": '"1"' }, body: JSON.stringify({ title: "again" }) });
  // Resuming the stream from the first event, with the token in the header (never in the URL).
  const controller = new AbortController();
  const stream = await fetch(base + "/event", { headers: { ...auth, "last-event-id": "0" }, signal: controller.signal });
  const reader = stream.body.getReader();
  let text = "";
  while (!text.includes("session.updated")) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  steps["event resume"] = { status: stream.status, frames: (text.match(/^id: /gm) ?? []).length };
  await call("delete", "/session/" + child.id, { method: "DELETE", headers: auth });
  return { steps, parent: parent.id };
};
`;

describe.skipIf(browserUnavailable())("a page on a listed origin, through the browser's own fetch", () => {
  let browser: Browser;
  let site: StaticSite;
  let server: TestServer;
  beforeAll(async () => {
    site = await serveStatic({
      "/": { type: "text/html", body: `<!doctype html><title>rest</title><script src="/page.js"></script>` },
      "/page.js": { type: "text/javascript", body: PAGE_SCRIPT },
    });
    server = await startTestServer({ settings: { corsOrigin: site.url, token: TOKEN } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await site?.close();
  });

  it("uses every REST route: POST with Idempotency-Key, GET, HEAD, children, PATCH with If-Match, GET /event with Last-Event-ID, DELETE", async () => {
    const page = await browser.newPage();
    const failures: string[] = [];
    // What the browser blocks, it says on the console (a 412 or the missing favicon is not that).
    page.on("console", (message) => /CORS|Access-Control|blocked/i.test(message.text()) && failures.push(message.text()));
    await page.goto(site.url);
    const result = (await page.evaluate(
      ([base, token]) => (globalThis as unknown as { useEveryRoute(b: string, t: string): Promise<unknown> }).useEveryRoute(base!, token!),
      [server.url, TOKEN],
    )) as { steps: Record<string, Record<string, unknown>>; parent: string };
    expect(result.steps).toEqual({
      create: { status: 200, etag: '"1"', requestId: true },
      "create again with the key": { status: 200, etag: '"1"', requestId: true, same: true },
      "create a child": { status: 200, etag: '"1"', requestId: true },
      list: { status: 200, etag: null, requestId: true },
      get: { status: 200, etag: '"1"', requestId: true },
      head: { status: 200, etag: '"1"', requestId: true },
      children: { status: 200, etag: null, requestId: true },
      "update if unchanged": { status: 200, etag: '"2"', requestId: true },
      "update with a stale If-Match": { status: 412, etag: null, requestId: true },
      "event resume": { status: 200, frames: 3 },
      delete: { status: 200, etag: null, requestId: true },
    });
    expect(failures).toEqual([]);
    expect((await server.client.session.get.query({ id: result.parent })).title).toBe("renamed");
  });
});
