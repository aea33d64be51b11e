/**
 * The server's output serializer must produce exactly what superjson produces, byte for byte,
 * whatever the value: its shortcut for plain values, and superjson itself for everything else.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import superjson from "superjson";
import { jsonText, serialize, serializeText } from "../server/src/wire/serialize.ts";

/** Same output as superjson, or the same refusal (superjson throws on keys like "constructor"). */
function sameAsSuperjson(value: unknown): void {
  let expected: string;
  try {
    expected = JSON.stringify(superjson.serialize(value));
  } catch (error) {
    expect(() => serialize(value)).toThrow((error as Error).message);
    expect(() => serializeText(value)).toThrow((error as Error).message);
    return;
  }
  expect(JSON.stringify(serialize(value))).toBe(expected);
  // The text the fast path writes: sessions and pages are written field by field.
  expect(serializeText(value)).toBe(expected);
}

const date = fc.date({ min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true });
const session = fc.record({
  id: fc.string(),
  owner: fc.string(),
  title: fc.string(),
  parentId: fc.option(fc.string()),
  metadata: fc.dictionary(fc.string(), fc.jsonValue()),
  revision: fc.nat(),
  createdAt: date,
  updatedAt: date,
  archivedAt: fc.option(date),
});

describe("the output serializer", () => {
  it("matches superjson on sessions", () => {
    fc.assert(fc.property(session, sameAsSuperjson), { numRuns: 2000, seed: 1 });
  });

  it("matches superjson on pages of sessions", () => {
    fc.assert(
      fc.property(
        fc.record({ items: fc.array(session, { maxLength: 20 }), nextCursor: fc.option(fc.string()), prevCursor: fc.option(fc.string()) }),
        sameAsSuperjson,
      ),
      { numRuns: 500, seed: 2 },
    );
  });

  it("matches superjson on any value, including those it hands to superjson", () => {
    fc.assert(
      fc.property(
        fc.anything({ withDate: true, withMap: true, withSet: true, withBigInt: true, withNullPrototype: true, withSparseArray: true }),
        sameAsSuperjson,
      ),
      { numRuns: 3000, seed: 3 },
    );
  });

  it.each([
    ["a Date at the top", new Date(5)],
    [
      "one object in two places",
      (() => {
        const o = { x: 1 };
        return { a: o, b: [o] };
      })(),
    ],
    ["-0", { n: -0 }],
    ["NaN and Infinity", { a: Number.NaN, b: Number.POSITIVE_INFINITY }],
    ["undefined fields", { a: undefined, b: [undefined] }],
    ["an invalid Date", { d: new Date(Number.NaN) }],
    ["a Date under a key with a dot", { "a.b": { when: new Date(7) } }],
    ["a Date under a key with a backslash", { "a\\b": new Date(7) }],
    ["a Map and a Set", { m: new Map([[1, 2]]), s: new Set([1]) }],
    ["an error shape with undefined data", { message: "x", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400, path: undefined } }],
  ])("matches superjson on %s", (_, value) => {
    sameAsSuperjson(value);
  });

  const stored = () => ({
    id: "ses_1",
    owner: "alice",
    title: "t",
    parentId: null as string | null,
    metadata: { a: [1, "x", null, { b: true }] } as Record<string, unknown>,
    revision: 1,
    createdAt: new Date(1),
    updatedAt: new Date(2),
    archivedAt: null as Date | null,
  });
  it.each([
    [
      "a new session (one Date object in two fields)",
      (() => {
        const at = new Date(3);
        return { ...stored(), createdAt: at, updatedAt: at };
      })(),
    ],
    ["an archived child", { ...stored(), parentId: "ses_0", archivedAt: new Date(4) }],
    [
      "keys in another order",
      (() => {
        const { id, ...rest } = stored();
        return { ...rest, id };
      })(),
    ],
    ["an extra key", { ...stored(), extra: 1 }],
    ["a Date in metadata", { ...stored(), metadata: { when: new Date(5) } }],
    ["-0 in metadata", { ...stored(), metadata: { n: -0 } }],
    ["a revision of -0", { ...stored(), revision: -0 }],
    ["empty metadata", { ...stored(), metadata: {} }],
    [
      "metadata holding one object twice",
      (() => {
        const shared = { k: 1 };
        return { ...stored(), metadata: { a: shared, b: shared } };
      })(),
    ],
    [
      "metadata holding the session itself",
      (() => {
        const session = stored();
        session.metadata = { self: session };
        return session;
      })(),
    ],
    ["an invalid Date", { ...stored(), updatedAt: new Date(Number.NaN) }],
    [
      "a page with one session twice",
      (() => {
        const one = stored();
        return { items: [one, one], nextCursor: "c", prevCursor: null };
      })(),
    ],
    [
      "a page whose sessions share metadata",
      (() => {
        const metadata = { k: 1 };
        return {
          items: [
            { ...stored(), metadata },
            { ...stored(), metadata },
          ],
          nextCursor: null,
          prevCursor: "p",
        };
      })(),
    ],
    [
      "a sparse page",
      (() => {
        const items = [stored()];
        items[2] = stored();
        return { items, nextCursor: null, prevCursor: null };
      })(),
    ],
    ["an empty page", { items: [], nextCursor: null, prevCursor: null }],
    ["a page with an extra key", { items: [stored()], nextCursor: null, prevCursor: null, more: true }],
    ["a page without prevCursor", { items: [stored()], nextCursor: null }],
  ])("writes the same text as the generic walk for %s", (_, value) => {
    expect(serializeText(value)).toBe(JSON.stringify(serialize(value)));
  });

  it("writes one Date object in two fields as two Dates, which superjson decodes to equal values", () => {
    const date = new Date(5);
    const wire = serialize({ a: date, b: date });
    expect(wire).toEqual({ json: { a: date.toISOString(), b: date.toISOString() }, meta: { values: { a: ["Date"], b: ["Date"] }, v: 1 } });
    expect(superjson.deserialize(wire)).toEqual({ a: date, b: date });
  });
});

