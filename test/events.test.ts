/**
 * Live events on every engine: through the typed client (session.events) and through a raw SSE
 * reader (GET /event) — order, resume without a gap, filters, expiry, bounds, and the invariant
 * that replaying every event rebuilds exactly the stored sessions.
 */
import diagnostics from "node:diagnostics_channel";
import { connect, type Socket } from "node:net";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { isEventsExpired } from "@sessiond/client";
import type { Session } from "@sessiond/shared";
import { engineTargets, freshPostgresDatabase, postgresUrl, storedSessions } from "./support/targets.ts";
import { decodeFrames, openSse } from "./support/sse.ts";
import { subscribe } from "./support/subscribe.ts";

/** Replays every event from 0 and folds them into the sessions they describe. */
function rebuild(events: { type: string; info: { id: string } }[]): Map<string, unknown> {
  const sessions = new Map<string, unknown>();
  for (const { type, info } of events) {
    if (type === "session.deleted") sessions.delete(info.id);
    else sessions.set(info.id, info);
  }
  return sessions;
}

/** A stored session as GET /event writes it (dates as ISO strings). */
const asJson = (session: Session) => JSON.parse(JSON.stringify(session)) as unknown;

/** A session table row (either engine; PostgreSQL's BIGINTs come as strings) as GET /event writes it. */
function rowAsJson(row: Record<string, unknown>): unknown {
  const time = (value: unknown) => (value === null ? null : new Date(Number(value)).toISOString());
  return {
    id: row.id,
    owner: row.owner,
    title: row.title,
    parentId: row.parent_id,
    metadata: JSON.parse(String(row.metadata)),
    revision: Number(row.revision),
    createdAt: time(row.created_at),
    updatedAt: time(row.updated_at),
    archivedAt: time(row.archived_at),
  };
}

/** The last event ID, read straight from the database. */
async function lastEventId(server: TestServer): Promise<number> {
  const sql = "SELECT max(id) AS last FROM session_event";
  if (server.db.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: server.db });
    await client.connect();
    try {
      return Number((await client.query(sql)).rows[0].last);
    } finally {
      await client.end();
    }
  }
  const db = new DatabaseSync(server.db, { readOnly: true });
  try {
    return Number((db.prepare(sql).get() as { last: number }).last);
  } finally {
    db.close();
  }
}

