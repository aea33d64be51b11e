/**
 * Faults: a crash loses no acknowledged session, a graceful shutdown drains, slow clients cannot
 * hold the server, and a full or read-only disk answers 503 without a crash.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient, isUnavailable, type SessionClient } from "@sessiond/client";
import type { Session } from "@sessiond/shared";
import { freshId } from "./support/ids.ts";
import { cleanEnv, startServerProcess, type ServerProcess } from "./support/process.ts";
import { engineTargets, freshPostgresDatabase } from "./support/targets.ts";

const scratch = mkdtempSync(join(tmpdir(), "sessiond-faults-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A database for a server process on this engine: a SQLite file or a fresh PostgreSQL database. */
async function databaseFor(engine: string): Promise<string> {
  return engine === "postgres" ? freshPostgresDatabase() : join(scratch, `${freshId()}.db`);
}

/**
 * Runs `workers` loops that create sessions with chosen IDs until `until` resolves: `acknowledged`
 * fills with every session whose create succeeded, `failures` with every other outcome, and
 * `done` resolves once every loop has stopped.
 */
function createLoad(client: SessionClient, workers: number, until: Promise<unknown>) {
  const acknowledged: Session[] = [];
  const failures: unknown[] = [];
  let stopped = false;
  void until.then(() => (stopped = true));
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stopped) {
        try {
          acknowledged.push(await client.session.create.mutate({ id: freshId(), metadata: { n: acknowledged.length } }));
        } catch (error) {
          failures.push(error);
          return;
        }
      }
    }),
  ).then(() => undefined);
  return { acknowledged, failures, done };
}

/** Resolves once the load has `count` acknowledged creates (mid-flight: its loops keep going). */
async function loadReached(load: ReturnType<typeof createLoad>, count: number): Promise<void> {
  for (const deadline = Date.now() + 30_000; load.acknowledged.length < count; await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (load.failures.length > 0) throw new Error(`the load failed before the fault: ${String(load.failures[0])}`);
    if (Date.now() > deadline) throw new Error(`the load reached ${load.acknowledged.length} of ${count} creates in 30 s`);
  }
}

/** True when the error is the connection failing, not an HTTP answer. */
function isConnectionError(error: unknown): boolean {
  const data = (error as { data?: unknown }).data;
  return data === undefined || data === null;
}

async function expectAllPresent(url: string, sessions: Session[]): Promise<void> {
  const client = createSessionClient({ url });
  const missing: string[] = [];
  for (let i = 0; i < sessions.length; i += 100) {
    const chunk = sessions.slice(i, i + 100);
    const found = await Promise.all(chunk.map((session) => client.session.get.query({ id: session.id }).catch(() => null)));
    found.forEach((session, index) => {
      if (JSON.stringify(session) !== JSON.stringify(chunk[index])) missing.push(chunk[index]!.id);
    });
  }
  expect(missing, `${missing.length} of ${sessions.length} acknowledged sessions missing or changed`).toEqual([]);
}

