import { describe, expect, it } from "vitest";
import { isoDate, isoString } from "./iso-date.ts";

const viaV8 = (ms: number) => {
  try {
    return new Date(ms).toISOString();
  } catch (error) {
    return String(error);
  }
};
const ours = (ms: number) => {
  try {
    return isoString(ms);
  } catch (error) {
    return String(error);
  }
};

describe("isoString", () => {
  it("writes what toISOString writes, at the edges of days, months, leap years and its range", () => {
    const edges = [0, 1, 999, 1000, 59_999, 86_399_999, 86_400_000, 951_782_399_999, 951_782_400_000, 951_868_800_000];
    const outside = [-1, -86_400_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15, 8.64e15 + 1, 1.5, Number.NaN];
    for (const ms of [...edges, ...outside]) expect(ours(ms), String(ms)).toBe(viaV8(ms));
  });

  it("writes what toISOString writes for 40,000 random times from 1970 to 9999, and around now", () => {
    const now = Date.now();
    for (let i = 0; i < 20_000; i++) {
      const anywhere = Math.floor(Math.random() * 253_402_300_800_000);
      const recent = now - Math.floor(Math.random() * 10 * 365 * 86_400_000);
      expect(ours(anywhere)).toBe(viaV8(anywhere));
      expect(ours(recent)).toBe(viaV8(recent));
    }
  });

  it("writes a Date's text, and throws for an invalid Date as toISOString does", () => {
    expect(isoDate(new Date(1_733_370_000_123))).toBe("2024-12-05T03:40:00.123Z");
    expect(() => isoDate(new Date(Number.NaN))).toThrow(RangeError);
  });
});
