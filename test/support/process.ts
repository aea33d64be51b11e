/** `sessiond` run as a separate process, the way users run it. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { cleanEnv } from "./env.ts";

export { cleanEnv };

export const CLI = fileURLToPath(import.meta.resolve("@sessiond/cli"));

export interface ServerProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Every line the process wrote to stdout (its JSON log). */
  logs: string[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process exits by itself (no signal sent). */
  exited: Promise<number | null>;
}

/**
 * Every process a test started and has not seen exit. Each runs in its own process group, so that
 * one signal reaches it and anything it started; `stopAllProcesses` (run after every test file by
 * support/cleanup.ts) and the test runner's own exit kill whatever is left, whatever happened.
 */
const running = new Set<number>();

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

process.once("exit", () => {
  for (const pid of running) signalGroup(pid, "SIGKILL");
});

/** Kills every process still running (SIGKILL to its group) and waits until each has exited. */
export async function stopAllProcesses(): Promise<void> {
  const pids = [...running];
  for (const pid of pids) signalGroup(pid, "SIGKILL");
  const deadline = Date.now() + 10_000;
  while (pids.some((pid) => running.has(pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Spawns a script with this Node in its own group and tracks it until it exits. */
function spawnTracked(args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
  return spawnProcess(process.execPath, args, { env: cleanEnv(env), cwd });
}

/**
 * Spawns a command in its own group and tracks it until it exits: whatever a test leaves running
 * is killed when its file ends. `env` is its whole environment: cleanEnv() unless given.
 */
export function spawnProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ChildProcessWithoutNullStreams {
  const child = spawn(command, args, { env: options.env ?? cleanEnv(), detached: true, cwd: options.cwd });
  const pid = child.pid!;
  running.add(pid);
  child.once("exit", () => {
    running.delete(pid);
    // The process's own children, if any, go with it.
    signalGroup(pid, "SIGKILL");
  });
  return child;
}

/** Starts `sessiond serve` on a random loopback port and waits until it listens. */
export function startServerProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  return startListening([CLI, "serve", "--host", "127.0.0.1", "--port", "0", ...args], env, { message: "listening" });
}

/**
 * Starts a script with this Node and waits for the JSON line on its stdout whose `msg` is
 * `message` and that names the `url` it listens on.
 */
export async function startListening(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { message: string; cwd?: string },
): Promise<ServerProcess> {
  const child = spawnTracked(args, env, options.cwd);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logs: string[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(" ").slice(0, 200)} did not start: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      logs.push(line);
      let entry: { msg?: string; url?: string } = {};
      try {
        entry = JSON.parse(line);
      } catch {
        // not a JSON line
      }
      if (entry.msg === options.message && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ").slice(0, 200)} exited with ${code} before listening: ${stderr}`));
    });
  });
  return {
    url,
    child,
    logs,
    exited,
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts one `sessiond` command and returns it running: for a command that runs until stopped (watch). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawnTracked([CLI, ...args], env);
}

/** Runs one `sessiond` command to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, options: RunOptions = {}): Promise<CliResult> {
  return runScript(CLI, args, env, options);
}

export interface RunOptions {
  /** Close the reading end of its stdout at once, as `| true` does: every write it makes fails (EPIPE). */
  closeStdout?: boolean;
}

/** Runs a TypeScript or JavaScript file with this Node to completion. */
export function runScript(
  file: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  options: RunOptions & { cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawnTracked([file, ...args], env, options.cwd);
    child.stdin.end();
    if (options.closeStdout) child.stdout.destroy();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
