/**
 * Durability settings: `--sqlite-sync full|normal` reaches SQLite's connection. The pragma is per
 * connection, so no second connection can see it; the server reads it back on its own connection
 * and names what it runs with in its "listening" line and in /metrics.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
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

  it("copies the WAL into the database file off the event loop, and counts it in /metrics", async () => {
    const db = join(scratch, `${freshId()}.db`);
    const server = await startServerProcess(["--db", db]);
    try {
      const client = createSessionClient({ url: server.url });
      const fileBefore = statSync(db).size;
      expect(await metricsText(server)).toContain("sessiond_sqlite_background_checkpoints_total 0");
      // About 1,200 WAL pages (a group commit writes about one a create): past the 1,000 after
      // which the store asks its thread for a checkpoint, short of the 4,000 after which the
      // connection would checkpoint inside a commit itself.
      let created: { id: string }[] = [];
      for (let round = 0; round < 6; round++) {
        created = await Promise.all(Array.from({ length: 200 }, (_, i) => client.session.create.mutate({ title: `s${round}-${i}` })));
      }
      let text = "";
      await expect
        .poll(async () => (text = await metricsText(server)), { timeout: 10_000 })
        .toMatch(/^sessiond_sqlite_background_checkpoints_total [1-9]/m);
      expect(Number(/^sessiond_sqlite_wal_pages (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
      // The sessions' pages are in the database file itself now, not only in the WAL.
      expect(statSync(db).size).toBeGreaterThan(fileBefore + 200 * 1024);
      const last = created.at(-1)!;
      expect(await client.session.get.query({ id: last.id })).toEqual(last);
    } finally {
      expect(await server.stop()).toBe(0);
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
      const text = await metricsText(server);
      expect(text).not.toContain("sessiond_sqlite_synchronous");
      expect(text).not.toContain("sessiond_sqlite_background_checkpoints_total");
    } finally {
      await server.stop();
    }
  });
});
