/**
 * List cursors: an opaque token for the keyset position (createdAt, id) of the last item of a page.
 * The next page starts strictly after it in the list's order (newest first, then ID descending).
 */
import { isSessionId } from "./id.ts";

export interface CursorPosition {
  createdAt: number;
  id: string;
}

// The cursor's text is ASCII (digits, a dot, a session ID), so btoa/atob (everywhere, unlike
// Buffer) encode it byte for byte; the alphabet is base64url without padding, as before.
export function encodeCursor(position: CursorPosition): string {
  return btoa(`${position.createdAt}.${position.id}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeBase64Url(token: string): string | null {
  try {
    return atob(token.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null; // a length no base64 text has
  }
}

/** The position in a cursor, or `null` when the token is not one this server made. */
export function decodeCursor(token: string): CursorPosition | null {
  if (token.length > 64 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const text = decodeBase64Url(token);
  if (text === null) return null;
  const dot = text.indexOf(".");
  const createdAt = Number(text.slice(0, dot));
  const id = text.slice(dot + 1);
  if (dot < 1 || !Number.isSafeInteger(createdAt) || createdAt < 0 || !isSessionId(id)) return null;
  return { createdAt, id };
}