/** Same bytes as JSON.stringify, or the same refusal. */
function sameAsJsonStringify(value: unknown): void {
  let expected: string | undefined;
  try {
    expected = JSON.stringify(value);
  } catch (error) {
    expect(() => jsonText(value)).toThrow((error as Error).message);
    return;
  }
  expect(jsonText(value)).toBe(expected);
}

describe("the JSON writer of REST answers and event frames", () => {
  const page = fc.record({
    items: fc.array(session, { maxLength: 20 }),
    nextCursor: fc.option(fc.string()),
    prevCursor: fc.option(fc.string()),
  });

  it("writes JSON.stringify's bytes for sessions and pages of sessions", () => {
    fc.assert(fc.property(session, sameAsJsonStringify), { numRuns: 2000, seed: 4 });
    fc.assert(fc.property(page, sameAsJsonStringify), { numRuns: 500, seed: 5 });
  });

  it("writes JSON.stringify's bytes for any other value (which it hands to JSON.stringify)", () => {
    fc.assert(fc.property(fc.anything({ withDate: true, withNullPrototype: true, withSparseArray: true }), sameAsJsonStringify), {
      numRuns: 2000,
      seed: 6,
    });
  });

  it.each([
    ["a revision of -0", { revision: -0 }],
    ["metadata with -0, nested arrays and unicode", { metadata: { n: -0, deep: [[["\u2028", "é", "\ud83d\ude00"]]] } }],
    ["an invalid Date", { updatedAt: new Date(Number.NaN) }],
    ["keys in another order", { reorder: true }],
  ])("writes JSON.stringify's bytes for %s", (_, change) => {
    const base = fc.sample(session, { seed: 7, numRuns: 1 })[0]!;
    const value = "reorder" in change ? Object.fromEntries(Object.entries(base).reverse()) : { ...base, ...change };
    sameAsJsonStringify(value);
    sameAsJsonStringify({ items: [value, base], nextCursor: null, prevCursor: "p" });
  });
});
