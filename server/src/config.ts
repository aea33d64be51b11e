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
  /** A SQLite file path (the default, under the user's data directory) or a postgres:// URL. */
  db: string;
  logLevel: LogLevel;
  /** How long a SQLite write waits for another process's lock before answering 503. */
  busyTimeoutMs: number;
  /** PostgreSQL connections per instance. */
  pgPoolSize: number;
  /** PostgreSQL statement timeout; a slower statement answers 503. */
  pgStatementTimeoutMs: number;
  /** How long to wait for a PostgreSQL connection (at start and from the pool). */
  pgConnectTimeoutMs: number;
}

/** Flags as the CLI parsed them; undefined means "not given". */
export type ServerFlags = { [K in keyof ServerConfig]?: string | number | undefined };

/** The environment variables for each setting, first found wins. */
const ENV: Record<keyof ServerConfig, string[]> = {
  host: ["HOST"],
  port: ["PORT"],
  db: ["SESSIOND_DB", "DATABASE_URL"],
  logLevel: ["LOG_LEVEL"],
  busyTimeoutMs: ["SESSIOND_BUSY_TIMEOUT_MS"],
  pgPoolSize: ["SESSIOND_PG_POOL_SIZE"],
  pgStatementTimeoutMs: ["SESSIOND_PG_STATEMENT_TIMEOUT_MS"],
  pgConnectTimeoutMs: ["SESSIOND_PG_CONNECT_TIMEOUT_MS"],
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
  pgPoolSize: z.coerce.number().int().min(1).max(1000).default(10),
  pgStatementTimeoutMs: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  pgConnectTimeoutMs: z.coerce.number().int().min(1).max(600_000).default(5000),
});

/** The flag that sets a config key: pgPoolSize → --pg-pool-size. */
export function flagName(key: keyof ServerConfig): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export class ConfigError extends Error {}

export function resolveConfig(flags: ServerFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const raw: Record<string, unknown> = {};
  const source: Partial<Record<keyof ServerConfig, string>> = {};
  for (const key of Object.keys(ENV) as (keyof ServerConfig)[]) {
    if (flags[key] !== undefined && flags[key] !== "") {
      raw[key] = flags[key];
      source[key] = flagName(key);
      continue;
    }
    const name = ENV[key].find((variable) => env[variable] !== undefined && env[variable] !== "");
    if (name) {
      raw[key] = env[name];
      source[key] = name;
    }
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0]) as keyof ServerConfig;
      return `${source[key] ?? key}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
