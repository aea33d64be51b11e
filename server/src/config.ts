/**
 * The one place that reads configuration: command-line flags first, then the environment, then
 * defaults. Everything the server can be told is here, validated, with its source named in errors.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import envPaths from "env-paths";
import { DEFAULT_MAX_BATCH_SIZE, LIMITS, type Limits } from "@sessiond/shared";
import { z } from "zod";

/**
 * Where a `--db` value points: a SQLite file (a path, or a `sqlite:` URL) or a PostgreSQL URL;
 * null for any other URL scheme, which would otherwise become a file named after the scheme.
 */
export function storeLocation(db: string): { engine: "sqlite"; path: string } | { engine: "postgres"; url: string } | null {
  if (/^postgres(ql)?:\/\//.test(db)) return { engine: "postgres", url: db };
  if (db.startsWith("sqlite:")) {
    const rest = db.slice("sqlite:".length);
    // sqlite:///abs/path.db and sqlite://localhost/abs/path.db name /abs/path.db; sqlite:rel.db names rel.db.
    const path = rest.startsWith("//") ? rest.replace(/^\/\/(localhost)?/, "") : rest;
    try {
      return path ? { engine: "sqlite", path: decodeURIComponent(path) } : null;
    } catch {
      return null; // a malformed percent-escape
    }
  }
  // A scheme of two or more letters is a URL; one letter and a colon is a Windows drive.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(db)) return null;
  return { engine: "sqlite", path: db };
}

/** A database URL without its password, for messages and logs; anything else as it is. */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (!parsed.password) return url;
  parsed.password = "***";
  return parsed.toString();
}

export function defaultDbPath(): string {
  return join(envPaths("sessiond", { suffix: "" }).data, "sessiond.db");
}

/*
 * Every schema's own message says what it expects ("expected ..."); resolveConfig adds the setting's
 * name and the value it got. Messages of custom checks (db, corsOrigin) name the value themselves,
 * and the token's and the JWT secret's never do: they are secrets.
 */

/** An integer setting; `error` for one that takes more than integers. */
function int(min: number, max: number, error = `expected an integer from ${min} to ${max}`) {
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** One of a few words: `expected "full" or "normal"`. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const quoted = values.map((value) => `"${value}"`);
  return z.enum(values, { error: `expected ${quoted.slice(0, -1).join(", ")}${quoted.length > 1 ? " or " : ""}${quoted.at(-1)}` });
}

const WORKERS_EXPECTED = 'expected an integer from 1 to 1024, or "auto" (one per CPU)';

/** An exact web origin: http(s), a host, maybe a port, nothing else (a browser's Origin header). */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === text;
  } catch {
    return false;
  }
}

/** A comma-separated list, each item trimmed (and normalised), checked by `problem` (a message, or undefined). */
function commaList(problem: (item: string) => string | undefined, normalise: (item: string) => string = (item) => item) {
  return z
    .string()
    .default("")
    .transform((text, ctx) => {
      const items = text
        .split(",")
        .map((item) => normalise(item.trim()))
        .filter(Boolean);
      for (const item of items) {
        const message = problem(item);
        if (message) ctx.addIssue(message);
      }
      return items;
    });
}

/** How tRPC calls are served: "fast" (the lean path for plain calls, the rest stock) or "stock" (tRPC's adapter for all). */
export const HTTP_HANDLERS = ["fast", "stock"] as const;
export type HttpHandler = (typeof HTTP_HANDLERS)[number];

