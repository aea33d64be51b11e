/**
 * Walking a session and its descendants, for `deleteTree`, the same way in every engine: level by
 * level (each level one query for the children of the previous one), remembering what it has seen.
 * So the walk ends whatever the table holds: a cycle of parents (which the contract cannot create,
 * but a hand-edited database can) is walked once, and a tree of more than MAX_TREE_SIZE sessions
 * is refused before anything is deleted.
 */
import { InvalidInputError } from "../errors.ts";
import type { SessionRow } from "./row.ts";

/** The most sessions one delete removes (the session and its descendants). */
export const MAX_TREE_SIZE = 100_000;

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

  /** Takes the children of the frontier as the next level; what was seen before (a cycle) is skipped. */
  addLevel(children: SessionRow[]): void {
    const next = children.filter((row) => !this.#seen.has(row.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (this.rows.length + next.length > MAX_TREE_SIZE) {
      const root = this.rows[0]!.id;
      throw new InvalidInputError(`Session ${root} has more than ${MAX_TREE_SIZE - 1} descendants: delete its subtrees first`);
    }
    for (const row of next) {
      this.#seen.add(row.id);
      this.rows.push(row);
    }
    this.frontier = next.map((row) => row.id);
  }
}
