/**
 * Servers in child processes (the load generator in this process never shares their thread), with
 * NODE_ENV=production and no SESSIOND_* variables from the shell.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { treeRss } from "./cpu.ts";

const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const ROOT = dirname(BENCH_DIR);

export interface ServerProcess {
  url: string;
  pid: number;
  /** RSS of the server and its children (bytes). */
  rss(): number;
  stop(): Promise<void>;
}

const live = new Set<ServerProcess>();
/** Node flags for every server (e.g. --cpu-prof); set once by the run. */
export const serverNodeArgs: string[] = [];

/** A bench server (bench/servers/<entry>.ts) on a SQLite file or a postgres:// URL, with the server's own `args`. */
export function startServer(entry: string, db: string, args: string[] = [], nodeArgs: string[] = []): Promise<ServerProcess> {
  return start(entry, [...nodeArgs, join(BENCH_DIR, "servers", `${entry}.ts`), "--db", db, ...args]);
}

/** `sessiond serve` as npm installs it, on a free loopback port; with its "listening" log entry (the settings it took). */
export function startServe(args: string[], nodeArgs: string[] = []): Promise<ServerProcess & { listening: Record<string, unknown> }> {
  const sessiond = join(ROOT, "node_modules", ".bin", "sessiond");
  return start("sessiond serve", [...nodeArgs, sessiond, "serve", "--host", "127.0.0.1", "--port", "0", ...args]);
}

/** Starts a child and waits (30 s at most) for the JSON line that gives its `url`. */
function start(name: string, args: string[]): Promise<ServerProcess & { listening: Record<string, unknown> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production" };
  for (const key of Object.keys(env)) if (key.startsWith("SESSIOND_") || key === "DATABASE_URL") delete env[key];
  // In this repository the workspace packages resolve to their sources under this condition (.npmrc).
  if (!env.NODE_OPTIONS?.includes("--conditions=@sessiond/source"))
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --conditions=@sessiond/source`;
  // process.execPath: the project's Node 24, which npm puts first on PATH for `npm run bench`.
  const child = spawn(process.execPath, [...serverNodeArgs, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    live.delete(server);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
  };
  const server: ServerProcess = { url: "", pid: child.pid!, rss: () => treeRss(child.pid!), stop };
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      child.kill("SIGKILL");
      reject(new Error(`${name} ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail("did not start within 30 s"), 30_000);
    const onExit = (code: number | null, signal: string | null) => fail(`exited before it listened (code ${code}, signal ${signal})`);
    child.once("exit", onExit);
    const lines = createInterface({ input: child.stdout! }).on("line", (line) => {
      // A bench server's {"url"}, or `sessiond serve`'s "listening" (after its workers' "worker listening").
      let entry: { url?: unknown; msg?: unknown } = {};
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {}
      if (typeof entry.url !== "string" || (entry.msg !== undefined && entry.msg !== "listening")) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      lines.close();
      child.stdout!.resume(); // from now on stdout (e.g. an access log) is drained unread
      live.add(Object.assign(server, { url: entry.url }));
      resolve({ ...server, listening: entry });
    });
  });
}

/** Stops every server still running (after each scenario, and on exit). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((server) => server.stop()));
}
