/** `sessiond watch`: the CLI prints events as they come, from now or from a given event ID. */
import { createInterface } from "node:readline";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { runCli, startCli } from "./support/process.ts";

interface Watch {
  lines: string[];
  /** Resolves once `count` lines are printed (rejects after 20 s, or when the command exits first). */
  printed(count: number): Promise<string[]>;
  /** Interrupts it (Ctrl-C) and resolves with its exit code. */
  interrupt(): Promise<number | null>;
}

/** Runs `sessiond watch ...` until interrupted. */
function watch(args: string[]): Watch {
  const child = startCli(["watch", ...args]);
  child.stdin.end();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  return {
    lines,
    printed: (count) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (lines.length < count) return;
          finish();
          resolve(lines.slice(0, count));
        };
        const fail = (why: string) => () => {
          finish();
          reject(new Error(`watch printed ${lines.length} of ${count} lines (${why}); stderr: ${stderr}`));
        };
        const timer = setTimeout(fail("timed out"), 20_000);
        void exited.then(fail("it exited"));
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    interrupt() {
      if (child.exitCode === null) child.kill("SIGINT");
      return exited;
    },
  };
}

describe("sessiond watch", () => {
  // Each test has a server of its own: event IDs start at 1, whatever ran before.
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it("prints every event since an ID as JSON lines, and exits 0 on Ctrl-C", async () => {
    const a = await server.client.session.create.mutate({ title: "first" });
    await server.client.session.update.mutate({ id: a.id, title: "second" });
    const watching = watch(["--url", server.url, "--json", "--since", "0"]);
    let code: number | null;
    try {
      await server.client.session.delete.mutate({ id: a.id });
      await watching.printed(3);
    } finally {
      code = await watching.interrupt();
    }
    expect(code).toBe(0);
    const events = watching.lines.map(
      (line) => JSON.parse(line) as { id: string; type: string; properties: { info: { id: string; title: string } } },
    );
    expect(events.map(({ id, type, properties }) => [id, type, properties.info.title])).toEqual([
      ["1", "session.created", "first"],
      ["2", "session.updated", "second"],
      ["3", "session.deleted", "second"],
    ]);
  });

  it("prints one line per event in text, from now, filtered to one session's tree", async () => {
    const root = await server.client.session.create.mutate({ title: "watched" });
    const watching = watch(["--url", server.url, "--session", root.id]);
    try {
      // It starts from now, once connected: keep making events in and out of the tree until it prints.
      let printed = false;
      const first = watching.printed(1).finally(() => (printed = true));
      while (!printed) {
        await server.client.session.create.mutate({ title: "not watched" });
        await server.client.session.create.mutate({ parentId: root.id, title: "child of watched" });
        await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      await first;
    } finally {
      await watching.interrupt();
    }
    // Neither the root's own creation (before it started) nor a session outside the tree.
    expect(watching.lines.length).toBeGreaterThan(0);
    for (const line of watching.lines) expect(line).toMatch(/^\d+\s+session\.created\s+ses_\w+\s+r1\s+child of watched$/);
  });

  it("refuses a bad --since with exit code 2", async () => {
    const result = await runCli(["watch", "--url", server.url, "--since", "yesterday"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/must be an event ID/);
  });
});
