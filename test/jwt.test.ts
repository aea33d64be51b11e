/**
 * Bearer JWTs (issue 19): a server with an RSA key set in a JWKS file, an issuer and an audience.
 * Every bad token is refused with 401 and `WWW-Authenticate: Bearer realm="sessiond",
 * error="invalid_token"` on every door, before the body is read, and writes nothing. Also: a shared
 * secret (HS256), a key set at a URL that rotates its keys, and an owner claim other than `sub`.
 */
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createSessiondHandler, openSessiond } from "@sessiond/server";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { storeDigest } from "./support/digest.ts";
import { openSse } from "./support/sse.ts";

const ISSUER = "https://login.example";
const AUDIENCE = "sessiond";
const INVALID = 'Bearer realm="sessiond", error="invalid_token"';
const dir = mkdtempSync(join(tmpdir(), "sessiond-jwt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function rsaKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, use: "sig" } };
}

function sign(key: SigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: key.kid, ...header }).sign(key.privateKey);
}

const valid = (extra: Record<string, unknown> = {}) => ({ sub: "alice", iss: ISSUER, aud: AUDIENCE, exp: now() + 600, ...extra });

/** The doors a token opens, each sending a body where the door takes one. */
const doors = (url: string, token: string) => {
  const authorization = `Bearer ${token}`;
  const json = { authorization, "content-type": "application/json" };
  return {
    "POST /trpc/session.create": () =>
      fetch(`${url}/trpc/session.create`, { method: "POST", headers: json, body: '{"json":{"title":"x"}}' }),
    "GET /trpc/session.list": () => fetch(`${url}/trpc/session.list`, { headers: { authorization } }),
    "POST /session": () => fetch(`${url}/session`, { method: "POST", headers: json, body: '{"title":"x"}' }),
    "GET /session": () => fetch(`${url}/session`, { headers: { authorization } }),
    "GET /event": () => fetch(`${url}/event`, { headers: { authorization } }),
  };
};

