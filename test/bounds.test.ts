/**
 * The work and memory one request can cause are bounded: a batch of list pages reads at most
 * --max-sessions-per-request sessions, and an answer whose reader stopped reading is dropped after
 * --write-timeout-ms, freeing it. Each bound is also run weakened, to show it is what holds.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { get } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionClient } from "@sessiond/client";
import { startServerProcess, type ServerProcess } from "./support/process.ts";

const scratch = mkdtempSync(join(tmpdir(), "sessiond-bounds-"));
const db = join(scratch, "bounds.db");
const PAGE = 200;
const BLOB = "m".repeat(15_000);

/** Resident memory of a process, in bytes. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

/** A batched GET of `pages` first pages of 200 sessions. */
function listBatch(pages: number): string {
  const input = Object.fromEntries(Array.from({ length: pages }, (_, index) => [index, { json: { limit: PAGE } }]));
  return `/trpc/${Array(pages).fill("session.list").join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
}

let servers: ServerProcess[] = [];
async function start(...args: string[]): Promise<ServerProcess> {
  const server = await startServerProcess(["--db", db, ...args]);
  servers.push(server);
  return server;
}

beforeAll(async () => {
  // 200 sessions of about 15 KB each: one page is 3 MB of answer.
  const seeder = await start();
  const client = createSessionClient({ url: seeder.url, maxItems: 50 });
  await Promise.all(Array.from({ length: PAGE }, (_, i) => client.session.create.mutate({ metadata: { i, blob: BLOB } })));
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  servers = [];
  rmSync(scratch, { recursive: true, force: true });
});

describe("the read budget of one request", () => {
  it("answers the pages within 1,000 sessions and refuses the rest of a batch with 400", async () => {
    const server = await start();
    const response = await fetch(`${server.url}${listBatch(6)}`);
    expect(response.status).toBe(207);
    const items = (await response.json()) as { result?: unknown; error?: { json: { message: string; data: { httpStatus: number } } } }[];
    expect(items.filter((item) => item.result)).toHaveLength(5);
    const refused = items.filter((item) => item.error);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.error!.json.data.httpStatus).toBe(400);
    expect(refused[0]!.error!.json.message).toContain("more than 1000 sessions");
  });

  it("keeps a 100-call batch of full pages to the budget's size of answer", async () => {
    const server = await start();
    const response = await fetch(`${server.url}${listBatch(100)}`);
    const text = await response.text();
    // Five pages of about 3 MB; unbounded, the same 7 KB request made a 300 MB answer.
    expect(text.length).toBeLessThan(20 * 1024 * 1024);
    expect((JSON.parse(text) as unknown[]).length).toBe(100);
  });

  it("is what refuses: with the budget raised, the same six pages are all answered", async () => {
    const server = await start("--max-sessions-per-request", "1000000");
    const response = await fetch(`${server.url}${listBatch(6)}`);
    expect(response.status).toBe(200);
  });
});

describe("readers that stop reading", () => {
  /** The server's open sockets: its listening socket and one per connection. */
  function sockets(pid: number): number {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:");
      } catch {
        return false; // closed while we looked
      }
    }).length;
  }

  async function until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
    for (const end = Date.now() + deadlineMs; Date.now() < end; ) {
      if (condition()) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return condition();
  }

  /**
   * Sends a 5-page batch (about 15 MB of answer, more than the kernel's socket buffers hold) and
   * never reads: the answer stays with the server until it gives up on the connection.
   */
  function stalledReader(server: ServerProcess) {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.pause();
    socket.on("error", () => undefined);
    socket.write(`GET ${listBatch(5)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    return socket;
  }

  /** /healthz on a connection of its own, closed after the answer. */
  function health(server: ServerProcess): Promise<number> {
    return new Promise((resolve, reject) => {
      get(`${server.url}/healthz`, { agent: false, headers: { connection: "close" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      }).on("error", reject);
    });
  }

  it("drops the connections of stalled readers after the write timeout, holding bounded memory meanwhile", async () => {
    // Heartbeats must come more often than the timeout (config.ts refuses the pair otherwise).
    const server = await start("--write-timeout-ms", "1000", "--event-heartbeat-ms", "500");
    const pid = server.child.pid!;
    const baseline = sockets(pid);
    const before = rss(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 50);
    const readers = Array.from({ length: 4 }, () => stalledReader(server));
    try {
      expect(await until(() => sockets(pid) >= baseline + 4, 10_000)).toBe(true);
      // Other callers are served meanwhile.
      expect(await health(server)).toBe(200);
      // Each connection is dropped once it has made no progress for the timeout.
      expect(await until(() => sockets(pid) <= baseline, 30_000)).toBe(true);
    } finally {
      clearInterval(sampler);
      for (const reader of readers) reader.destroy();
    }
    console.info(`four stalled readers: RSS ${(before / 2 ** 20).toFixed(0)} -> peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    // Four answers of 15 MB held at once, with their JSON: far from the gigabytes an unbounded batch held.
    expect(peak - before).toBeLessThan(400 * 1024 * 1024);
  });

  it("is what drops them: without it, a stalled reader's connection is still held long after", async () => {
    const server = await start("--write-timeout-ms", "600000");
    const pid = server.child.pid!;
    const baseline = sockets(pid);
    const reader = stalledReader(server);
    try {
      expect(await until(() => sockets(pid) >= baseline + 1, 10_000)).toBe(true);
      // Five times the timeout that dropped them above.
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(sockets(pid)).toBe(baseline + 1);
    } finally {
      reader.destroy();
    }
  });
});
