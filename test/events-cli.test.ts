/** `sessiond watch`: the CLI prints events as they come, from now or from a given event ID. */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { CLI, runCli } from "./support/process.ts";

/** Runs `sessiond watch ...` until `count` lines are printed, then interrupts it. */
async function watch(args: string[], count: number, whileRunning: () => Promise<void>): Promise<{ lines: string[]; code: number | null }> {
  const child = spawn(process.execPath, [CLI, "watch", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: string[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const enough = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch printed ${lines.length} of ${count} lines; stderr: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (lines.push(line) === count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    await whileRunning();
    await enough;
  } finally {
    child.kill("SIGINT");
  }
  return { lines, code: await exited };
}

describe("sessiond watch", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("prints every event since an ID as JSON lines, and exits 0 on Ctrl-C", async () => {
    const a = await server.client.session.create.mutate({ title: "first" });
    await server.client.session.update.mutate({ id: a.id, title: "second" });
    const { lines, code } = await watch(["--url", server.url, "--json", "--since", "0"], 3, async () => {
      await server.client.session.delete.mutate({ id: a.id });
    });
    expect(code).toBe(0);
    const events = lines.map(
      (line) => JSON.parse(line) as { id: string; type: string; properties: { info: { id: string; title: string } } },
    );
    expect(events.map(({ id, type, properties }) => [id, type, properties.info.title])).toEqual([
      ["1", "session.created", "first"],
      ["2", "session.updated", "second"],
      ["3", "session.deleted", "second"],
    ]);
  });

  it("prints one line per event in text, filtered to one session's tree", async () => {
    const root = await server.client.session.create.mutate({ title: "watched" });
    const { lines } = await watch(["--url", server.url, "--session", root.id], 1, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // let it connect: it starts from now
      await server.client.session.create.mutate({ title: "not watched" });
      await server.client.session.create.mutate({ parentId: root.id, title: "child of watched" });
    });
    expect(lines[0]).toMatch(/^\d+\s+session\.created\s+ses_\w+\s+r1\s+child of watched$/);
  });

  it("refuses a bad --since with exit code 2", async () => {
    const result = await runCli(["watch", "--url", server.url, "--since", "yesterday"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/must be an event ID/);
  });
});
