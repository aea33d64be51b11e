/**
 * examples/host-app as a team with its own tRPC app has it: its own initTRPC, context, auth
 * middleware and node:http server, mounting sessiond's procedures under `sessions` and sessiond's
 * HTTP surface under /sessiond. Installed outside this repository from the packed tarballs, on
 * tRPC 11.19.0 (the lowest version sessiond's peer range takes, and one its lean paths were not
 * verified against), type-checked, and run.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installExample, type ExampleInstall } from "./support/packed.ts";
import { runScript, startListening, type ServerProcess } from "./support/process.ts";

/** Outside this repository: without the workspace's source condition. */
const OUTSIDE = { NODE_OPTIONS: "" };

describe("the host-app example (examples/host-app)", () => {
  let example: ExampleInstall;
  let host: ServerProcess;
  beforeAll(async () => {
    example = await installExample("host-app", ["shared", "client", "console", "server"]);
    host = await startListening(
      [join(example.dir, "src", "server.ts")],
      { ...OUTSIDE, DB: join(example.dir, "sessions.db"), PORT: "0" },
      {
        message: "host listening",
        cwd: example.dir,
      },
    );
  }, 240_000);
  afterAll(async () => {
    await host?.stop();
    example?.remove();
  });

  it("installs one @trpc/client and one @trpc/server, the host's 11.19.0, and type-checks with them", () => {
    expect(example.versions(["@trpc/client", "@trpc/server"])).toEqual({ "@trpc/client": ["11.19.0"], "@trpc/server": ["11.19.0"] });
    example.bin("tsc", ["--noEmit"]);
  });

  it("says once in its log that tRPC 11.19.0 takes the stock path (the lean paths were verified on other versions)", async () => {
    // sessiond's log lines are written in batches (up to 250 ms later): wait for it.
    const stockPathLines = () => host.logs.filter((line) => line.includes("stock path"));
    await expect.poll(() => stockPathLines().length).toBeGreaterThan(0);
    const lines = stockPathLines();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ installed: { "@trpc/server": "11.19.0" } });
  });

  it("through the host's router: the host's auth refuses an anonymous call, an authorised create and its duplicate narrow with sessiond's helpers, events arrive", async () => {
    const run = await runScript(join(example.dir, "src", "client.ts"), [host.url], OUTSIDE, { cwd: example.dir });
    expect(run.stderr).toBe("");
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toEqual({
      anonymous: "UNAUTHORIZED",
      created: expect.stringMatching(/^ses_/),
      event: `session.created ${result.created}`,
      duplicate: { code: "CONFLICT", conflict: result.created },
      createdAt: "a Date",
      whoami: "alice",
    });
  });

  it("serves sessiond's REST routes, its document and its own tRPC under /sessiond, and leaves other paths to the host", async () => {
    const created = await fetch(`${host.url}/sessiond/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "over REST" }),
    });
    expect(created.status).toBe(200);
    const session = (await created.json()) as { id: string };
    expect(((await (await fetch(`${host.url}/sessiond/session/${session.id}`)).json()) as { title: string }).title).toBe("over REST");
    const document = (await (await fetch(`${host.url}/sessiond/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(document.servers).toEqual([expect.objectContaining({ url: "/sessiond" })]);
    const health = await fetch(`${host.url}/sessiond/trpc/health`);
    expect(((await health.json()) as { result: { data: { json: { status: string } } } }).result.data.json.status).toBe("ok");
    const other = await fetch(`${host.url}/elsewhere`);
    expect([other.status, await other.text()]).toEqual([404, "Not one of the host's pages\n"]);
  });
});
