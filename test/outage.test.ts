/** PostgreSQL faults: unreachable at start, gone while running, back again. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient, isUnavailable } from "@sessiond/client";
import { freshId } from "./support/ids.ts";
import { startPostgres, type PostgresCluster } from "./support/postgres.ts";
import { runCli, startServerProcess, type ServerProcess } from "./support/process.ts";
import { postgresUrl } from "./support/targets.ts";

describe.skipIf(!postgresUrl)("PostgreSQL outages", () => {
  // A cluster of its own, so that stopping it disturbs no other test.
  let cluster: PostgresCluster;
  let server: ServerProcess;
  beforeAll(async () => {
    cluster = await startPostgres();
    server = await startServerProcess(["--db", cluster.url, "--pg-connect-timeout-ms", "1000"]);
  });
  afterAll(async () => {
    await server?.stop();
    await cluster?.destroy();
  });

  it("refuses to start when PostgreSQL is unreachable, with one line and exit code 1", async () => {
    const url = `postgres://sessiond:secret@127.0.0.1:${cluster.port + 1}/nowhere`;
    const result = await runCli(["serve", "--port", "0", "--db", url, "--pg-connect-timeout-ms", "1000"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^sessiond: cannot start: cannot use PostgreSQL at postgres:\/\/sessiond:\*\*\*@127\.0\.0\.1:\d+\/nowhere: .+\n$/,
    );
    expect(result.stderr).not.toContain("secret");
  });

  it("answers 503 while PostgreSQL is down, stays up, and serves again once it is back", async () => {
    const client = createSessionClient({ url: server.url, maxItems: 1 });
    const before = await client.session.create.mutate({ id: freshId() });

    await cluster.stop();
    const during = await Promise.allSettled([
      client.session.create.mutate({ id: freshId() }),
      client.session.get.query({ id: before.id }),
      client.session.list.query({}),
    ]);
    for (const result of during) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason;
      expect(isUnavailable(reason), String(reason)).toBe(true);
      expect(reason.data.httpStatus).toBe(503);
    }
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(server.child.exitCode).toBeNull();

    await cluster.start();
    expect(await client.session.get.query({ id: before.id })).toEqual(before);
    const after = await client.session.create.mutate({ id: freshId() });
    expect(after.revision).toBe(1);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
