/**
 * examples/react as a frontend team has it: a Vite + React app on tRPC's TanStack Query
 * integration, installed outside this repository with only what a browser app needs from
 * sessiond's packed tarballs (the client and the contract), type-checked, built, and run in
 * headless Chromium against a real sessiond on another origin.
 */
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { deriveSessionId } from "@sessiond/shared";
import { startTestServer, type TestServer } from "@sessiond/testing";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserUnavailable, launchChromium, serveStatic, type StaticSite } from "./support/browser.ts";
import { installExample, type ExampleInstall } from "./support/packed.ts";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css" };

describe.skipIf(browserUnavailable())("the React example (examples/react)", () => {
  let example: ExampleInstall;
  let site: StaticSite | undefined;
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    example = await installExample("react", ["shared", "client"]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await site?.close();
    example?.remove();
  });

  /** The app built with Vite, once: the build test checks the build, the Chromium test serves it. */
  let built = false;
  function buildApp(): string {
    if (!built) example.bin("vite", ["build", "--logLevel", "error"]);
    built = true;
    return join(example.dir, "dist");
  }

  it("installs only what a browser app needs: one @trpc/client and one @trpc/server, no sessiond server, no node package", () => {
    const versions = example.versions(["@trpc/client", "@trpc/server", "@sessiond/server", "@sessiond/console", "node", "pg", "pino"]);
    expect(versions).toEqual({
      "@trpc/client": ["11.22.1"],
      "@trpc/server": ["11.22.1"],
      "@sessiond/server": [],
      "@sessiond/console": [],
      node: [],
      pg: [],
      pino: [],
    });
  });

  it("type-checks with the app's own TypeScript and builds with Vite", () => {
    example.bin("tsc", ["--noEmit"]);
    const assets = join(buildApp(), "assets");
    const scripts = readdirSync(assets).filter((file) => file.endsWith(".js"));
    const gzip = scripts.reduce((sum, file) => sum + gzipSync(readFileSync(join(assets, file)), { level: 9 }).length, 0);
    console.log(`React example bundle (React, TanStack Query, tRPC, sessiond's client): ${(gzip / 1024).toFixed(1)} kB gzip`);
    expect(scripts.length).toBeGreaterThan(0);
  });

  it("in Chromium: signs in with a JWT, pages its owner's infinite list, creates with a chosen ID, shows the duplicate as CONFLICT, receives a live event", async () => {
    const files: StaticSite["files"] = {};
    const dist = buildApp();
    for (const file of readdirSync(dist, { recursive: true, encoding: "utf8" })) {
      if (!TYPES[extname(file)]) continue;
      files[`/${file}`] = { type: TYPES[extname(file)]!, body: readFileSync(join(dist, file), "utf8") };
    }
    files["/"] = files["/index.html"]!;
    site = await serveStatic(files);
    server = await startTestServer({ owners: true, settings: { corsOrigin: site.url } });
    const [alice, bob] = [server.clientFor("alice"), server.clientFor("bob")];
    for (let i = 0; i < 12; i++) await alice.session.create.mutate({ title: `listed ${i}` });
    // Someone else's sessions, newer than alice's: the page must not show them.
    for (let i = 0; i < 3; i++) await bob.session.create.mutate({ title: `bob's ${i}` });

    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${site.url}/?server=${encodeURIComponent(server.url)}`);
    // The page's login stand-in: a token for alice, as her login would hand it over.
    await page.getByLabel("token").fill(server.tokenFor("alice"));
    await page.getByRole("button", { name: "Sign in" }).click();

    // The infinite list: 5 a page, three pages for 12 sessions.
    await page.locator("#sessions li").nth(4).waitFor();
    expect(await page.locator("#pages").textContent()).toBe("1 pages");
    await page.getByRole("button", { name: "More" }).click();
    await page.locator("#sessions li").nth(9).waitFor();
    await page.getByRole("button", { name: "More" }).click();
    await page.locator("#sessions li").nth(11).waitFor();
    expect(await page.locator("#pages").textContent()).toBe("3 pages");
    expect(await page.locator("#sessions li").count()).toBe(12);
    expect(await page.locator("#sessions li", { hasText: "bob's" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "More" }).isDisabled()).toBe(true);

    // Create with a chosen ID; its event arrives over the subscription (the eventsource package's
    // EventSource, which sends the token). Bob holds the same ID: it is alice's to create too.
    const id = deriveSessionId(`react-example-${server.url}`);
    await bob.session.create.mutate({ id, title: "bob's own" });
    await page.getByLabel("id").fill(id);
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("status").getByText(`created ${id}`).waitFor();
    await page.locator("#events li", { hasText: `session.created ${id}` }).waitFor();

    // The same ID again: a CONFLICT, recognised by the client's helper in the page.
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("status").getByText(`CONFLICT: ${id} already exists`).waitFor();
    expect(await alice.session.get.query({ id })).toMatchObject({ title: "From React", owner: "alice" });
    expect((await bob.session.get.query({ id })).title).toBe("bob's own");
    // One created event for the ID: alice's; bob's create of it (after the page subscribed) is not hers.
    expect(await page.locator("#events li", { hasText: `session.created ${id}` }).count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
