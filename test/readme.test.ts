/** The README's TypeScript examples run, unchanged but for the server's URL, against a real server. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/server/testing";
import { runScript } from "./support/process.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const examples = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
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
