/** The JWT verifier's cache and limits, in process (test/jwt.test.ts has the doors, over HTTP). */
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CLOCK_TOLERANCE_S, createJwtVerifier, MAX_TOKEN_LENGTH } from "./jwt.ts";

const SECRET = "a-secret-for-the-verifier-tests-0123";
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));
const verifier = () => createJwtVerifier({ jwtSecret: SECRET, jwtOwnerClaim: "sub" })!;
const seconds = () => Math.floor(Date.now() / 1000);

afterEach(() => {
  vi.useRealTimers();
});

describe("the JWT verifier", () => {
  it("answers a token it verified before from its cache, synchronously, until the token expires", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const jwt = verifier();
    const token = await sign({ sub: "alice", exp: seconds() + 60 });
    expect(jwt.cached(token)).toBeUndefined();
    expect(await jwt.verify(token)).toEqual({ owner: "alice" });
    expect(jwt.cached(token)).toBe("alice");
    expect(jwt.verify(token)).toEqual({ owner: "alice" }); // not a promise
    vi.setSystemTime(Date.now() + (60 + CLOCK_TOLERANCE_S + 1) * 1000);
    expect(jwt.cached(token)).toBeUndefined();
    expect(await jwt.verify(token)).toEqual({ problem: "it has expired" });
  });

  it("never takes a token for a cached one that ends alike (the cache is found by a token's last characters)", async () => {
    const jwt = verifier();
    const token = await sign({ sub: "alice", exp: seconds() + 600 });
    await jwt.verify(token);
    const [header, , signature] = token.split(".");
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: "mallory", exp: seconds() + 600 })).toString("base64url")}.${signature}`;
    expect(jwt.cached(forged)).toBeUndefined();
    expect(await jwt.verify(forged)).toEqual({ problem: "its signature does not verify" });
    expect(jwt.cached(token)).toBe("alice");
  });

  it("refuses a token over the size limit before any verification work", () => {
    const verdict = verifier().verify("x".repeat(MAX_TOKEN_LENGTH + 1));
    expect(verdict).toEqual({ problem: `it is longer than ${MAX_TOKEN_LENGTH} bytes` });
  });

  it("verifies concurrent first calls with one token once", async () => {
    const jwt = verifier();
    const token = await sign({ sub: "bob", exp: seconds() + 600 });
    const [a, b] = [jwt.verify(token), jwt.verify(token)];
    expect(a).toBe(b);
    expect(await a).toEqual({ owner: "bob" });
  });
});
