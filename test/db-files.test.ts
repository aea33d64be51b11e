/**
 * SQLite's files taken away from under a running server (an operator's mistake): the server keeps
 * writing to the files it opened, so every write acknowledged after that would be gone at the next
 * start. It must notice, refuse writes with 503, fail /healthz and say so once, and keep what it
 * acknowledged before when only the -wal went.
 */
import { copyFileSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSessionClient, isUnavailable } from "@sessiond/client";
import type { Session } from "@sessiond/shared";
import { freshId } from "./support/ids.ts";
import { startServerProcess, type ServerProcess } from "./support/process.ts";

const scratch = mkdtempSync(join(tmpdir(), "sessiond-db-files-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const REFUSED = /^Session store unavailable: the database file was deleted or replaced$/;

function errorLines(server: ServerProcess): Record<string, unknown>[] {
  return server.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.level === 50);
}

async function createSome(server: ServerProcess, count: number): Promise<Session[]> {
  const client = createSessionClient({ url: server.url });
  return Promise.all(Array.from({ length: count }, (_, index) => client.session.create.mutate({ id: freshId(), title: `kept ${index}` })));
}

/** A create, an update and a delete through tRPC, and a create through REST: each refused with 503, saying why. */
async function expectWritesRefused(server: ServerProcess, existing: Session): Promise<void> {
  const client = createSessionClient({ url: server.url, maxItems: 1 });
  for (const write of [
    () => client.session.create.mutate({ id: freshId() }),
    () => client.session.update.mutate({ id: existing.id, title: "changed" }),
    () => client.session.delete.mutate({ id: existing.id }),
  ]) {
    const error = await write().then(
      () => expect.fail("a write was acknowledged"),
      (caught: unknown) => caught,
    );
    expect(isUnavailable(error), String(error)).toBe(true);
    expect((error as { data: { httpStatus: number } }).data.httpStatus).toBe(503);
    expect((error as Error).message).toMatch(REFUSED);
  }
  const rest = await fetch(`${server.url}/session`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(rest.status).toBe(503);
  expect(((await rest.json()) as { message: string }).message).toMatch(REFUSED);
}

describe("SQLite files taken away from under a running server", () => {
  it.each([
    {
      how: "deleted (the database, -wal and -shm)",
      takeAway(db: string) {
        for (const file of [db, `${db}-wal`, `${db}-shm`]) rmSync(file);
      },
    },
    {
      how: "replaced by a copy renamed over it",
      takeAway(db: string) {
        copyFileSync(db, `${db}.copy`);
        renameSync(`${db}.copy`, db);
      },
    },
  ])("refuses writes with 503 once the files are $how, fails /healthz and says so once", async ({ takeAway }) => {
    const db = join(scratch, `${freshId()}.db`);
    const server = await startServerProcess(["--db", db]);
    try {
      const [existing] = await createSome(server, 1);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

      takeAway(db);
      await expectWritesRefused(server, existing!);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      // Still refused later: it does not come back by itself.
      await expectWritesRefused(server, existing!);
      expect(server.child.exitCode).toBeNull();

      await expect.poll(() => errorLines(server).length).toBe(1);
      expect(errorLines(server)[0]).toMatchObject({
        file: "database",
        msg: "the database file was deleted or replaced while the server ran: writes are refused (503) until it restarts",
      });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("notices a deleted -wal by itself, refuses writes, and keeps every create acknowledged before through kill -9", async () => {
    const db = join(scratch, `${freshId()}.db`);
    const server = await startServerProcess(["--db", db]);
    let acknowledged: Session[];
    try {
      acknowledged = await createSome(server, 50);
      rmSync(`${db}-wal`);
      // No request in between: the server's own check notices, and saves the WAL into the database file.
      await expect
        .poll(() => errorLines(server), { timeout: 5000 })
        .toEqual([expect.objectContaining({ file: "wal", change: "deleted", walSaved: true })]);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      await expectWritesRefused(server, acknowledged[0]!);
    } finally {
      expect(await server.stop("SIGKILL")).toBeNull();
    }

    const restarted = await startServerProcess(["--db", db]);
    try {
      const client = createSessionClient({ url: restarted.url });
      const found = await Promise.all(acknowledged.map((session) => client.session.get.query({ id: session.id }).catch(() => null)));
      expect(found).toEqual(acknowledged);
      expect((await fetch(`${restarted.url}/healthz`)).status).toBe(200);
      expect((await client.session.create.mutate({ title: "after the restart" })).revision).toBe(1);
    } finally {
      await restarted.stop();
    }
  });
});
