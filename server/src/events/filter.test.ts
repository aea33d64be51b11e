import type { Session } from "@sessiond/shared";
import { describe, expect, it } from "vitest";
import { type EventCounters, LiveEvent } from "./encoding.ts";
import { eventFilter } from "./filter.ts";

const ROOT = "ses_000000000001aaaaaaaaaaaaaa";
const CHILD = "ses_000000000002aaaaaaaaaaaaaa";
const GRANDCHILD = "ses_000000000003aaaaaaaaaaaaaa";
const OTHER = "ses_000000000004aaaaaaaaaaaaaa";
const counters: EventCounters = { eventsRead: 0, framesEncoded: 0 };

const ALICE = { owner: "alice" };

function event(id: string, parentId: string | null, ancestry: string | null, owner = "alice"): LiveEvent {
  const at = new Date(0);
  const session: Session = { id, owner, title: "t", parentId, metadata: {}, revision: 1, createdAt: at, updatedAt: at, archivedAt: null };
  return new LiveEvent({ id: 1, type: "session.created", session, ancestry, size: 300 }, counters);
}

describe("eventFilter", () => {
  const root = event(ROOT, null, "");
  const child = event(CHILD, ROOT, `${ROOT}/`);
  const grandchild = event(GRANDCHILD, CHILD, `${ROOT}/${CHILD}/`);
  const other = event(OTHER, null, "");

  it("takes a session and its descendants at any depth, from the event's ancestry", () => {
    const underRoot = eventFilter({ sessionId: ROOT }, ALICE)!;
    expect([root, child, grandchild, other].map(underRoot)).toEqual([true, true, true, false]);
    const underChild = eventFilter({ sessionId: CHILD }, ALICE)!;
    expect([root, child, grandchild, other].map(underChild)).toEqual([false, true, true, false]);
  });

  it("falls back to the parent alone when an event's ancestry is unknown (rows planted by hand)", () => {
    const underChild = eventFilter({ sessionId: CHILD }, ALICE)!;
    expect(underChild(event(GRANDCHILD, CHILD, null))).toBe(true);
    expect(underChild(event(GRANDCHILD, OTHER, null))).toBe(false);
  });

  it("takes roots only, or everything, of the caller's owner (the operator's: every owner's)", () => {
    const bobs = event(OTHER, null, "", "bob");
    expect([root, child, other, bobs].map(eventFilter({ roots: true }, ALICE)!)).toEqual([true, false, true, false]);
    expect([root, bobs].map(eventFilter({}, ALICE)!)).toEqual([true, false]);
    expect([root, child, bobs].map(eventFilter({ roots: true }, { owner: "default", allOwners: true })!)).toEqual([true, false, true]);
    expect(eventFilter({}, { owner: "default", allOwners: true })).toBeNull();
    expect(eventFilter(undefined, { owner: "default", allOwners: true })).toBeNull();
  });

  it("takes a tree of the caller's owner only, even for the operator (a sessionId names one owner's session)", () => {
    const bobsRoot = event(ROOT, null, "", "bob");
    expect(eventFilter({ sessionId: ROOT }, ALICE)!(bobsRoot)).toBe(false);
    expect(eventFilter({ sessionId: ROOT }, { owner: "alice", allOwners: true })!(bobsRoot)).toBe(false);
    expect(eventFilter({ sessionId: ROOT }, { owner: "alice", allOwners: true })!(root)).toBe(true);
  });
});