describe.each(engineTargets)("crash and shutdown [$name]", (target) => {
  it("loses no acknowledged create when killed with SIGKILL under load", async () => {
    const db = await databaseFor(target.engine);
    // SQLite with the weaker setting: a process crash loses nothing even without an fsync per commit.
    const server = await startServerProcess(["--db", db, ...(target.engine === "sqlite" ? ["--sqlite-sync", "normal"] : [])]);
    const client = createSessionClient({ url: server.url, maxItems: 1 });
    let killed!: () => void;
    const kill = new Promise<void>((resolve) => (killed = resolve));
    const load = createLoad(client, 16, kill);
    // Let the load run, then kill the server mid-flight.
    await loadReached(load, 200);
    expect(await server.stop("SIGKILL")).toBeNull();
    killed();
    await load.done;
    const { acknowledged, failures } = load;
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    expect(failures.every(isConnectionError), String(failures.find((error) => !isConnectionError(error)))).toBe(true);

    const restarted = await startServerProcess(["--db", db]);
    try {
      await expectAllPresent(restarted.url, acknowledged);
    } finally {
      await restarted.stop();
    }
  });

  it.each([1, 2])(
    "drains in-flight calls on SIGTERM, refuses new connections, exits 0 and loses nothing (--workers %i)",
    async (workers) => {
      const db = await databaseFor(target.engine);
      const server = await startServerProcess(["--db", db, "--workers", String(workers)]);
      const client = createSessionClient({ url: server.url, maxItems: 1 });
      const exited = new Promise<void>((resolve) => server.child.once("exit", () => resolve()));
      const load = createLoad(client, 16, exited);
      await loadReached(load, 200);
      const exitCode = server.stop("SIGTERM");
      await load.done;
      const { acknowledged, failures } = load;
      expect(await exitCode).toBe(0);
      // Every call got a success or a connection error (never accepted, or cut): no HTTP error.
      expect(failures.every(isConnectionError), String(failures.find((error) => !isConnectionError(error)))).toBe(true);
      expect(server.logs.some((line) => line.includes('"shutting down"'))).toBe(true);

      // New connections are refused.
      const refused = await fetch(`${server.url}/healthz`).then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);

      const restarted = await startServerProcess(["--db", db]);
      try {
        await expectAllPresent(restarted.url, acknowledged);
      } finally {
        await restarted.stop();
      }
    },
  );
});

// Concurrently: each waits out a timeout, on its own connections.
describe.concurrent("slow clients", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess([
      "--db",
      join(scratch, "slow.db"),
      "--headers-timeout-ms",
      "1000",
      "--request-timeout-ms",
      "2000",
      "--keep-alive-timeout-ms",
      "500",
    ]);
  });
  afterAll(() => server?.stop());

  /** Opens a raw connection; resolves with what the server sent once it closes the connection. */
  function rawConnection(send: (socket: ReturnType<typeof connect>) => void) {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => (received += chunk));
    socket.on("error", () => undefined);
    const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
    socket.on("connect", () => send(socket));
    return { socket, closed };
  }

  it("cuts a client that sends its headers too slowly (slow loris), and serves others meanwhile", async () => {
    let drip: NodeJS.Timeout | undefined;
    const loris = rawConnection((socket) => {
      socket.write("POST /trpc/session.create HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      let i = 0;
      drip = setInterval(() => socket.write(`X-Drip-${i++}: 1\r\n`), 200);
    });
    // Meanwhile the server answers everyone else.
    const client = createSessionClient({ url: server.url });
    expect((await client.session.create.mutate({})).revision).toBe(1);
    const received = await loris.closed;
    clearInterval(drip);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it("cuts a client that sends its body too slowly", async () => {
    let drip: NodeJS.Timeout | undefined;
    const slow = rawConnection((socket) => {
      socket.write(
        "POST /trpc/session.create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
      );
      drip = setInterval(() => socket.write(" "), 200);
    });
    const received = await slow.closed;
    clearInterval(drip);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes an idle keep-alive connection after the keep-alive timeout, not Node's default", async () => {
    // The same idle connection to a server with a long keep-alive timeout: it must outlive ours.
    const patient = await startServerProcess(["--db", join(scratch, "patient.db"), "--keep-alive-timeout-ms", "60000"]);
    try {
      const ours = rawConnection((socket) => socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      const { port } = new URL(patient.url);
      const other = connect(Number(port), "127.0.0.1");
      let otherClosed = false;
      other.on("close", () => (otherClosed = true));
      other.on("error", () => undefined);
      other.resume(); // read, so that the server's close is seen
      other.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      const opened = Date.now();
      const received = await ours.closed;
      // The promise resolved: the server closed the idle connection (the client would have kept it).
      expect(received).toMatch(/^HTTP\/1\.1 200/);
      // Past Node's default keep-alive timeout (5 s), the connection to the server told 60 s is
      // still open: the setting, not Node's default, decides.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 6500 - (Date.now() - opened))));
      expect(otherClosed).toBe(false);
      other.destroy();
    } finally {
      await patient.stop();
    }
  });
});

/** Mounting a small filesystem needs root (as CI runs); elsewhere these tests are skipped. */
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = join(scratch, "probe");
  mkdirSync(probe);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { env: cleanEnv(), stdio: "ignore" });
    execFileSync("umount", [probe], { env: cleanEnv(), stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)("a full or read-only disk (SQLite)", () => {
  const mountPoint = join(scratch, "small-disk");
  let server: ServerProcess;
  let client: SessionClient;
  beforeAll(async () => {
    mkdirSync(mountPoint);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint], { env: cleanEnv() });
    server = await startServerProcess(["--db", join(mountPoint, "sessions.db")]);
    client = createSessionClient({ url: server.url, maxItems: 1 });
  });
  afterAll(async () => {
    await server?.stop();
    execFileSync("umount", ["-l", mountPoint], { env: cleanEnv() });
  });

  async function createUntilUnavailable(): Promise<unknown> {
    for (let i = 0; i < 2000; i++) {
      try {
        await client.session.create.mutate({ metadata: { blob: "x".repeat(8000) } });
      } catch (error) {
        return error;
      }
    }
    return expect.fail("creates kept succeeding");
  }

  it("answers 503 when the disk is full, keeps serving reads, and writes again once there is room", async () => {
    const kept = await client.session.create.mutate({ title: "before the disk filled" });
    const filler = join(mountPoint, "filler");
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { env: cleanEnv(), stdio: "ignore" });
    } catch {
      // dd stops with an error when the disk is full: that is the point.
    }
    const error = await createUntilUnavailable();
    expect(isUnavailable(error), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/disk is full|cannot be read or written/);
    expect(await client.session.get.query({ id: kept.id })).toEqual(kept);
    expect(server.child.exitCode).toBeNull();

    rmSync(filler);
    expect((await client.session.create.mutate({ title: "after" })).title).toBe("after");
  });
});

