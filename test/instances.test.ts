/**
 * Several stateless sessiond processes on one PostgreSQL: the core guarantee holds across them,
 * and any instance serves what another wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createSessionClient, isConflict, type SessionClient } from "@sessiond/client";
import { expectNotFound } from "./support/expect.ts";
import { freshId } from "./support/ids.ts";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { freshPostgresDatabase, postgresUrl } from "./support/targets.ts";

describe.skipIf(!postgresUrl)("three instances on one PostgreSQL", () => {
  let servers: ServerProcess[] = [];
  let clients: SessionClient[] = [];
  beforeAll(async () => {
    const db = await freshPostgresDatabase();
    // Started together on an empty database: the migrations must apply exactly once.
    servers = await Promise.all([0, 1, 2].map(() => startServerProcess(["--db", db, "--pg-pool-size", "8"])));
    clients = servers.map((server) => createSessionClient({ url: server.url, maxItems: 1 }));
  });
  afterAll(async () => {
    expect(await Promise.all(servers.map((server) => server.stop()))).toEqual([0, 0, 0]);
  });

  it("gives exactly one success per round of 16 concurrent creates of one ID, 200 rounds", async () => {
    const failures: string[] = [];
    for (let round = 0; round < 200; round++) {
      const id = freshId();
      const results = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) => clients[i % 3]!.session.create.mutate({ id, title: `round ${round} caller ${i}` })),
      );
      const successes = results.filter((result) => result.status === "fulfilled").length;
      const conflicts = results.filter(
        (result) => result.status === "rejected" && isConflict(result.reason) && result.reason.data.conflict.id === id,
      ).length;
      if (successes !== 1 || conflicts !== 15) {
        const others = results.flatMap((result) =>
          result.status === "rejected" && !isConflict(result.reason) ? [String(result.reason)] : [],
        );
        failures.push(`round ${round}: ${successes} successes, ${conflicts} conflicts, others: ${others.join("; ")}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("reads, lists, updates and deletes through one instance what another created", async () => {
    const [a, b, c] = clients as [SessionClient, SessionClient, SessionClient];
    const parent = await a.session.create.mutate({ title: "made on A" });
    const child = await a.session.create.mutate({ parentId: parent.id });

    expect(await b.session.get.query({ id: parent.id })).toEqual(parent);
    expect((await c.session.list.query({ parentId: parent.id })).items).toEqual([child]);
    expect((await b.session.children.query({ id: parent.id })).items).toEqual([child]);

    const updated = await b.session.update.mutate({ id: parent.id, title: "renamed on B", expectedRevision: 1 });
    expect(await c.session.get.query({ id: parent.id })).toEqual(updated);
    await expect(a.session.update.mutate({ id: parent.id, title: "stale on A", expectedRevision: 1 })).rejects.toMatchObject({
      data: { code: "PRECONDITION_FAILED" },
    });

    expect((await c.session.delete.mutate({ id: parent.id })).deleted).toEqual([parent.id, child.id]);
    await expectNotFound(a.session.get.query({ id: child.id }), child.id);
    await expectNotFound(b.session.get.query({ id: parent.id }), parent.id);
  });
});

describe.skipIf(!postgresUrl)("PostgreSQL connections", () => {
  it("keeps its pooled connections through CONFLICTs instead of reconnecting for each", async () => {
    const db = await freshPostgresDatabase();
    const server = await startServerProcess(["--db", db, "--pg-pool-size", "4"]);
    const stats = new pg.Client({ connectionString: db });
    await stats.connect();
    const sessionsOpened = async () =>
      Number((await stats.query("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")).rows[0].sessions);
    try {
      const client = createSessionClient({ url: server.url, maxItems: 1 });
      const id = freshId();
      await client.session.create.mutate({ id });
      const before = await sessionsOpened();
      const results = await Promise.allSettled(Array.from({ length: 200 }, () => client.session.create.mutate({ id })));
      expect(results.every((result) => result.status === "rejected" && isConflict(result.reason))).toBe(true);
      // At most the pool's 4 connections may have been (re)opened, not one per CONFLICT.
      expect((await sessionsOpened()) - before).toBeLessThanOrEqual(4);
    } finally {
      await stats.end();
      await server.stop();
    }
  });
});
