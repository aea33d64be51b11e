/**
 * Spreads the work of live events over turns of the event loop, so that no amount of it keeps
 * other requests waiting long. Each piece of work (reading a page of the log, checking a page
 * against a filter, handing events to a subscriber) asks for its cost before it runs; one turn
 * grants at most `perTurn` units, and the rest wait, first come first served, for the next turns
 * (setImmediate: after the I/O that arrived meanwhile, such as a health probe). A piece larger
 * than a turn runs alone in its turn.
 */
export class TurnBudget {
  readonly #perTurn: number;
  #used = 0;
  /** Waiting work, oldest first from #next (a queue without shift()'s copying). */
  #queue: { cost: number; grant: () => void }[] = [];
  #next = 0;
  #turn: NodeJS.Immediate | undefined;

  constructor(perTurn: number) {
    this.#perTurn = perTurn;
  }

  /**
   * Takes `cost` units: undefined when the work may run now (no await needed), else a promise
   * that resolves in the turn that grants them.
   */
  take(cost: number): Promise<void> | undefined {
    if (this.#next === this.#queue.length && this.#fits(cost)) {
      this.#used += cost;
      this.#schedule();
      return undefined;
    }
    return new Promise((grant) => {
      this.#queue.push({ cost, grant });
      this.#schedule();
    });
  }

  /** Counts work that has already run (its cost known only afterwards) against this turn; a negative cost refunds. */
  charge(cost: number): void {
    this.#used = Math.max(0, this.#used + cost);
    this.#schedule();
  }

  #fits(cost: number): boolean {
    return this.#used === 0 || this.#used + cost <= this.#perTurn;
  }

  /** A turn ends when the loop reaches its next check phase: the budget is renewed there. */
  #schedule(): void {
    this.#turn ??= setImmediate(this.#renew);
  }

  readonly #renew = (): void => {
    this.#turn = undefined;
    this.#used = 0;
    while (this.#next < this.#queue.length && this.#fits(this.#queue[this.#next]!.cost)) {
      const { cost, grant } = this.#queue[this.#next++]!;
      this.#used += cost;
      grant();
    }
    if (this.#next === this.#queue.length) {
      this.#queue = [];
      this.#next = 0;
    } else if (this.#next > 1024 && this.#next * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#next);
      this.#next = 0;
    }
    if (this.#used > 0 || this.#next < this.#queue.length) this.#schedule();
  };
}
