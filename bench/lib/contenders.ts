/** The servers compared (bench/servers/): the same three calls in each one's wire, and the ratios sessiond must reach. */

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
