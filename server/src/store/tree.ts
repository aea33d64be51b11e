/**
 * Trees' bounds (how many sessions one delete removes, how deep a session can be), and walking a
 * session and its descendants for `deleteTree`, the same way in every engine: level by level (each
 * level one query for the children of the previous one), remembering what it has seen. So the walk
 * ends whatever the table holds: a cycle of parents (which the contract cannot create, but a
 * hand-edited database can) is walked once, and a tree of more than MAX_TREE_SIZE sessions is
 * refused before anything is deleted.
 */
import type { Session } from "@sessiond/shared";
import { InvalidInputError } from "../errors.ts";
import { type SessionRow, toSession } from "./row.ts";

/** The most sessions one delete removes (the session and its descendants). */
export const MAX_TREE_SIZE = 100_000;

/**
 * The most levels a session can be below its root (its ancestors). Each session stores its
 * ancestry (31 characters a level), so the limit bounds what a create writes; migration 4's check
 * constraint holds the same number, as characters (3,100).
 */
export const MAX_TREE_DEPTH = 100;

/** A create under a parent already MAX_TREE_DEPTH levels deep: 400, naming the parent. */
export function treeTooDeep(parentId: string): InvalidInputError {
  return new InvalidInputError(
    `Session ${parentId} is ${MAX_TREE_DEPTH} levels below its root: a session can be at most ${MAX_TREE_DEPTH} levels deep`,
    "parentId",
  );
}

export class TreeWalk {
  /** Every session reached, the root first, then by depth, then by ID. */
  readonly rows: SessionRow[];
  /** The IDs whose children are still to be read. */
  frontier: string[];
  readonly #seen: Set<string>;

  constructor(root: SessionRow) {
    this.rows = [root];
    this.frontier = [root.id];
    this.#seen = new Set([root.id]);
  }

  get ids(): string[] {
    return this.rows.map((row) => row.id);
  }

  /** Refuses a level while it is being read, once it holds more than the bound (cycles or not). */
  checkLevel(children: number): void {
    if (children > MAX_TREE_SIZE) throw this.#tooLarge();
  }

  #tooLarge(): InvalidInputError {
    const root = this.rows[0]!.id;
    return new InvalidInputError(`Session ${root} has more than ${MAX_TREE_SIZE - 1} descendants: delete its subtrees first`);
  }

  /**
   * Takes the children of the frontier as the next level; what was seen before (a cycle) is
   * skipped. Sorting a level of 100,000 takes about 100 ms: it is done in slices, `pause` letting
   * the event loop turn in between.
   */
  async addLevel(children: SessionRow[], pause: () => Promise<void> | void = () => undefined): Promise<void> {
    const unseen = children.filter((row) => !this.#seen.has(row.id));
    if (this.rows.length + unseen.length > MAX_TREE_SIZE) throw this.#tooLarge();
    const next = await sortedById(unseen, pause);
    for (const row of next) {
      this.#seen.add(row.id);
      this.rows.push(row);
    }
    this.frontier = next.map((row) => row.id);
  }
}

const byId = (a: SessionRow, b: SessionRow) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Rows sorted or merged between two pauses. */
const SORT_SLICE = 4096;

/** `rows` by ID: slices sorted, then merged pairwise, pausing after each slice's worth of work. */
async function sortedById(rows: SessionRow[], pause: () => Promise<void> | void): Promise<SessionRow[]> {
  if (rows.length <= SORT_SLICE) return rows.sort(byId);
  let runs: SessionRow[][] = [];
  for (let start = 0; start < rows.length; start += SORT_SLICE) {
    runs.push(rows.slice(start, start + SORT_SLICE).sort(byId));
    await pause();
  }
  while (runs.length > 1) {
    const merged: SessionRow[][] = [];
    for (let index = 0; index < runs.length; index += 2) {
      const a = runs[index]!;
      const b = runs[index + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const out: SessionRow[] = [];
      let i = 0;
      let j = 0;
      while (i < a.length || j < b.length) {
        out.push(j >= b.length || (i < a.length && a[i]!.id <= b[j]!.id) ? a[i++]! : b[j++]!);
        if (out.length % SORT_SLICE === 0) await pause();
      }
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0]!;
}

/** Rows converted between two turns of the event loop (parsing metadata is most of it). */
const CONVERT_SLICE = 2000;

/**
 * A delete's rows as sessions, a slice at a time with the event loop turning in between: a tree of
 * 100,000 sessions takes hundreds of milliseconds to convert.
 */
export async function sessionsOf(rows: readonly SessionRow[]): Promise<Session[]> {
  const sessions: Session[] = [];
  for (let start = 0; start < rows.length; start += CONVERT_SLICE) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const row of rows.slice(start, start + CONVERT_SLICE)) sessions.push(toSession(row));
  }
  return sessions;
}
