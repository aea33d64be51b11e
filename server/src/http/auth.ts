/** The bearer token: compared in constant time, over fixed-length digests, so its length leaks nothing. */
import { createHash, timingSafeEqual } from "node:crypto";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** The credentials of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== "bearer ") return "";
  return header.slice(7).trim();
}

/** A check of `Authorization` headers against the token; without a token, everything passes. */
export function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = sha256(token);
  return (header) => {
    const given = bearerToken(header);
    return timingSafeEqual(sha256(given), expected) && given.length > 0;
  };
}

/** What every 401 carries (RFC 9110 §11.6.1). */
export const WWW_AUTHENTICATE = 'Bearer realm="sessiond"';
