/**
 * Bench servers run in child processes (one Node 24 process each), so the load generator in this
 * process and the server never share a thread.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The limit (raw), the peers (stock tRPC, oRPC, Hono) and sessiond itself: one entry each in servers/. */
export type ServerKind = "raw" | "stock" | "orpc" | "hono" | "sessiond";

const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const ROOT = dirname(BENCH_DIR);

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

/** The pids of the servers running now. */
export function livePids(): number[] {
  return [...live].filter((child) => child.exitCode === null && child.pid !== undefined).map((child) => child.pid!);
}

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

export function startServer(kind: ServerKind, db: string, options: StartOptions = {}): Promise<ServerProcess> {
  const entry = join(BENCH_DIR, "servers", `${kind}.ts`);
  const child = spawn(nodeBinary(), [...(options.nodeArgs ?? []), entry, "--db", db], {
    cwd: options.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  live.add(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => live.delete(child));

  let seq = 0;
  const pending = new Map<number, (memory: Memory) => void>();
  child.on("message", (message: { type?: string; seq?: number; rss?: number; heapUsed?: number }) => {
    if (message.type !== "rss" || message.seq === undefined) return;
    pending.get(message.seq)?.({ rss: message.rss ?? 0, heapUsed: message.heapUsed ?? 0 });
    pending.delete(message.seq);
  });

  return new Promise<ServerProcess>((resolve, reject) => {
    let out = "";
    let announced = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${kind} server did not start within 30 s\n${stderr}`));
    }, 30_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited before it listened (code ${code}, signal ${signal})\n${stderr}`));
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      if (announced) return; // keep draining, ignore
      out += chunk.toString();
      const newline = out.indexOf("\n");
      if (newline === -1) return;
      announced = true;
      clearTimeout(timer);
      const { url } = JSON.parse(out.slice(0, newline)) as { url: string };
      resolve({
        kind,
        url,
        pid: child.pid!,
        memory() {
          return new Promise<Memory>((resolveMemory, rejectMemory) => {
            const id = ++seq;
            const timeout = setTimeout(() => {
              pending.delete(id);
              rejectMemory(new Error(`${kind} server did not report its memory`));
            }, 10_000);
            pending.set(id, (memory) => {
              clearTimeout(timeout);
              resolveMemory(memory);
            });
            child.send({ type: "rss", seq: id });
          });
        },
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
