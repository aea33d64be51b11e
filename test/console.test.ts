/** The console page sessiond serves at `/`, driven in headless Chromium, and its switch. */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { listAll } from "./support/owners.ts";
import { browserUnavailable, launchChromium } from "./support/browser.ts";
import { freshId } from "./support/ids.ts";
import { ROOT } from "./support/packed.ts";
import { cleanEnv, startServerProcess } from "./support/process.ts";

const unavailable = browserUnavailable();
const SHOTS = join(ROOT, "test-results", "console");
const TOKEN = "console-token-for-tests-0123456789";

/** The console as the server ships it: built from its sources, once per file. */
let built = false;
function buildConsole(): void {
  if (built) return;
  execFileSync("npm", ["run", "build", "--silent", "-w", "console"], { cwd: ROOT, env: cleanEnv(), stdio: "pipe" });
  built = true;
}

const rowIds = (page: Page, table = "#sessions") =>
  page.locator(`${table} tr[data-id]`).evaluateAll((rows) => rows.map((row) => row.getAttribute("data-id")));

/** Each test has a server and a tab of its own, so it runs alone and in any order. */
describe.skipIf(unavailable)("the console page", () => {
  let browser: Browser;
  beforeAll(async () => {
    buildConsole();
    mkdirSync(SHOTS, { recursive: true });
    console.log(`console screenshots: ${SHOTS}`);
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  async function withConsole(test: (page: Page, server: TestServer) => Promise<void>): Promise<void> {
    const server = await startTestServer();
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    try {
      await test(page, server);
    } finally {
      await page.close();
      await server.close();
    }
  }

  /** The IDs of the server's sessions, newest first, as the console lists them. */
  const listedIds = async (server: TestServer) => (await listAll(server.client)).map((session) => session.id);

  /** Creates `count` sessions; then listedIds. */
  async function seed(server: TestServer, count: number): Promise<string[]> {
    for (let index = 0; index < count; index++) await server.client.session.create.mutate({ title: `seeded ${index}` });
    return listedIds(server);
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  it("lists sessions newest first, 20 to a page, with a next page", async () => {
    await withConsole(async (page, server) => {
      const newestFirst = await seed(server, 23);

      await page.goto(`${server.url}/`);
      await page.locator("#sessions tr").first().waitFor();
      expect(await rowIds(page)).toEqual(newestFirst.slice(0, 20));
      await shot(page, "1-list");

      await page.click("#next");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(20));
      expect(await page.locator("#next").isDisabled()).toBe(true);
      await page.click("#first");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(0, 20));
    });
  });

  it("creates a session with a chosen ID and shows it with its metadata; the same ID again is a CONFLICT", async () => {
    await withConsole(async (page, server) => {
      const existing = await server.client.session.create.mutate({ title: "already here" });
      await page.goto(`${server.url}/`);
      await expect.poll(() => rowIds(page)).toEqual([existing.id]);

      const id = freshId();
      await page.fill("#create-id", id);
      await page.fill("#create-title", "chosen in the console");
      await page.fill("#create-metadata", '{"team":"infra"}');
      await page.click("#create button[type=submit]");
      await expect.poll(() => page.textContent("#status")).toBe(`Created ${id}`);
      await expect.poll(() => page.textContent("#detail-id")).toBe(id);
      expect(JSON.parse((await page.textContent("#detail-metadata"))!)).toEqual({ team: "infra" });
      expect(await rowIds(page)).toEqual([id, existing.id]);
      expect(await server.client.session.get.query({ id })).toMatchObject({ title: "chosen in the console", metadata: { team: "infra" } });
      await shot(page, "2-created");

      // The same ID again: the server's CONFLICT, shown as one.
      await page.click("#create button[type=submit]");
      await expect.poll(() => page.getAttribute("#status", "class")).toBe("conflict");
      expect(await page.textContent("#status")).toBe(`CONFLICT: session ${id} already exists`);
      await shot(page, "3-conflict");
    });
  });

  it("creates a session without an ID (the server generates one) and opens a session's children", async () => {
    await withConsole(async (page, server) => {
      await page.goto(`${server.url}/`);
      await page.fill("#create-title", "generated");
      await page.click("#create button[type=submit]");
      await expect.poll(() => page.textContent("#status")).toMatch(/^Created ses_/);
      const parent = (await page.textContent("#status"))!.slice("Created ".length);
      expect((await server.client.session.get.query({ id: parent })).title).toBe("generated");

      const child = await server.client.session.create.mutate({ parentId: parent, title: "a child" });
      await page.click(`#sessions tr[data-id="${parent}"]`);
      await expect.poll(() => rowIds(page, "#children")).toEqual([child.id]);
      await shot(page, "4-children");
    });
  });

  it("asks for the token when the server needs one, and keeps it in the tab", async () => {
    const guarded = await startTestServer({ settings: { token: TOKEN } });
    const tab = await browser.newPage();
    try {
      const created = await guarded.client.session.create.mutate({ title: "behind a token" });
      await tab.goto(`${guarded.url}/`);
      await tab.locator("#token-form.asking").waitFor();
      expect(await tab.textContent("#status")).toContain("UNAUTHORIZED");
      await tab.fill("#token-input", TOKEN);
      await tab.click("#token button[type=submit]");
      await expect.poll(() => rowIds(tab)).toEqual([created.id]);
      await tab.reload();
      await expect.poll(() => rowIds(tab)).toEqual([created.id]);
      expect(await tab.evaluate(() => sessionStorage.getItem("sessiond-token"))).toBe(TOKEN);
      await shot(tab, "5-token");
    } finally {
      await tab.close();
      await guarded.close();
    }
  });

  it("pages back with Previous page, which is off on the first page", async () => {
    await withConsole(async (page, server) => {
      const newestFirst = await seed(server, 45);
      await page.goto(`${server.url}/`);
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(0, 20));
      expect(await page.locator("#previous").isDisabled()).toBe(true);

      await page.click("#next");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(20, 40));
      await page.click("#next");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(40));
      await page.click("#previous");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(20, 40));
      await page.click("#previous");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(0, 20));
      expect(await page.locator("#previous").isDisabled()).toBe(true);
    });
  });

  it("moves one page for a double click on Next page, and Previous page then goes back to the first", async () => {
    await withConsole(async (page, server) => {
      const newestFirst = await seed(server, 45);
      await page.goto(`${server.url}/`);
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(0, 20));
      await page.dblclick("#next");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(20, 40));
      await page.click("#previous");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(0, 20));
      expect(await page.locator("#previous").isDisabled()).toBe(true);
    });
  });

  it("shows that a session has more than 20 children, and pages through them", async () => {
    await withConsole(async (page, server) => {
      const parent = await server.client.session.create.mutate({ title: "a big family" });
      for (let index = 0; index < 45; index++) await server.client.session.create.mutate({ parentId: parent.id, title: `child ${index}` });
      const children = (await server.client.session.children.query({ id: parent.id, limit: 200 })).items.map((child) => child.id);

      // The parent is the oldest of 46 sessions: on the third page. Each page is waited for (a
      // second click while the first page loads would be one page short).
      const newestFirst = await listedIds(server);
      expect(newestFirst.at(-1)).toBe(parent.id);
      await page.goto(`${server.url}/`);
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(0, 20));
      await page.click("#next");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(20, 40));
      await page.click("#next");
      await expect.poll(() => rowIds(page)).toEqual(newestFirst.slice(40));
      await page.click(`#sessions tr[data-id="${parent.id}"]`);
      await expect.poll(() => rowIds(page, "#children")).toEqual(children.slice(0, 20));
      expect(await page.locator("#more-children").isVisible()).toBe(true);
      await page.screenshot({ path: join(SHOTS, "6-more-children.png"), fullPage: true });

      await page.click("#more-children");
      await expect.poll(() => rowIds(page, "#children")).toEqual(children.slice(0, 40));
      await page.click("#more-children");
      await expect.poll(() => rowIds(page, "#children")).toEqual(children);
      expect(await page.locator("#more-children").isVisible()).toBe(false);
    });
  });

  it("shows a CONFLICT unlike other errors, naming the ID, and opens the session that exists", async () => {
    await withConsole(async (page, server) => {
      const existing = await server.client.session.create.mutate({ title: "already here", metadata: { owner: "someone else" } });
      await page.goto(`${server.url}/`);
      await page.locator("#sessions tr").first().waitFor();
      const statusBackground = () =>
        page
          .locator("#status")
          // The page's window: the tests are type-checked without the DOM's types.
          .evaluate(
            (status) =>
              (globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }).getComputedStyle(status)
                .backgroundColor,
          );

      // Another error first: an invalid ID.
      await page.fill("#create-id", "ses_nope");
      await page.click("#create button[type=submit]");
      await expect.poll(() => page.getAttribute("#status", "class")).toBe("error");
      const errorBackground = await statusBackground();
      expect(await page.locator("#open-existing").isVisible()).toBe(false);

      await page.fill("#create-id", existing.id);
      await page.click("#create button[type=submit]");
      await expect.poll(() => page.getAttribute("#status", "class")).toBe("conflict");
      expect(await page.textContent("#status")).toBe(`CONFLICT: session ${existing.id} already exists`);
      expect(await statusBackground()).not.toBe(errorBackground);
      expect(await page.textContent("#open-existing")).toBe(`Open ${existing.id}`);
      await page.screenshot({ path: join(SHOTS, "7-conflict-open.png"), fullPage: true });

      await page.click("#open-existing");
      await expect.poll(() => page.textContent("#detail-id")).toBe(existing.id);
      expect(JSON.parse((await page.textContent("#detail-metadata"))!)).toEqual({ owner: "someone else" });
    });
  });
});

describe("the console switch", () => {
  beforeAll(() => buildConsole());

  it("serves the page and its script with a strict Content-Security-Policy", async () => {
    const server = await startTestServer();
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
      expect(await page.text()).toContain("sessiond console");
      expect((await fetch(`${server.url}/console.js`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("is off with --no-console or SESSIOND_CONSOLE=off", async () => {
    for (const [args, env] of [
      [["--no-console"], {}],
      [[], { SESSIOND_CONSOLE: "off" }],
    ] as const) {
      const running = await startServerProcess([...args, "--db", ":memory:"], env);
      try {
        expect((await fetch(`${running.url}/`)).status).toBe(404);
        expect((await fetch(`${running.url}/console.js`)).status).toBe(404);
        expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
      } finally {
        await running.stop();
      }
    }
  });
});
