/** The README's REST examples (curl) run as written, but for the server's URL, against a real server. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { cleanEnv } from "./support/process.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const curlExamples = /## REST and OpenAPI[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
const ID = "ses_0123456789abABCDEFGHIJKLMN";

describe("README: REST and OpenAPI", () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "sessiond-readme-rest-"));
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the curl examples as written, with the answers the comments promise", async () => {
    expect(curlExamples).toBeDefined();
    // Asynchronously: the server answering the examples runs in this process.
    // A curlrc that ends every answer with a newline, so the test can tell them apart.
    writeFileSync(join(dir, ".curlrc"), 'write-out = "\\n"\n');
    const env = cleanEnv({ HOME: dir, CURL_HOME: dir });
    const result = await promisify(execFile)("bash", ["-e", "-c", curlExamples!.replaceAll("http://127.0.0.1:3000", server.url)], {
      cwd: dir,
      env,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.stderr).toBe("");
    // One answer a line; the second and third end with their status code.
    const answers = result.stdout.trim().split("\n");
    const [created, duplicate, invalid, got, listed, renamed, deleted] = answers;
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
  });
});
