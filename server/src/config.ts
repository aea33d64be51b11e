/**
 * The one place that reads configuration: command-line flags first, then the environment, then
 * defaults. Everything the server can be told is here, validated, with its source named in errors.
 */
import { join } from "node:path";
import envPaths from "env-paths";
import { z } from "zod";
import type { LogLevel } from "./log.ts";

export interface ServerConfig {
  host: string;
  port: number;
  /** A SQLite file path (the default, under the user's data directory). */
  db: string;
  logLevel: LogLevel;
  /** How long a SQLite write waits for another process's lock before answering 503. */
  busyTimeoutMs: number;
}

/** Flags as the CLI parsed them; undefined means "not given". */
export type ServerFlags = { [K in keyof ServerConfig]?: string | number | undefined };

const ENV: Record<keyof ServerConfig, string> = {
  host: "HOST",
  port: "PORT",
  db: "SESSIOND_DB",
  logLevel: "LOG_LEVEL",
  busyTimeoutMs: "SESSIOND_BUSY_TIMEOUT_MS",
};

export function defaultDbPath(): string {
  return join(envPaths("sessiond", { suffix: "" }).data, "sessiond.db");
}

const ConfigSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  db: z.string().min(1).default(defaultDbPath),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  busyTimeoutMs: z.coerce.number().int().min(0).max(600_000).default(5000),
});

export class ConfigError extends Error {}

export function resolveConfig(flags: ServerFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ENV) as (keyof ServerConfig)[]) {
    const value = flags[key] ?? env[ENV[key]];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0]) as keyof ServerConfig;
      const source = flags[key] !== undefined ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : ENV[key];
      return `${source}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
