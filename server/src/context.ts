/**
 * What every procedure receives. `createContextInner` needs no HTTP request, so tests and tools can
 * call procedures directly; the HTTP front gives each request its ID and read budget.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { InvalidInputError } from "./errors.ts";
import type { EventService } from "./events/types.ts";
import type { SessionService } from "./session/service.ts";

/**
 * How many sessions one request may read through list pages (summed over a batch). It bounds the
 * work and the size of the answer a single small request can cause.
 */
export class ReadBudget {
  readonly limit: number;
  #left: number;
  constructor(limit: number) {
    this.limit = limit;
    this.#left = limit;
  }

  take(sessions: number): void {
    if (sessions > this.#left) {
      throw new InvalidInputError(
        `This request asks for more than ${this.limit} sessions in its pages (summed over its batch): split the batch or ask for smaller pages`,
      );
    }
    this.#left -= sessions;
  }
}

export interface Context {
  sessions: SessionService;
  requestId: string;
  reads: ReadBudget;
  /** Live events; absent where a server runs without them (e.g. a bare router in a benchmark). */
  events?: EventService;
  /** Cuts the caller's connection (a subscriber that stopped reading); absent outside HTTP. */
  disconnect?: () => void;
}

export function createContextInner(options: {
  sessions: SessionService;
  requestId?: string;
  maxReads?: number;
  events?: EventService;
  disconnect?: () => void;
}): Context {
  return {
    sessions: options.sessions,
    requestId: options.requestId ?? randomUUID(),
    reads: new ReadBudget(options.maxReads ?? Number.POSITIVE_INFINITY),
    events: options.events,
    disconnect: options.disconnect,
  };
}

/**
 * The request tRPC's stock adapter is serving, for the error formatter: the adapter may format an
 * error before it has a context, and the error still carries the request's ID. (The fast path and
 * the front door always hand the formatter a context; they need no scope.)
 */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();
