import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./cursor.ts";

describe("list cursors", () => {
  it("carry the position of the last item there and back", () => {
    const position = { createdAt: 1_767_225_600_123, id: "ses_0123456789abABCDEFGHIJKLMN" };
    const token = encodeCursor(position);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(token)).toEqual(position);
  });

  it("carry an owner too (a list of every owner's sessions), whatever its characters", () => {
    for (const owner of ["alice", "user|42", "dés.owner 🎉", "x".repeat(256)]) {
      const position = { createdAt: 1_767_225_600_123, id: "ses_0123456789abABCDEFGHIJKLMN", owner };
      expect(decodeCursor(encodeCursor(position))).toEqual(position);
    }
  });

  it.each([
    ["not base64url", "a+b/"],
    ["too long", "A".repeat(4401)],
    ["without a dot", encodeCursor({ createdAt: 1, id: "ses_0123456789abABCDEFGHIJKLMN" }).slice(0, 4)],
    ["a bad time", btoa("-5.ses_0123456789abABCDEFGHIJKLMN").replaceAll("=", "")],
    ["a bad ID", btoa("5.ses_nope").replaceAll("=", "")],
    ["an empty owner", btoa("5.ses_0123456789abABCDEFGHIJKLMN.").replaceAll("=", "")],
    ["a badly encoded owner", btoa("5.ses_0123456789abABCDEFGHIJKLMN.%E0%A4%A").replaceAll("=", "")],
  ])("refuse a token that is %s", (_, token) => {
    expect(decodeCursor(token)).toBeNull();
  });
});
