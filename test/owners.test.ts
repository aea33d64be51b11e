/**
 * Owners through every door (issue 19): a server that verifies JWTs (the test kit signs them), on
 * both engines. Another owner's session answers exactly as a missing one, whatever the call; two
 * owners may hold the same ID and the same idempotency key; events carry only the caller's
 * sessions; the operator sees every owner, or acts for one; a caller cannot borrow another's owner.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient, isForbidden, isSessionClientError, type SessionClient } from "@sessiond/client";
import { createSessionProcedures, openSessiond, sessiondErrorFormatter } from "@sessiond/server";
import { deriveSessionId, type Session, type SessionEvent } from "@sessiond/shared";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { EventSource } from "eventsource";
import { freshId } from "./support/ids.ts";
import { listAll } from "./support/owners.ts";
import { runCli } from "./support/process.ts";
import { decodeFrames, openSse } from "./support/sse.ts";
import { engineTargets, freshPostgresDatabase, plantSql, storedSessions } from "./support/targets.ts";

async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return expect.fail("the call succeeded, but it should have been refused");
}

/** What a caller learns from a refused call, with the ID it named written as <id>, and without the request ID. */
function refusalOf(error: unknown, id: string): unknown {
  if (!isSessionClientError(error)) return expect.fail(`not a client error: ${String(error)}`);
  const { requestId: _, ...data } = error.data as unknown as Record<string, unknown>;
  return JSON.parse(JSON.stringify({ message: error.message, data }).replaceAll(id, "<id>"));
}

/** A REST answer the same way: status, and the body without its request ID, with the ID named written as <id>. */
async function restRefusal(response: Response, id: string): Promise<unknown> {
  const { requestId: _, ...body } = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body: JSON.parse(JSON.stringify(body).replaceAll(id, "<id>")) };
}

/** Collects a client's live events until told to stop. */
function collect(client: SessionClient, input: { lastEventId?: string; sessionId?: string } = {}) {
  const events: { id: string; data: SessionEvent }[] = [];
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const subscription = client.session.events.subscribe(input, {
    onStarted: () => started(),
    onData: (event) => void events.push(event),
  });
  return {
    events,
    ready,
    async waitFor(count: number): Promise<void> {
      const deadline = Date.now() + 20_000;
      while (events.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events.length, "events received").toBeGreaterThanOrEqual(count);
    },
    stop: () => subscription.unsubscribe(),
  };
}