/** Every setting: its schema (with default), its environment variables (first found wins) and help. */
const SETTINGS = {
  host: { schema: z.string().min(1).default("127.0.0.1"), env: ["HOST"], help: "address to listen on" },
  port: { schema: int(0, 65535).default(3000), env: ["PORT"], help: "port, 0 for any free one" },
  db: {
    schema: z
      .string()
      .min(1)
      .default(defaultDbPath)
      .check((ctx) => {
        if (storeLocation(ctx.value) !== null) return;
        const scheme = /^[A-Za-z][A-Za-z0-9+.-]+:/.exec(ctx.value)?.[0] ?? ctx.value;
        const message = `unsupported database "${scheme.slice(0, 40)}": use a SQLite file path, sqlite:PATH or a postgres:// URL`;
        ctx.issues.push({ code: "custom", message, input: ctx.value });
      }),
    env: ["SESSIOND_DB", "DATABASE_URL"],
    help: "SQLite file or postgres:// URL",
  },
  token: {
    schema: z.string().min(16, "must be at least 16 characters").optional(),
    env: ["SESSIOND_TOKEN"],
    help: "the operator's bearer token: sees every owner's sessions, acts for one with the Sessiond-Owner header",
  },
  jwksFile: {
    schema: z.string().min(1).optional(),
    env: ["SESSIOND_JWKS_FILE"],
    help: "bearer JWTs: a JSON Web Key Set file of the public keys that sign them (read at start)",
  },
  jwksUrl: {
    schema: z
      .string()
      .refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol), {
        error: "expected an https:// URL of a JSON Web Key Set (http:// on loopback only)",
      })
      .optional(),
    env: ["SESSIOND_JWKS_URL"],
    help: "bearer JWTs: the URL of a JSON Web Key Set (cached 10 min, fetched again for a new key ID)",
  },
  jwtSecret: {
    schema: z.string().min(32, "must be at least 32 characters").optional(),
    env: ["SESSIOND_JWT_SECRET"],
    help: "bearer JWTs signed with this shared secret (HS256), for development",
  },
  jwtIssuer: { schema: z.string().min(1).optional(), env: ["SESSIOND_JWT_ISSUER"], help: "bearer JWTs must carry this iss" },
  jwtAudience: { schema: z.string().min(1).optional(), env: ["SESSIOND_JWT_AUDIENCE"], help: "bearer JWTs must carry this aud" },
  jwtOwnerClaim: {
    schema: z.string().min(1).max(100).default("sub"),
    env: ["SESSIOND_JWT_OWNER_CLAIM"],
    help: "the JWT claim that names the session owner",
  },
  accessLogSample: {
    schema: z.coerce
      .number({ error: "expected a number from 0 to 1" })
      .min(0, { error: "expected a number from 0 to 1" })
      .max(1, { error: "expected a number from 0 to 1" })
      .default(1),
    env: ["SESSIOND_ACCESS_LOG_SAMPLE"],
    help: "share of requests that get an access log line at info: 1 every one, 0.01 one in a hundred, 0 none",
  },
  logLevel: {
    schema: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    env: ["LOG_LEVEL"],
    help: "fatal, error, warn, info, debug, trace or silent",
  },
  busyTimeoutMs: {
    schema: int(0, 600_000).default(5000),
    env: ["SESSIOND_BUSY_TIMEOUT_MS"],
    help: "how long a SQLite write waits for a lock",
  },
  sqliteSync: {
    schema: oneOf(["full", "normal"]).default("full"),
    env: ["SESSIOND_SQLITE_SYNC"],
    help: "SQLite's synchronous: full (an acknowledged write survives a power loss; each commit waits for its fsync) or normal (faster at low concurrency; it survives a crash of the process, but a power loss may drop the last acknowledged writes)",
  },
  pgPoolSize: { schema: int(1, 1000).default(10), env: ["SESSIOND_PG_POOL_SIZE"], help: "PostgreSQL connections per instance" },
  pgStatementTimeoutMs: {
    schema: int(1, 3_600_000).default(5000),
    env: ["SESSIOND_PG_STATEMENT_TIMEOUT_MS"],
    help: "PostgreSQL statement timeout",
  },
  pgConnectTimeoutMs: {
    schema: int(1, 600_000).default(5000),
    env: ["SESSIOND_PG_CONNECT_TIMEOUT_MS"],
    help: "PostgreSQL connect timeout",
  },
  maxBodyBytes: {
    schema: int(1024, 1024 ** 3).default(1024 * 1024),
    env: ["SESSIOND_MAX_BODY_BYTES"],
    help: "request body limit (413 above)",
  },
  maxBatchSize: {
    schema: int(1, 10_000).default(DEFAULT_MAX_BATCH_SIZE),
    env: ["SESSIOND_MAX_BATCH_SIZE"],
    help: "calls per batched request",
  },
  maxSessionsPerRequest: {
    schema: int(1, 1_000_000).default(1000),
    env: ["SESSIOND_MAX_SESSIONS_PER_REQUEST"],
    help: "sessions one request may ask for in list pages, summed over its batch",
  },
  titleMaxLength: { schema: int(1, 65_536).default(LIMITS.titleMaxLength), env: ["SESSIOND_TITLE_MAX_LENGTH"], help: "title length" },
  metadataMaxBytes: {
    schema: int(2, 16 * 1024 * 1024).default(LIMITS.metadataMaxBytes),
    env: ["SESSIOND_METADATA_MAX_BYTES"],
    help: "metadata JSON size",
  },
  metadataMaxDepth: {
    schema: int(1, 64).default(LIMITS.metadataMaxDepth),
    env: ["SESSIOND_METADATA_MAX_DEPTH"],
    help: "metadata nesting depth",
  },
  pageSizeDefault: {
    schema: int(1, 10_000).default(LIMITS.pageSizeDefault),
    env: ["SESSIOND_PAGE_SIZE_DEFAULT"],
    help: "list page size when none is asked",
  },
  pageSizeMax: { schema: int(1, 10_000).default(LIMITS.pageSizeMax), env: ["SESSIOND_PAGE_SIZE_MAX"], help: "largest list page" },
  headersTimeoutMs: {
    schema: int(100, 600_000).default(10_000),
    env: ["SESSIOND_HEADERS_TIMEOUT_MS"],
    help: "time to receive a request's headers",
  },
  requestTimeoutMs: {
    schema: int(100, 3_600_000).default(30_000),
    env: ["SESSIOND_REQUEST_TIMEOUT_MS"],
    help: "time to receive a whole request",
  },
  keepAliveTimeoutMs: {
    schema: int(100, 600_000).default(5000),
    env: ["SESSIOND_KEEP_ALIVE_TIMEOUT_MS"],
    help: "idle keep-alive connection lifetime",
  },
  writeTimeoutMs: {
    schema: int(100, 3_600_000).default(30_000),
    env: ["SESSIOND_WRITE_TIMEOUT_MS"],
    help: "a connection that makes no progress this long (a client that stopped reading its answer) is closed",
  },
  httpHandler: {
    schema: oneOf(HTTP_HANDLERS).default("fast"),
    env: ["SESSIOND_HTTP_HANDLER"],
    help: "fast (a lean path for plain calls, the rest stock) or stock (tRPC's adapter for everything)",
  },
  eventRetentionMs: {
    schema: int(1000, 366 * 86_400_000).default(86_400_000),
    env: ["SESSIOND_EVENT_RETENTION_MS"],
    help: "how long events are kept for resuming (older resume points get 410)",
  },
  eventPollMs: {
    schema: int(10, 60_000).default(250),
    env: ["SESSIOND_EVENT_POLL_MS"],
    help: "how often other processes' events are checked for (worst-case cross-instance delay)",
  },
  maxSubscribers: {
    schema: int(0, 1_000_000).default(10_000),
    env: ["SESSIOND_MAX_SUBSCRIBERS"],
    help: "event subscribers per instance (503 above)",
  },
  slowSubscriberTimeoutMs: {
    schema: int(100, 600_000).default(10_000),
    env: ["SESSIOND_SLOW_SUBSCRIBER_TIMEOUT_MS"],
    help: "a subscriber that reads nothing for this long while events (or GET /event's heartbeats) wait is disconnected",
  },
  eventHeartbeatMs: {
    schema: int(100, 600_000).default(15_000),
    env: ["SESSIOND_EVENT_HEARTBEAT_MS"],
    help: "heartbeat interval on idle event streams (GET /event and session.events)",
  },
  corsOrigin: {
    schema: commaList((origin) =>
      isOrigin(origin) ? undefined : `"${origin}" is not an origin like https://app.example.com or http://localhost:5173`,
    ),
    env: ["SESSIOND_CORS_ORIGINS"],
    help: "origins whose pages may call, comma-separated (exact scheme://host[:port])",
  },
  allowedHosts: {
    schema: commaList(
      (host) =>
        host === "*" || /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(host) ? undefined : `"${host}" is not a host name like sessions.example.com`,
      (host) => host.toLowerCase(),
    ),
    env: ["SESSIOND_ALLOWED_HOSTS"],
    help: "Host names the server answers to besides loopback names and the address it listens on, comma-separated; * for any. Without a token the check guards a loopback server against DNS rebinding; with a token it applies only when set",
  },
  console: {
    schema: z
      .union([z.boolean(), z.enum(["on", "off"]).transform((value) => value === "on")], { error: 'expected "on" or "off"' })
      .default(true),
    env: ["SESSIOND_CONSOLE"],
    help: "serve the console page at / (--no-console, or SESSIOND_CONSOLE=off, turns it off)",
  },
  workers: {
    schema: z
      .union([z.literal("auto").transform(() => availableParallelism()), int(1, 1024, WORKERS_EXPECTED)], { error: WORKERS_EXPECTED })
      .default(1),
    env: ["SESSIOND_WORKERS"],
    help: "server processes on the one port (auto: one per CPU); each has its own store connection or pool",
  },
  shutdownTimeoutMs: {
    schema: int(0, 600_000).default(10_000),
    env: ["SESSIOND_SHUTDOWN_TIMEOUT_MS"],
    help: "how long a shutdown waits for in-flight calls",
  },
} as const;

