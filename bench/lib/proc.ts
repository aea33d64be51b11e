/**
 * Bench servers run in child processes (one Node 24 process each, or `sessiond serve` with its
 * cluster workers), so the load generator in this process and the server never share a thread.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { treeRss } from "./tree.ts";

/** The limit (raw), the peers (stock tRPC, oRPC, Hono) and sessiond itself: one entry each in servers/. */
export type ServerKind = "raw" | "stock" | "orpc" | "hono" | "sessiond";

const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const ROOT = dirname(BENCH_DIR);
const CLI = join(ROOT, "cli", "src", "main.ts");

/** The project's Node 24 (node_modules/.bin/node), or this process's binary when that is missing. */
export function nodeBinary(): string {
  const local = join(ROOT, "node_modules", ".bin", "node");
  return existsSync(local) ? local : process.execPath;
}

export interface Memory {
  rss: number;
  heapUsed: number;
}

export interface ServerProcess {
  kind: ServerKind;
  url: string;
  pid: number;
  memory(): Promise<Memory>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills the children this process started (by their own pids); for exits on error or SIGINT. */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.pid !== undefined) child.kill("SIGKILL");
  }
  live.clear();
}

export interface StartOptions {
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  cwd?: string;
}

/** A bench entry (servers/<kind>.ts) on a SQLite file or a postgres:// URL; it prints {"url"} first. */
export function startServer(kind: ServerKind, db: string, options: StartOptions = {}): Promise<ServerProcess> {
  return startEntry(kind, join(BENCH_DIR, "servers", `${kind}.ts`), ["--db", db], options);
}

/** Any script that prints {"url": ...} as its first line and stops on SIGTERM (servers/, prototypes/). */
export async function startEntry(kind: ServerKind, entry: string, args: string[], options: StartOptions = {}): Promise<ServerProcess> {
  const child = spawn(nodeBinary(), [...(options.nodeArgs ?? []), entry, ...args], {
    cwd: options.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  let seq = 0;
  const pending = new Map<number, (memory: Memory) => void>();
  child.on("message", (message: { type?: string; seq?: number; rss?: number; heapUsed?: number }) => {
    if (message.type !== "rss" || message.seq === undefined) return;
    pending.get(message.seq)?.({ rss: message.rss ?? 0, heapUsed: message.heapUsed ?? 0 });
    pending.delete(message.seq);
  });
  const memory = (): Promise<Memory> =>
    new Promise<Memory>((resolveMemory, rejectMemory) => {
      const id = ++seq;
      const timeout = setTimeout(() => {
        pending.delete(id);
        rejectMemory(new Error(`${kind} server did not report its memory`));
      }, 10_000);
      pending.set(id, (value) => {
        clearTimeout(timeout);
        resolveMemory(value);
      });
      child.send({ type: "rss", seq: id });
    });
  const { url } = await announced(kind, child, (line) => JSON.parse(line) as { url?: string });
  return serverOf(kind, child, url, memory);
}

/**
 * `sessiond serve` as users run it (the CLI, with `--workers` and every other flag), on a free
 * loopback port, without the access log; resolves once it logs "listening", with that log entry
 * (the settings it took, e.g. `sqliteSync`). Its memory is read from /proc over its process tree.
 */
export async function startServe(args: string[]): Promise<ServerProcess & { listening: Record<string, unknown> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production" };
  // The shell's configuration must not leak into the server: only the flags given here count.
  for (const name of Object.keys(env)) if (name.startsWith("SESSIOND_") || name === "DATABASE_URL") delete env[name];
  if (!env.NODE_OPTIONS?.includes("--conditions=@sessiond/source"))
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --conditions=@sessiond/source`.trim();
  const child = spawn(nodeBinary(), [CLI, "serve", "--host", "127.0.0.1", "--port", "0", "--access-log-sample", "0", ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const listening = await announced("sessiond", child, (line) => {
    // At info without the access log, only start and stop are logged (one JSON object per line).
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return entry.msg === "listening" ? entry : {};
  });
  const memory = async (): Promise<Memory> => ({ rss: treeRss(child.pid!), heapUsed: Number.NaN });
  return { ...serverOf("sessiond", child, listening.url, memory), listening };
}

/** Waits (30 s at most) for the stdout line from which `parse` reads a URL; keeps stderr for errors. */
function announced<T extends { url?: string }>(
  kind: ServerKind,
  child: ChildProcess,
  parse: (line: string) => T,
): Promise<T & { url: string }> {
  live.add(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.once("exit", () => live.delete(child));
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${kind} server did not start within 30 s\n${stderr}`));
    }, 30_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`${kind} server exited before it listened (code ${code}, signal ${signal})\n${stderr}`));
    });
    // Keep draining stdout after the announcement, so a chatty server never blocks on a full pipe.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (done) return;
      let entry: T;
      try {
        entry = parse(line);
      } catch {
        return; // not a JSON line
      }
      if (typeof entry.url !== "string") return;
      done = true;
      clearTimeout(timer);
      resolve(entry as T & { url: string });
    });
  });
}

function serverOf(kind: ServerKind, child: ChildProcess, url: string, memory: () => Promise<Memory>): ServerProcess {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    kind,
    url,
    pid: child.pid!,
    memory,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
