/**
 * A real sessiond for tests: the HTTP server on a random loopback port with a fresh SQLite file in
 * a temporary directory, and a typed client pointed at it. For sessiond's own tests and for
 * consumers' contract tests.
 *
 *   const server = await startTestServer();
 *   await server.client.session.create.mutate({});
 *   await server.close();
 *
 * With owners, the server verifies bearer JWTs (HS256, with a secret the kit generates) and the kit
 * signs them: each owner gets its own client, so a consumer's test can check that its users never
 * see each other's sessions.
 *
 *   const server = await startTestServer({ owners: true });
 *   const alice = server.clientFor("alice");
 *   const bob = server.clientFor("bob");
 *   const mine = await alice.session.create.mutate({});
 *   await bob.session.get.query({ id: mine.id }); // NOT_FOUND, as for a missing session
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSessionClient, type SessionClient } from "@sessiond/client";
import { createLogger, resolveConfig, startSessiond, type LogLevel, type ServerFlags, type Sessiond } from "@sessiond/server";
import { EventSource } from "eventsource";

export interface TestServerOptions {
  /** A database to use instead of a fresh temporary SQLite file (it is then not deleted). */
  db?: string;
  logLevel?: LogLevel;
  /** Any other server settings, as `sessiond serve` flags would give them (e.g. `{ token, pageSizeMax }`). */
  settings?: ServerFlags;
  /**
   * Sessions with owners: the server verifies bearer JWTs signed with a secret the kit generates
   * (HS256), and has an operator token; `clientFor(owner)` and `tokenFor(owner)` act as an owner,
   * `operator` sees every owner's sessions.
   */
  owners?: boolean;
}

/** Claims of a token the kit signs, beyond `sub` (the owner) and `exp` (an hour from now). */
export type TokenClaims = Record<string, unknown>;

export interface TestServer {
  url: string;
  /** A typed client: without owners, every call is the default owner's; with owners, the operator's. */
  client: SessionClient;
  /** The SQLite file or database URL the server uses. */
  db: string;
  sessions: Sessiond["sessions"];
  /** With owners: a typed client that acts as this owner (every call carries a JWT the kit signed). */
  clientFor(owner: string): SessionClient;
  /** With owners: a bearer JWT for this owner (for REST, `GET /event` or the CLI); `claims` add to or replace its claims. */
  tokenFor(owner: string, claims?: TokenClaims): string;
  /**
   * With owners: the operator's client, which sees every owner's sessions (lists and events span
   * them all; a call that names a session acts in the default owner). `operatorFor(owner)` acts
   * for one owner instead, through the Sessiond-Owner header.
   */
  operator: SessionClient;
  operatorFor(owner: string): SessionClient;
  /** With owners: the operator's static token. */
  operatorToken: string | undefined;
  /** Stops the server and deletes its temporary database. */
  close(): Promise<void>;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** An HS256 JWT (RFC 7519), as any identity provider would sign one with a shared secret. */
export function signTestToken(secret: string, claims: TokenClaims): string {
  const signingInput = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${createHmac("sha256", secret).update(signingInput).digest("base64url")}`;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.db ? null : mkdtempSync(join(tmpdir(), "sessiond-test-"));
  const db = options.db ?? join(dir!, "sessions.db");
  const jwtSecret = options.owners ? randomBytes(32).toString("base64url") : undefined;
  const ownerSettings: ServerFlags = options.owners ? { jwtSecret, token: randomBytes(24).toString("base64url") } : {};
  const config = resolveConfig(
    { ...ownerSettings, ...options.settings, host: "127.0.0.1", port: 0, db, logLevel: options.logLevel ?? "silent" },
    {},
  );
  const sessiond = await startSessiond(config, createLogger(config.logLevel));
  const clientWith = (token: string | undefined, owner?: string) =>
    createSessionClient({ url: sessiond.url, token, owner, maxItems: config.maxBatchSize, EventSource });
  const withOwners = <T>(make: () => T): T => {
    if (!jwtSecret) throw new Error("@sessiond/testing: start the server with { owners: true } for owners' clients and tokens");
    return make();
  };
  const tokenFor = (owner: string, claims: TokenClaims = {}) =>
    withOwners(() => signTestToken(jwtSecret!, { sub: owner, exp: Math.floor(Date.now() / 1000) + 3600, ...claims }));
  const operator = clientWith(config.token);
  return {
    url: sessiond.url,
    client: operator,
    db,
    sessions: sessiond.sessions,
    clientFor: (owner) => withOwners(() => clientWith(tokenFor(owner))),
    tokenFor,
    operator,
    operatorFor: (owner) => withOwners(() => clientWith(config.token, owner)),
    operatorToken: options.owners ? config.token : undefined,
    async close() {
      await sessiond.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
