/**
 * Who is calling: every door asks `authenticate` before it reads anything else of a request, and
 * gets the caller (whose sessions the call acts on) or a refusal to send as it is.
 *
 * - No token and no JWT key source: everyone is the default owner (a single-tenant server).
 * - The static `--token`: the operator, who sees every owner's sessions. With the owner header
 *   (`Sessiond-Owner`) it acts for that owner, exactly as that owner would; without it, lists and
 *   live events span every owner and calls that name a session act in the default owner.
 * - A JWT the server verifies (jwt.ts): its owner claim is the owner.
 *
 * The static token is compared in constant time over fixed-length digests, so neither its content
 * nor its length leaks. A JWT verified before is recognised first, from the verifier's cache, so
 * a call with one costs a map look-up rather than a digest of the token. A refusal is a 401 with
 * `WWW-Authenticate` (RFC 6750: `error="invalid_token"` once credentials were sent), a 403 for
 * an owner header from someone who is not the operator, a 400 for a malformed owner header, a 503
 * when a remote key set cannot be fetched.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { DEFAULT_OWNER, OWNER_HEADER, ownerProblem } from "@sessiond/shared";
import { TRPCError } from "@trpc/server";
import type { JwtVerdict, JwtVerifier } from "./jwt.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** The credentials of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.length < 7) return "";
  if (!header.startsWith("Bearer ") && header.slice(0, 7).toLowerCase() !== "bearer ") return "";
  return header.slice(7).trim();
}

/** What every 401 without credentials carries (RFC 9110 §11.6.1, RFC 6750 §3). */
export const WWW_AUTHENTICATE = 'Bearer realm="sessiond"';
/** What a 401 for credentials that were sent but refused carries (RFC 6750 §3.1). */
export const WWW_AUTHENTICATE_INVALID = 'Bearer realm="sessiond", error="invalid_token"';

/** Whose sessions a call acts on, and with what rights. */
export interface Caller {
  owner: string;
  /** The operator without an owner named: lists and live events span every owner. */
  allOwners: boolean;
  /** Holds the static token: may name an owner, and reads operator routes (/metrics). */
  operator: boolean;
}

/** A refusal: the error to answer with, and the challenge header of a 401. */
export class AuthenticationError extends TRPCError {
  readonly challenge: string | undefined;
  constructor(code: "UNAUTHORIZED" | "FORBIDDEN" | "BAD_REQUEST" | "SERVICE_UNAVAILABLE", message: string, challenge?: string) {
    super({ code, message });
    this.challenge = challenge;
  }
}

export type Authentication = Caller | AuthenticationError;

/** The request headers a caller is known by. */
export interface Credentials {
  authorization: string | undefined;
  owner: string | undefined;
}

export type Authenticate = (credentials: Credentials) => Authentication | Promise<Authentication>;

export interface AuthOptions {
  /** The operator's static token. */
  token?: string;
  /** Bearer JWTs, when a key source is configured. */
  jwt?: JwtVerifier;
}

const DEFAULT_CALLER: Caller = Object.freeze({ owner: DEFAULT_OWNER, allOwners: false, operator: false });
const OPERATOR: Caller = Object.freeze({ owner: DEFAULT_OWNER, allOwners: true, operator: true });

const missing = () => new AuthenticationError("UNAUTHORIZED", "Missing bearer token", WWW_AUTHENTICATE);
const invalid = (why: string) => new AuthenticationError("UNAUTHORIZED", `Invalid bearer token: ${why}`, WWW_AUTHENTICATE_INVALID);

/** An owner header from a caller who is not the operator: allowed only when it names the caller's own owner. */
function ownOnly(caller: Caller, named: string | undefined): Authentication {
  if (named === undefined || named === caller.owner) return caller;
  return new AuthenticationError(
    "FORBIDDEN",
    `${OWNER_HEADER} is for the operator's token: this caller acts as its own owner, whose sessions are the only ones it sees`,
  );
}

function fromVerdict(verdict: JwtVerdict, named: string | undefined): Authentication {
  if ("owner" in verdict) return ownOnly({ owner: verdict.owner, allOwners: false, operator: false }, named);
  if ("unavailable" in verdict)
    return new AuthenticationError("SERVICE_UNAVAILABLE", `Cannot verify bearer tokens now: ${verdict.unavailable}`);
  return invalid(verdict.problem);
}

/** The authentication step of every door, for a server's settings. */
export function createAuthenticator(options: AuthOptions): Authenticate {
  const { token, jwt } = options;
  if (token === undefined && jwt === undefined) {
    // Synchronous and allocation-free: the single-tenant server pays nothing for owners.
    return ({ owner }) => (owner === undefined ? DEFAULT_CALLER : ownOnly(DEFAULT_CALLER, owner));
  }
  const expected = token === undefined ? undefined : sha256(token);
  const isToken = (given: string) => expected !== undefined && timingSafeEqual(sha256(given), expected) && given.length > 0;

  return ({ authorization, owner }) => {
    const given = bearerToken(authorization);
    if (given === "") return missing();
    // A JWT verified before is answered from the cache (a static token is never in it).
    const cached = jwt?.cached(given);
    if (cached !== undefined) return ownOnly({ owner: cached, allOwners: false, operator: false }, owner);
    if (isToken(given)) {
      if (owner === undefined) return OPERATOR;
      const problem = ownerProblem(owner);
      if (problem !== null) return new AuthenticationError("BAD_REQUEST", `The ${OWNER_HEADER} header ${problem}`);
      return { owner, allOwners: false, operator: true };
    }
    if (jwt === undefined) return invalid("it is not this server's token");
    const verdict = jwt.verify(given);
    return verdict instanceof Promise ? verdict.then((settled) => fromVerdict(settled, owner)) : fromVerdict(verdict, owner);
  };
}
