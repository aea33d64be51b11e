/**
 * One ID, one session: when many callers create the same new ID at once, the database's primary
 * key picks exactly one winner and everyone else gets a clean CONFLICT, never another error.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient, isConflict, type SessionClient } from "@sessiond/client";
import { freshId } from "./support/ids.ts";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { engineTargets, freshPostgresDatabase } from "./support/targets.ts";
import type { TestServer } from "@sessiond/testing";

const CALLERS = 64;

interface Tally {
  success: number;
  conflict: number;
  other: string[];
}

/** 64 concurrent creates of one fresh ID, each its own HTTP request, spread over the clients. */
async function raceOnce(clients: SessionClient[]): Promise<Tally & { id: string }> {
  const id = freshId();
  const results = await Promise.allSettled(
    Array.from({ length: CALLERS }, (_, i) => clients[i % clients.length]!.session.create.mutate({ id, title: `caller ${i}` })),
  );
  const tally: Tally = { success: 0, conflict: 0, other: [] };
  for (const result of results) {
    if (result.status === "fulfilled") tally.success++;
    else if (isConflict(result.reason) && result.reason.data.conflict.id === id) tally.conflict++;
    else tally.other.push(String(result.reason));
  }
  return { id, ...tally };
}

/** Unbatched clients: every call is a separate HTTP request, so the calls really race. */
const unbatched = (url: string) => createSessionClient({ url, maxItems: 1 });

describe.each(engineTargets)("concurrent creates of one ID [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await target.start();
  });
  afterAll(() => server?.close());

  it(`gives exactly one of ${CALLERS} callers the session and the rest CONFLICT, round after round`, async () => {
    const client = unbatched(server.url);
    for (let round = 0; round < 20; round++) {
      const tally = await raceOnce([client]);
      expect(tally, `round ${round}`).toMatchObject({ success: 1, conflict: CALLERS - 1, other: [] });
      expect((await client.session.get.query({ id: tally.id })).id).toBe(tally.id);
    }
  });
});

describe("concurrent creates of one ID across two processes sharing one SQLite file", () => {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-race-"));
  let servers: ServerProcess[] = [];
  beforeAll(async () => {
    const db = join(dir, "shared.db");
    servers = await Promise.all([startServerProcess(["--db", db]), startServerProcess(["--db", db])]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it(`gives exactly one of ${CALLERS} callers the session and the rest CONFLICT`, async () => {
    const clients = servers.map((server) => unbatched(server.url));
    for (let round = 0; round < 20; round++) {
      const tally = await raceOnce(clients);
      expect(tally, `round ${round}`).toMatchObject({ success: 1, conflict: CALLERS - 1, other: [] });
      // Both processes see the one session.
      for (const client of clients) expect((await client.session.get.query({ id: tally.id })).id).toBe(tally.id);
    }
  });
});

describe.each(engineTargets)("concurrent creates of one ID through one server with --workers 2 [$name]", (target) => {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-race-workers-"));
  let server: ServerProcess;
  beforeAll(async () => {
    const db = target.engine === "postgres" ? await freshPostgresDatabase() : join(dir, "workers.db");
    server = await startServerProcess(["--db", db, "--workers", "2", "--access-log-sample", "0"]);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`gives exactly one of ${CALLERS} callers the session and the rest CONFLICT`, async () => {
    // Several unbatched clients, so the calls arrive on many connections, spread over both workers.
    const clients = Array.from({ length: 4 }, () => unbatched(server.url));
    for (let round = 0; round < 20; round++) {
      const tally = await raceOnce(clients);
      expect(tally, `round ${round}`).toMatchObject({ success: 1, conflict: CALLERS - 1, other: [] });
      for (const client of clients) expect((await client.session.get.query({ id: tally.id })).id).toBe(tally.id);
    }
  });
});
