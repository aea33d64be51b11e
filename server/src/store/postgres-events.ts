/**
 * Following the events table on PostgreSQL, where event writers commit in parallel (migration 3):
 * IDs come from a sequence when drawn, and transactions commit in any order, so the table can show
 * event 12 while 11 is still in flight. A reader that delivered 12 and moved on would never go back
 * for 11, so the follower returns events only up to the first missing ID. A missing ID either
 * arrives later (its transaction commits) or never (it rolled back, or failed after drawing it),
 * and the follower tells the two apart with a fence:
 *
 * - next_event_id() gives its transaction an xid before it draws the ID (pg_current_xact_id()),
 *   and xids are handed out in increasing order.
 * - When the same hole is still there at the next read, the follower draws an xid of its own, the
 *   fence. Every ID below the highest one visible in that read was drawn before the fence, by a
 *   transaction whose xid is older than the fence.
 * - A later read whose snapshot's xmin is past the fence (no transaction that old still runs) sees
 *   every such event that will ever commit, in the same statement: an ID below the fence's
 *   coverage that is still missing is gone for good, and the follower steps over it.
 *
 * The start is fenced the same way: the table's last ID is the start point, settled once every
 * transaction that may have drawn an ID below it has ended.
 *
 * What it costs: nothing for writers. A rolled-back write's hole is passed two or three reads later
 * (a read at least every --event-poll-ms); an event writer that stays open holds back every later
 * event until it ends (without making the other writers wait); and while a hole waits for a fence,
 * any transaction with an xid that stays open on the database (even one writing no event) holds it
 * back too. Statement timeouts bound sessiond's own transactions.
 */
import type pg from "pg";
import { toStoredEvent, EVENT_COLUMNS, type EventRow } from "./row.ts";
import type { EventFollower, StoredEvent } from "./types.ts";

type Query = <Row extends pg.QueryResultRow>(name: string, text: string, values: unknown[]) => Promise<Row[]>;

interface Fence {
  /** The follower's xid (xid8 as text). */
  xid: string;
  /** Missing IDs below this one were drawn before the fence. */
  coverage: number;
  /** A snapshot has shown no transaction as old as the fence still running (it stays so). */
  passed: boolean;
}

/** The events after $1 (at most $2) and, in the same snapshot, whether the fence $3 has passed. */
const READ = `SELECT pg_snapshot_xmin(pg_current_snapshot()) > $3::xid8 AS fence_passed, page.*
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT ${EVENT_COLUMNS} FROM session_event WHERE session_event.id > $1 ORDER BY session_event.id LIMIT $2) AS page ON true
  ORDER BY page.event_id`;

export class PostgresEventFollower implements EventFollower {
  readonly #query: Query;
  #head: number;
  #settled = false;
  #fence: Fence | null;
  /** The hole the last read stopped at, if any. */
  #lastHole: number | null = null;

  private constructor(query: Query, head: number, fence: Fence) {
    this.#query = query;
    this.#head = head;
    this.#fence = fence;
  }

  /** Starts at the table's last event (or the last pruned one, when every event has been pruned). */
  static async start(query: Query): Promise<PostgresEventFollower> {
    const [row] = await query<{ last_id: number }>(
      "event_follow_start",
      "SELECT greatest((SELECT max(id) FROM session_event), pruned_through) AS last_id FROM event_horizon",
      [],
    );
    const head = Number(row!.last_id);
    // Drawn after that read: every ID up to `head` was drawn before this xid existed.
    const fence: Fence = { xid: await PostgresEventFollower.#drawXid(query), coverage: head + 1, passed: false };
    return new PostgresEventFollower(query, head, fence);
  }

  static async #drawXid(query: Query): Promise<string> {
    const [row] = await query<{ xid: string }>("event_fence", "SELECT pg_current_xact_id()::text AS xid", []);
    return row!.xid;
  }

  get head(): number {
    return this.#head;
  }

  get settled(): boolean {
    return this.#settled;
  }

  async read(limit: number): Promise<{ events: StoredEvent[]; more: boolean }> {
    const fence = this.#fence;
    const rows = await this.#query<EventRow & { fence_passed: boolean | null }>("event_follow", READ, [
      this.#head,
      limit,
      fence && !fence.passed ? fence.xid : null,
    ]);
    if (fence && rows[0]?.fence_passed === true) fence.passed = true;
    if (!this.#settled) {
      if (!fence?.passed) return { events: [], more: false };
      this.#settled = true;
    }
    const events: StoredEvent[] = [];
    let hole: number | null = null;
    let highest = this.#head;
    let returned = 0;
    for (const row of rows) {
      if (row.event_id === null) break;
      returned++;
      const id = Number(row.event_id);
      highest = id;
      if (hole !== null) continue;
      // IDs head+1 .. id-1 are missing: a hole, unless a passed fence covers all of them.
      if (id !== this.#head + 1 && !(fence?.passed && id <= fence.coverage)) {
        hole = this.#head + 1;
        continue;
      }
      events.push(toStoredEvent(row));
      this.#head = id;
    }
    if (fence?.passed && this.#head + 1 >= fence.coverage) this.#fence = null;
    if (hole !== null && hole === this.#lastHole && (this.#fence === null || this.#fence.passed)) {
      // The hole outlived a read: fence it (a transient hole, the common case, is filled by the next commit).
      this.#fence = { xid: await PostgresEventFollower.#drawXid(this.#query), coverage: highest, passed: false };
    }
    this.#lastHole = hole;
    return { events, more: hole === null && returned === limit };
  }
}