/** Sends headers that promise a 1 MB body which never comes: the answer must not wait for it. */
function answerWithoutBody(url: string, path: string, token: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk;
      if (received.includes("\r\n\r\n")) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n`,
    );
  });
}

describe("bearer JWTs from a JWKS file", () => {
  let server: TestServer;
  let key: SigningKey;
  let other: SigningKey;
  let publicPem: string;
  beforeAll(async () => {
    key = await rsaKey("key-1");
    other = await rsaKey("key-1"); // the same key ID, another key
    // What an attacker has of the server's key: the public key, as PEM text, to use as an HMAC secret.
    publicPem = await exportSPKI(key.publicKey);
    const jwksFile = join(dir, "jwks.json");
    writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk] }));
    server = await startTestServer({ settings: { jwksFile, jwtIssuer: ISSUER, jwtAudience: AUDIENCE } });
  });
  afterAll(() => server?.close());

  it("serves a valid token's owner, on every door", async () => {
    const token = await sign(key, valid());
    for (const [door, send] of Object.entries(doors(server.url, token))) {
      const response = await send();
      expect(response.status, door).toBe(200);
      if (door === "GET /event") await response.body?.cancel();
      else await response.arrayBuffer();
    }
    const created = (await (await doors(server.url, token)["POST /session"]()).json()) as { owner: string };
    expect(created.owner).toBe("alice");
  });

  const badTokens: [string, () => Promise<string>, RegExp][] = [
    ["expired", () => sign(key, valid({ exp: now() - 120 })), /it has expired/],
    ["not valid yet", () => sign(key, valid({ nbf: now() + 120 })), /it is not valid yet/],
    ["from another issuer", () => sign(key, valid({ iss: "https://evil.example" })), /its "iss" claim is not accepted/],
    ["for another audience", () => sign(key, valid({ aud: "someone-else" })), /its "aud" claim is not accepted/],
    ["signed by another key (with the same key ID)", () => sign(other, valid()), /its signature does not verify/],
    ["signed by a key the set does not have", () => sign(other, valid(), { kid: "key-2" }), /no key of the server's key set/],
    ["unsigned (alg: none)", async () => `${b64({ alg: "none", typ: "JWT" })}.${b64(valid())}.`, /algorithm \(alg\) is not accepted/],
    [
      "an HMAC one, keyed with the RSA public key (algorithm confusion)",
      () => new SignJWT(valid()).setProtectedHeader({ alg: "HS256", kid: "key-1" }).sign(new TextEncoder().encode(publicPem)),
      /algorithm \(alg\) is not accepted/,
    ],
    ["without the owner claim", () => sign(key, valid({ sub: undefined })), /"sub" claim \(the owner\) is missing/],
    ["with an empty owner claim", () => sign(key, valid({ sub: "" })), /"sub" claim \(the owner\) is missing/],
    ["without an expiry", () => sign(key, valid({ exp: undefined })), /it has no "exp" claim/],
    ["of 10 KB (over the 8 KiB limit)", () => sign(key, valid({ pad: "x".repeat(10_000) })), /longer than 8192 bytes/],
    ["garbage", async () => "not-a-jwt", /not a valid JWT/],
    ["three segments of garbage", async () => "a.b.c", /not a valid JWT/],
  ];

  it.each(badTokens)("refuses a token %s with 401 and WWW-Authenticate on every door, writing nothing", async (_, make, reason) => {
    const token = await make();
    const before = await storeDigest(server.db);
    for (const [door, send] of Object.entries(doors(server.url, token))) {
      const response = await send();
      expect(response.status, door).toBe(401);
      expect(response.headers.get("www-authenticate"), door).toBe(INVALID);
      const body = (await response.json()) as Record<string, unknown> & { error?: { json: { message: string; data: { code: string } } } };
      const [code, message] = door.includes("/trpc/") ? [body.error?.json.data.code, body.error?.json.message] : [body.code, body.message];
      expect(code, door).toBe("UNAUTHORIZED");
      expect(message, door).toMatch(/^Invalid bearer token: /);
      expect(message, door).toMatch(reason);
    }
    expect(await storeDigest(server.db)).toBe(before);
  });

  it("decides before reading the body: a refused caller is answered without sending it", async () => {
    const expired = await sign(key, valid({ exp: now() - 120 }));
    for (const path of ["/trpc/session.create", "/session"]) {
      const answer = await answerWithoutBody(server.url, path, expired);
      expect(answer, path).toMatch(/^HTTP\/1\.1 401/);
      expect(answer, path).toContain(`www-authenticate: ${INVALID}`);
    }
  });

  it("asks for a token without naming an error when none was sent (RFC 6750)", async () => {
    for (const path of ["/session", "/trpc/session.list", "/event"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(401);
      expect(response.headers.get("www-authenticate"), path).toBe('Bearer realm="sessiond"');
      await response.arrayBuffer();
    }
  });

  it("refuses a 100 KB token before looking at it: Node's header limit (431) over HTTP, 401 in a mounted handler", async () => {
    const huge = await sign(key, valid({ pad: "x".repeat(100_000) }));
    const overHttp = await fetch(`${server.url}/session`, { headers: { authorization: `Bearer ${huge}` } });
    expect(overHttp.status).toBe(431);
    const sessiond = await openSessiond({ db: join(dir, "mounted.db"), logLevel: "silent" });
    try {
      const handler = createSessiondHandler(sessiond, { jwksFile: join(dir, "jwks.json"), jwtIssuer: ISSUER, jwtAudience: AUDIENCE });
      for (const path of ["/session", "/trpc/session.list", "/event"]) {
        const response = await handler.fetch(new Request(`http://host${path}`, { headers: { authorization: `Bearer ${huge}` } }));
        expect(response.status, path).toBe(401);
        expect(response.headers.get("www-authenticate"), path).toBe(INVALID);
        expect(await response.text(), path).toContain("longer than 8192 bytes");
      }
    } finally {
      await sessiond.close();
    }
  });

  it("refuses a token on GET /event before the stream starts", async () => {
    const stream = await openSse(`${server.url}/event`, { authorization: `Bearer ${await sign(other, valid())}` });
    expect(stream.status).toBe(401);
    expect(JSON.parse(stream.body)).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });
});

