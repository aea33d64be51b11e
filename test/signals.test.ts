/**
 * The ways sessiond is started: `npm start` (its database in the checkout; npm passes SIGTERM and
 * SIGINT to the process it runs, which execs sessiond) and the sessiond launcher outside npm (it
 * runs the sources in a child and passes the signal on once), and how each stops.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { outsideEnv, ROOT } from "./support/packed.ts";
import { cleanEnv, spawnProcess } from "./support/process.ts";

const dir = mkdtempSync(join(tmpdir(), "sessiond-signals-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Started {
  url: string;
  logs: string[];
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts a command that runs `sessiond serve` and waits for its "listening" log line. `env`: its whole environment. */
async function start(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawnProcess(command, args, { cwd: ROOT, env });
  child.stdin.end();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logs: string[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.startsWith("{")) return; // npm's own banner
      logs.push(line);
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "listening" && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before listening: ${stderr}`)));
  });
  return { url, logs, exited, kill: (signal) => child.kill(signal) };
}

async function expectGracefulStop(running: Started, signal: NodeJS.Signals): Promise<void> {
  expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  running.kill(signal);
  expect(await running.exited).toBe(0);
  const messages = running.logs.map((line) => JSON.parse(line) as { msg: string; signal?: string });
  expect(messages).toContainEqual(expect.objectContaining({ msg: "shutting down", signal }));
  expect(messages.at(-1)?.msg).toBe("stopped");
  await expect(fetch(`${running.url}/healthz`)).rejects.toThrow(); // nothing listens any more
}

describe("npm start", () => {
  it("keeps its database in the checkout (./data/sessiond.db), not in the user's data folder that every checkout shares", async () => {
    const home = mkdtempSync(join(dir, "home-"));
    const running = await start(
      "npm",
      ["start", "--silent", "--", "--port", "0"],
      cleanEnv({ HOME: home, XDG_DATA_HOME: join(home, "data") }),
    );
    try {
      const listening = running.logs
        .map((line) => JSON.parse(line) as { msg: string; db?: string })
        .find((entry) => entry.msg === "listening");
      expect(listening?.db).toBe("./data/sessiond.db");
      expect(existsSync(join(ROOT, "data", "sessiond.db"))).toBe(true);
      expect(readdirSync(home)).toEqual([]);
    } finally {
      running.kill("SIGTERM");
      expect(await running.exited).toBe(0);
    }
  });
});

describe("stopping sessiond", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("npm start stops gracefully on %s sent to npm", async (signal) => {
    const running = await start("npm", ["start", "--silent"], cleanEnv({ PORT: "0", SESSIOND_DB: join(dir, `npm-${signal}.db`) }));
    await expectGracefulStop(running, signal);
  });

  it("the launcher outside npm passes SIGTERM on to the sessiond it runs, once", async () => {
    const bin = join(ROOT, "node_modules", ".bin", "sessiond");
    const running = await start(process.execPath, [bin, "serve", "--port", "0", "--db", join(dir, "launcher.db")], outsideEnv());
    await expectGracefulStop(running, "SIGTERM");
  });
});
