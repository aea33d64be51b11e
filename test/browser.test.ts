/** A page on another origin calls sessiond through the bundled client, in headless Chromium. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { browserUnavailable, bundleBrowserClient, launchChromium, serveStatic, type StaticSite } from "./support/browser.ts";

const unavailable = browserUnavailable();

/** What the page's script reports: the session it created, or the error it got. */
type Outcome = { created: string; conflict: boolean } | { error: string };

describe.skipIf(unavailable)("a page on another origin", () => {
  let browser: Browser;
  let site: StaticSite;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    const bundle = await bundleBrowserClient();
    site = await serveStatic({
      "/": { type: "text/html", body: `<!doctype html><title>app</title><script type="module" src="/app.js"></script>` },
      "/client.js": { type: "text/javascript", body: bundle },
      // Creates a session, then the same ID again, and reports what happened.
      "/app.js": {
        type: "text/javascript",
        body: `import { createSessionClient, isConflict, generateSessionId } from "/client.js";
window.createTwice = async (url) => {
  const client = createSessionClient({ url });
  try {
    const session = await client.session.create.mutate({ id: generateSessionId(), title: "from " + location.origin });
    const again = await client.session.create.mutate({ id: session.id }).catch((error) => error);
    return { created: session.id, conflict: isConflict(again) };
  } catch (error) {
    return { error: String(error) };
  }
};`,
      },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await Promise.all(servers.map((server) => server.close()));
  });

  async function openPage(): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => "createTwice" in globalThis);
    return page;
  }

  /** Runs the page's script against a sessiond URL (the tests' tsconfig has no DOM types). */
  function createTwice(page: Page, url: string): Promise<Outcome> {
    return page.evaluate((target) => (globalThis as unknown as { createTwice(url: string): Promise<Outcome> }).createTwice(target), url);
  }

  it("calls sessiond when sessiond lists its origin (--cors-origin)", async () => {
    const server = await startTestServer({ settings: { corsOrigin: site.url } });
    servers.push(server);
    const page = await openPage();
    const outcome = await createTwice(page, server.url);
    expect(outcome).toEqual({ created: expect.stringMatching(/^ses_/), conflict: true });
    const id = (outcome as { created: string }).created;
    expect(await server.client.session.get.query({ id })).toMatchObject({ title: `from ${site.url}` });
    await page.close();
  });

  it("is blocked by the browser without --cors-origin, and nothing is created", async () => {
    const server = await startTestServer();
    servers.push(server);
    const page = await openPage();
    const outcome = await createTwice(page, server.url);
    expect(outcome).toEqual({ error: expect.stringContaining("Failed to fetch") });
    expect((await server.client.session.list.query()).items).toEqual([]);
    await page.close();
  });
});
