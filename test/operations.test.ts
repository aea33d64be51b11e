/** Operations: an access log line per request, and Prometheus metrics at GET /metrics. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { createSessionClient } from "@sessiond/client";
import { freshId } from "./support/ids.ts";
import { startServerProcess, type ServerProcess } from "./support/process.ts";
import { freshPostgresDatabase, postgresUrl } from "./support/targets.ts";

const scratch = mkdtempSync(join(tmpdir(), "sessiond-ops-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TOKEN = "metrics-token-0123456789";

/** The value of one sample line of the metrics text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf("} "));
    if (wanted.every((pair) => labelText.split(",").includes(pair))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** Waits until the server has logged `count` lines matching `match` (logs are written asynchronously). */
async function logged(server: ServerProcess, match: (entry: Record<string, unknown>) => boolean, count: number) {
  for (let i = 0; i < 100; i++) {
    const found = server.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter(match);
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter(match);
}

describe("access log and metrics", () => {
  it("logs one line per request with its method, route, status, duration and request ID, and counts it", async () => {
    const server = await startServerProcess(["--db", join(scratch, "log.db")]);
    try {
      const client = createSessionClient({ url: server.url, maxItems: 1 });
      const session = await client.session.create.mutate({});
      await client.session.get.query({ id: session.id });
      const missing = await fetch(`${server.url}/session/${freshId()}`, { headers: { "x-request-id": "req-ops-1" } });
      expect(missing.status).toBe(404);

      const lines = await logged(server, (entry) => entry.msg === "request", 3);
      expect(lines.map((entry) => [entry.method, entry.route, entry.status])).toEqual([
        ["POST", "session.create", 200],
        ["GET", "session.get", 200],
        ["GET", "GET /session/{id}", 404],
      ]);
      expect(lines[2]).toMatchObject({ level: 30, requestId: "req-ops-1", ms: expect.any(Number) });

      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(sample(text, "sessiond_http_requests_total", { route: "session.create", status: "200" })).toBe(1);
      expect(sample(text, "sessiond_http_requests_total", { route: "GET /session/{id}", status: "404" })).toBe(1);
      expect(sample(text, "sessiond_http_request_duration_seconds_count", { route: "session.get", status: "200" })).toBe(1);
      expect(sample(text, "sessiond_store_operation_duration_seconds_count", { engine: "sqlite", operation: "insert" })).toBe(1);
      expect(sample(text, "sessiond_store_operation_duration_seconds_count", { engine: "sqlite", operation: "get" })).toBe(2);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    } finally {
      await server.stop();
    }
  });

  it("labels unknown procedures and paths from a fixed set, so callers cannot grow the metrics", async () => {
    const server = await startServerProcess(["--db", join(scratch, "labels.db"), "--access-log-sample", "0"]);
    try {
      for (let i = 0; i < 5; i++) {
        await fetch(`${server.url}/trpc/no.such.procedure${i}`);
        await fetch(`${server.url}/random/path/${i}`);
      }
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(sample(text, "sessiond_http_requests_total", { route: "unknown", status: "404" })).toBe(5);
      expect(sample(text, "sessiond_http_requests_total", { route: "other", status: "404" })).toBe(5);
      expect(text).not.toContain("no.such.procedure");
      // Sampled to nothing: no access log lines.
      expect(server.logs.some((line) => JSON.parse(line).msg === "request")).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("counts the calls the store could not serve (SQLite locked by another process)", async () => {
    const db = join(scratch, "locked.db");
    const server = await startServerProcess(["--db", db, "--busy-timeout-ms", "100", "--access-log-sample", "0"]);
    const holder = new DatabaseSync(db, { timeout: 1000 });
    try {
      holder.exec("BEGIN IMMEDIATE");
      const response = await fetch(`${server.url}/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status).toBe(503);
      holder.exec("ROLLBACK");
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(
        sample(text, "sessiond_store_unavailable_total", { engine: "sqlite", reason: "the database is locked by another process" }),
      ).toBe(1);
    } finally {
      holder.close();
      await server.stop();
    }
  });

  it("keeps /metrics behind the token when one is set", async () => {
    const server = await startServerProcess(["--db", join(scratch, "token.db"), "--token", TOKEN]);
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      const allowed = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get("content-type")).toContain("text/plain");
    } finally {
      await server.stop();
    }
  });

  it.skipIf(!postgresUrl)("reports the PostgreSQL pool's connections", async () => {
    const server = await startServerProcess(["--db", await freshPostgresDatabase(), "--pg-pool-size", "3"]);
    try {
      await createSessionClient({ url: server.url }).session.create.mutate({});
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(sample(text, "sessiond_pg_pool_connections", { state: "total" })).toBeGreaterThanOrEqual(1);
      expect(sample(text, "sessiond_pg_pool_connections", { state: "waiting" })).toBe(0);
      expect(sample(text, "sessiond_store_operation_duration_seconds_count", { engine: "postgres", operation: "insert" })).toBe(1);
    } finally {
      await server.stop();
    }
  });
});
