import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import {
  SESSION_ID_PATTERN,
  createSessionIdGenerator,
  decodeSessionIdTime,
  deriveSessionId,
  generateSessionId,
  isSessionId,
  sessionIdProblem,
  type RandomFill,
} from "@sessiond/shared";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A seeded PRNG (mulberry32) as a random source, so statistical tests are reproducible. */
function seededRandom(seed: number): RandomFill {
  let state = seed >>> 0;
  return (buffer) => {
    for (let i = 0; i < buffer.length; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      buffer[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
    }
  };
}

/** opencode's reference generator, from its description: the format sessiond must stay compatible with. */
function referenceId(ms: number, counter: number, random: RandomFill): string {
  const value = ~(BigInt(ms) * 0x1000n + BigInt(counter)) & 0xffffffffffffn;
  const bytes = new Uint8Array(14);
  random(bytes);
  return `ses_${value.toString(16).padStart(12, "0")}${Array.from(bytes, (byte) => BASE62[byte % 62]).join("")}`;
}

function expectStrictlyDecreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i - 1]! > ids[i]!)) expect.fail(`ID ${i} (${ids[i]}) does not sort before ID ${i - 1} (${ids[i - 1]})`);
  }
}

/** Pearson's chi-square statistic of base62 character counts against the uniform distribution. */
function chiSquare(ids: string[]): number {
  const counts = new Map<string, number>();
  let total = 0;
  for (const id of ids) {
    for (const char of id.slice(16)) {
      counts.set(char, (counts.get(char) ?? 0) + 1);
      total++;
    }
  }
  const expected = total / 62;
  return [...BASE62].reduce((sum, char) => sum + ((counts.get(char) ?? 0) - expected) ** 2 / expected, 0);
}
// The chi-square distribution with 61 degrees of freedom exceeds this with probability 0.001.
const CHI_SQUARE_61_P001 = 100.9;

const now2026 = Date.UTC(2026, 10, 24);

describe("session ID generation", () => {
  it("makes IDs that match the pattern for any clock and random source", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 44 }), { minLength: 1, maxLength: 200 }), fc.integer(), (times, seed) => {
        let call = 0;
        const generate = createSessionIdGenerator({ now: () => times[call++ % times.length]!, random: seededRandom(seed) });
        for (let i = 0; i < times.length; i++) expect(generate()).toMatch(SESSION_ID_PATTERN);
      }),
    );
  });

  it("writes the time field and the random characters as opencode's reference generator does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 44 }), fc.integer(), (ms, seed) => {
        // The same 14 bytes at every call, all below 248 so that none is rejected: both draw them.
        const bytes = new Uint8Array(14);
        seededRandom(seed)(bytes);
        const random: RandomFill = (buffer) => buffer.set(bytes.map((byte) => byte % 248));
        const generate = createSessionIdGenerator({ now: () => ms, random, batchBytes: 14 });
        expect(generate()).toBe(referenceId(ms, 0, random));
      }),
    );
  });

  it("is strictly decreasing in one process when the clock jumps backwards and forwards", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 2, maxLength: 500 }), (steps) => {
        let clock = now2026;
        const generate = createSessionIdGenerator({ now: () => (clock += steps.shift() ?? 0) });
        const ids = Array.from({ length: 500 }, () => generate());
        expectStrictlyDecreasing(ids);
      }),
    );
  });

  it("stays strictly decreasing and unique with more than 4096 IDs in one millisecond", () => {
    const generate = createSessionIdGenerator({ now: () => now2026 });
    const ids = Array.from({ length: 20_000 }, () => generate());
    expectStrictlyDecreasing(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every(isSessionId)).toBe(true);
  });

  it("keeps the process-wide generator strictly decreasing", () => {
    const ids = Array.from({ length: 10_000 }, () => generateSessionId());
    expectStrictlyDecreasing(ids);
  });

  it("draws unbiased base62 characters (chi-square, fixed seed)", () => {
    const generate = createSessionIdGenerator({ now: () => now2026, random: seededRandom(42) });
    const ours = chiSquare(Array.from({ length: 20_000 }, () => generate()));
    expect(ours).toBeLessThan(CHI_SQUARE_61_P001);

    // The same test catches the reference generator's `byte % 62` bias, so it has the power to fail.
    const random = seededRandom(42);
    const reference = chiSquare(Array.from({ length: 20_000 }, (_, i) => referenceId(now2026, i, random)));
    expect(reference).toBeGreaterThan(CHI_SQUARE_61_P001);
  });

  it("fetches randomness in batches, not once per ID", () => {
    let fills = 0;
    const generate = createSessionIdGenerator({
      random: (buffer) => {
        fills++;
        randomBytes(buffer.length).copy(buffer);
      },
    });
    for (let i = 0; i < 1000; i++) generate();
    // 1000 IDs need about 14,500 bytes: four 4 KiB batches.
    expect(fills).toBeLessThanOrEqual(5);
  });
});

describe("session ID time", () => {
  it("decodes the creation time of a generated ID", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.nat({ max: 3_600_000 }), (ms, age) => {
        const id = createSessionIdGenerator({ now: () => ms })();
        expect(decodeSessionIdTime(id, ms + age).getTime()).toBe(ms);
      }),
    );
  });

  it("decodes IDs made by opencode's reference generator", () => {
    const id = referenceId(now2026, 1, seededRandom(1));
    expect(id).toMatch(SESSION_ID_PATTERN);
    expect(decodeSessionIdTime(id, now2026 + 1000).getTime()).toBe(now2026);
  });

  it("sorts newer IDs first, like opencode's", () => {
    const older = createSessionIdGenerator({ now: () => now2026 })();
    const newer = createSessionIdGenerator({ now: () => now2026 + 1 })();
    expect(newer < older).toBe(true);
    const random = seededRandom(3);
    expect(referenceId(now2026 + 1, 1, random) < referenceId(now2026, 1, random)).toBe(true);
  });
});

describe("derived session IDs", () => {
  it("are valid and deterministic for any key", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (key) => {
        const id = deriveSessionId(key);
        expect(id).toMatch(SESSION_ID_PATTERN);
        expect(deriveSessionId(key)).toBe(id);
      }),
    );
  });

  it("differ for different keys", () => {
    const ids = new Set(Array.from({ length: 10_000 }, (_, i) => deriveSessionId(`worker-${i}`)));
    expect(ids.size).toBe(10_000);
  });
});

describe("session ID validation", () => {
  it.each([
    ["ses_0123456789abABCDEFGHIJKLMN", null],
    ["msg_0123456789abABCDEFGHIJKLMN", 'must start with "ses_"'],
    ["ses_0123456789abABCDEFGHIJKLM", "must be 30 characters"],
    ["ses_0123456789ABABCDEFGHIJKLMN", "lowercase hex"],
    ["ses_0123456789abABCDEFGHIJKL-N", "base62"],
    [" ses_0123456789abABCDEFGHIJKLM", 'must start with "ses_"'],
  ])("%j: %s", (id, problem) => {
    const found = sessionIdProblem(id);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
    expect(isSessionId(id)).toBe(problem === null);
  });
});
