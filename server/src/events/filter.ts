/**
 * A stream's filter, decided from each event alone: no query when a stream opens, nothing kept per
 * subscriber but the filter's own ID, and O(depth) per event (the session's ancestry, at most
 * MAX_TREE_DEPTH IDs, written with the event: store/migrations.ts, migration 4).
 */
import type { SessionEventsInput } from "@sessiond/shared";
import type { LiveEvent } from "./encoding.ts";
import type { EventScope } from "./types.ts";

export type EventFilter = (event: LiveEvent) => boolean;

/**
 * The input's filter within the caller's scope (its owner's sessions; the operator's, every
 * owner's, but a `sessionId` names a session of `scope.owner`), or null when the stream takes
 * every event.
 */
export function eventFilter(input: SessionEventsInput, scope: EventScope): EventFilter | null {
  const rootId = input?.sessionId;
  const owner = scope.allOwners && !rootId ? null : scope.owner;
  if (rootId) {
    // An ancestry is IDs each followed by "/"; session IDs have one length, so a match is a whole ID.
    const asAncestor = `${rootId}/`;
    return ({ session, ancestry }) =>
      session.owner === owner &&
      (session.id === rootId ||
        // Unknown ancestry (a row planted by hand, or deeper than the limit before migration 4): the parent only.
        (ancestry === null ? session.parentId === rootId : ancestry.includes(asAncestor)));
  }
  if (input?.roots)
    return owner === null
      ? ({ session }) => session.parentId === null
      : ({ session }) => session.owner === owner && session.parentId === null;
  return owner === null ? null : ({ session }) => session.owner === owner;
}
