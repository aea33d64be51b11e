/**
 * Issue 18 §1's loads, timed from outside: how long `/healthz` waits while live events do their
 * work, and what a tree-filtered subscriber holds. One sessiond in its own process (SQLite, or
 * PostgreSQL with --postgres); a prober sends GET /healthz one after another and keeps the slowest.
 *
 *   node --conditions=@sessiond/source bench/event-stalls.ts [--children 99999] [--postgres] [--trpc]
 *   (npm run bench:stalls -- [...])
 *
 * 1. a root with `children` children (created through the API); 50 `GET /event?sessionId=<root>`
 *    opened at once: the slowest /healthz while they open, and the server's RSS per stream;
 * 2. with those ~100,000 events retained, 20 streams resume from 0 filtered to one session created
 *    last: the slowest /healthz until each has its event;
 * 3. a second tree as large is deleted with no stream open: the slowest /healthz meanwhile (the
 *    store's part of a delete);
 * 4. 20 plain streams from now, then the root is deleted (100,000 sessions): the slowest /healthz
 *    until each has every delete event (--trpc: the same through the typed client's subscription,
 *    on a third tree).
 * Wall times on a shared machine: compare runs made one after the other, not across machines.
 */
import { spawn } from "node:child_process";
import { request, type IncomingMessage } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSessionClient } from "@sessiond/client";
import { EventSource } from "eventsource";
import { destroyCluster, durableDatabase } from "./lib/postgres.ts";
import { treeCpuSeconds } from "./lib/cpu.ts";
import { startServe, stopAll, type ServerProcess } from "./lib/proc.ts";

const { values } = parseArgs({
  options: {
    children: { type: "string", default: "99999" },
    opens: { type: "string", default: "50" },
    resumers: { type: "string", default: "20" },
    subscribers: { type: "string", default: "20" },
    postgres: { type: "boolean", default: false },
    trpc: { type: "boolean", default: false },
  },
});
const children = Number(values.children);
const MiB = 1024 * 1024;

/**
 * GET /healthz one after another, each on a new connection (a keep-alive one may be closed by a
 * server that was blocked), until stopped; the slowest answer in ms. In a process of its own: this
 * one is busy reading the subscribers' streams, and its own delays must not count.
 */
const PROBER = `
import { request } from "node:http";
const url = process.argv[1];
let running = true;
let worst = 0;
process.on("message", () => { running = false; });
while (running) {
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const req = request(url + "/healthz", { agent: false }, (res) => { res.resume(); res.on("end", resolve); });
    req.on("error", reject);
    req.end();
  });
  worst = Math.max(worst, performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 2));
}
process.send(worst, () => process.exit(0));
`;

function probeHealthz(url: string): { stop(): Promise<number> } {
  const child = spawn(process.execPath, ["--input-type=module", "-e", PROBER, url], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const worst = new Promise<number>((resolve, reject) => {
    child.once("message", (value) => resolve(Number(value)));
    child.once("exit", (code) => reject(new Error(`the /healthz prober exited (${code})`)));
  });
  return {
    async stop() {
      child.send("stop");
      return Number((await worst).toFixed(1));
    },
  };
}

/** Creates sessions in batches of 100 through tRPC; returns their IDs. */
async function createMany(url: string, count: number, parentId: string | null): Promise<string[]> {
  const ids: string[] = [];
  for (let done = 0; done < count; done += 100) {
    const n = Math.min(100, count - done);
    const body: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) body[i] = { json: parentId ? { parentId, title: "c" } : { title: "c" } };
    const path = `/trpc/${Array.from({ length: n }, () => "session.create").join(",")}?batch=1`;
    const response = await fetch(url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answers = (await response.json()) as { result: { data: { json: { id: string } } } }[];
    for (const answer of answers) ids.push(answer.result.data.json.id);
  }
  return ids;
}

/** A GET /event stream that counts frames (each event starts with "id: "); resolves with the 200 answer. */
function openStream(url: string, headers: Record<string, string> = {}) {
  let frames = 0;
  let tail = "";
  const waiters: (() => void)[] = [];
  let response: IncomingMessage | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    const req = request(url, { agent: false, headers }, (res) => {
      response = res;
      if (res.statusCode !== 200) return reject(new Error(`GET /event answered ${res.statusCode}`));
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        // Every frame starts a line with "id: " (the stream opens with a comment); one may be cut
        // between chunks, so the last 4 characters are searched again (too few to hold a whole one).
        frames += ((tail + chunk).match(/\nid: /g) ?? []).length;
        tail = chunk.length >= 4 ? chunk.slice(-4) : (tail + chunk).slice(-4);
        for (const wake of waiters.splice(0)) wake();
      });
      resolve();
    });
    req.on("error", reject);
    req.end();
  });
  return {
    opened,
    get frames() {
      return frames;
    },
    async waitFor(count: number) {
      while (frames < count) await new Promise<void>((wake) => waiters.push(wake));
    },
    close: () => response?.destroy(),
  };
}

async function rssMiB(server: ServerProcess): Promise<number> {
  return server.rss() / MiB;
}

