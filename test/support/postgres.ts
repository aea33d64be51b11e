/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, a server on a free
 * loopback port (and a socket in that directory), removed at the end. Debian keeps the server
 * binaries off PATH (`pg_config --bindir` names them); as root, the cluster runs as the
 * `postgres` system user because initdb refuses root.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { cleanEnv } from "./env.ts";

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** A URL for another database on this cluster. */
  urlFor(database: string): string;
  /** Stops the server (fast shutdown), keeping the data directory. */
  stop(): Promise<void>;
  /** Starts the server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and deletes the cluster. */
  destroy(): Promise<void>;
}

function binDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  try {
    return execFileSync("pg_config", ["--bindir"], { env: cleanEnv(), encoding: "utf8" }).trim();
  } catch {
    throw new Error("pg_config not found: install PostgreSQL's server binaries (Debian: postgresql-15) or set PG_BINDIR");
  }
}

/** uid and gid to run the cluster as: ourselves, or the `postgres` user when we are root. */
function clusterUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { env: cleanEnv(), encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { env: cleanEnv(), encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error("running as root, and there is no `postgres` user to run the cluster as (initdb refuses root)");
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited with ${server.exitCode}: ${log()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`postgres did not become ready: ${String(error)}: ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** `durable`: PostgreSQL's own durability settings (fsync and synchronous commit on), for benchmarks. */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresCluster> {
  const bin = binDir();
  const initdb = join(bin, "initdb");
  if (!existsSync(initdb)) throw new Error(`no initdb in ${bin}`);
  const user = clusterUser();
  const dir = mkdtempSync(join(tmpdir(), "sessiond-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, "data");
  execFileSync(initdb, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], {
    ...user,
    env: cleanEnv(),
    stdio: "pipe",
  });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;
  let output = "";

  async function start(): Promise<void> {
    output = "";
    // Durability settings are off unless asked for: these clusters are thrown away, and tests only kill sessiond.
    const durability = options.durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
    server = spawn(
      join(bin, "postgres"),
      ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", ...durability, "-c", "max_connections=300"],
      { ...user, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    server.stdout?.on("data", (chunk) => (output += chunk));
    server.stderr?.on("data", (chunk) => (output += chunk));
    await waitUntilReady(url, server, () => output);
  }

  async function stop(): Promise<void> {
    const running = server;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGINT"); // fast shutdown: disconnects clients, then exits
    });
  }

  await start();
  return {
    url,
    port,
    urlFor: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let databases = 0;

/** Creates a fresh empty database on the cluster at `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string): Promise<string> {
  const name = `sessiond_${process.pid}_${++databases}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
