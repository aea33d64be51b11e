/** The tRPC front door's reading of a query: the same input as URLSearchParams, with or without it. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readQuery } from "./trpc-endpoint.ts";

function expectSameInput(query: string): void {
  expect(readQuery(query).input).toBe(new URLSearchParams(query).get("input"));
}

describe("readQuery", () => {
  it("gives URLSearchParams' input for an encoded input alone (what tRPC's links send), without building the parameters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const query = `input=${encodeURIComponent(text)}`;
        expectSameInput(query);
        expect(readQuery(query).search).toBeNull();
      }),
    );
  });

  it("gives URLSearchParams' input for any query, percent signs, plus signs and broken UTF-8 included", () => {
    const piece = fc.constantFrom(
      "input=",
      "input",
      "batch=1",
      "&",
      "=",
      "+",
      "%",
      "%2",
      "%25",
      "%7B",
      "%C3",
      "%A9",
      "%FF",
      "%zz",
      "a",
      "é",
      " ",
      "\uD800",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        expectSameInput(pieces.join(""));
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        expectSameInput(`input=${text}`);
      }),
    );
  });

  it.each(["input=\uD800", "input=%ED%A0%80", "input=%F0%9F%98", "input=%", "input=a+b", "input=%7B%7D&input=1", "%69nput=1"])(
    "gives URLSearchParams' input for %j",
    (query) => {
      expectSameInput(query);
    },
  );

  it("keeps the parameters when there are others", () => {
    expect(readQuery("input=%7B%7D&batch=1").search?.get("batch")).toBe("1");
    expect(readQuery("").search).toBeNull();
    expect(readQuery("").input).toBeNull();
  });
});