describe("bearer JWTs with a shared secret, and another owner claim", () => {
  const secret = "a-development-secret-of-32-chars!";
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ settings: { jwtSecret: secret, jwtOwnerClaim: "tenant" } });
  });
  afterAll(() => server?.close());
  const hs256 = (claims: Record<string, unknown>, key = secret) =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(key));

  it("takes the owner from the configured claim, and refuses other secrets and algorithms", async () => {
    const ok = await hs256({ sub: "user-1", tenant: "acme", exp: now() + 600 });
    const created = await fetch(`${server.url}/session`, { method: "POST", headers: { authorization: `Bearer ${ok}` } });
    expect(((await created.json()) as { owner: string }).owner).toBe("acme");
    const rsa = await rsaKey("k");
    for (const token of [
      await hs256({ sub: "user-1", exp: now() + 600 }), // no tenant
      await hs256({ tenant: "acme", exp: now() + 600 }, "another-secret-of-at-least-32-chars"),
      await sign(rsa, { tenant: "acme", exp: now() + 600 }),
      await new SignJWT({ tenant: "acme", exp: now() + 600 }).setProtectedHeader({ alg: "HS512" }).sign(new TextEncoder().encode(secret)),
    ]) {
      const response = await fetch(`${server.url}/session`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(INVALID);
    }
  });
});

describe("bearer JWTs from a key set at a URL", () => {
  let keys: JWK[] = [];
  let fetches = 0;
  let jwksServer: Server;
  let jwksUrl: string;
  let server: TestServer;
  beforeAll(async () => {
    jwksServer = createServer((_, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks.json`;
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  it("fetches the set once, keeps it, and takes a rotated key once the refetch cooldown (10 s) has passed", async () => {
    const first = await rsaKey("2026-01");
    const second = await rsaKey("2026-02");
    keys = [first.jwk];
    server = await startTestServer({ settings: { jwksUrl } });
    const call = async (key: SigningKey) =>
      (
        await fetch(`${server.url}/session`, {
          headers: { authorization: `Bearer ${await sign(key, { sub: "alice", exp: now() + 600 })}` },
        })
      ).status;
    expect(await call(first)).toBe(200);
    expect(await call(first)).toBe(200);
    expect(fetches).toBe(1);
    // The issuer rotates: the new key signs, the set holds both.
    keys = [first.jwk, second.jwk];
    // Within the cooldown an unknown key ID does not make the server fetch again (a flood of made-up kids cannot).
    expect(await call(second)).toBe(401);
    expect(fetches).toBe(1);
    // Past the cooldown: the clock moves on 10.5 s (only Date; timers and I/O stay real), instead
    // of the test waiting that long. The key set's cooldown and the tokens' times read the same clock.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 10_500 });
    try {
      expect(await call(second)).toBe(200);
      expect(fetches).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("stops accepting a token within 20 minutes of its key leaving the set, though its exp is hours away", async () => {
    const [old, current] = [await rsaKey("2026-03"), await rsaKey("2026-04")];
    keys = [old.jwk, current.jwk];
    const revoked = await startTestServer({ settings: { jwksUrl } });
    const started = Date.now();
    try {
      const [oldToken, currentToken] = [
        await sign(old, { sub: "alice", exp: now() + 6 * 3600 }),
        await sign(current, { sub: "alice", exp: now() + 6 * 3600 }),
      ];
      const call = async (token: string) =>
        (await fetch(`${revoked.url}/session`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await call(oldToken)).toBe(200);
      expect(await call(currentToken)).toBe(200);
      // The issuer removes the old key (it leaked, say).
      keys = [current.jwk];
      const fetched = fetches;
      // The clock moves on (only Date; timers and I/O stay real): within the set's 10 minutes the
      // token is still the cache's; past them it is verified again against a set fetched again.
      vi.useFakeTimers({ toFake: ["Date"], now: started + 5 * 60_000 });
      expect(await call(oldToken)).toBe(200);
      expect(fetches).toBe(fetched);
      vi.setSystemTime(started + 10 * 60_000 + 1000);
      expect(await call(oldToken)).toBe(401);
      expect(fetches).toBe(fetched + 1);
      expect(await call(currentToken)).toBe(200);
    } finally {
      vi.useRealTimers();
      await revoked.close();
    }
  });

  it("answers 503 while the key set cannot be fetched, and 401 for a token it cannot verify anyway", async () => {
    const unreachable = await startTestServer({ settings: { jwksUrl: "http://127.0.0.1:9/jwks.json" } });
    try {
      const key = await rsaKey("k");
      const response = await fetch(`${unreachable.url}/session`, {
        headers: { authorization: `Bearer ${await sign(key, { sub: "alice", exp: now() + 600 })}` },
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ code: "SERVICE_UNAVAILABLE", message: expect.stringContaining("--jwks-url") });
      const garbage = await fetch(`${unreachable.url}/session`, { headers: { authorization: "Bearer garbage" } });
      expect(garbage.status).toBe(401);
    } finally {
      await unreachable.close();
    }
  });
});
