/**
 * What sessiond's own procedures receive per request, and the read budget that bounds one request.
 * `createContextInner` needs no HTTP request, so tests and tools can call procedures directly.
 */
import { randomUUID } from "node:crypto";
import { InvalidInputError } from "./errors.ts";

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
  requestId: string;
  reads: ReadBudget;
  /** Cuts the caller's connection (a subscriber that stopped reading); absent outside HTTP. */
  disconnect?: () => void;
}

export function createContextInner(options: { requestId?: string; maxReads?: number; disconnect?: () => void } = {}): Context {
  return {
    requestId: options.requestId ?? randomUUID(),
    reads: new ReadBudget(options.maxReads ?? Number.POSITIVE_INFINITY),
    disconnect: options.disconnect,
  };
}
