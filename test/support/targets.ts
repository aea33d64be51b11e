/**
 * The servers the contract suite runs against. Every behaviour is written once and runs on each
 * target: a real server over real HTTP, reached through the typed client.
 */
import { afterAll, beforeAll, describe, inject } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import type { HttpHandler } from "@sessiond/server";
import type { Engine } from "@sessiond/shared";
import { startMounted } from "./mounted.ts";
import { createDatabase } from "./postgres.ts";

export interface Target {
  /** e.g. "sqlite, fast path" */
  name: string;
  engine: Engine;
  handler: HttpHandler;
  start(): Promise<TestServer>;
}

/** The PostgreSQL cluster the global setup started, or null. */
export const postgresUrl = inject("postgresUrl");

/** A fresh database on the test cluster. */
export function freshPostgresDatabase(): Promise<string> {
  if (!postgresUrl) throw new Error("no PostgreSQL cluster in this run");
  return createDatabase(postgresUrl);
}

function target(engine: Engine, handler: HttpHandler): Target {
  return {
    name: `${engine}, ${handler === "fast" ? "fast path" : "stock adapter"}`,
    engine,
    handler,
    start: async () =>
      startTestServer({
        db: engine === "postgres" ? await freshPostgresDatabase() : undefined,
        settings: { httpHandler: handler },
      }),
  };
}

/**
 * Every engine behind every HTTP path, and sessiond mounted in a host (a fetch handler at a base
 * path): the contract suite runs on each. The PostgreSQL targets only where the run has a cluster:
 * the global setup says once, loudly, when it has none, and under CI fails instead.
 */
export const targets: Target[] = [
  target("sqlite", "fast"),
  target("sqlite", "stock"),
  ...(postgresUrl ? [target("postgres", "fast"), target("postgres", "stock")] : []),
  { name: "sqlite, mounted fetch handler", engine: "sqlite", handler: "fast", start: () => startMounted() },
];

/** Every engine behind the default (fast) path: for the race, fault and fuzz tests. */
export const engineTargets: Target[] = targets.filter((candidate) => candidate.handler === "fast" && !candidate.name.includes("mounted"));

/** A describe block per target; `server()` is that target's running server. */
export function describeContract(title: string, body: (server: () => TestServer, target: Target) => void): void {
  describe.each(targets)(`${title} [$name]`, (target) => {
    let running: TestServer | undefined;
    beforeAll(async () => {
      running = await target.start();
    });
    afterAll(async () => {
      await running?.close();
    });
    body(() => {
      if (!running) throw new Error("the target server is not running");
      return running;
    }, target);
  });
}

/** Every stored session row, read straight from the database: to show that a rejected call changed nothing. */
export async function storedSessions(server: TestServer): Promise<Record<string, unknown>[]> {
  const sql = "SELECT * FROM session ORDER BY id";
  if (server.db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: server.db });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  }
  const db = new DatabaseSync(server.db, { readOnly: true });
  try {
    return db
      .prepare(sql)
      .all()
      .map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}
