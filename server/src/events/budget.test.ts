import { describe, expect, it } from "vitest";
import { TurnBudget } from "./budget.ts";

/** The units granted in each turn of the event loop while `work` runs. */
async function unitsPerTurn(budget: TurnBudget, costs: number[]): Promise<number[]> {
  const turns: number[] = [0];
  let done = false;
  const tick = () => {
    if (done) return;
    turns.push(0);
    setImmediate(tick);
  };
  setImmediate(tick);
  await Promise.all(
    costs.map(async (cost) => {
      const wait = budget.take(cost);
      if (wait) await wait;
      turns[turns.length - 1]! += cost;
    }),
  );
  done = true;
  return turns.filter((units) => units > 0);
}

describe("TurnBudget", () => {
  it("grants at once what fits in this turn, without a promise", () => {
    const budget = new TurnBudget(10);
    expect(budget.take(4)).toBeUndefined();
    expect(budget.take(6)).toBeUndefined();
    expect(budget.take(1)).toBeInstanceOf(Promise);
  });

  it("spreads work over turns, at most the budget in each, first come first served", async () => {
    const budget = new TurnBudget(10);
    const order: number[] = [];
    const turns = await unitsPerTurn(
      budget,
      Array.from({ length: 25 }, () => 2),
    );
    expect(turns.every((units) => units <= 10)).toBe(true);
    expect(turns.reduce((sum, units) => sum + units, 0)).toBe(50);
    expect(turns.length).toBeGreaterThanOrEqual(5);
    // First come, first served: the waiters resolve in the order they asked.
    await Promise.all(
      [1, 2, 3].map(async (index) => {
        const wait = budget.take(10);
        if (wait) await wait;
        order.push(index);
      }),
    );
    expect(order).toEqual([1, 2, 3]);
  });

  it("runs a piece larger than a turn alone in its turn", async () => {
    const turns = await unitsPerTurn(new TurnBudget(10), [3, 25, 3]);
    expect(turns).toEqual([3, 25, 3]);
  });

  it("counts work charged after the fact against the current turn", async () => {
    const budget = new TurnBudget(10);
    expect(budget.take(2)).toBeUndefined();
    budget.charge(8);
    expect(budget.take(1)).toBeInstanceOf(Promise);
  });
});