describe.each(engineTargets)("live events [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await target.start();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("delivers every create, update and delete through the client, in order, deletes root first", async () => {
    const events = subscribe(server.client);
    await events.ready;
    try {
      const parent = await server.client.session.create.mutate({ title: "parent" });
      const child = await server.client.session.create.mutate({ parentId: parent.id, title: "child" });
      const updated = await server.client.session.update.mutate({ id: child.id, title: "renamed" });
      await server.client.session.delete.mutate({ id: parent.id });
      const got = await events.waitFor(5);
      expect(got.map(({ event }) => [event.type, event.properties.info.id])).toEqual([
        ["session.created", parent.id],
        ["session.created", child.id],
        ["session.updated", child.id],
        ["session.deleted", parent.id],
        ["session.deleted", child.id],
      ]);
      const ids = got.map(({ id }) => id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(5);
      expect(got[0]!.event.properties.info).toEqual(parent);
      expect(got[2]!.event.properties.info).toEqual(updated);
      // A delete carries the last state, revision included, with real Dates through the client.
      expect(got[4]!.event.properties.info).toEqual(updated);
      expect(got[4]!.event.properties.info.createdAt).toBeInstanceOf(Date);
    } finally {
      events.stop();
    }
  });

  it("serves GET /event in opencode's shape, and a rejected write emits nothing", async () => {
    const stream = await openSse(`${server.url}/event`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers["content-type"]).toMatch(/^text\/event-stream/);
      const session = await server.client.session.create.mutate({ title: "over REST", metadata: { k: [1, "two"] } });
      // Rejected: a duplicate, and a stale revision. Neither may leave an event behind.
      await expect(server.client.session.create.mutate({ id: session.id })).rejects.toThrow();
      await expect(server.client.session.update.mutate({ id: session.id, title: "x", expectedRevision: 9 })).rejects.toThrow();
      await server.client.session.update.mutate({ id: session.id, archived: true });
      const frames = await stream.waitFor(2);
      const [created, updated] = frames.map((frame) => JSON.parse(frame.data) as { type: string; properties: { info: unknown } });
      expect(created).toEqual({ type: "session.created", properties: { info: asJson(session) } });
      expect(updated!.type).toBe("session.updated");
      expect(Number(frames[1]!.id)).toBe(Number(frames[0]!.id) + 1);
      // Nothing else arrives.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stream.frames).toHaveLength(2);
    } finally {
      stream.kill();
    }
  });

  it("resumes exactly once after the connection is killed mid-stream (REST Last-Event-ID and client lastEventId)", async () => {
    const first = await openSse(`${server.url}/event`);
    const writes = (async () => {
      for (let i = 0; i < 40; i++) await server.client.session.create.mutate({ title: `burst ${i}` });
    })();
    await first.waitFor(10);
    first.kill();
    const seen = decodeFrames(first.frames);
    const lastSeen = seen.at(-1)!.id;
    await writes;
    const startId = seen[0]!.id - 1;
    const resumed = await openSse(`${server.url}/event`, { "last-event-id": String(lastSeen) });
    const rest = decodeFrames(await resumed.waitFor(40 - seen.length));
    resumed.kill();
    const all = [...seen, ...rest];
    expect(all.map(({ id }) => id)).toEqual(Array.from({ length: 40 }, (_, i) => startId + 1 + i));
    expect(all.map(({ info }) => info.title)).toEqual(Array.from({ length: 40 }, (_, i) => `burst ${i}`));

    // The client resumes the same way from an explicit lastEventId.
    const again = subscribe(server.client, { lastEventId: String(lastSeen) });
    const replayed = await again.waitFor(40 - seen.length);
    again.stop();
    expect(replayed.map(({ id }) => id)).toEqual(rest.map(({ id }) => id));
  });

  it("filters one session and its descendants, or roots only", async () => {
    const root = await server.client.session.create.mutate({ title: "tree root" });
    const child = await server.client.session.create.mutate({ parentId: root.id });
    const tree = subscribe(server.client, { sessionId: root.id });
    const roots = await openSse(`${server.url}/event?roots=true`);
    await tree.ready;
    try {
      const other = await server.client.session.create.mutate({ title: "elsewhere" });
      const grandchild = await server.client.session.create.mutate({ parentId: child.id });
      await server.client.session.create.mutate({ parentId: other.id });
      await server.client.session.update.mutate({ id: grandchild.id, title: "deep" });
      await server.client.session.delete.mutate({ id: root.id });
      const got = await tree.waitFor(5);
      expect(got.map(({ event }) => [event.type, event.properties.info.id])).toEqual([
        ["session.created", grandchild.id],
        ["session.updated", grandchild.id],
        ["session.deleted", root.id],
        ["session.deleted", child.id],
        ["session.deleted", grandchild.id],
      ]);
      const rootFrames = decodeFrames(await roots.waitFor(2));
      expect(rootFrames.map(({ type, info }) => [type, info.id])).toEqual([
        ["session.created", other.id],
        ["session.deleted", root.id],
      ]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(tree.received).toHaveLength(5);
      expect(roots.frames).toHaveLength(2);
    } finally {
      tree.stop();
      roots.kill();
    }
  });

  it("refuses bad input with 400 and a resume point from the future as expired", async () => {
    const bad = await openSse(`${server.url}/event?lastEventId=abc`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).fieldErrors.lastEventId).toBeDefined();
    const both = await openSse(`${server.url}/event?roots=true&sessionId=ses_0123456789abABCDEFGHIJKLMN`);
    expect(both.status).toBe(400);
    const future = await openSse(`${server.url}/event`, { "last-event-id": "999999999" });
    expect(future.status).toBe(410);
    const post = await fetch(`${server.url}/event`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("replaying every event from 0 rebuilds exactly the stored sessions after a concurrent workload", async () => {
    const ids: string[] = [];
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    const worker = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const roll = Math.random();
        try {
          if (roll < 0.5 || ids.length === 0) {
            const parentId = ids.length > 0 && Math.random() < 0.5 ? pick() : undefined;
            ids.push((await server.client.session.create.mutate({ parentId, title: `w${w}-${i}` })).id);
          } else if (roll < 0.8) {
            await server.client.session.update.mutate({ id: pick()!, title: `u${w}-${i}`, metadata: { w, i } });
          } else {
            await server.client.session.delete.mutate({ id: pick()! });
          }
        } catch {
          // A parent or target deleted meanwhile: NOT_FOUND, and no event — which is the point.
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    const lastId = await lastEventId(server);
    const replay = await openSse(`${server.url}/event`, { "last-event-id": "0" });
    const frames = await replay.waitForId(lastId);
    replay.kill();
    const events = decodeFrames(frames);
    // Strictly increasing, ending at the last; PostgreSQL may leave holes (an ID drawn by a write
    // that then failed), SQLite none.
    const eventIds = events.map(({ id }) => id);
    expect(eventIds.at(-1)).toBe(lastId);
    expect(eventIds.every((id, i) => i === 0 || id > eventIds[i - 1]!)).toBe(true);
    if (target.engine === "sqlite") expect(eventIds).toEqual(Array.from({ length: lastId }, (_, i) => i + 1));
    const rebuilt = rebuild(events);
    const stored = await storedSessions(server);
    expect(rebuilt.size).toBe(stored.length);
    for (const row of stored) expect(rebuilt.get(String(row.id))).toEqual(rowAsJson(row));
  });
});

describe.each(engineTargets)("live events, bounds [$name]", (target) => {
  const servers: TestServer[] = [];
  const start = async (settings: Record<string, number | string>) => {
    const db = target.engine === "postgres" ? await freshPostgresDatabase() : undefined;
    const server = await startTestServer({ db, settings });
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it("answers a resume point past the retention window with 410 (REST) and eventsExpired (client)", async () => {
    const server = await start({ eventRetentionMs: 1000 });
    await server.client.session.create.mutate({});
    // Pruning runs every retention/4; give it generous time on a loaded machine.
    const deadline = Date.now() + 20_000;
    let gone = await openSse(`${server.url}/event`, { "last-event-id": "0" });
    while (gone.status !== 410 && Date.now() < deadline) {
      gone.kill();
      await new Promise((resolve) => setTimeout(resolve, 200));
      gone = await openSse(`${server.url}/event`, { "last-event-id": "0" });
    }
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.body)).toMatchObject({
      code: "UNPROCESSABLE_CONTENT",
      httpStatus: 410,
      eventsExpired: { lastEventId: "0", prunedThrough: "1" },
    });
    const events = subscribe(server.client, { lastEventId: "0" });
    const expired = await events.waitFor(1).catch((error: unknown) => error);
    expect(expired).toMatchObject({ data: { code: "UNPROCESSABLE_CONTENT", eventsExpired: { lastEventId: "0" } } });
    expect(isEventsExpired(expired)).toBe(true);
    events.stop();
    // The last pruned point itself is still a valid resume point.
    const fine = await openSse(`${server.url}/event`, { "last-event-id": "1" });
    expect(fine.status).toBe(200);
    fine.kill();
  });

  it("refuses subscribers over the limit with 503 and takes them again once one leaves", async () => {
    const server = await start({ maxSubscribers: 2 });
    const a = await openSse(`${server.url}/event`);
    const b = subscribe(server.client);
    await b.ready;
    const over = await openSse(`${server.url}/event`);
    expect(over.status).toBe(503);
    // The client treats SERVICE_UNAVAILABLE as retryable: it reports it and keeps trying.
    const overClient = subscribe(server.client);
    const deadline = Date.now() + 20_000;
    while (overClient.connectionErrors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    overClient.stop();
    expect(overClient.connectionErrors[0]).toMatchObject({ data: { code: "SERVICE_UNAVAILABLE" } });
    // A subscriber leaving (its connection cut) frees its slot.
    a.kill();
    let again = await openSse(`${server.url}/event`);
    while (again.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await openSse(`${server.url}/event`);
    }
    expect(again.status).toBe(200);
    again.kill();
    b.stop();
  });

  it("needs the bearer token on both paths when the server has one", async () => {
    const token = "events-token-0123456789";
    const server = await start({ token });
    const refused = await openSse(`${server.url}/event`);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ code: "UNAUTHORIZED" });
    const allowed = await openSse(`${server.url}/event`, { authorization: `Bearer ${token}` });
    expect(allowed.status).toBe(200);
    allowed.kill();
    // The test kit's client sends the token through the eventsource package's fetch.
    const events = subscribe(server.client);
    await events.ready;
    const session = await server.client.session.create.mutate({});
    expect((await events.waitFor(1))[0]!.event.properties.info.id).toBe(session.id);
    events.stop();
  });

  it("sends heartbeats on an idle stream", async () => {
    const server = await start({ eventHeartbeatMs: 100 });
    const idle = await openSse(`${server.url}/event`);
    await new Promise((resolve) => setTimeout(resolve, 700));
    idle.kill();
    expect(idle.comments.filter((comment) => comment === "ping").length).toBeGreaterThanOrEqual(2);
  });

  it("keeps tRPC subscriptions alive at the same heartbeat setting", async () => {
    const server = await start({ eventHeartbeatMs: 100 });
    const path = `/trpc/session.events?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`;
    const idle = await openSse(`${server.url}${path}`);
    try {
      expect(idle.status).toBe(200);
      // tRPC tells its client when to give up on a silent stream: three heartbeats.
      const [connected] = await idle.waitFor(1);
      expect(connected).toMatchObject({ event: "connected" });
      expect(JSON.parse(connected!.data)).toEqual({ reconnectAfterInactivityMs: 300 });
      // Pings as `event: ping` frames; at the 15 s default, three would take 45 s.
      const deadline = Date.now() + 10_000;
      while (idle.frames.filter((frame) => frame.event === "ping").length < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(idle.frames.filter((frame) => frame.event === "ping").length).toBeGreaterThanOrEqual(3);
    } finally {
      idle.kill();
    }
  });
});

describe.each(engineTargets)("live events, a subscriber that stops reading [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    const db = target.engine === "postgres" ? await freshPostgresDatabase() : undefined;
    server = await startTestServer({ db, settings: { maxSubscribers: 1, slowSubscriberTimeoutMs: 500 } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const paths = {
    "GET /event": "/event",
    "session.events": `/trpc/session.events?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`,
  };
  it.each(Object.entries(paths))("is cut off rather than buffered (%s), freeing its slot", async (_, path) => {
    // A raw socket that sends the request and then never reads: its buffers fill up.
    const socket = connect({ host: "127.0.0.1", port: Number(new URL(server.url).port) });
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    // The stream's first bytes come once its subscriber slot is taken; then it stops reading.
    const started = new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n`);
    await started;
    socket.pause();
    let closed = false;
    socket.on("close", () => (closed = true));
    socket.on("error", () => undefined);
    try {
      // It holds the only slot.
      const deadline = Date.now() + 20_000;
      const probe = await openSse(`${server.url}/event`);
      expect(probe.status).toBe(503);
      // ~16 MB of events, far more than the socket buffers hold.
      const metadata = { blob: "x".repeat(15_000) };
      for (let round = 0; round < 20; round++) {
        await Promise.all(Array.from({ length: 50 }, () => server.client.session.create.mutate({ metadata })));
      }
      let freed = await openSse(`${server.url}/event`);
      while (freed.status !== 200 && Date.now() < deadline + 20_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        freed = await openSse(`${server.url}/event`);
      }
      expect(freed.status).toBe(200);
      freed.kill();
      // Reading again drains what the kernel held, then finds the stream closed by the server
      // (an SSE stream left alone never ends).
      socket.resume();
      const until = Date.now() + 20_000;
      while (!closed && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closed).toBe(true);
    } finally {
      socket.destroy();
    }
  });
});

describe("live events, a subscriber that stops reading while nothing happens", () => {
  it("is cut when a heartbeat is not taken within the slow-subscriber timeout, with no event waiting (GET /event)", async () => {
    // The write timeout is far away, so only the heartbeat rule can cut this stream in time.
    const server = await startTestServer({
      settings: { maxSubscribers: 1, slowSubscriberTimeoutMs: 500, eventHeartbeatMs: 100, writeTimeoutMs: 600_000 },
    });
    // The server runs in this process: its side of the connection, to see when the kernel stops taking bytes.
    const accepted: Socket[] = [];
    const onSocket = (message: unknown) => accepted.push((message as { socket: Socket }).socket);
    diagnostics.subscribe("net.server.socket", onSocket);
    const socket = connect({ host: "127.0.0.1", port: Number(new URL(server.url).port) });
    try {
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      const started = new Promise<void>((resolve) => socket.once("data", () => resolve()));
      socket.write("GET /event HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n");
      await started;
      socket.pause();
      socket.on("error", () => undefined);
      const served = accepted.find((candidate) => candidate.remotePort === socket.localPort);
      if (!served) throw new Error("the server's side of the stream was not seen");
      let closed = false;
      served.once("close", () => (closed = true));
      // Events of 4 KiB, one at a time, until the kernel takes no more: the last one then waits in
      // the stream's own buffer, far below its 16 KiB mark, so the event writer is not waiting and
      // no event is pending. Only heartbeats follow.
      const metadata = { blob: "x".repeat(4000) };
      for (let i = 0; i < 5000 && served.writableLength === 0 && !closed; i++) {
        const before = served.bytesWritten;
        await server.client.session.create.mutate({ metadata });
        const deadline = Date.now() + 10_000;
        while (served.bytesWritten === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(served.writableLength).toBeGreaterThan(0);
      expect(served.writableLength).toBeLessThan(16_384);
      const deadline = Date.now() + 20_000;
      while (!closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closed).toBe(true);
      // Its slot is free again.
      const again = await openSse(`${server.url}/event`);
      expect(again.status).toBe(200);
      again.kill();
    } finally {
      diagnostics.unsubscribe("net.server.socket", onSocket);
      socket.destroy();
      await server.close();
    }
  });
});

describe.skipIf(!postgresUrl)("live events on PostgreSQL: writers in flight", () => {
  const SLOW_ID = "ses_0123456789abSLOWWRITER0001";
  /** A connection that creates a session and draws its event ID, then holds its transaction open. */
  async function slowWriter(db: string): Promise<pg.Client> {
    const slow = new pg.Client({ connectionString: db });
    await slow.connect();
    await slow.query("BEGIN");
    await slow.query(
      `INSERT INTO session (owner, id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, create_key)
       VALUES ('default', '${SLOW_ID}', NULL, 'slow', '{}', 1, 1, 1, NULL, NULL)`,
    );
    await slow.query(
      `INSERT INTO session_event (id, type, at, session_id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner)
       SELECT next_event_id(), 'session.created', 1, id, parent_id, title, metadata, revision, created_at, updated_at, archived_at, owner
       FROM session WHERE id = '${SLOW_ID}'`,
    );
    return slow;
  }

  /** Where a new stream "from now" starts: the point after which every later commit is delivered. */
  async function startPoint(server: TestServer): Promise<number> {
    const probe = await openSse(`${server.url}/event`);
    try {
      const deadline = Date.now() + 20_000;
      while (!probe.comments.some((comment) => comment.startsWith("sessiond events after ")) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const line = probe.comments.find((comment) => comment.startsWith("sessiond events after "));
      if (!line) throw new Error("no start line");
      return Number(line.slice("sessiond events after ".length));
    } finally {
      probe.kill();
    }
  }

  it("holds back later events behind a writer still in flight, without making the other writers wait", async () => {
    const db = await freshPostgresDatabase();
    const server = await startTestServer({ db, settings: { eventPollMs: 50 } });
    const stream = await openSse(`${server.url}/event`);
    const slow = await slowWriter(db);
    try {
      // The other writers commit at once (no lock to queue on), with IDs after the open one's.
      const fast = await Promise.all(Array.from({ length: 3 }, (_, i) => server.client.session.create.mutate({ title: `fast ${i}` })));
      expect(fast).toHaveLength(3);
      // The instance has read past them (a new stream's start waits for a fresh read) and still
      // stands before the open writer's event: nothing after it may be delivered yet.
      expect(await startPoint(server)).toBe(0);
      expect(stream.frames).toHaveLength(0);
      await slow.query("COMMIT");
      const events = decodeFrames(await stream.waitFor(4));
      expect(events[0]!.info.title).toBe("slow");
      expect(
        events
          .slice(1)
          .map(({ info }) => info.title)
          .sort(),
      ).toEqual(["fast 0", "fast 1", "fast 2"]);
      expect(events.map(({ id }) => id)).toEqual([1, 2, 3, 4]);
    } finally {
      stream.kill();
      await slow.query("ROLLBACK").catch(() => undefined);
      await slow.end();
      await server.close();
    }
  });

  it("steps over the ID of a writer that rolled back, once no transaction that old still runs", async () => {
    const db = await freshPostgresDatabase();
    const server = await startTestServer({ db, settings: { eventPollMs: 50 } });
    const stream = await openSse(`${server.url}/event`);
    const slow = await slowWriter(db);
    // Any other transaction holding an xid while the hole waits holds it back too (the cost of
    // the fence, docs/scaling.md).
    const bystander = new pg.Client({ connectionString: db });
    await bystander.connect();
    try {
      await bystander.query("BEGIN");
      await bystander.query("SELECT pg_current_xact_id()");
      const fast = await Promise.all(Array.from({ length: 3 }, (_, i) => server.client.session.create.mutate({ title: `fast ${i}` })));
      await slow.query("ROLLBACK");
      // Polls every 50 ms come and go; the bystander still runs, so the hole at 1 stays unsettled.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await startPoint(server)).toBe(0);
      expect(stream.frames).toHaveLength(0);
      await bystander.query("COMMIT");
      const events = decodeFrames(await stream.waitFor(3));
      expect(events.map(({ id }) => id)).toEqual([2, 3, 4]);
      expect(events.map(({ info }) => info.id).sort()).toEqual(fast.map(({ id }) => id).sort());
      expect(events.some(({ info }) => info.id === SLOW_ID)).toBe(false);
      // A resume from before the hole gets the same events, and nothing for the rolled-back write.
      const resumed = await openSse(`${server.url}/event`, { "last-event-id": "0" });
      expect(decodeFrames(await resumed.waitFor(3)).map(({ id }) => id)).toEqual([2, 3, 4]);
      resumed.kill();
    } finally {
      stream.kill();
      await bystander.end();
      await slow.end();
      await server.close();
    }
  });

  it("an instance whose subscribers all left catches up without skipping a writer in flight", async () => {
    const db = await freshPostgresDatabase();
    const server = await startTestServer({ db, settings: { eventPollMs: 50 } });
    // A subscriber sees the first event, then leaves: the instance stops reading.
    const first = await openSse(`${server.url}/event`);
    const before = await server.client.session.create.mutate({ title: "before" });
    expect(decodeFrames(await first.waitFor(1))[0]!.info.id).toBe(before.id);
    first.kill();
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few polls with nobody subscribed
    const slow = await slowWriter(db);
    try {
      const after = await server.client.session.create.mutate({ title: "after" });
      // The table's last ID is 3 (after) with 2 (slow) in flight; a stream resumes after 1. The
      // instance catches up (polls every 50 ms) but must deliver nothing while 2 may still come.
      const stream = await openSse(`${server.url}/event`, { "last-event-id": "1" });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(stream.frames).toHaveLength(0);
      await slow.query("COMMIT");
      const events = decodeFrames(await stream.waitFor(2));
      stream.kill();
      expect(events.map(({ id, info }) => [id, info.id])).toEqual([
        [2, SLOW_ID],
        [3, after.id],
      ]);
    } finally {
      await slow.query("ROLLBACK").catch(() => undefined);
      await slow.end();
      await server.close();
    }
  });

  it("an instance that starts while a writer is in flight delivers that event to a stream resuming before it", async () => {
    const db = await freshPostgresDatabase();
    const first = await startTestServer({ db, settings: { eventPollMs: 50 } });
    const before = await first.client.session.create.mutate({ title: "before" });
    const slow = await slowWriter(db);
    let second: TestServer | undefined;
    try {
      const after = await first.client.session.create.mutate({ title: "after" });
      // The table's last ID is now 3 (after), with 2 (slow) still in flight.
      second = await startTestServer({ db, settings: { eventPollMs: 50 } });
      const stream = await openSse(`${second.url}/event`, { "last-event-id": "1" });
      await slow.query("COMMIT");
      const events = decodeFrames(await stream.waitFor(2));
      stream.kill();
      expect(events.map(({ id, info }) => [id, info.id])).toEqual([
        [2, SLOW_ID],
        [3, after.id],
      ]);
      expect(before.id).not.toBe(after.id);
    } finally {
      await slow.query("ROLLBACK").catch(() => undefined);
      await slow.end();
      await second?.close();
      await first.close();
    }
  });
});
