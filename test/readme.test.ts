/** The README's TypeScript examples run, unchanged but for the server's URL, against a real server. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { cleanEnv, runScript } from "./support/process.ts";
import { postgresUrl } from "./support/targets.ts";
import { spawnSync } from "node:child_process";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
const severalInstances = /## Running several instances[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
// Inside the project, so that the examples resolve the workspace packages.
const scratch = join(root, "test", ".readme-examples");

describe("README examples", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    mkdirSync(scratch, { recursive: true });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("has examples to run", () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples.map((code, index) => [index + 1, code] as const))("example %i runs", async (index, code) => {
    const file = join(scratch, `example-${index}.ts`);
    writeFileSync(file, code.replaceAll("http://127.0.0.1:3000", server.url));
    const result = await runScript(file);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});

// The sequence is written for root, as on the build machines (it runs PostgreSQL as the postgres user).
describe.skipIf(!postgresUrl || process.getuid?.() !== 0)("README: running several instances", () => {
  it("runs as written from any folder (here one only root can read): PostgreSQL, two servers, create through one, read through the other", () => {
    expect(severalInstances).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "sessiond-readme-")); // mode 0700: closed to the postgres user
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    try {
      const result = spawnSync("bash", ["-e", "-c", severalInstances!], { cwd: dir, env: cleanEnv(), encoding: "utf8", timeout: 60_000 });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.match(/ses_0123456789abABCDEFGHIJKLMN {2}made on A/g)).toHaveLength(2);
      expect(result.stderr).toContain("sessiond: session ses_0123456789abABCDEFGHIJKLMN already exists");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
