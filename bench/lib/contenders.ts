/**
 * The servers compared (bench/servers/): the same three calls in each one's wire, the ratios
 * sessiond must reach, and the checks before a load (a broken endpoint fails loudly, not as non-2xx).
 */

/** raw: the limit; stock, orpc, hono: peers; plain: the app a user would write instead (issue 20). */
export type ServerKind = "raw" | "stock" | "orpc" | "hono" | "plain" | "sessiond";

export interface Wire {
  create: { path: string; body: string };
  getPath(id: string): string;
  listPath: string;
  /** The session's ID in a create or get answer. */
  sessionId(body: unknown): unknown;
  /** The IDs in a list answer (undefined when the answer is not a page). */
  pageIds(body: unknown): string[] | undefined;
}

type Page = { items?: { id?: string }[] } | undefined;
const ids = (page: Page): string[] | undefined => page?.items?.map((item) => String(item.id));
type Envelope<T> = { result?: { data?: { json?: T } } };

export const TRPC: Wire = {
  create: { path: "/trpc/session.create", body: '{"json":{}}' },
  getPath: (id) => `/trpc/session.get?input=${encodeURIComponent(JSON.stringify({ json: { id } }))}`,
  listPath: `/trpc/session.list?input=${encodeURIComponent('{"json":{"limit":50}}')}`,
  sessionId: (body) => (body as Envelope<{ id?: unknown }>).result?.data?.json?.id,
  pageIds: (body) => ids((body as Envelope<Page>).result?.data?.json),
};

const ORPC: Wire = {
  create: { path: "/rpc/session/create", body: '{"json":{}}' },
  getPath: (id) => `/rpc/session/get?data=${encodeURIComponent(JSON.stringify({ json: { id } }))}`,
  listPath: `/rpc/session/list?data=${encodeURIComponent('{"json":{"limit":50}}')}`,
  sessionId: (body) => (body as { json?: { id?: unknown } }).json?.id,
  pageIds: (body) => ids((body as { json?: Page }).json),
};

/** sessiond's REST routes; the Hono servers answer the same ones. */
export const REST: Wire = {
  create: { path: "/session", body: "{}" },
  getPath: (id) => `/session/${id}`,
  listPath: "/session?limit=50",
  sessionId: (body) => (body as { id?: unknown }).id,
  pageIds: (body) => ids(body as Page),
};

export const WIRE: Record<ServerKind, Wire> = { raw: TRPC, stock: TRPC, sessiond: TRPC, orpc: ORPC, hono: REST, plain: REST };

/** What sessiond's req/s is compared with in the create and read scenarios, and what the ratio must reach. */
export const BASELINES = {
  raw: { meaning: "share of the bare node:http handler's req/s (the limit)", create: 0.6, get: 0.85, list: 0.85 },
  stock: { meaning: "req/s against tRPC's stock adapter", create: 3, get: null, list: null },
  orpc: { meaning: "req/s against oRPC (Node adapter), same store", create: 1, get: 1, list: 1 },
  hono: { meaning: "req/s against Hono + zod (Node server), same store", create: 1, get: 1, list: 1 },
} as const;
export type Baseline = keyof typeof BASELINES;

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
