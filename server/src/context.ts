/**
 * What every procedure receives. `createContextInner` needs no HTTP request, so tests and tools can
 * call procedures directly; the HTTP front adds the request's ID and logger.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "./log.ts";
import type { EventService } from "./events/service.ts";
import type { SessionService } from "./session/service.ts";

export interface Context {
  sessions: SessionService;
  requestId: string;
  log: Logger;
  /** Live events; absent where a server runs without them (e.g. a bare router in a benchmark). */
  events?: EventService;
  /** Cuts the caller's connection (a subscriber that stopped reading); absent outside HTTP. */
  disconnect?: () => void;
}

export function createContextInner(options: {
  sessions: SessionService;
  log: Logger;
  requestId?: string;
  events?: EventService;
  disconnect?: () => void;
}): Context {
  const requestId = options.requestId ?? randomUUID();
  return { sessions: options.sessions, requestId, log: options.log, events: options.events, disconnect: options.disconnect };
}