async function deleteSession(url: string, id: string): Promise<void> {
  const response = await fetch(`${url}/session/${id}`, { method: "DELETE" });
  if (!response.ok) throw new Error(`DELETE /session/${id} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  await response.arrayBuffer();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-stalls-"));
  const db = values.postgres ? await durableDatabase() : join(dir, "sessions.db");
  // `sessiond serve` as users run it. A delete of 100,000 sessions on PostgreSQL runs statements
  // that can take longer than the default 5 s statement timeout on a busy machine.
  const server = await startServe(["--db", db, "--pg-statement-timeout-ms", "60000"]);
  const report: Record<string, unknown> = { engine: values.postgres ? "postgres" : "sqlite", children };
  try {
    const [root] = await createMany(server.url, 1, null);
    let seeded = performance.now();
    await createMany(server.url, children, root!);
    console.error(`seeded ${children} children in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

    const step = (name: string) => console.error(`${name}...`);
    // 1. Tree-filtered opens.
    step("filtered opens");
    const before = await rssMiB(server);
    let probe = probeHealthz(server.url);
    const opens = Array.from({ length: Number(values.opens) }, () => openStream(`${server.url}/event?sessionId=${root}`));
    await Promise.all(opens.map((stream) => stream.opened));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const opensWorst = await probe.stop();
    const after = await rssMiB(server);
    report.filteredOpens = {
      streams: opens.length,
      worstHealthzMs: opensWorst,
      rssPerStreamMiB: Number(((after - before) / opens.length).toFixed(3)),
    };
    for (const stream of opens) stream.close();

    // 2. Filtered resumes from 0 over the retained events.
    step("filtered resumes");
    const [last] = await createMany(server.url, 1, null);
    probe = probeHealthz(server.url);
    const resumers = Array.from({ length: Number(values.resumers) }, () =>
      openStream(`${server.url}/event?sessionId=${last}`, { "last-event-id": "0" }),
    );
    await Promise.all(resumers.map((stream) => stream.opened));
    await Promise.all(resumers.map((stream) => stream.waitFor(1)));
    report.filteredResume = { streams: resumers.length, worstHealthzMs: await probe.stop() };
    for (const stream of resumers) stream.close();

    // 3. A delete of a tree as large with no subscriber: what the store's part costs.
    step("delete alone");
    const [alone] = await createMany(server.url, 1, null);
    await createMany(server.url, children, alone!);
    probe = probeHealthz(server.url);
    let cpu = treeCpuSeconds(server.pid) ?? 0;
    let started = performance.now();
    await deleteSession(server.url, alone!);
    report.deleteAlone = {
      events: children + 1,
      worstHealthzMs: await probe.stop(),
      deleteS: Number(((performance.now() - started) / 1000).toFixed(1)),
      serverCpuS: Number(((treeCpuSeconds(server.pid) ?? 0) - cpu).toFixed(2)),
    };

    // 4. A delete of the whole tree with plain subscribers attached.
    step("delete");
    const subscribers = Array.from({ length: Number(values.subscribers) }, () => openStream(`${server.url}/event`));
    await Promise.all(subscribers.map((stream) => stream.opened));
    probe = probeHealthz(server.url);
    cpu = treeCpuSeconds(server.pid) ?? 0;
    started = performance.now();
    await deleteSession(server.url, root!);
    await Promise.all(subscribers.map((stream) => stream.waitFor(children + 1)));
    report.deleteTree = {
      streams: subscribers.length,
      events: children + 1,
      worstHealthzMs: await probe.stop(),
      deliveredAllS: Number(((performance.now() - started) / 1000).toFixed(1)),
      serverCpuS: Number(((treeCpuSeconds(server.pid) ?? 0) - cpu).toFixed(2)),
    };
    for (const stream of subscribers) stream.close();

    if (values.trpc) {
      step("delete, tRPC subscribers");
      const [second] = await createMany(server.url, 1, null);
      seeded = performance.now();
      await createMany(server.url, children, second!);
      console.error(`seeded ${children} children again in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
      const client = createSessionClient({ url: server.url, EventSource });
      const counts: number[] = [];
      const ready: Promise<void>[] = [];
      const subscriptions = Array.from({ length: Number(values.subscribers) }, (_, index) => {
        counts[index] = 0;
        let started!: () => void;
        ready.push(new Promise<void>((resolve) => (started = resolve)));
        return client.session.events.subscribe({}, { onStarted: () => started(), onData: () => void counts[index]!++ });
      });
      await Promise.all(ready);
      probe = probeHealthz(server.url);
      cpu = treeCpuSeconds(server.pid) ?? 0;
      started = performance.now();
      await deleteSession(server.url, second!);
      while (counts.some((count) => count < children + 1)) await new Promise((resolve) => setTimeout(resolve, 50));
      report.deleteTreeTrpc = {
        streams: subscriptions.length,
        events: children + 1,
        worstHealthzMs: await probe.stop(),
        deliveredAllS: Number(((performance.now() - started) / 1000).toFixed(1)),
        serverCpuS: Number(((treeCpuSeconds(server.pid) ?? 0) - cpu).toFixed(2)),
      };
      for (const subscription of subscriptions) subscription.unsubscribe();
    }
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    await stopAll();
    await destroyCluster();
  }
}

await main();
process.exit(0);