export type ConfigKey = keyof typeof SETTINGS;

const ConfigSchema = z.strictObject(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, setting]) => [key, setting.schema])) as {
    [K in ConfigKey]: (typeof SETTINGS)[K]["schema"];
  },
);

export type ServerConfig = z.infer<typeof ConfigSchema>;

/** Flags as the CLI parsed them; undefined means "not given". */
export type ServerFlags = { [K in ConfigKey]?: string | number | boolean | undefined };

/** The flag that sets a config key: pgPoolSize → --pg-pool-size. */
export function flagName(key: ConfigKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** A setting's value as a person would write it: `on`, `none`, `3000`. */
function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "boolean") return value ? "on" : "off";
  if (Array.isArray(value)) return value.length ? value.join(",") : "none";
  return String(value);
}

/** Each setting's flag, environment variables, help and default (undefined: none), for the CLI and the docs. */
export function describeSettings(): { key: ConfigKey; flag: string; env: readonly string[]; help: string; default?: string }[] {
  const defaults = resolveConfig({}, {});
  return (Object.keys(SETTINGS) as ConfigKey[]).map((key) => ({
    key,
    flag: flagName(key),
    env: SETTINGS[key].env,
    help: SETTINGS[key].help,
    default: shown(defaults[key]),
  }));
}

