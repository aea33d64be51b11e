/** The errors a subscriber can meet; like the domain's errors, each is a TRPCError with its code. */
import { TRPCError } from "@trpc/server";
import { DomainError } from "../errors.ts";

/** Every subscriber slot of this instance is taken (`--max-subscribers`): 503, try later or elsewhere. */
export class SubscriberLimitError extends TRPCError {
  constructor(max: number) {
    super({ code: "SERVICE_UNAVAILABLE", message: `Too many event subscribers on this instance (at most ${max}); retry later` });
  }
}

/**
 * The resume point is older than the retention window (its events were pruned), or is not an event
 * of this database: the client must re-list and subscribe from now. REST answers 410 Gone.
 */
export class EventsExpiredError extends DomainError<"UNPROCESSABLE_CONTENT"> {
  constructor(lastEventId: number, prunedThrough: number, lastId: number) {
    const reason =
      lastEventId > lastId
        ? `event ${lastEventId} does not exist yet (the last is ${lastId}): not this database's events`
        : `events after ${lastEventId} up to ${prunedThrough} have been pruned (retention window)`;
    super("UNPROCESSABLE_CONTENT", `Cannot resume from event ${lastEventId}: ${reason}; re-list the sessions and subscribe from now`, {
      eventsExpired: { lastEventId: String(lastEventId), prunedThrough: String(prunedThrough) },
    });
  }
}
