import { describe, expect, it } from "vitest";
import { MAX_TREE_SIZE, TreeWalk } from "./tree.ts";

const id = (n: number) => `ses_${n.toString(16).padStart(12, "0")}aaaaaaaaaaaaaa`;

describe("TreeWalk", () => {
  it("takes each level sorted by ID, in slices with pauses between them when the level is large", async () => {
    const walk = new TreeWalk(id(0));
    const level = Array.from({ length: 20_000 }, (_, n) => id(((n * 7919) % 20_000) + 1));
    let pauses = 0;
    await walk.addLevel(level, () => void pauses++);
    expect(walk.ids).toEqual([id(0), ...Array.from({ length: 20_000 }, (_, n) => id(n + 1))]);
    expect(walk.frontier).toHaveLength(20_000);
    expect(pauses).toBeGreaterThan(5);
  });

  it("walks a cycle once and refuses a tree over the bound", async () => {
    const walk = new TreeWalk(id(0));
    await walk.addLevel([id(1), id(0)]);
    await walk.addLevel([id(0), id(1)]);
    expect(walk.ids).toEqual([id(0), id(1)]);
    expect(walk.frontier).toEqual([]);
    const big = new TreeWalk(id(0));
    await expect(big.addLevel(Array.from({ length: MAX_TREE_SIZE }, (_, n) => id(n + 1)))).rejects.toThrow(/more than 99999 descendants/);
    expect(() => big.checkLevel(MAX_TREE_SIZE + 1)).toThrow(/more than 99999 descendants/);
  });
});
