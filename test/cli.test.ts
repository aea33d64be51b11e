/** The sessiond CLI, run as a process the way users run it. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { describeSettings } from "@sessiond/server/config";
import { freshId } from "./support/ids.ts";
import { CLI, cleanEnv, runCli, startServerProcess } from "./support/process.ts";

describe("sessiond client commands", () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(["--url", server.url, ...args]);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it("creates a session with a chosen ID and prints it", async () => {
    const id = freshId();
    const result = await cli("create", "--id", id, "--title", "from the CLI", "--metadata", '{"team":"infra"}');
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`${id}  from the CLI`);
    expect(result.stdout).toContain('metadata: {"team":"infra"}');
    expect(await server.client.session.get.query({ id })).toMatchObject({ title: "from the CLI", metadata: { team: "infra" } });
  });

  it("prints JSON with --json", async () => {
    const result = await cli("--json", "create");
    expect(result.code).toBe(0);
    const session = JSON.parse(result.stdout);
    expect(session).toMatchObject({ revision: 1, parentId: null, archivedAt: null });
    expect((await server.client.session.get.query({ id: session.id })).createdAt.toISOString()).toBe(session.createdAt);
    // Also after the command's name.
    const after = await cli("get", session.id, "--json");
    expect(JSON.parse(after.stdout)).toEqual(session);
  });

  it("says a duplicate already exists, on one line, with exit code 1", async () => {
    const id = freshId();
    await server.client.session.create.mutate({ id });
    const result = await cli("create", "--id", id);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`sessiond: session ${id} already exists\n`);
  });

  it("names the bad field of invalid input", async () => {
    const result = await cli("create", "--id", "ses_nope");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sessiond: invalid input: id: Invalid session ID: .+\n$/);
  });

  it("says an unknown session is not found", async () => {
    const id = freshId();
    const result = await cli("get", id);
    expect(result).toMatchObject({ code: 1, stderr: `sessiond: session ${id} not found\n` });
  });

  it("gets, lists, updates and deletes", async () => {
    const parent = await server.client.session.create.mutate({ title: "parent" });
    const child = await server.client.session.create.mutate({ parentId: parent.id, title: "child" });

    const got = await cli("get", parent.id);
    expect(got.stdout).toContain(`${parent.id}  parent`);

    const listed = await cli("list", "--parent", parent.id);
    expect(listed.stdout.trim().split("\n")).toEqual([`${child.id}  ${child.createdAt.toISOString()}  child`]);

    const children = await cli("--json", "children", parent.id);
    expect(JSON.parse(children.stdout).items.map((session: { id: string }) => session.id)).toEqual([child.id]);

    const updated = await cli("--json", "update", child.id, "--title", "renamed", "--archive", "--expected-revision", "1");
    expect(JSON.parse(updated.stdout)).toMatchObject({ title: "renamed", revision: 2, archivedAt: expect.any(String) });

    const stale = await cli("update", child.id, "--title", "again", "--expected-revision", "1");
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^sessiond: precondition failed: .*revision 2.*\n$/);

    const deleted = await cli("delete", parent.id);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted 2 sessions: ${parent.id} ${child.id}\n` });
  });

  it("pages a list with the printed cursor", async () => {
    const parent = await server.client.session.create.mutate({});
    for (let i = 0; i < 3; i++) await server.client.session.create.mutate({ parentId: parent.id });
    const first = await cli("list", "--parent", parent.id, "--limit", "2");
    const cursor = /more: --cursor (\S+)/.exec(first.stdout)?.[1];
    expect(cursor).toBeDefined();
    const second = await cli("list", "--parent", parent.id, "--limit", "2", "--cursor", cursor!);
    expect(second.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("rejects bad usage with exit code 2", async () => {
    expect((await cli("list", "--limit", "many")).code).toBe(2);
    expect((await cli("create", "--metadata", "{not json")).code).toBe(2);
    expect((await cli("frobnicate")).code).toBe(2);
  });

  it("says so in one line when the server cannot be reached", async () => {
    const result = await runCli(["--url", "http://127.0.0.1:9", "list"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sessiond: cannot reach http:\/\/127\.0\.0\.1:9: .+\n$/);
  });

  it("takes the server URL from SESSIOND_URL", async () => {
    await server.client.session.create.mutate({});
    const result = await runCli(["--json", "list", "--limit", "1"], { SESSIOND_URL: server.url });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).items).toHaveLength(1);
  });
});

describe("sessiond serve", () => {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-serve-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves until SIGTERM, then exits 0, keeping the data for the next start", async () => {
    const db = join(dir, "keep.db");
    const first = await startServerProcess(["--db", db]);
    const id = freshId();
    expect((await runCli(["--url", first.url, "create", "--id", id])).code).toBe(0);
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(first.logs.some((line) => JSON.parse(line).msg === "stopped")).toBe(true);

    const second = await startServerProcess([], { SESSIOND_DB: db });
    expect((await runCli(["--url", second.url, "get", id])).code).toBe(0);
    expect(await second.stop("SIGINT")).toBe(0);
  });

  it("logs JSON lines with the URL it listens on", async () => {
    const server = await startServerProcess(["--db", join(dir, "log.db")]);
    const listening = JSON.parse(server.logs.find((line) => line.includes('"listening"'))!);
    expect(listening).toMatchObject({ level: 30, msg: "listening", url: server.url });
    await server.stop();
  });

  it("refuses bad configuration with one line and exit code 2", async () => {
    const result = await runCli(["serve", "--port", "http"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^sessiond: invalid configuration: --port: .+\n$/);
    const fromEnv = await runCli(["serve"], { PORT: "99999" });
    expect(fromEnv.stderr).toMatch(/^sessiond: invalid configuration: PORT: .+\n$/);
  });

  it("names the setting, the value and what it expects when a setting is bad", async () => {
    const result = await runCli(["serve"], { SESSIOND_WORKERS: "abc" });
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: 'sessiond: invalid configuration: SESSIOND_WORKERS: got "abc", expected an integer from 1 to 1024, or "auto" (one per CPU)\n',
    });
  });

  it("serve --help shows every setting's default", async () => {
    const data = join(dir, "xdg");
    const help = await runCli(["serve", "--help"], { XDG_DATA_HOME: data });
    expect(help.code).toBe(0);
    // Each option's text, its wrapped lines joined.
    const options = new Map<string, string>();
    let current = "";
    for (const line of help.stdout.split("\n")) {
      const start = /^ {2}(--[a-z-]+)/.exec(line);
      if (start) options.set((current = start[1]!), line.trim());
      else if (current && line.trim()) options.set(current, `${options.get(current)} ${line.trim()}`);
    }
    expect(options.get("--port")).toContain("(default: 3000)");
    expect(options.get("--sqlite-sync")).toContain("(default: full)");
    expect(options.get("--workers")).toContain("(default: 1)");
    expect(options.get("--db")).toContain(`(default: ${join(data, "sessiond", "sessiond.db")})`);
    expect(options.get("--no-console")).toContain("(default: on)");
    expect(options.get("--token")).not.toContain("(default:");
    // The rest as the configuration has them (the database's depends on XDG_DATA_HOME, above).
    for (const setting of describeSettings().filter(({ key }) => key !== "db")) {
      const text = options.get(setting.key === "console" ? "--no-console" : setting.flag);
      if (setting.default !== undefined) expect(text, setting.flag).toContain(`(default: ${setting.default})`);
    }
  });

  it("refuses a database URL it cannot use with one line and exit code 2, creating nothing", async () => {
    for (const db of ["mysql://x/y", "sqlite:", "redis://localhost"]) {
      const result = await runCli(["serve", "--port", "0", "--db", db]);
      expect(result.code, db).toBe(2);
      expect(result.stderr).toMatch(/^sessiond: invalid configuration: --db: unsupported database .+\n$/);
    }
    expect(existsSync("mysql:")).toBe(false);
    expect(existsSync("redis:")).toBe(false);
  });

  it("refuses an event heartbeat that the write timeout would cut, naming both in one line, with exit code 2", async () => {
    // Idle event streams write only heartbeats: with these two, every one would be closed before its first.
    const db = join(dir, "heartbeat.db");
    const result = await runCli(["serve", "--port", "0", "--db", db, "--event-heartbeat-ms", "40000"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^sessiond: invalid configuration: --event-heartbeat-ms \(40000\) must be less than --write-timeout-ms \(30000\)[^\n]*\n$/,
    );
    expect(existsSync(db)).toBe(false);
  });

  it("takes a sqlite: URL as the file it names", async () => {
    const file = join(dir, "from-url.db");
    const server = await startServerProcess(["--db", `sqlite://${file}`]);
    expect(existsSync(file)).toBe(true);
    expect(await server.stop()).toBe(0);
  });

  it("exits 1 with one line when it cannot listen", async () => {
    const running = await startServerProcess(["--db", join(dir, "a.db")]);
    const port = new URL(running.url).port;
    const result = await runCli(["serve", "--port", port, "--db", join(dir, "b.db")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sessiond: cannot start: .*EADDRINUSE.*\n$/);
    await running.stop();
  });
});

describe("sessiond output into a pipe its reader closed", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it("sessiond openapi | head -1 prints the first line and exits 0 without a word on stderr", () => {
    const result = spawnSync("bash", ["-o", "pipefail", "-c", `"${process.execPath}" "${CLI}" openapi | head -1`], {
      env: cleanEnv(),
      encoding: "utf8",
    });
    expect(result).toMatchObject({ status: 0, stdout: "{\n", stderr: "" });
  });

  it("every output command stops quietly when nobody reads its output (EPIPE), with its own exit code", async () => {
    const session = await server.client.session.create.mutate({ title: "piped" });
    const commands = [
      ["openapi"],
      ["id", "new"],
      ["--json", "id", "derive", "key"],
      ["--url", server.url, "list"],
      ["--url", server.url, "get", session.id],
      ["--url", server.url, "children", session.id],
      // Runs until interrupted: the closed pipe ends it.
      ["--url", server.url, "watch", "--since", "0"],
    ];
    for (const args of commands)
      expect(await runCli(args, {}, { closeStdout: true }), args.join(" ")).toEqual({ code: 0, stdout: "", stderr: "" });
    // A failure keeps its exit code (here its JSON error went into the closed pipe).
    expect(await runCli(["--url", server.url, "--json", "get", freshId()], {}, { closeStdout: true })).toEqual({
      code: 1,
      stdout: "",
      stderr: "",
    });
  });
});
