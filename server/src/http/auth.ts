/** The bearer token: compared in constant time, over fixed-length digests, so its length leaks nothing. */
import { createHash, timingSafeEqual } from "node:crypto";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** A check of `Authorization` headers against the token; without a token, everything passes. */
export function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = sha256(token);
  return (header) => {
    const given = header?.startsWith("Bearer ") ? header.slice(7) : "";
    return timingSafeEqual(sha256(given), expected) && given.length > 0;
  };
}
