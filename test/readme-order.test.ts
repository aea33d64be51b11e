/**
 * The README's examples run in the order a newcomer meets them, every one on one fresh server,
 * unchanged but for the server's URL (and a time limit for the commands that run until stopped):
 * each must succeed, and where it says what it answers, answer that.
 *
 * Not run here, each by a test of its own: the set-up commands at the top and `npm start`-like
 * commands that start a server (`sessiond serve ...`), the JWT set-up (test/readme-owners.test.ts,
 * it starts its own server), several instances (test/readme.test.ts, PostgreSQL), the browser
 * examples (test/browser.test.ts in Chromium), the React excerpt (test/react-example.test.ts runs
 * the whole app) and the packed install (test/packed.test.ts).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runScript } from "./support/process.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");

interface Block {
  section: string;
  language: string;
  code: string;
}

/** Every fenced block with the section it is in. */
function blocks(): Block[] {
  const found: Block[] = [];
  let section = "";
  for (const part of readme.split(/^(```\w*\n[\s\S]*?^```)$/m)) {
    const fence = /^```(\w*)\n([\s\S]*?)```$/.exec(part);
    if (fence) found.push({ section, language: fence[1]!, code: fence[2]! });
    else for (const heading of part.matchAll(/^#{2,3} (.+)$/gm)) section = heading[1]!;
  }
  return found;
}

/** Whether a block is one this test runs (see the header for the others and where they run). */
function runsHere(block: Block): boolean {
  if (block.language === "ts") return true;
  if (block.language !== "sh") return false;
  if (/sessiond serve|npm (ci|install|pack)|\$PACKAGES/.test(block.code)) return false;
  return block.code.includes("127.0.0.1:3000") || /npx sessiond /.test(block.code);
}

/** What a block's own comments say it answers, checked on its output. */
const SAYS: Record<string, (stdout: string, server: TestServer, dir: string) => Promise<void> | void> = {
  Operations(stdout) {
    expect(stdout).toMatch(/^# TYPE sessiond_http_requests_total counter$/m);
  },
  async Errors(stdout) {
    const [created, got] = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(created.result.data.json).toMatchObject({ id: "ses_0123456789abWireExample001", revision: 1 });
    expect(got.result.data.json.id).toBe("ses_0123456789abWireExample001");
  },
  async "REST and OpenAPI"(stdout, server, dir) {
    const ID = "ses_0123456789abABCDEFGHIJKLMN";
    const [created, duplicate, invalid, got, listed, renamed, deleted] = stdout.trim().split("\n");
    expect(JSON.parse(created!)).toMatchObject({ id: ID, title: "Refactor the parser", revision: 1 });
    expect(duplicate).toMatch(/ 409$/);
    expect(JSON.parse(duplicate!.slice(0, -4))).toMatchObject({ code: "CONFLICT", conflict: { id: ID } });
    expect(invalid).toMatch(/ 400$/);
    expect(JSON.parse(invalid!.slice(0, -4))).toMatchObject({
      code: "BAD_REQUEST",
      fieldErrors: { id: [expect.stringContaining("Invalid session ID")] },
    });
    expect(JSON.parse(got!)).toEqual(JSON.parse(created!));
    expect(JSON.parse(listed!).items.map((session: { id: string }) => session.id)).toContain(ID);
    expect(JSON.parse(renamed!)).toMatchObject({ title: "Renamed", revision: 2 });
    expect(JSON.parse(deleted!)).toEqual({ deleted: [ID] });
    const document = JSON.parse(readFileSync(join(dir, "openapi.json"), "utf8"));
    expect(document).toEqual(await (await fetch(`${server.url}/openapi.json`)).json());
  },
  "Live events"(stdout) {
    // From now on: the stream's opening comment, then nothing; after event 1: the events since.
    expect(stdout).toMatch(/^: sessiond events after \d+$/m);
    expect(stdout).toMatch(/^id: 2\ndata: \{"type":"session\.\w+"/m);
  },
  "The CLI"(stdout) {
    expect(stdout).toContain("ses_0123456789abCliExample0001  Refactor");
    expect(stdout).toContain('"deleted"');
    expect(stdout).toMatch(/session\.created/);
  },
};

/** Runs a shell block with bash -e in `dir`, the project's Node and CLI first on PATH; a command that runs until stopped gets 2 s. */
function bash(code: string, dir: string, url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = code
    .replaceAll("http://127.0.0.1:3000", url)
    .replace(/^(curl -sN .*?|npx sessiond watch .*?)(\s+#.*)?$/gm, "timeout 2 $1 || [ $? -eq 124 ]");
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-c", script], {
      cwd: dir,
      env: cleanEnv({ PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}`, SESSIOND_URL: url, HOME: dir, CURL_HOME: dir }),
    });
    let [stdout, stderr] = ["", ""];
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("close", (exit) => resolve({ code: exit, stdout, stderr }));
  });
}

describe("the README's examples, in order, on one fresh server", () => {
  let server: TestServer;
  let dir: string;
  // Inside the project, so that TypeScript examples resolve the workspace packages.
  const scratch = join(root, "test", ".readme-order");
  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), "sessiond-readme-"));
    mkdirSync(scratch, { recursive: true });
    // Every curl answer ends with a newline, so that answers can be told apart.
    writeFileSync(join(dir, ".curlrc"), 'write-out = "\\n"\n');
    // "From the project": `npx sessiond` finds the project's command.
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("runs every example as written and each answers what it says", async () => {
    const run = blocks().filter(runsHere);
    expect(run.map((block) => `${block.section} (${block.language})`)).toEqual([
      "Owners and tokens (ts)",
      "Operations (sh)",
      "The client (ts)",
      "Errors (sh)",
      "REST and OpenAPI (sh)",
      "Live events (ts)",
      "Live events (sh)",
      "The CLI (sh)",
      "Testing against sessiond (ts)",
      "Testing against sessiond (ts)",
      "Mount sessiond in your own app (ts)",
    ]);
    for (const [index, block] of run.entries()) {
      const where = `${block.section}, block ${index + 1}`;
      if (block.language === "ts") {
        const file = join(scratch, `example-${index + 1}.ts`);
        writeFileSync(file, block.code.replaceAll("http://127.0.0.1:3000", server.url));
        const result = await runScript(file, [], {}, { cwd: scratch });
        expect(result.stderr, where).toBe("");
        expect(result.code, where).toBe(0);
        continue;
      }
      const result = await bash(block.code, dir, server.url);
      expect(result.stderr, where).toBe("");
      expect(result.code, where).toBe(0);
      await SAYS[block.section]?.(result.stdout, server, dir);
    }
  });
});
