/** A page on another origin calls sessiond through the bundled client, in headless Chromium. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { browserUnavailable, bundleBrowserClient, launchChromium, serveStatic, type StaticSite } from "./support/browser.ts";
import { ROOT } from "./support/packed.ts";

/** The README's browser example ("Use from a browser"), run as the page's module unchanged. */
const readmeExample = /## Use from a browser[\s\S]*?```js\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, "README.md"), "utf8"))?.[1];
// The page maps the example's package imports to the bundle, as a bundler would resolve them.
const IMPORT_MAP = JSON.stringify({ imports: { "@sessiond/client": "/client.js", "@sessiond/shared/id": "/client.js" } });

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
      "/readme": {
        type: "text/html",
        body: `<!doctype html><title>readme</title><script type="importmap">${IMPORT_MAP}</script><script type="module" src="/readme.js"></script>`,
      },
      // Watches live events with a token, through the given EventSource (the package's, or the browser's own).
      "/watch.js": {
        type: "text/javascript",
        body: `import { createSessionClient, EventSource as FetchEventSource } from "/client.js";
window.watchOnce = (url, token, useNative) =>
  new Promise((resolve) => {
    const client = createSessionClient({ url, token, EventSource: useNative ? globalThis.EventSource : FetchEventSource });
    const subscription = client.session.events.subscribe({}, {
      onStarted: () => void client.session.create.mutate({ title: "watched from " + location.origin }),
      onData: ({ data }) => {
        subscription.unsubscribe();
        resolve({ title: data.properties.info.title });
      },
      onError: (error) => {
        subscription.unsubscribe();
        resolve({ error: String(error) });
      },
      onConnectionStateChange: (state) => {
        if (!state.error) return;
        subscription.unsubscribe();
        resolve({ error: String(state.error.message) });
      },
    });
  });`,
      },
      "/watch": { type: "text/html", body: `<!doctype html><title>watch</title><script type="module" src="/watch.js"></script>` },
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

  it("runs the README's browser example with --cors-origin", async () => {
    expect(readmeExample).toBeDefined();
    const server = await startTestServer({ settings: { corsOrigin: site.url } });
    servers.push(server);
    site.files["/readme.js"] = { type: "text/javascript", body: readmeExample!.replaceAll("http://127.0.0.1:3000", server.url) };
    const page = await browser.newPage();
    const logged = new Promise<string>((resolve) => page.on("console", (message) => message.type() === "log" && resolve(message.text())));
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${site.url}/readme`);
    const message = await logged;
    const [session] = (await server.client.session.list.query()).items;
    expect(message).toBe(`${session?.id} already exists`);
    expect(session?.title).toBe("from the browser");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("watches live events behind a token with the eventsource package (the browser's own EventSource cannot send it)", async () => {
    const token = "browser-events-token-0123456789";
    const server = await startTestServer({ settings: { corsOrigin: site.url, token } });
    servers.push(server);
    const open = await startTestServer({ settings: { corsOrigin: site.url } });
    servers.push(open);
    const page = await browser.newPage();
    await page.goto(`${site.url}/watch`);
    await page.waitForFunction(() => "watchOnce" in globalThis);
    const watch = (url: string, secret: string | undefined, useNative: boolean) =>
      page.evaluate(
        ([target, key, native]) =>
          (globalThis as unknown as { watchOnce(url: string, token?: string, native?: boolean): Promise<unknown> }).watchOnce(
            target,
            key,
            native,
          ),
        [url, secret, useNative] as const,
      );
    const watched = { title: `watched from ${site.url}` };
    expect(await watch(server.url, token, false)).toEqual(watched);
    // The browser's own EventSource works where no token is needed, and fails where one is: it
    // cannot send the Authorization header (and the token never goes into a URL, where logs keep it).
    expect(await watch(open.url, undefined, true)).toEqual(watched);
    expect(await watch(server.url, token, true)).toEqual({ error: expect.any(String) });
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
