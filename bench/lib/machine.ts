import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { availableParallelism, cpus, release, totalmem } from "node:os";
import { nodeBinary } from "./proc.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  sqlite: string;
  kernel: string;
  /** Versions of the libraries the servers compared are built on, as installed. */
  libraries: Record<string, string>;
}

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const LIBRARIES = ["@trpc/server", "superjson", "zod", "@orpc/server", "hono", "@hono/node-server", "@hono/zod-validator"];

function installedVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

export function describeMachine(): Machine {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) cpu = line.slice(line.indexOf(":") + 1).trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  let node = process.version;
  try {
    node = execFileSync(nodeBinary(), ["--version"], { encoding: "utf8" }).trim();
  } catch {
    // keep this process's version
  }
  return {
    cpu,
    cores: availableParallelism(),
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node,
    sqlite: process.versions.sqlite ?? "unknown",
    kernel: release(),
    libraries: Object.fromEntries(LIBRARIES.map((name) => [name, installedVersion(name)])),
  };
}
