/**
 * List cursors: an opaque token for the keyset position (createdAt, id) of the last item of a page.
 * The next page starts strictly after it in the list's order (newest first, then ID descending).
 * A page of every owner's sessions (the operator's) is ordered by owner too, where two owners hold
 * the same ID: its cursors carry the owner as well.
 */
import { isSessionId } from "./id.ts";
import { ownerProblem } from "./owner.ts";

export interface CursorPosition {
  createdAt: number;
  id: string;
  /** In a list of every owner's sessions: the owner, the last key of the order. */
  owner?: string;
}

/** Room for the longest owner, percent-encoded, in base64. */
const MAX_CURSOR_LENGTH = 4400;

// The cursor's text is ASCII (digits, dots, a session ID, a percent-encoded owner), so btoa/atob
// (everywhere, unlike Buffer) encode it byte for byte; the alphabet is base64url without padding.
export function encodeCursor(position: CursorPosition): string {
  const owner = position.owner === undefined ? "" : `.${encodeURIComponent(position.owner)}`;
  return btoa(`${position.createdAt}.${position.id}${owner}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeBase64Url(token: string): string | null {
  try {
    return atob(token.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null; // a length no base64 text has
  }
}

function decodeOwner(text: string): string | null {
  try {
    const owner = decodeURIComponent(text);
    return ownerProblem(owner) === null ? owner : null;
  } catch {
    return null;
  }
}

/** The position in a cursor, or `null` when the token is not one this server made. */
export function decodeCursor(token: string): CursorPosition | null {
  if (token.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const text = decodeBase64Url(token);
  if (text === null) return null;
  const dot = text.indexOf(".");
  const ownerDot = text.indexOf(".", dot + 1);
  const createdAt = Number(text.slice(0, dot));
  const id = text.slice(dot + 1, ownerDot === -1 ? undefined : ownerDot);
  if (dot < 1 || !Number.isSafeInteger(createdAt) || createdAt < 0 || !isSessionId(id)) return null;
  if (ownerDot === -1) return { createdAt, id };
  const owner = decodeOwner(text.slice(ownerDot + 1));
  return owner === null ? null : { createdAt, id, owner };
}
