/** The sessiond commands that need no server (`id new|derive|decode`), and JSON errors with --json, run as processes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { SESSION_ID_PATTERN, decodeSessionIdTime, deriveSessionId } from "@sessiond/shared";
import { freshId } from "./support/ids.ts";
import { runCli } from "./support/process.ts";

describe("sessiond id", () => {
  it("new prints a fresh generated ID carrying the current time", async () => {
    const before = Date.now();
    const [a, b] = await Promise.all([runCli(["id", "new"]), runCli(["id", "new", "--json"])]);
    expect(a).toMatchObject({ code: 0, stderr: "" });
    const id = a.stdout.trim();
    expect(id).toMatch(SESSION_ID_PATTERN);
    expect(decodeSessionIdTime(id).getTime()).toBeGreaterThanOrEqual(before - 1000);
    const other = JSON.parse(b.stdout) as { id: string };
    expect(other.id).toMatch(SESSION_ID_PATTERN);
    expect(other.id).not.toBe(id);
  });

  it("derive prints the ID derived from a key, the same every time", async () => {
    const result = await runCli(["id", "derive", "job-4711"]);
    expect(result).toEqual({ code: 0, stdout: `${deriveSessionId("job-4711")}\n`, stderr: "" });
    expect(JSON.parse((await runCli(["--json", "id", "derive", "job-4711"])).stdout)).toEqual({
      id: deriveSessionId("job-4711"),
      key: "job-4711",
    });
  });

  it("decode prints the time a generated ID carries", async () => {
    const id = (await runCli(["id", "new"])).stdout.trim();
    const time = decodeSessionIdTime(id).toISOString();
    expect((await runCli(["id", "decode", id])).stdout).toContain(`${id}  ${time}`);
    expect(JSON.parse((await runCli(["id", "decode", id, "--json"])).stdout)).toEqual({ id, time });
  });

  it("decode refuses an invalid ID with exit code 1: one line on stderr, or JSON on stdout with --json", async () => {
    const text = await runCli(["id", "decode", "msg_0123456789abABCDEFGHIJKLMN"]);
    expect(text).toEqual({ code: 1, stdout: "", stderr: 'sessiond: invalid session ID: must start with "ses_"\n' });
    const json = await runCli(["id", "decode", "msg_0123456789abABCDEFGHIJKLMN", "--json"]);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe("");
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: "BAD_REQUEST", message: 'invalid session ID: must start with "ses_"' } });
  });

  it("reports a usage error as JSON with --json, with exit code 2", async () => {
    const result = await runCli(["--json", "id", "frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: "USAGE", message: expect.stringContaining("frobnicate") } });
  });
});

describe("sessiond client commands with --json errors", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it("prints the server's error data as {error: {code, message, ...}} on stdout, exit code 1", async () => {
    const id = freshId();
    await server.client.session.create.mutate({ id });
    const result = await runCli(["--url", server.url, "--json", "create", "--id", id]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: "CONFLICT",
        httpStatus: 409,
        requestId: expect.any(String),
        conflict: { id },
        message: `Session ${id} already exists`,
      },
    });
    const invalid = JSON.parse((await runCli(["--url", server.url, "get", "nope", "--json"])).stdout);
    expect(invalid.error).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { id: [expect.stringContaining("session ID")] } });
  });

  it("says the server is unreachable in JSON too", async () => {
    const result = await runCli(["--url", "http://127.0.0.1:9", "--json", "get", freshId()]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { code: "UNREACHABLE", message: expect.stringContaining("cannot reach http://127.0.0.1:9") },
    });
  });
});
