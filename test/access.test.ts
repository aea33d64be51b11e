/** The bearer token, and what error bodies reveal. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient, isUnauthorized } from "@sessiond/client";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { freshId } from "./support/ids.ts";
import { runCli, startServerProcess } from "./support/process.ts";

const TOKEN = "s3cret-token-for-tests-0123456789";

describe("with --token", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { token: TOKEN } });
  });
  afterAll(() => server?.close());

  it("serves a client that sends the token", async () => {
    const created = await server.client.session.create.mutate({});
    expect(await server.client.session.get.query({ id: created.id })).toEqual(created);
  });

  it.each([
    ["no token", undefined],
    ["a wrong token", "s3cret-token-for-tests-0123456780"],
    ["a prefix of the token", TOKEN.slice(0, 20)],
    ["an empty token", ""],
  ])("answers a client with %s UNAUTHORIZED (401), changing nothing", async (_, token) => {
    const client = createSessionClient({
      url: server.url,
      token: token || undefined,
      headers: token === "" ? { authorization: "Bearer " } : {},
    });
    const id = freshId();
    const error = await client.session.create.mutate({ id }).catch((caught: unknown) => caught);
    expect(isUnauthorized(error)).toBe(true);
    expect((error as { data: { httpStatus: number } }).data.httpStatus).toBe(401);
    await expect(server.client.session.get.query({ id })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });

  it("refuses other authorization schemes", async () => {
    const response = await fetch(`${server.url}/trpc/health`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(response.status).toBe(401);
  });

  it("keeps /healthz open", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("lets the CLI pass the token by flag or environment", async () => {
    const byFlag = await runCli(["--url", server.url, "--token", TOKEN, "create"]);
    expect(byFlag.code).toBe(0);
    const byEnv = await runCli(["--url", server.url, "list", "--limit", "1"], { SESSIOND_TOKEN: TOKEN });
    expect(byEnv.code).toBe(0);
    const without = await runCli(["--url", server.url, "list"]);
    expect(without).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sessiond: unauthorized: .+\n$/) });
  });
});

describe("listening address", () => {
  it("refuses a non-loopback address without a token, in one line", async () => {
    const result = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^sessiond: refusing to listen on 0\.0\.0\.0 without a token.*\n$/);
  });

  it("refuses a token shorter than 16 characters", async () => {
    const result = await runCli(["serve", "--port", "0", "--token", "short"]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/^sessiond: invalid configuration: --token: .+\n$/) });
  });
});

describe("internal errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-internal-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reveal no SQL, paths or stack in the body; the log has them under the request ID", async () => {
    const db = join(dir, "broken.db");
    const server = await startServerProcess(["--db", db]);
    try {
      // Break the store behind the server's back: its statements now fail inside SQLite.
      const sabotage = new DatabaseSync(db);
      sabotage.exec("ALTER TABLE session RENAME TO session_gone");
      sabotage.close();

      const response = await fetch(
        `${server.url}/trpc/session.get?input=${encodeURIComponent(JSON.stringify({ json: { id: freshId() } }))}`,
        {
          headers: { "x-request-id": "req-internal-1" },
        },
      );
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text).error.json.message).toBe("Internal server error");
      expect(text).not.toMatch(/SQLITE|no such table|session_gone|SELECT|\/tmp\/|\.ts|node:|stack/i);

      // The log line may reach us after the answer: wait for it.
      const loggedLine = () =>
        server.logs.map((line) => JSON.parse(line)).find((entry) => entry.requestId === "req-internal-1" && entry.msg === "internal error");
      await expect.poll(loggedLine).toBeDefined();
      const logged = loggedLine();
      expect(JSON.stringify(logged)).toMatch(/no such table: session/);
      // The process stays up.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
