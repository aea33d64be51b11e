/** Checks before a load, so that a broken endpoint fails loudly rather than as a wall of non-2xx. */
import { TRPC, type Wire } from "./contenders.ts";

export const postJson = (body: string): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body });

type Answer = { text: string; body: unknown };

/** One request that must succeed and pass `check` (on the JSON, or the text when it is not JSON). */
export async function smoke(url: string, path: string, check: (body: unknown) => boolean, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url + path, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  if (!response.ok || !check(body))
    throw new Error(`${init.method ?? "GET"} ${url}${path.slice(0, 80)}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return { text, body };
}

/** One create before a load: the server must answer with the new session's ID. */
export function smokeCreate(url: string, wire: Wire = TRPC): Promise<Answer> {
  return smoke(url, wire.create.path, (body) => typeof wire.sessionId(body) === "string", postJson(wire.create.body));
}

/** The answer with IDs and times blanked, to compare two servers' shapes. */
export const shapeOf = (text: string): string =>
  text.replace(/ses_[0-9a-f]{12}[0-9A-Za-z]{14}/g, "<id>").replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>");