describe.each(engineTargets)("owners [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ db: target.engine === "postgres" ? await freshPostgresDatabase() : undefined, owners: true });
  });
  afterAll(() => server?.close());
  /** Two fresh owners for one test. */
  const pair = () => {
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    return { alice, bob, asAlice: server.clientFor(alice), asBob: server.clientFor(bob) };
  };

  it("answers another owner's session exactly as a missing one, through every procedure, and changes nothing", async () => {
    const { alice, asAlice, asBob } = pair();
    const hers = await asAlice.session.create.mutate({ title: "hers", metadata: { secret: "s3" } });
    const child = await asAlice.session.create.mutate({ parentId: hers.id, title: "her child" });
    const before = await storedSessions({ ...server, owner: alice });
    const missing = freshId();
    const calls: [string, (id: string) => Promise<unknown>][] = [
      ["get", (id) => asBob.session.get.query({ id })],
      ["children", (id) => asBob.session.children.query({ id })],
      ["update", (id) => asBob.session.update.mutate({ id, title: "taken" })],
      ["update at revision 1", (id) => asBob.session.update.mutate({ id, title: "taken", expectedRevision: 1 })],
      ["update at revision 2", (id) => asBob.session.update.mutate({ id, archived: true, expectedRevision: 2 })],
      ["delete", (id) => asBob.session.delete.mutate({ id })],
      ["delete at revision 1", (id) => asBob.session.delete.mutate({ id, expectedRevision: 1 })],
      ["create under it", (id) => asBob.session.create.mutate({ parentId: id })],
    ];
    for (const [name, call] of calls) {
      const theirs = refusalOf(await rejection(() => call(hers.id)), hers.id);
      expect(theirs, name).toEqual(refusalOf(await rejection(() => call(missing)), missing));
      expect(theirs, name).toMatchObject({ data: { code: "NOT_FOUND", httpStatus: 404 } });
    }
    // Listing her session's children: the empty page of a session that does not exist.
    expect(await asBob.session.list.query({ parentId: hers.id })).toEqual(await asBob.session.list.query({ parentId: missing }));
    expect(await listAll(asBob)).toEqual([]);
    // Her sessions are as they were, and her calls see them.
    expect(await storedSessions({ ...server, owner: alice })).toEqual(before);
    expect(await asAlice.session.get.query({ id: hers.id })).toEqual(hers);
    expect((await asAlice.session.children.query({ id: hers.id })).items).toEqual([child]);
  });

  it("answers another owner's session exactly as a missing one over REST, If-Match or not", async () => {
    const { asAlice, bob } = pair();
    const hers = await asAlice.session.create.mutate({ title: "hers" });
    const headers = { authorization: `Bearer ${server.tokenFor(bob)}`, "content-type": "application/json" };
    const missing = freshId();
    const requests: [string, (id: string) => Promise<Response>][] = [
      ["GET", (id) => fetch(`${server.url}/session/${id}`, { headers })],
      ["GET children", (id) => fetch(`${server.url}/session/${id}/children`, { headers })],
      ["PATCH", (id) => fetch(`${server.url}/session/${id}`, { method: "PATCH", headers, body: '{"title":"taken"}' })],
      [
        "PATCH If-Match",
        (id) =>
          fetch(`${server.url}/session/${id}`, { method: "PATCH", headers: { ...headers, "if-match": '"1"' }, body: '{"title":"x"}' }),
      ],
      ["DELETE", (id) => fetch(`${server.url}/session/${id}`, { method: "DELETE", headers })],
      ["DELETE If-Match *", (id) => fetch(`${server.url}/session/${id}`, { method: "DELETE", headers: { ...headers, "if-match": "*" } })],
      ["POST under it", (id) => fetch(`${server.url}/session`, { method: "POST", headers, body: JSON.stringify({ parentId: id }) })],
    ];
    for (const [name, request] of requests) {
      const theirs = await restRefusal(await request(hers.id), hers.id);
      expect(theirs, name).toEqual(await restRefusal(await request(missing), missing));
      expect(theirs, name).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    }
    expect(await asAlice.session.get.query({ id: hers.id })).toEqual(hers);
  });

  it("lets two owners create the same chosen and derived IDs and use the same idempotency key, each a session of its own", async () => {
    const { alice, bob, asAlice, asBob } = pair();
    const chosen = freshId();
    const derived = deriveSessionId(`job-${randomUUID()}`);
    for (const id of [chosen, derived]) {
      const a = await asAlice.session.create.mutate({ id, title: "alice's" });
      const b = await asBob.session.create.mutate({ id, title: "bob's" });
      expect([a.owner, b.owner]).toEqual([alice, bob]);
      expect((await asAlice.session.get.query({ id })).title).toBe("alice's");
      expect((await asBob.session.get.query({ id })).title).toBe("bob's");
      // A duplicate is still CONFLICT within one owner.
      const conflict = refusalOf(await rejection(() => asBob.session.create.mutate({ id })), id);
      expect(conflict).toMatchObject({ data: { code: "CONFLICT", conflict: { id: "<id>" } }, message: "Session <id> already exists" });
    }
    const key = `job-${randomUUID()}`;
    const a = await asAlice.session.create.mutate({ title: "keyed", idempotencyKey: key });
    const b = await asBob.session.create.mutate({ title: "keyed", idempotencyKey: key });
    expect(a.id).not.toBe(b.id);
    expect(await asAlice.session.create.mutate({ title: "keyed", idempotencyKey: key })).toEqual(a);
    expect(await asBob.session.create.mutate({ title: "keyed", idempotencyKey: key })).toEqual(b);
    // Bob reusing his key with other input is refused, and is his own business: alice's retry is unaffected.
    expect(refusalOf(await rejection(() => asBob.session.create.mutate({ title: "other", idempotencyKey: key })), key)).toMatchObject({
      data: { code: "UNPROCESSABLE_CONTENT", httpStatus: 422, idempotencyKeyReused: { key: "<id>" } },
    });
    expect(await asAlice.session.create.mutate({ title: "keyed", idempotencyKey: key })).toEqual(a);
    expect((await listAll(asAlice)).map((session) => session.id).sort()).toEqual([chosen, derived, a.id].sort());
  });

  it("delivers each subscriber its owner's events only, live and when resuming from 0, on both event doors", async () => {
    const { alice, bob, asAlice, asBob } = pair();
    const aliceEvents = collect(asAlice);
    const bobEvents = collect(asBob);
    const everyone = collect(server.operator);
    const forBob = collect(server.operatorFor(bob));
    const bobSse = await openSse(`${server.url}/event`, { authorization: `Bearer ${server.tokenFor(bob)}` });
    await Promise.all([aliceEvents.ready, bobEvents.ready, everyone.ready, forBob.ready]);

    const id = freshId();
    const hers = await asAlice.session.create.mutate({ id, title: "a1" });
    const his = await asBob.session.create.mutate({ id, title: "b1" });
    await asAlice.session.update.mutate({ id, title: "a2" });
    await asBob.session.delete.mutate({ id });
    await asAlice.session.create.mutate({ parentId: hers.id, title: "a3" });
    // Bob follows "his" tree under an ID that is now only alice's: he sees nothing of hers.
    const bobTree = await openSse(`${server.url}/event?sessionId=${id}`, { authorization: `Bearer ${server.tokenFor(bob)}` });
    await asAlice.session.update.mutate({ id, title: "a4" });

    await aliceEvents.waitFor(4);
    await bobEvents.waitFor(2);
    await forBob.waitFor(2);
    const summary = (events: { data: SessionEvent }[]) => events.map(({ data }) => `${data.type} ${data.properties.info.owner}`);
    expect(summary(aliceEvents.events)).toEqual([
      `session.created ${alice}`,
      `session.updated ${alice}`,
      `session.created ${alice}`,
      `session.updated ${alice}`,
    ]);
    expect(summary(bobEvents.events)).toEqual([`session.created ${bob}`, `session.deleted ${bob}`]);
    expect(forBob.events).toEqual(bobEvents.events);
    const sseFrames = await bobSse.waitFor(2);
    expect(decodeFrames(sseFrames).map(({ type, info }) => `${type} ${info.owner}`)).toEqual(summary(bobEvents.events));
    // The operator without an owner: every owner's events, these among them, in order (once they have arrived).
    const ours = () =>
      everyone.events.filter(({ data }) => [alice, bob].includes(data.properties.info.owner)).map(({ id: eventId }) => eventId);
    await expect
      .poll(ours)
      .toEqual([...aliceEvents.events, ...bobEvents.events].map(({ id: eventId }) => eventId).sort((x, y) => Number(x) - Number(y)));
    expect(bobTree.frames).toEqual([]);
    expect(his.owner).toBe(bob);

    // Resuming from the first event: still only the caller's own.
    const replay = await openSse(`${server.url}/event`, { authorization: `Bearer ${server.tokenFor(alice)}`, "last-event-id": "0" });
    const lastOfAlice = Number(aliceEvents.events.at(-1)!.id);
    const frames = await replay.waitForId(lastOfAlice);
    expect(decodeFrames(frames).map(({ id: eventId }) => String(eventId))).toEqual(aliceEvents.events.map(({ id: eventId }) => eventId));
    const resumed = collect(asBob, { lastEventId: "0" });
    await resumed.waitFor(2);
    expect(resumed.events).toEqual(bobEvents.events);
    for (const stream of [aliceEvents, bobEvents, everyone, forBob, resumed]) stream.stop();
    for (const connection of [bobSse, bobTree, replay]) connection.kill();
  });

  it("lets the operator see every owner's sessions, act for one with the owner header, and address the default owner by ID", async () => {
    const [one, two] = [`op-one-${randomUUID()}`, `op-two-${randomUUID()}`];
    const id = freshId();
    const asOne = server.operatorFor(one);
    const made = await asOne.session.create.mutate({ id, title: "one's" });
    expect(made.owner).toBe(one);
    await server.operatorFor(two).session.create.mutate({ id, title: "two's" });
    // Acting for an owner is being that owner: its token sees the same, and nothing of the other's.
    expect(await listAll(server.clientFor(one))).toEqual([made]);
    expect(await listAll(asOne)).toEqual([made]);
    // Without an owner: lists span every owner (each session says whose), IDs name the default owner's.
    const all = await listAll(server.operator);
    expect(
      all
        .filter((session) => session.id === id)
        .map((session) => session.owner)
        .sort(),
    ).toEqual([one, two].sort());
    expect(refusalOf(await rejection(() => server.operator.session.get.query({ id })), id)).toMatchObject({
      data: { code: "NOT_FOUND" },
    });
    const unowned = await server.operator.session.create.mutate({ id });
    expect(unowned.owner).toBe("default");
    expect(await server.operator.session.get.query({ id })).toEqual(unowned);
  });

  it("pages the operator's list of every owner by owner too, where two owners' sessions share an ID and a time", async () => {
    const id = freshId();
    const owners = [`tie-a-${randomUUID()}`, `tie-b-${randomUUID()}`, `tie-c-${randomUUID()}`];
    // Newer than anything the other tests make, so they are the first page's.
    const at = Date.now() + 3_600_000;
    await plantSql(
      server.db,
      owners
        .map(
          (owner) =>
            `INSERT INTO session (owner, id, parent_id, title, metadata, revision, created_at, updated_at) VALUES ('${owner}', '${id}', NULL, 'tie', '{}', 1, ${at}, ${at});`,
        )
        .join("\n"),
    );
    const seen: Session[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < owners.length; page++) {
      const result: { items: Session[]; nextCursor: string | null } = await server.operator.session.list.query({ limit: 1, cursor });
      seen.push(...result.items);
      cursor = result.nextCursor;
    }
    expect(seen.map((session) => [session.id, session.owner])).toEqual(
      [...owners]
        .sort()
        .reverse()
        .map((owner) => [id, owner]),
    );
    const back = await server.operator.session.list.query({ limit: 2, cursor, direction: "backward" });
    expect(back.items.map((session) => session.owner)).toEqual([...owners].sort().reverse().slice(0, 2));
    // Each owner sees its one.
    for (const owner of owners) expect((await server.clientFor(owner).session.get.query({ id })).owner).toBe(owner);
  });

  it("refuses an owner header from anyone but the operator (403), and a malformed one from the operator (400)", async () => {
    const { alice, bob } = pair();
    const borrowing = createSessionClient({ url: server.url, token: server.tokenFor(alice), owner: bob, EventSource });
    const error = await rejection(() => borrowing.session.list.query());
    expect(isForbidden(error)).toBe(true);
    expect((error as Error).message).not.toContain(bob);
    const rest = await fetch(`${server.url}/session`, {
      headers: { authorization: `Bearer ${server.tokenFor(alice)}`, "sessiond-owner": bob },
    });
    expect(rest.status).toBe(403);
    const events = await openSse(`${server.url}/event`, { authorization: `Bearer ${server.tokenFor(alice)}`, "sessiond-owner": bob });
    expect(events.status).toBe(403);
    // Naming one's own owner is fine.
    const own = createSessionClient({ url: server.url, token: server.tokenFor(alice), owner: alice, EventSource });
    expect((await own.session.create.mutate({})).owner).toBe(alice);
    for (const owner of ["", "x".repeat(257)]) {
      const answer = await fetch(`${server.url}/session`, {
        headers: { authorization: `Bearer ${server.operatorToken}`, "sessiond-owner": owner },
      });
      expect(answer.status).toBe(400);
    }
  });

  it("keeps /metrics (every owner's counts) for the operator", async () => {
    const { alice } = pair();
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.tokenFor(alice)}` } })).status).toBe(403);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.operatorToken}` } })).status).toBe(200);
  });

  it("lets the CLI act as an owner with a JWT as --token, and the operator for one with --owner", async () => {
    const { alice, bob } = pair();
    const url = server.url;
    const made = await runCli(["--url", url, "--token", server.tokenFor(alice), "--json", "create", "--title", "from the CLI"]);
    expect(made.stderr).toBe("");
    expect(JSON.parse(made.stdout)).toMatchObject({ owner: alice, title: "from the CLI" });
    const id = JSON.parse(made.stdout).id as string;
    const asBob = await runCli(["--url", url, "--token", server.tokenFor(bob), "get", id]);
    expect(asBob).toMatchObject({ code: 1, stderr: `sessiond: session ${id} not found\n` });
    const forAlice = await runCli(["--url", url, "--json", "list"], { SESSIOND_TOKEN: server.operatorToken!, SESSIOND_OWNER: alice });
    expect(JSON.parse(forAlice.stdout).items.map((session: Session) => session.id)).toEqual([id]);
  });
});

