/**
 * Trees' bounds (how many sessions one delete removes, how deep a session can be), and walking a
 * session and its descendants for `deleteTree`, the same way in every engine: level by level (each
 * level one query for the children of the previous one), remembering what it has seen. So the walk
 * ends whatever the table holds: a cycle of parents (which the contract cannot create, but a
 * hand-edited database can) is walked once, and a tree of more than MAX_TREE_SIZE sessions is
 * refused before anything is deleted.
 */
import { InvalidInputError } from "../errors.ts";

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

/** IDs handled between two pauses of a walk (filtering, sorting, merging): a few milliseconds. */
const SLICE = 4096;

type Pause = () => Promise<void> | void;

export class TreeWalk {
  /** Every session reached, the root first, then by depth, then by ID. */
  readonly ids: string[];
  /** The IDs whose children are still to be read. */
  frontier: string[];
  readonly #seen: Set<string>;

  constructor(rootId: string) {
    this.ids = [rootId];
    this.frontier = [rootId];
    this.#seen = new Set([rootId]);
  }

  /** Refuses a level while it is being read, once it holds more than the bound (cycles or not). */
  checkLevel(children: number): void {
    if (children > MAX_TREE_SIZE) throw this.#tooLarge();
  }

  #tooLarge(): InvalidInputError {
    return new InvalidInputError(`Session ${this.ids[0]} has more than ${MAX_TREE_SIZE - 1} descendants: delete its subtrees first`);
  }

  /**
   * Takes the children of the frontier as the next level; what was seen before (a cycle) is
   * skipped. A level of 100,000 takes a few hundred milliseconds to sort: the work is done in
   * slices, `pause` letting the event loop turn in between.
   */
  async addLevel(children: string[], pause: Pause = () => undefined): Promise<void> {
    const unseen: string[] = [];
    for (let start = 0; start < children.length; start += SLICE) {
      if (start > 0) await pause();
      for (const id of children.slice(start, start + SLICE)) if (!this.#seen.has(id)) unseen.push(id);
    }
    if (this.ids.length + unseen.length > MAX_TREE_SIZE) throw this.#tooLarge();
    const next = await sorted(unseen, pause);
    for (let start = 0; start < next.length; start += SLICE) {
      await pause();
      for (const id of next.slice(start, start + SLICE)) {
        this.#seen.add(id);
        this.ids.push(id);
      }
    }
    this.frontier = next;
  }
}

/** `ids` in order: slices sorted, then merged pairwise, pausing after each slice's worth of work. */
async function sorted(ids: string[], pause: Pause): Promise<string[]> {
  if (ids.length <= SLICE) return ids.sort();
  let runs: string[][] = [];
  for (let start = 0; start < ids.length; start += SLICE) {
    runs.push(ids.slice(start, start + SLICE).sort());
    await pause();
  }
  while (runs.length > 1) {
    const merged: string[][] = [];
    for (let index = 0; index < runs.length; index += 2) {
      const a = runs[index]!;
      const b = runs[index + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const out: string[] = [];
      let i = 0;
      let j = 0;
      while (i < a.length || j < b.length) {
        out.push(j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!);
        if (out.length % SLICE === 0) await pause();
      }
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0]!;
}
