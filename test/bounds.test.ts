/**
 * The work and memory one request can cause are bounded: a batch of list pages reads at most
 * --max-sessions-per-request sessions, and an answer whose reader stopped reading is dropped after
 * --write-timeout-ms, freeing it. Each bound is also run weakened, to show it is what holds.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
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
  /**
   * Sends a 5-page batch (about 15 MB of answer, more than the kernel's socket buffers hold) and
   * reads nothing for `stallMs`, then reads what the server still sends.
   */
  function stalledReader(server: ServerProcess, stallMs: number) {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.pause();
    socket.write(`GET ${listBatch(5)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    return new Promise<{ received: number; expected: number }>((resolve) => {
      let received = 0;
      let head = "";
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (head.length < 4096) head += chunk.toString("latin1");
      });
      socket.on("error", () => undefined);
      socket.on("close", () => {
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN);
        const headerBytes = head.indexOf("\r\n\r\n") + 4;
        resolve({ received: received - headerBytes, expected: length });
      });
      setTimeout(() => socket.resume(), stallMs);
    });
  }

  it("drops the answers of stalled readers after the write timeout, holding bounded memory meanwhile", async () => {
    const server = await start("--write-timeout-ms", "1000");
    const before = rss(server.child.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(server.child.pid!))), 50);
    try {
      const readers = Array.from({ length: 4 }, () => stalledReader(server, 3000));
      // Other callers are served meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      for (const { received, expected } of await Promise.all(readers)) {
        expect(expected).toBeGreaterThan(10 * 1024 * 1024);
        expect(received).toBeLessThan(expected);
      }
    } finally {
      clearInterval(sampler);
    }
    console.info(`four stalled readers: RSS ${(before / 2 ** 20).toFixed(0)} -> peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    // Four answers of 15 MB held at once, with their JSON: far from the gigabytes an unbounded batch held.
    expect(peak - before).toBeLessThan(400 * 1024 * 1024);
  });

  it("is what drops them: without it, a reader that resumes after the same stall gets its whole answer", async () => {
    const server = await start("--write-timeout-ms", "600000");
    const { received, expected } = await stalledReader(server, 3000);
    expect(received).toBe(expected);
  });
});