describe("library mode: the host's context gives the owner", () => {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-owners-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("scopes every procedure to the owner `scope` returns, on the host's own tRPC instance and middleware", async () => {
    const sessiond = await openSessiond({ db: join(dir, "host.db"), logLevel: "silent" });
    try {
      const t = initTRPC.context<{ user?: { id: string } }>().create({ transformer: superjson, errorFormatter: sessiondErrorFormatter });
      const authed = t.procedure.use(({ ctx, next }) => {
        if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED" });
        return next({ ctx: { user: ctx.user } });
      });
      const router = t.router({ sessions: createSessionProcedures(authed, { sessiond, scope: ({ user }) => ({ owner: user.id }) }) });
      const callerFor = t.createCallerFactory(router);
      const [ann, ben] = [callerFor({ user: { id: "user-ann" } }), callerFor({ user: { id: "user-ben" } })];
      const id = freshId();
      const hers = await ann.sessions.create({ id, title: "ann's" });
      const his = await ben.sessions.create({ id, title: "ben's" });
      expect([hers.owner, his.owner]).toEqual(["user-ann", "user-ben"]);
      expect((await ann.sessions.list({})).items).toEqual([hers]);
      await ben.sessions.delete({ id });
      expect(await ann.sessions.get({ id })).toEqual(hers);
      await expect(callerFor({}).sessions.list({})).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    } finally {
      await sessiond.close();
    }
  });
});
