/**
 * Durability settings: `--sqlite-sync full|normal` reaches SQLite's connection. The pragma is per
 * connection, so no second connection can see it; the server reads it back on its own connection
 * and names what it runs with in its "listening" line and in /metrics.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSessionClient } from "@sessiond/client";
import { freshId } from "./support/ids.ts";
import { runCli, startServerProcess, type ServerProcess } from "./support/process.ts";
import { freshPostgresDatabase, postgresUrl } from "./support/targets.ts";

const scratch = mkdtempSync(join(tmpdir(), "sessiond-durability-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function listeningLine(server: ServerProcess): Record<string, unknown> {
  const line = server.logs.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.msg === "listening");
  return line ?? expect.fail("no listening line");
}

async function metricsText(server: ServerProcess): Promise<string> {
  return (await fetch(`${server.url}/metrics`)).text();
}

describe("--sqlite-sync", () => {
  it.each([
    { mode: "full", args: ["--sqlite-sync", "full"], env: {} },
    { mode: "normal", args: ["--sqlite-sync", "normal"], env: {} },
    { mode: "normal", args: [], env: { SESSIOND_SQLITE_SYNC: "normal" } },
    { mode: "full", args: ["--sqlite-sync", "full"], env: { SESSIOND_SQLITE_SYNC: "normal" } },
  ])("runs SQLite with synchronous = $mode (args $args, env $env), and says so", async ({ mode, args, env }) => {
    const db = join(scratch, `${freshId()}.db`);
    const server = await startServerProcess(["--db", db, ...args], env);
    try {
      expect(listeningLine(server)).toMatchObject({ engine: "sqlite", sqliteSync: mode });
      const text = await metricsText(server);
      expect(text).toContain(`sessiond_sqlite_synchronous{mode="${mode}"} 1`);
      expect(text.match(/^sessiond_sqlite_synchronous\{/gm)).toHaveLength(1);
      // And the store works with it.
      const client = createSessionClient({ url: server.url });
      const session = await client.session.create.mutate({ title: mode });
      expect(await client.session.get.query({ id: session.id })).toEqual(session);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("defaults to full", async () => {
    const server = await startServerProcess(["--db", join(scratch, `${freshId()}.db`)]);
    try {
      expect(listeningLine(server)).toMatchObject({ sqliteSync: "full" });
      expect(await metricsText(server)).toContain('sessiond_sqlite_synchronous{mode="full"} 1');
    } finally {
      await server.stop();
    }
  });

  it("refuses another value (off as a flag, extra in the environment) with one line and exit code 2", async () => {
    const db = join(scratch, `${freshId()}.db`);
    const flag = await runCli(["serve", "--port", "0", "--db", db, "--sqlite-sync", "off"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^sessiond: invalid configuration: --sqlite-sync: .*"full".*"normal"/);
    const env = await runCli(["serve", "--port", "0", "--db", db], { SESSIOND_SQLITE_SYNC: "extra" });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^sessiond: invalid configuration: SESSIOND_SQLITE_SYNC: /);
  });

  it.skipIf(!postgresUrl)("does not apply to PostgreSQL, and the server does not claim it", async () => {
    const server = await startServerProcess(["--db", await freshPostgresDatabase(), "--sqlite-sync", "full"]);
    try {
      expect(listeningLine(server)).toMatchObject({ engine: "postgres" });
      expect(listeningLine(server)).not.toHaveProperty("sqliteSync");
      expect(await metricsText(server)).not.toContain("sessiond_sqlite_synchronous");
    } finally {
      await server.stop();
    }
  });
});
