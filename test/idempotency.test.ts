/**
 * Idempotency keys (issue 18 §3): a create retried with the same key gets the session the first
 * attempt made, with or without a chosen ID, however many retries race; the same key with another
 * body is 422 naming the key; keys are per owner and live as long as the session they made. On
 * both engines, through tRPC and REST.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient, isIdempotencyKeyReused, type SessionClient } from "@sessiond/client";
import type { Session } from "@sessiond/shared";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { EventSource } from "eventsource";
import { freshId } from "./support/ids.ts";
import { engineTargets, freshPostgresDatabase, storedSessions } from "./support/targets.ts";

describe.each(engineTargets)("idempotency keys [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ db: target.engine === "postgres" ? await freshPostgresDatabase() : undefined, owners: true });
  });
  afterAll(() => server?.close());
  const owner = () => `owner-${randomUUID()}`;
  /** Sessions created with this key, read from the database. */
  const withKey = async (key: string) => (await storedSessions(server)).filter((row) => row.create_key === key);
  const rest = (token: string, key: string, body: unknown) =>
    fetch(`${server.url}/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify(body),
    });

  it("answers a retry without an ID with the session the first create made, not a second session (tRPC)", async () => {
    const client = server.clientFor(owner());
    const key = `job-${randomUUID()}`;
    const first = await client.session.create.mutate({ title: "once", metadata: { a: 1, b: [2] }, idempotencyKey: key });
    // The same input, its keys in another order.
    const retry = await client.session.create.mutate({ idempotencyKey: key, metadata: { b: [2], a: 1 }, title: "once" });
    expect(retry).toEqual(first);
    expect(await withKey(key)).toHaveLength(1);
  });

  it("answers a retry of POST /session with Idempotency-Key and no ID with the first session (REST)", async () => {
    const token = server.tokenFor(owner());
    const key = `job-${randomUUID()}`;
    const first = await rest(token, key, { title: "once" });
    expect(first.status).toBe(200);
    const session = (await first.json()) as { id: string };
    const retry = await rest(token, key, { title: "once" });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual(session);
    expect(retry.headers.get("etag")).toBe('"1"');
    expect(await withKey(key)).toHaveLength(1);
  });

  it("answers the same key with another body 422 naming the key, writing nothing", async () => {
    const token = server.tokenFor(owner());
    const key = `job-${randomUUID()}`;
    const id = freshId();
    expect((await rest(token, key, { id, title: "first" })).status).toBe(200);
    const before = await storedSessions(server);
    for (const body of [{ id, title: "second" }, { title: "first" }, { id, title: "first", metadata: { x: 1 } }]) {
      const answer = await rest(token, key, body);
      expect(answer.status).toBe(422);
      expect(await answer.json()).toMatchObject({
        code: "UNPROCESSABLE_CONTENT",
        httpStatus: 422,
        idempotencyKeyReused: { key },
        message: expect.stringContaining(key),
      });
    }
    const client = createSessionClient({ url: server.url, token, EventSource });
    const error = await client.session.create.mutate({ title: "third", idempotencyKey: key }).catch((caught: unknown) => caught);
    expect(isIdempotencyKeyReused(error)).toBe(true);
    if (isIdempotencyKeyReused(error)) expect(error.data.idempotencyKeyReused.key).toBe(key);
    expect(await storedSessions(server)).toEqual(before);
  });

  it.each([
    ["separate requests", false],
    ["one batched request", true],
  ])("makes exactly one session of 40 concurrent creates with one key, and answers every one with it (%s)", async (_, batched) => {
    const name = owner();
    const key = `race-${randomUUID()}`;
    const clients: SessionClient[] = batched
      ? Array(40).fill(server.clientFor(name))
      : Array.from({ length: 40 }, () => createSessionClient({ url: server.url, token: server.tokenFor(name), EventSource, maxItems: 1 }));
    const answers = await Promise.all(clients.map((client) => client.session.create.mutate({ title: "raced", idempotencyKey: key })));
    expect(new Set(answers.map((session) => session.id)).size).toBe(1);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await withKey(key)).toHaveLength(1);
  });

  it("makes exactly one session of 40 concurrent REST creates with one key and a chosen ID", async () => {
    const token = server.tokenFor(owner());
    const key = `race-${randomUUID()}`;
    const id = freshId();
    const answers = await Promise.all(Array.from({ length: 40 }, () => rest(token, key, { id, title: "raced" })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    const sessions = (await Promise.all(answers.map((answer) => answer.json()))) as Session[];
    expect(new Set(sessions.map((session) => JSON.stringify(session))).size).toBe(1);
    expect(await withKey(key)).toHaveLength(1);
  });

  it("keeps keys per owner, and frees a key when its session is deleted", async () => {
    const [alice, bob] = [server.clientFor(owner()), server.clientFor(owner())];
    const key = `job-${randomUUID()}`;
    const hers = await alice.session.create.mutate({ title: "same", idempotencyKey: key });
    const his = await bob.session.create.mutate({ title: "same", idempotencyKey: key });
    expect(his.id).not.toBe(hers.id);
    await alice.session.delete.mutate({ id: hers.id });
    const again = await alice.session.create.mutate({ title: "same", idempotencyKey: key });
    expect(again.id).not.toBe(hers.id);
    // With the key free, even other input is a first create.
    await alice.session.delete.mutate({ id: again.id });
    expect((await alice.session.create.mutate({ title: "new", idempotencyKey: key })).title).toBe("new");
    expect(await bob.session.create.mutate({ title: "same", idempotencyKey: key })).toEqual(his);
  });
});
