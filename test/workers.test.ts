/**
 * `serve --workers N`: N server processes on one port. The race and SIGTERM-drain guarantees under
 * --workers 2 are in race.test.ts and faults.test.ts; here: the processes themselves.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSessionClient } from "@sessiond/client";
import { freshId } from "./support/ids.ts";
import { runCli, startServerProcess, type ServerProcess } from "./support/process.ts";
import { decodeFrames, openSse } from "./support/sse.ts";

const scratch = mkdtempSync(join(tmpdir(), "sessiond-workers-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Entry = Record<string, unknown> & { msg: string; pid: number };
const entries = (server: ServerProcess) => server.logs.map((line) => JSON.parse(line) as Entry);

/** Waits until `condition` holds (logs are written asynchronously), up to 10 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Waits until the server has logged a line that `match` accepts. */
async function waitForLog(server: ServerProcess, match: (entry: Entry) => boolean): Promise<Entry> {
  await waitFor(() => entries(server).some(match));
  return entries(server).find(match) ?? expect.fail("no such log line");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("--workers", () => {
  it("serves from two processes on one port, on one database, and stops them all on SIGTERM with exit 0", async () => {
    const server = await startServerProcess(["--db", join(scratch, `${freshId()}.db`), "--workers", "2"]);
    try {
      const listening = entries(server).find((entry) => entry.msg === "listening")!;
      expect(listening).toMatchObject({ workers: 2, engine: "sqlite", pid: server.child.pid });
      const workerPids = entries(server)
        .filter((entry) => entry.msg === "worker listening")
        .map((entry) => entry.pid);
      expect(new Set(workerPids).size).toBe(2);
      expect(workerPids).not.toContain(server.child.pid);

      // Concurrent calls open several connections, which the workers take in turn; what one
      // worker created, the other sees.
      const client = createSessionClient({ url: server.url, maxItems: 1 });
      const sessions = await Promise.all(Array.from({ length: 16 }, (_, i) => client.session.create.mutate({ title: `call ${i}` })));
      const requestLines = () => entries(server).filter((entry) => entry.msg === "request");
      await waitFor(() => requestLines().length >= 16);
      expect(new Set(requestLines().map((entry) => entry.pid))).toEqual(new Set(workerPids));
      // /metrics answers for both workers, whichever takes the request.
      for (let i = 0; i < 4; i++) {
        const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: "close" } })).text();
        expect(text).toContain('sessiond_http_requests_total{route="session.create",status="200"} 16');
        expect(text).toContain('sessiond_sqlite_synchronous{mode="full"} 1');
      }
      const page = await client.session.list.query({ limit: 20 });
      expect(page.items.map((session) => session.id).sort()).toEqual(sessions.map((session) => session.id).sort());

      expect(await server.stop("SIGTERM")).toBe(0);
      await waitFor(() => entries(server).filter((entry) => entry.msg === "stopped").length === 3);
      expect(
        entries(server)
          .filter((entry) => entry.msg === "stopped")
          .map((entry) => entry.pid)
          .sort(),
      ).toEqual([server.child.pid!, ...workerPids].sort());
      for (const pid of workerPids) expect(isAlive(pid)).toBe(false);
    } finally {
      await server.stop("SIGKILL");
    }
  });

  it("delivers live events of writes made through any worker to a subscriber on one of them", async () => {
    const server = await startServerProcess(["--db", join(scratch, `${freshId()}.db`), "--workers", "2", "--event-poll-ms", "50"]);
    const stream = await openSse(`${server.url}/event`);
    try {
      // Concurrent creates arrive on several connections, so both workers make some of them.
      const client = createSessionClient({ url: server.url, maxItems: 1 });
      const created = await Promise.all(Array.from({ length: 20 }, (_, i) => client.session.create.mutate({ title: `event ${i}` })));
      const requestPids = () =>
        new Set(
          entries(server)
            .filter((entry) => entry.msg === "request" && entry.route === "session.create")
            .map((entry) => entry.pid),
        );
      await waitFor(() => requestPids().size === 2);
      expect(requestPids().size).toBe(2);
      const events = decodeFrames(await stream.waitFor(20));
      expect(events.map((event) => event.type)).toEqual(Array(20).fill("session.created"));
      expect(events.map((event) => event.info.id).sort()).toEqual(created.map((session) => session.id).sort());
    } finally {
      stream.kill();
      await server.stop("SIGKILL");
    }
  });

  it("replaces a worker that dies, reports it, and keeps serving", async () => {
    const server = await startServerProcess(["--db", join(scratch, `${freshId()}.db`), "--workers", "2"]);
    try {
      const [victim, survivor] = entries(server)
        .filter((entry) => entry.msg === "worker listening")
        .map((entry) => entry.pid);
      process.kill(victim!, "SIGKILL");
      const report = await waitForLog(server, (entry) => entry.msg === "a worker died; starting another");
      expect(report).toMatchObject({ level: 50, pid: server.child.pid, workerPid: victim, code: null, signal: "SIGKILL" });
      const replacement = await waitForLog(
        server,
        (entry) => entry.msg === "worker listening" && entry.pid !== victim && entry.pid !== survivor,
      );
      expect(isAlive(replacement.pid)).toBe(true);

      const client = createSessionClient({ url: server.url });
      const session = await client.session.create.mutate({});
      expect(await client.session.get.query({ id: session.id })).toEqual(session);
      expect(await server.stop("SIGTERM")).toBe(0);
    } finally {
      await server.stop("SIGKILL");
    }
  });

  it("keeps its port when every worker dies at once, and stops with exit code 1 when workers keep dying (a sixth death within a minute)", async () => {
    const server = await startServerProcess(["--db", join(scratch, `${freshId()}.db`), "--workers", "2"]);
    try {
      const listeningPids = () =>
        entries(server)
          .filter((entry) => entry.msg === "worker listening")
          .map((entry) => entry.pid);
      const deaths = () => entries(server).filter((entry) => entry.msg === "a worker died; starting another").length;
      // Both workers at once: the replacements start with no worker left on the port.
      const first = listeningPids();
      for (const pid of first) process.kill(pid, "SIGKILL");
      // The primary's report of a death is written in a batch, possibly after the new worker's line.
      await waitFor(() => listeningPids().length === 4 && deaths() >= 2);
      expect(deaths()).toBe(2);
      const client = createSessionClient({ url: server.url });
      expect((await client.session.create.mutate({})).revision).toBe(1);
      expect(
        new Set(
          entries(server)
            .filter((entry) => entry.msg === "worker listening")
            .map((entry) => entry.url),
        ),
      ).toEqual(new Set([server.url]));

      // Four more deaths, one at a time: the sixth within the minute stops everything.
      for (let death = 3; death <= 6; death++) {
        const victim = listeningPids().find((pid) => isAlive(pid))!;
        process.kill(victim, "SIGKILL");
        if (death < 6) await waitFor(() => deaths() === death && listeningPids().length === death + 2);
      }
      const entry = await waitForLog(server, (line) => line.msg === "a worker died; workers keep dying, stopping");
      expect(entry).toMatchObject({ level: 50, restarts: 5 });
      // It stops by itself. (No signal: one that lands while the process is exiting on its own
      // finds its handlers gone and kills it, which made this test flaky.)
      expect(await server.exited).toBe(1);
      expect(deaths()).toBe(5);
    } finally {
      await server.stop("SIGKILL");
    }
  });

  it("stops with exit code 1, before starting workers, when the database cannot be opened", async () => {
    // Nothing listens on port 1.
    const result = await runCli([
      "serve",
      "--port",
      "0",
      "--workers",
      "2",
      "--db",
      "postgres://127.0.0.1:1/none",
      "--pg-connect-timeout-ms",
      "500",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sessiond: cannot start: /);
    expect(result.stdout).not.toContain("worker");
  });

  it("stops with exit code 1 when the workers cannot start", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await runCli(["serve", "--port", String(port), "--workers", "2", "--db", join(scratch, `${freshId()}.db`)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("sessiond: cannot start:");
      expect(result.stderr).toContain("EADDRINUSE");
      expect(result.stdout).toContain('"a worker could not start; stopping"');
      expect(result.stdout).not.toContain('"msg":"listening"');
    } finally {
      taken.close();
    }
  });

  it("takes auto as one worker per CPU", async () => {
    const server = await startServerProcess(["--db", join(scratch, `${freshId()}.db`), "--workers", "auto"]);
    try {
      const cpus = availableParallelism();
      if (cpus === 1) {
        // One worker is the plain single process.
        expect(entries(server).find((entry) => entry.msg === "listening")).not.toHaveProperty("workers");
      } else {
        expect(entries(server).find((entry) => entry.msg === "listening")).toMatchObject({ workers: cpus });
        expect(entries(server).filter((entry) => entry.msg === "worker listening")).toHaveLength(cpus);
      }
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }
  });

  it("refuses a bad worker count with one line and exit code 2", async () => {
    for (const bad of ["0", "-1", "two", "1.5"]) {
      const result = await runCli(["serve", "--port", "0", "--db", join(scratch, "never.db"), "--workers", bad]);
      expect(result.code, bad).toBe(2);
      expect(result.stderr, bad).toMatch(/^sessiond: invalid configuration: --workers: /);
    }
  });
});
