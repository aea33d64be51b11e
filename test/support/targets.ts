/**
 * The servers the contract suite runs against. Every behaviour is written once and runs on each
 * target: a real server over real HTTP, reached through the typed client. On the "two owners"
 * targets the server verifies JWTs and the suite's client is one owner's, shadowed by a second
 * owner who makes the same IDs (support/owners.ts): the suite then also shows that neither sees,
 * changes or collides with the other's sessions.
 */
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import type { HttpHandler } from "@sessiond/server";
import type { Engine } from "@sessiond/shared";
import { startMounted } from "./mounted.ts";
import { ALICE, BOB, shadowedClient } from "./owners.ts";
import { createDatabase } from "./postgres.ts";

export interface Target {
  /** e.g. "sqlite, fast path" */
  name: string;
  engine: Engine;
  handler: HttpHandler;
  /** The suite acts as one of two owners, the other shadowing it. */
  owners?: boolean;
  start(): Promise<TestServer>;
}

/** A running target: its server, with the suite's client; on the owners' targets, the suite's owner. */
export type TargetServer = TestServer & { owner?: string };

/** The PostgreSQL cluster the global setup started, or null. */
export const postgresUrl = inject("postgresUrl");

/** A fresh database on the test cluster. */
export function freshPostgresDatabase(): Promise<string> {
  if (!postgresUrl) throw new Error("no PostgreSQL cluster in this run");
  return createDatabase(postgresUrl);
}

function target(engine: Engine, handler: HttpHandler, owners = false): Target {
  return {
    name: `${engine}, ${handler === "fast" ? "fast path" : "stock adapter"}${owners ? ", two owners" : ""}`,
    engine,
    handler,
    owners,
    start: async () =>
      startTestServer({
        db: engine === "postgres" ? await freshPostgresDatabase() : undefined,
        settings: { httpHandler: handler },
        owners,
      }),
  };
}

/**
 * Every engine behind every HTTP path, sessiond mounted in a host (a fetch handler at a base path),
 * and every engine with two owners: the contract suite runs on each. The PostgreSQL targets only
 * where the run has a cluster: the global setup says once, loudly, when it has none, and under CI
 * fails instead.
 */
export const targets: Target[] = [
  target("sqlite", "fast"),
  target("sqlite", "stock"),
  ...(postgresUrl ? [target("postgres", "fast"), target("postgres", "stock")] : []),
  { name: "sqlite, mounted fetch handler", engine: "sqlite", handler: "fast", start: () => startMounted() },
  target("sqlite", "fast", true),
  ...(postgresUrl ? [target("postgres", "fast", true)] : []),
];

/** Every engine behind the default (fast) path: for the race, fault and fuzz tests. */
export const engineTargets: Target[] = targets.filter(
  (candidate) => candidate.handler === "fast" && !candidate.owners && !candidate.name.includes("mounted"),
);

/**
 * A describe block per target; `server()` is that target's running server. On the owners' targets
 * its client is alice's, shadowed by bob, and a last test checks bob's sessions.
 */
export function describeContract(title: string, body: (server: () => TargetServer, target: Target) => void): void {
  describe.each(targets)(`${title} [$name]`, (target) => {
    let running: TargetServer | undefined;
    let verifyBob: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const server = await target.start();
      if (!target.owners) return void (running = server);
      const shadowed = shadowedClient(server.clientFor(ALICE), server.clientFor(BOB));
      verifyBob = shadowed.verifyBob;
      running = { ...server, client: shadowed.client, owner: ALICE };
    });
    afterAll(async () => {
      await running?.close();
    });
    body(() => {
      if (!running) throw new Error("the target server is not running");
      return running;
    }, target);
    if (target.owners) {
      it(`left ${BOB}'s sessions, made with the same IDs, exactly as he made them: neither owner saw or changed the other's`, async () => {
        await verifyBob!();
      });
    }
  });
}

/**
 * Every stored session row, read straight from the database: to show that a rejected call changed
 * nothing. On an owners' target, the rows of the suite's owner.
 */
export async function storedSessions(server: TargetServer): Promise<Record<string, unknown>[]> {
  const owned = server.owner !== undefined;
  const sql = `SELECT * FROM session ${owned ? "WHERE owner = $1" : ""} ORDER BY owner, id`;
  const values = owned ? [server.owner] : [];
  if (server.db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: server.db });
    await client.connect();
    try {
      return (await client.query(sql, values)).rows;
    } finally {
      await client.end();
    }
  }
  const db = new DatabaseSync(server.db, { readOnly: true });
  try {
    return db
      .prepare(sql.replace("$1", "?"))
      .all(...(values as string[]))
      .map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

/** Runs SQL on a server's database behind its back (a SQLite file or a PostgreSQL URL): to plant rows the API cannot make. */
export async function plantSql(db: string, sql: string): Promise<void> {
  if (db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  } else {
    const connection = new DatabaseSync(db, { timeout: 5000 });
    try {
      connection.exec(sql);
    } finally {
      connection.close();
    }
  }
}
