/**
 * What sessiond's own procedures receive per request, and the read budget that bounds one request.
 * `createContextInner` needs no HTTP request, so tests and tools can call procedures directly.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_OWNER } from "@sessiond/shared";
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
  /** The caller's owner (a verified token's claim, the operator's owner header, or the default owner). */
  owner: string;
  /** The operator without an owner named: lists and live events span every owner's sessions. */
  allOwners: boolean;
  reads: ReadBudget;
  /** The revisions a REST request's If-Match accepts (REST routes only; a tRPC call says expectedRevision). */
  ifMatch?: readonly number[];
  /** Cuts the caller's connection (a subscriber that stopped reading); absent outside HTTP. */
  disconnect?: () => void;
}

export interface ContextOptions {
  requestId?: string;
  /** Default: the default owner. */
  owner?: string;
  allOwners?: boolean;
  maxReads?: number;
  ifMatch?: readonly number[];
  disconnect?: () => void;
}

export function createContextInner(options: ContextOptions = {}): Context {
  return {
    requestId: options.requestId ?? randomUUID(),
    owner: options.owner ?? DEFAULT_OWNER,
    allOwners: options.allOwners ?? false,
    reads: new ReadBudget(options.maxReads ?? Number.POSITIVE_INFINITY),
    ifMatch: options.ifMatch,
    disconnect: options.disconnect,
  };
}
