/**
 * Owners: every session belongs to one, an opaque string fixed when the session is created (a
 * verified token's claim, or what a host's context gives). IDs are unique per owner, and every
 * call sees only its owner's sessions. Sessions made before owners existed, and every session of a
 * server without authentication, belong to DEFAULT_OWNER.
 */

/** The owner of sessions made without authentication (and of those made before owners existed). */
export const DEFAULT_OWNER = "default";

/** The longest owner a server accepts (a token's claim, or the operator's owner header). */
export const OWNER_MAX_LENGTH = 256;

/** C0 and C1 control characters and the bidirectional overrides, as titles refuse them (schema.ts). */
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Why a string cannot be an owner, in words a caller can act on; `null` when it can. */
export function ownerProblem(value: string): string | null {
  if (value.length === 0) return "must not be empty";
  if (value.length > OWNER_MAX_LENGTH) return `must be at most ${OWNER_MAX_LENGTH} characters, got ${value.length}`;
  if (!value.isWellFormed()) return "must be well-formed Unicode (no lone surrogates)";
  if (FORBIDDEN_CHARACTERS.test(value)) return "must not contain control characters or bidirectional overrides";
  return null;
}
