/**
 * The same three calls (create with a server-generated ID, get one session, the first list page
 * of 50) in each server's own wire format: tRPC's (sessiond, stock, and raw, which answers the
 * same URLs), oRPC's RPC protocol, and Hono's REST routes. Also how to read the created ID and
 * the page's IDs back from each answer, for the smoke checks before a load.
 */
import type { ServerKind } from "./proc.ts";

export interface Requests {
  create: { path: string; body: string };
  getPath(id: string): string;
  listPath: string;
  /** The created session's ID in a create answer. */
  createdId(body: unknown): unknown;
  /** The sessions' IDs in a list answer (undefined when the answer is not a page). */
  pageIds(body: unknown): string[] | undefined;
}

type Page = { items?: { id?: string }[] } | undefined;
const ids = (page: Page): string[] | undefined => page?.items?.map((item) => String(item.id));

const trpc: Requests = {
  create: { path: "/trpc/session.create", body: '{"json":{}}' },
  getPath: (id) => `/trpc/session.get?input=${encodeURIComponent(JSON.stringify({ json: { id } }))}`,
  listPath: `/trpc/session.list?input=${encodeURIComponent('{"json":{"limit":50}}')}`,
  createdId: (body) => (body as { result?: { data?: { json?: { id?: unknown } } } }).result?.data?.json?.id,
  pageIds: (body) => ids((body as { result?: { data?: { json?: Page } } }).result?.data?.json),
};

const orpc: Requests = {
  create: { path: "/rpc/session/create", body: '{"json":{}}' },
  getPath: (id) => `/rpc/session/get?data=${encodeURIComponent(JSON.stringify({ json: { id } }))}`,
  listPath: `/rpc/session/list?data=${encodeURIComponent('{"json":{"limit":50}}')}`,
  createdId: (body) => (body as { json?: { id?: unknown } }).json?.id,
  pageIds: (body) => ids((body as { json?: Page }).json),
};

const hono: Requests = {
  create: { path: "/session", body: "{}" },
  getPath: (id) => `/session/${id}`,
  listPath: "/session?limit=50",
  createdId: (body) => (body as { id?: unknown }).id,
  pageIds: (body) => ids(body as Page),
};

export const REQUESTS: Record<ServerKind, Requests> = { raw: trpc, stock: trpc, sessiond: trpc, orpc, hono };
