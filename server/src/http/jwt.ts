/**
 * Bearer JWTs, verified with `jose`: the owner of a call is a claim of a token the server can
 * verify. Keys come from one source: a JWKS file (read at start), a JWKS URL (jose's remote set:
 * cached, fetched again for a key ID it does not know, so keys rotate without a restart), or a
 * shared secret (HS256, for development). The algorithms accepted are those the keys can verify,
 * never `none` and never an HMAC one against a public key (the confusion of a public key used as
 * an HMAC secret). Issuer and audience, when set, must match; `exp` is required, and `exp` and
 * `nbf` are checked with a small clock tolerance.
 *
 * Verifying costs a signature check (tens of microseconds for RSA), so a token once verified is
 * kept in a bounded cache until its `exp`: the calls after the first pay a map look-up. With a key
 * set at a URL, at most as long as the set itself is kept (10 minutes) before the token is verified
 * again, which fetches a set that has gone stale: a key the issuer removed stops verifying its
 * tokens within about twice that, not at their `exp`. Tokens over MAX_TOKEN_LENGTH are refused
 * before any of that.
 */
import { readFileSync } from "node:fs";
import { ownerProblem } from "@sessiond/shared";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type CryptoKey as JoseCryptoKey,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import { ConfigError, isLoopback } from "../config.ts";

/** The longest token looked at (bytes of the header value; a token is ASCII). */
export const MAX_TOKEN_LENGTH = 8192;
/** How far `exp` and `nbf` may be off (clocks of the issuer and the server differ a little). */
export const CLOCK_TOLERANCE_S = 30;
/** Verified tokens kept, and the characters of token text they may hold in all. */
const CACHE_ENTRIES = 10_000;
const CACHE_CHARS = 16 * 1024 * 1024;
/** A remote key set: kept this long, fetched again at most this often for an unknown key, given this long to answer. */
const REMOTE_CACHE_MAX_AGE_MS = 10 * 60_000;
const REMOTE_COOLDOWN_MS = 10_000;
const REMOTE_TIMEOUT_MS = 5000;

/** Every asymmetric JWS algorithm jose verifies, by the key type (and curve) that can verify it. */
const ALGORITHMS_BY_KEY: Record<string, readonly string[]> = {
  RSA: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
  "EC/P-256": ["ES256"],
  "EC/P-384": ["ES384"],
  "EC/P-521": ["ES512"],
  "OKP/Ed25519": ["EdDSA", "Ed25519"],
};
const ASYMMETRIC_ALGORITHMS = [...new Set(Object.values(ALGORITHMS_BY_KEY).flat())];

export interface JwtSettings {
  jwksFile?: string;
  jwksUrl?: string;
  jwtSecret?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  /** The claim that names the owner (default `sub`). */
  jwtOwnerClaim: string;
}

/** A token's verdict: its owner, why it is refused (said to the caller), or that its keys cannot be fetched now. */
export type JwtVerdict = { owner: string } | { problem: string } | { unavailable: string };

export interface JwtVerifier {
  /** The owner of a token verified before and not expired since (a map look-up), else undefined. */
  cached(token: string): string | undefined;
  /** Synchronous for a token verified before, or refused for its size; a promise otherwise. */
  verify(token: string): JwtVerdict | Promise<JwtVerdict>;
}

/** Whether any JWT setting names a key source: then bearer tokens are JWTs. */
export function hasJwtKeys(settings: Pick<JwtSettings, "jwksFile" | "jwksUrl" | "jwtSecret">): boolean {
  return settings.jwksFile !== undefined || settings.jwksUrl !== undefined || settings.jwtSecret !== undefined;
}

/** The algorithms the keys of a JWKS can verify; refuses what a verifier must not hold (secrets, private keys). */
function algorithmsOf(jwks: JSONWebKeySet, source: string): string[] {
  const algorithms = new Set<string>();
  for (const [index, jwk] of jwks.keys.entries()) {
    const where = `${source}: key ${jwk.kid !== undefined ? JSON.stringify(jwk.kid) : index}`;
    if ("d" in jwk || "k" in jwk)
      throw new ConfigError(`${where} is a private key or a secret: a JWKS for verifying holds public keys only`);
    const allowed = ALGORITHMS_BY_KEY[jwk.crv ? `${jwk.kty}/${jwk.crv}` : String(jwk.kty)];
    if (!allowed)
      throw new ConfigError(`${where} has a key type sessiond does not verify with (${jwk.kty}${jwk.crv ? `/${jwk.crv}` : ""})`);
    if (jwk.alg !== undefined && !allowed.includes(jwk.alg))
      throw new ConfigError(`${where}: its alg ${jwk.alg} does not suit its key type`);
    for (const alg of jwk.alg !== undefined ? [jwk.alg] : allowed) algorithms.add(alg);
  }
  if (algorithms.size === 0) throw new ConfigError(`${source}: the key set has no keys`);
  return [...algorithms];
}

