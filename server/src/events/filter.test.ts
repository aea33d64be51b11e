import type { Session } from "@sessiond/shared";
import { describe, expect, it } from "vitest";
import { type EventCounters, LiveEvent } from "./encoding.ts";
import { eventFilter } from "./filter.ts";

const ROOT = "ses_000000000001aaaaaaaaaaaaaa";
const CHILD = "ses_000000000002aaaaaaaaaaaaaa";
const GRANDCHILD = "ses_000000000003aaaaaaaaaaaaaa";
const OTHER = "ses_000000000004aaaaaaaaaaaaaa";
const counters: EventCounters = { eventsRead: 0, framesEncoded: 0 };

function event(id: string, parentId: string | null, ancestry: string | null): LiveEvent {
  const at = new Date(0);
  const session: Session = { id, title: "t", parentId, metadata: {}, revision: 1, createdAt: at, updatedAt: at, archivedAt: null };
  return new LiveEvent({ id: 1, type: "session.created", session, ancestry, size: 300 }, counters);
}

describe("eventFilter", () => {
  const root = event(ROOT, null, "");
  const child = event(CHILD, ROOT, `${ROOT}/`);
  const grandchild = event(GRANDCHILD, CHILD, `${ROOT}/${CHILD}/`);
  const other = event(OTHER, null, "");

  it("takes a session and its descendants at any depth, from the event's ancestry", () => {
    const underRoot = eventFilter({ sessionId: ROOT })!;
    expect([root, child, grandchild, other].map(underRoot)).toEqual([true, true, true, false]);
    const underChild = eventFilter({ sessionId: CHILD })!;
    expect([root, child, grandchild, other].map(underChild)).toEqual([false, true, true, false]);
  });

  it("falls back to the parent alone when an event's ancestry is unknown (rows planted by hand)", () => {
    const underChild = eventFilter({ sessionId: CHILD })!;
    expect(underChild(event(GRANDCHILD, CHILD, null))).toBe(true);
    expect(underChild(event(GRANDCHILD, OTHER, null))).toBe(false);
  });

  it("takes roots only, or everything", () => {
    expect([root, child, other].map(eventFilter({ roots: true })!)).toEqual([true, false, true]);
    expect(eventFilter({})).toBeNull();
    expect(eventFilter(undefined)).toBeNull();
  });
});
