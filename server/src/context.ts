/**
 * What every procedure receives. `createContextInner` needs no HTTP request, so tests and tools can
 * call procedures directly; the HTTP front adds the request's ID and logger.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "./log.ts";
import type { SessionService } from "./session/service.ts";

export interface Context {
  sessions: SessionService;
  requestId: string;
  log: Logger;
}

export function createContextInner(options: { sessions: SessionService; log: Logger; requestId?: string }): Context {
  const requestId = options.requestId ?? randomUUID();
  return { sessions: options.sessions, requestId, log: options.log };
}
