/**
 * Live events across processes: two `sessiond serve` processes on one SQLite file, three on one
 * PostgreSQL. Every subscriber on every instance receives every event, whichever instance made
 * the change, in the same order; a subscriber whose instance is killed (-9) resumes on another
 * without a gap or a repeat.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSessionClient, type SessionClient } from "@sessiond/client";
import { EventSource } from "eventsource";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { decodeFrames, openSse, type SseConnection } from "./support/sse.ts";
import { freshPostgresDatabase, postgresUrl } from "./support/targets.ts";

interface Setup {
  name: string;
  instances: number;
  db(): Promise<{ db: string; cleanup(): void }>;
}

const setups: Setup[] = [
  {
    name: "two processes on one SQLite file",
    instances: 2,
    db: async () => {
      const dir = mkdtempSync(join(tmpdir(), "sessiond-events-"));
      return { db: join(dir, "shared.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  // Only where the run has a PostgreSQL cluster (the global setup says so when it has none).
  ...(postgresUrl
    ? [
        {
          name: "three instances on one PostgreSQL",
          instances: 3,
          db: async () => ({ db: await freshPostgresDatabase(), cleanup: () => undefined }),
        },
      ]
    : []),
];

describe.each(setups)("live events, $name", (setup) => {
  let servers: ServerProcess[] = [];
  let clients: SessionClient[] = [];
  let cleanup: () => void = () => {};
  // Instances of its own for each test: one of them kills an instance.
  beforeEach(async () => {
    const { db, cleanup: remove } = await setup.db();
    cleanup = remove;
    // One first, so the migrations are in place before the others (SQLite migrates under a lock too).
    servers = [await startServerProcess(["--db", db, "--event-poll-ms", "50"])];
    for (let i = 1; i < setup.instances; i++) servers.push(await startServerProcess(["--db", db, "--event-poll-ms", "50"]));
    clients = servers.map((server) => createSessionClient({ url: server.url, EventSource }));
  });
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.stop("SIGKILL")));
    cleanup();
  });

  it("delivers every event to every subscriber on every instance, in one order", async () => {
    const raw: SseConnection[] = await Promise.all(servers.map((server) => openSse(`${server.url}/event`)));
    const typed = clients.map((client) => {
      const ids: number[] = [];
      // From event 0 of this test's fresh database, not "from now": whenever it connects, it misses
      // nothing (events written before it connected are replayed, the rest arrive live).
      const subscription = client.session.events.subscribe({ lastEventId: "0" }, { onData: ({ id }) => ids.push(Number(id)) });
      return { ids, stop: () => subscription.unsubscribe() };
    });
    try {
      const writes = 60;
      await Promise.all(
        Array.from({ length: writes }, async (_, i) => {
          const session = await clients[i % clients.length]!.session.create.mutate({ title: `w${i}` });
          await clients[(i + 1) % clients.length]!.session.update.mutate({ id: session.id, title: `w${i} updated` });
        }),
      );
      const sequences = await Promise.all(raw.map(async (stream) => decodeFrames(await stream.waitFor(writes * 2))));
      const first = sequences[0]!;
      const ids = first.map(({ id }) => id);
      expect(ids).toEqual(Array.from({ length: writes * 2 }, (_, i) => ids[0]! + i));
      for (const sequence of sequences) expect(sequence).toEqual(first);
      // Each session's update comes after its creation.
      const seen = new Set<string>();
      for (const { type, info } of first) {
        if (type === "session.created") seen.add(info.id);
        else expect(seen.has(info.id)).toBe(true);
      }
      const deadline = Date.now() + 20_000;
      while (typed.some(({ ids: got }) => got.length < writes * 2) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      for (const { ids: got } of typed) expect(got).toEqual(ids);
    } finally {
      for (const stream of raw) stream.kill();
      for (const subscription of typed) subscription.stop();
    }
  });

  it("resumes on another instance exactly once after the serving instance is killed -9 mid-stream", async () => {
    const victim = servers.at(-1)!;
    const survivor = servers[0]!;
    const writer = clients[0]!;
    const stream = await openSse(`${victim.url}/event`);
    const total = 80;
    const writes = (async () => {
      for (let i = 0; i < total; i++) await writer.session.create.mutate({ title: `k${i}` });
    })();
    await stream.waitFor(15);
    victim.child.kill("SIGKILL");
    await stream.ended;
    const seen = decodeFrames(stream.frames);
    await writes;
    const resumed = await openSse(`${survivor.url}/event`, { "last-event-id": String(seen.at(-1)!.id) });
    const rest = decodeFrames(await resumed.waitFor(total - seen.length));
    await new Promise((resolve) => setTimeout(resolve, 300));
    resumed.kill();
    const all = [...seen, ...decodeFrames(resumed.frames)];
    expect(all.map(({ info }) => info.title)).toEqual(Array.from({ length: total }, (_, i) => `k${i}`));
    expect(all.map(({ id }) => id)).toEqual(Array.from({ length: total }, (_, i) => all[0]!.id + i));
    expect(rest.length).toBe(total - seen.length);
  });
});

describe("live events and shutdown", () => {
  it("ends open event streams on SIGTERM, so the server exits 0 at once instead of waiting out the shutdown timeout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sessiond-events-stop-"));
    const server = await startServerProcess(["--db", join(dir, "s.db"), "--shutdown-timeout-ms", "60000"]);
    try {
      const stream = await openSse(`${server.url}/event`);
      expect(stream.status).toBe(200);
      const started = Date.now();
      const code = await server.stop("SIGTERM");
      await stream.ended;
      expect(code).toBe(0);
      // Well under the 60 s shutdown timeout: the stream did not hold the shutdown.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await server.stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