/** Reads a JWKS file, in one clear line when it cannot be used. */
function readJwksFile(path: string): JSONWebKeySet {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`--jwks-file: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new ConfigError(`--jwks-file: ${path} is not JSON`);
  }
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new ConfigError(`--jwks-file: ${path} is not a JSON Web Key Set ({"keys": [...]})`);
  }
  return jwks as JSONWebKeySet;
}

/** The key (or key set) and the algorithms it verifies, from the one key source the settings name. */
function keySource(settings: JwtSettings): {
  key: JWTVerifyGetKey | Promise<JoseCryptoKey>;
  algorithms: string[];
  /** How long a token verified with these keys is trusted before it is verified again, at most; none for keys fixed at start. */
  trustMs?: number;
} {
  if (settings.jwtSecret !== undefined) {
    // Imported once: jose would import raw secret bytes again for every token (measured: 47 µs a token instead of 28).
    const secret = new TextEncoder().encode(settings.jwtSecret);
    const key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    return { key, algorithms: ["HS256"] };
  }
  if (settings.jwksFile !== undefined) {
    const jwks = readJwksFile(settings.jwksFile);
    const algorithms = algorithmsOf(jwks, `--jwks-file ${settings.jwksFile}`);
    return { key: createLocalJWKSet(jwks), algorithms };
  }
  const url = new URL(settings.jwksUrl!);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new ConfigError(`--jwks-url: ${url.href} must be https:// (http:// only on loopback)`);
  }
  const key = createRemoteJWKSet(url, {
    cacheMaxAge: REMOTE_CACHE_MAX_AGE_MS,
    cooldownDuration: REMOTE_COOLDOWN_MS,
    timeoutDuration: REMOTE_TIMEOUT_MS,
  });
  return { key, algorithms: ASYMMETRIC_ALGORITHMS, trustMs: REMOTE_CACHE_MAX_AGE_MS };
}

/** Why jose refused a token, in words for its bearer (nothing of the server's keys or settings). */
function problemOf(error: unknown): JwtVerdict {
  const code = (error as { code?: unknown }).code;
  if (error instanceof joseErrors.JWTExpired) return { problem: "it has expired" };
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return { problem: "it is not valid yet (nbf)" };
    if (error.reason === "missing") return { problem: `it has no "${error.claim}" claim` };
    return { problem: `its "${error.claim}" claim is not accepted` };
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return { problem: "its algorithm (alg) is not accepted" };
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return { problem: "its signature does not verify" };
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return { problem: "no key of the server's key set verifies it (kid)" };
  }
  if (error instanceof joseErrors.JWKSTimeout) return { unavailable: "the key set (--jwks-url) did not answer in time" };
  if (code === "ERR_JOSE_GENERIC" || error instanceof TypeError) return { unavailable: "the key set (--jwks-url) cannot be fetched" };
  return { problem: "it is not a valid JWT" };
}

interface CacheEntry {
  token: string;
  owner: string;
  /** Until when the token is accepted (its exp, plus the clock tolerance), in ms. */
  until: number;
  /** Used since it was last passed over for eviction (the CLOCK approximation of LRU). */
  used: boolean;
}

/**
 * The characters of a token its cache entry is found by: its last ones, part of its signature.
 * Hashing a whole token of a few hundred characters cost more than the rest of a cached call
 * (measured: about 0.5 µs); the entry holds the whole token, compared before it is used, so two
 * tokens that end alike only evict each other.
 */
const KEY_CHARS = 32;

/**
 * Verified tokens, bounded in entries and in characters, each dropped once its token expires.
 * Eviction is least recently used, approximated as CLOCK does: a hit only marks its entry, and an
 * entry marked since it was last considered goes back to the end instead of out.
 */
class TokenCache {
  readonly #entries = new Map<string, CacheEntry>();
  #chars = 0;

  get(token: string, now: number): string | undefined {
    const key = token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token;
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(key);
      this.#chars -= token.length;
      return undefined;
    }
    entry.used = true;
    return entry.owner;
  }

  set(token: string, owner: string, until: number): void {
    const key = token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token;
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.#chars -= old.token.length;
    }
    this.#entries.set(key, { token, owner, until, used: false });
    this.#chars += token.length;
    while (this.#entries.size > CACHE_ENTRIES || this.#chars > CACHE_CHARS) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#entries.delete(oldestKey);
      if (oldest.used) {
        oldest.used = false;
        this.#entries.set(oldestKey, oldest);
      } else {
        this.#chars -= oldest.token.length;
      }
    }
  }
}

/** The verifier the settings describe, or undefined when they name no key source. Throws ConfigError for unusable keys. */
export function createJwtVerifier(settings: JwtSettings): JwtVerifier | undefined {
  if (!hasJwtKeys(settings)) return undefined;
  const { key, algorithms, trustMs } = keySource(settings);
  const claim = settings.jwtOwnerClaim;
  const options: JWTVerifyOptions = {
    algorithms,
    issuer: settings.jwtIssuer,
    audience: settings.jwtAudience,
    clockTolerance: CLOCK_TOLERANCE_S,
    requiredClaims: ["exp"],
  };
  const cache = new TokenCache();
  // Concurrent first calls with one token share its verification.
  const pending = new Map<string, Promise<JwtVerdict>>();

  async function verifyNow(token: string): Promise<JwtVerdict> {
    let payload: Record<string, unknown>;
    try {
      // A key source is a key or a key set; jose takes either through the same call.
      const resolved = key instanceof Promise ? await key : key;
      ({ payload } = await jwtVerify(token, resolved as JWTVerifyGetKey, options));
    } catch (error) {
      return problemOf(error);
    }
    const owner = payload[claim];
    if (typeof owner !== "string" || ownerProblem(owner) !== null) {
      return { problem: `its "${claim}" claim (the owner) is missing or not a non-empty string of at most 256 characters` };
    }
    const until = ((payload.exp as number) + CLOCK_TOLERANCE_S) * 1000;
    cache.set(token, owner, trustMs === undefined ? until : Math.min(until, Date.now() + trustMs));
    return { owner };
  }

  return {
    cached: (token) => cache.get(token, Date.now()),
    verify(token) {
      const owner = cache.get(token, Date.now());
      if (owner !== undefined) return { owner };
      if (token.length > MAX_TOKEN_LENGTH) return { problem: `it is longer than ${MAX_TOKEN_LENGTH} bytes` };
      let verdict = pending.get(token);
      if (verdict === undefined) {
        verdict = verifyNow(token).finally(() => pending.delete(token));
        pending.set(token, verdict);
      }
      return verdict;
    },
  };
}