/** A value in an error message: quoted, cut short. */
function given(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
}

export class ConfigError extends Error {}

export function resolveConfig(flags: ServerFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const raw: Record<string, unknown> = {};
  const source: Partial<Record<ConfigKey, string>> = {};
  for (const key of Object.keys(SETTINGS) as ConfigKey[]) {
    if (flags[key] !== undefined && flags[key] !== "") {
      raw[key] = flags[key];
      source[key] = flagName(key);
      continue;
    }
    const name = SETTINGS[key].env.find((variable) => env[variable] !== undefined && env[variable] !== "");
    if (name) {
      raw[key] = env[name];
      source[key] = name;
    }
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0]) as ConfigKey;
      const problem = issue.message.startsWith("expected ") ? `got ${given(raw[key])}, ${issue.message}` : issue.message;
      return `${source[key] ?? key}: ${problem}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const config = result.data;
  const keySources = (["jwksFile", "jwksUrl", "jwtSecret"] as const).filter((key) => config[key] !== undefined);
  if (keySources.length > 1) {
    throw new ConfigError(
      `invalid configuration: ${keySources.map((key) => source[key] ?? flagName(key)).join(" and ")}: bearer JWTs take one key source`,
    );
  }
  for (const key of ["jwtIssuer", "jwtAudience", "jwtOwnerClaim"] as const) {
    if (keySources.length === 0 && source[key] !== undefined) {
      throw new ConfigError(
        `invalid configuration: ${source[key]}: needs a key source for bearer JWTs (--jwks-file, --jwks-url or --jwt-secret)`,
      );
    }
  }
  if (config.pageSizeDefault > config.pageSizeMax) {
    throw new ConfigError(
      `invalid configuration: ${source.pageSizeDefault ?? flagName("pageSizeDefault")}: the default page size ${config.pageSizeDefault} exceeds the maximum ${config.pageSizeMax} (${source.pageSizeMax ?? `${flagName("pageSizeMax")}'s default`})`,
    );
  }
  // An idle event stream writes only its heartbeats; a connection silent for --write-timeout-ms is
  // closed, so a heartbeat at or past it would cut every idle stream before its first one.
  if (config.eventHeartbeatMs >= config.writeTimeoutMs) {
    const heartbeat = source.eventHeartbeatMs ?? flagName("eventHeartbeatMs");
    const timeout = source.writeTimeoutMs ?? flagName("writeTimeoutMs");
    throw new ConfigError(
      `invalid configuration: ${heartbeat} (${config.eventHeartbeatMs}) must be less than ${timeout} (${config.writeTimeoutMs}), else idle event streams are closed before their first heartbeat`,
    );
  }
  return config;
}

export function limitsOf(config: ServerConfig): Limits {
  return {
    titleMaxLength: config.titleMaxLength,
    metadataMaxBytes: config.metadataMaxBytes,
    metadataMaxDepth: config.metadataMaxDepth,
    idempotencyKeyMaxLength: LIMITS.idempotencyKeyMaxLength,
    pageSizeDefault: config.pageSizeDefault,
    pageSizeMax: config.pageSizeMax,
  };
}

/** Whether an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
