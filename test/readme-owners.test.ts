/** The README's JWT set-up (Owners and tokens) runs as written, but for the port, with the answers its comments promise. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cleanEnv } from "./support/process.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const setUp = /## Owners and tokens[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
const ID = "ses_0123456789abABCDEFGHIJKLMN";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Runs a script in a process group of its own, which is killed afterwards: a server it left running goes too. */
function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-c", script], { cwd: root, env: cleanEnv(), detached: true });
    let [stdout, stderr] = ["", ""];
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(killGroup, 50_000);
    // Once bash exits, whatever it left running goes; then its output is complete.
    child.once("exit", () => {
      clearTimeout(timer);
      killGroup();
    });
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("README: owners and tokens", () => {
  it("runs the JWT set-up as written: two owners with one ID, the operator seeing both and acting for one, a refused token", async () => {
    expect(setUp).toBeDefined();
    const port = await freePort();
    const result = await bash(setUp!.replaceAll("3000", String(port)));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = result.stdout;
    // The creates print each session, each its owner's.
    expect(out).toMatch(new RegExp(`${ID} {2}alice's\\n {2}owner: {4}alice`));
    expect(out).toMatch(new RegExp(`${ID} {2}bob's\\n {2}owner: {4}bob`));
    const lines = out.split("\n");
    const listed = lines.filter((line) => line.startsWith(`${ID}  20`));
    // bob's list: his one session; the operator's: both.
    expect(listed.map((line) => line.split("  ").at(-1))).toEqual(["bob's", expect.stringMatching(/'s$/), expect.stringMatching(/'s$/)]);
    expect(
      listed
        .slice(1)
        .map((line) => line.split("  ").at(-1))
        .sort(),
    ).toEqual(["alice's", "bob's"]);
    // The operator acting for alice gets hers; so does her token over REST; a bad token is 401.
    expect(out.match(/ {2}owner: {4}alice/g)).toHaveLength(2);
    const json = lines.find((line) => line.startsWith("{"));
    expect(JSON.parse(json!)).toMatchObject({ id: ID, owner: "alice", title: "alice's" });
    expect(lines.at(-2)).toBe("401");
  }, 60_000);
});
