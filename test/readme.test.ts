/** The README's several-instances sequence runs as written (the other examples: readme-order.test.ts). */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cleanEnv } from "./support/process.ts";
import { postgresUrl } from "./support/targets.ts";
import { spawnSync } from "node:child_process";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const severalInstances = /## Running several instances[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];

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
