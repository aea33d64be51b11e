import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { checkBatchInput, decodeEnvelope, measureJson, MAX_INPUT_DEPTH } from "./decode.ts";

/** What the typed client sends for a value: superjson's own serialization, through JSON. */
const wire = (value: unknown) => JSON.parse(JSON.stringify(superjson.serialize(value)));

describe("decodeEnvelope", () => {
  it.each([
    ["a plain input", { id: "ses_x", title: "t" }],
    ["undefined fields", { id: undefined, title: "t", nested: { a: undefined, list: [undefined, 1] } }],
    ["non-finite numbers and -0", { m: { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY, d: -0 } }],
    ["keys with dots and backslashes", { "a.b": undefined, "c\\d": { "e.f": undefined } }],
    ["no input at all", undefined],
    ["null", null],
  ])("decodes %s exactly as superjson does", (_, value) => {
    expect(decodeEnvelope(wire(value))).toEqual(superjson.deserialize(wire(value)));
  });

  it("reads the tree form of meta.values, and legacy (version 0) paths where a backslash is plain", () => {
    expect(decodeEnvelope({ json: null, meta: { values: ["undefined"], v: 1 } })).toBeUndefined();
    expect(decodeEnvelope({ json: { a: { b: null } }, meta: { values: { a: { b: ["undefined"] } }, v: 1 } })).toEqual({
      a: { b: undefined },
    });
    expect(decodeEnvelope({ json: { "a\\b": null }, meta: { values: { "a\\b": ["undefined"] } } })).toEqual({ "a\\b": undefined });
    expect(() => decodeEnvelope({ json: { "a\\b": null }, meta: { values: { "a\\b": ["undefined"] }, v: 1 } })).toThrow(/Invalid path/);
  });

  it.each([
    ["a bare value", 5, /superjson envelope/],
    ["an object without json", { id: "x" }, /without "json"/],
    ["referential equalities", { json: { a: {}, b: {} }, meta: { referentialEqualities: { a: ["b"] } } }, /repeats an object/],
    ["a sparse index", { json: [], meta: { values: { "4294967294": ["undefined"] } } }, /does not have|more annotations/],
    [
      "a sparse index in a larger input",
      { json: { a: [], b: 1, c: 2 }, meta: { values: { "a.4294967294": ["undefined"] } } },
      /does not have/,
    ],
    ["a Date", { json: { d: "2026-01-01T00:00:00.000Z" }, meta: { values: { d: ["Date"] } } }, /Unsupported value type "Date"/],
    [
      "more annotations than values",
      { json: null, meta: { values: ["undefined", { "": ["undefined"] }] } },
      /more annotations|does not have/,
    ],
    [
      "a path through __proto__",
      { json: JSON.parse('{"__proto__":{"a":null}}'), meta: { values: { "__proto__.a": ["undefined"] } } },
      /does not have/,
    ],
  ])("refuses %s", (_, envelope, message) => {
    expect(() => decodeEnvelope(envelope)).toThrow(message);
  });
});

describe("measureJson", () => {
  it("counts values and refuses nesting past the bound without recursion", () => {
    expect(measureJson({ a: [1, 2, { b: null }] })).toBe(6);
    const deep = JSON.parse(`${"[".repeat(200_000)}${"]".repeat(200_000)}`);
    expect(() => measureJson(deep)).toThrow(`nested more than ${MAX_INPUT_DEPTH} levels`);
  });
});

describe("checkBatchInput", () => {
  it("takes indexes below the number of calls and nothing else", () => {
    expect(() => checkBatchInput({ 0: {}, 1: {} }, 2)).not.toThrow();
    expect(() => checkBatchInput({}, 2)).not.toThrow();
    for (const input of [{ 2: {} }, { a: {} }, { "01": {} }, [{}], null])
      expect(() => checkBatchInput(input, 2)).toThrow(/A batch's input/);
  });
});
