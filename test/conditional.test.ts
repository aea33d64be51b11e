/**
 * Conditional writes (issue 18 §3, RFC 9110 §13.1.1): `If-Match` is evaluated before every write,
 * PATCH and DELETE, atomically with it; `*` matches any existing session, a list matches if any of
 * its tags does, a weak tag never matches, and a malformed header is 400. A failed precondition is
 * 412 and changes nothing: a stale DELETE no longer removes a session someone else just updated.
 * `session.delete` takes `expectedRevision` like `session.update`. On both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Session } from "@sessiond/shared";
import type { TestServer } from "@sessiond/testing";
import { expectNotFound, expectPreconditionFailed } from "./support/expect.ts";
import { freshId } from "./support/ids.ts";
import { engineTargets, storedSessions } from "./support/targets.ts";

describe.each(engineTargets)("If-Match and expected revisions [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await target.start();
  });
  afterAll(() => server?.close());

  /** A session at revision 2, with a child. */
  async function updatedTree(): Promise<{ root: Session; child: Session }> {
    const root = await server.client.session.create.mutate({ title: "v1" });
    const child = await server.client.session.create.mutate({ parentId: root.id });
    return { root: await server.client.session.update.mutate({ id: root.id, title: "v2" }), child };
  }
  const remove = (id: string, ifMatch?: string) =>
    fetch(`${server.url}/session/${id}`, { method: "DELETE", headers: ifMatch === undefined ? {} : { "if-match": ifMatch } });
  const patch = (id: string, ifMatch: string, body: unknown = { title: "changed" }) =>
    fetch(`${server.url}/session/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", "if-match": ifMatch },
      body: JSON.stringify(body),
    });

  it("refuses a DELETE whose If-Match is stale with 412, deleting nothing", async () => {
    const { root, child } = await updatedTree();
    const before = await storedSessions(server);
    const answer = await remove(root.id, '"1"');
    expect(answer.status).toBe(412);
    expect(await answer.json()).toMatchObject({
      code: "PRECONDITION_FAILED",
      precondition: { id: root.id, expectedRevision: 1, actualRevision: 2 },
    });
    expect(await storedSessions(server)).toEqual(before);
    expect((await remove(root.id, '"2"')).status).toBe(200);
    await expectNotFound(server.client.session.get.query({ id: child.id }), child.id);
  });

  it.each([
    ["*, which any existing session matches", "*", 200],
    ["a list holding the current revision", '"1", "2"', 200],
    ["a list with empty elements and whitespace", ' , "7",,\t"2" ', 200],
    ["a list without it", '"1", "3"', 412],
    ["the current revision as a weak tag (a weak tag never matches)", 'W/"2"', 412],
    ["a weak tag beside a stale strong one", 'W/"2", "1"', 412],
    ["a tag that is not a revision", '"v2"', 412],
  ])("evaluates If-Match %s on DELETE and PATCH", async (_, ifMatch, status) => {
    for (const write of [(id: string) => remove(id, ifMatch), (id: string) => patch(id, ifMatch)]) {
      const { root } = await updatedTree();
      const before = await storedSessions(server);
      const answer = await write(root.id);
      expect(answer.status, await answer.clone().text()).toBe(status);
      if (status === 412) expect(await storedSessions(server)).toEqual(before);
    }
  });

  it.each([
    ["an unquoted revision", "2"],
    ["an unterminated tag", '"2'],
    ["two tags without a comma", '"1" "2"'],
    ["* in a list", '*, "2"'],
    ["a lower-case weak prefix", 'w/"2"'],
    ["only commas", " , "],
  ])("refuses If-Match with %s as 400, writing nothing", async (_, ifMatch) => {
    const { root } = await updatedTree();
    const before = await storedSessions(server);
    for (const answer of [await remove(root.id, ifMatch), await patch(root.id, ifMatch)]) {
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({
        code: "BAD_REQUEST",
        fieldErrors: { expectedRevision: [expect.stringContaining("If-Match")] },
      });
    }
    expect(await storedSessions(server)).toEqual(before);
  });

  it("answers 404 for a missing session whatever If-Match says", async () => {
    const id = freshId();
    for (const ifMatch of ["*", '"1"', 'W/"1"']) {
      expect((await remove(id, ifMatch)).status).toBe(404);
      expect((await patch(id, ifMatch)).status).toBe(404);
    }
  });

  it("lets exactly one of a PATCH and a DELETE that both expect revision 1 happen", async () => {
    for (let round = 0; round < 10; round++) {
      const root = await server.client.session.create.mutate({});
      const [updated, deleted] = await Promise.all([patch(root.id, '"1"'), remove(root.id, '"1"')]);
      expect([updated.status, deleted.status].sort(), `round ${round}`).toSatisfy(
        (statuses: number[]) => JSON.stringify(statuses) === "[200,412]" || JSON.stringify(statuses) === "[200,404]",
      );
    }
  });

  it("deletes through tRPC only at the expected revision, with PRECONDITION_FAILED otherwise", async () => {
    const { root, child } = await updatedTree();
    await expectPreconditionFailed(server.client.session.delete.mutate({ id: root.id, expectedRevision: 1 }), 1, 2);
    expect(await server.client.session.get.query({ id: child.id })).toEqual(child);
    expect(await server.client.session.delete.mutate({ id: root.id, expectedRevision: 2 })).toEqual({ deleted: [root.id, child.id] });
  });
});