/**
 * A disk that turns read-only under a running server, as ext4 does on an error with
 * errors=remount-ro: an ext4 image on a loop device, and the kernel's own trigger for such an error.
 */
describe.skipIf(!canMount)("a disk that turns read-only (SQLite)", () => {
  const image = join(scratch, "disk.img");
  const mountPoint = join(scratch, "ext4-disk");
  let server: ServerProcess;
  let client: SessionClient;
  let device = "";
  beforeAll(async () => {
    mkdirSync(mountPoint);
    execFileSync("dd", ["if=/dev/zero", `of=${image}`, "bs=1M", "count=16"], { env: cleanEnv(), stdio: "ignore" });
    execFileSync("mkfs.ext4", ["-q", "-F", image], { env: cleanEnv() });
    execFileSync("mount", ["-o", "loop,errors=remount-ro", image, mountPoint], { env: cleanEnv() });
    device = execFileSync("findmnt", ["-n", "-o", "SOURCE", mountPoint], { env: cleanEnv(), encoding: "utf8" }).trim().split("/").pop()!;
    server = await startServerProcess(["--db", join(mountPoint, "sessions.db")]);
    client = createSessionClient({ url: server.url, maxItems: 1 });
  });
  afterAll(async () => {
    await server?.stop();
    execFileSync("umount", ["-l", mountPoint], { env: cleanEnv() });
  });

  it("answers 503 when the disk turns read-only, and keeps serving reads", async () => {
    const kept = await client.session.create.mutate({ title: "before read-only" });
    writeFileSync(`/sys/fs/ext4/${device}/trigger_fs_error`, "1");
    const error = await client.session.create.mutate({}).catch((caught: unknown) => caught);
    expect(isUnavailable(error), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/read-only|cannot be read or written/);
    expect(await client.session.get.query({ id: kept.id })).toEqual(kept);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});
