/**
 * @sessiond/shared uses no Node built-ins (Web Crypto, a pure-JS SHA-256, btoa/atob, its own UTF-8
 * count), so it runs in browsers. These check that the portable code gives exactly what the Node
 * built-ins it replaced gave: derived IDs, cursors and metadata sizes stay the same.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSessionIdGenerator, decodeCursor, deriveSessionId, encodeCursor, isSessionId } from "@sessiond/shared";
import { utf8ByteLength } from "../src/utf8.ts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** deriveSessionId as it was written on node:crypto, the reference the portable one must match. */
function deriveWithNodeCrypto(key: string): string {
  const digestOf = (block: number) => createHash("sha256").update(`sessiond:derive:v1:${block}:${key}`).digest();
  let block = 0;
  let digest = digestOf(block);
  const hex = digest.subarray(0, 6).toString("hex");
  let out = "";
  let index = 6;
  while (out.length < 14) {
    if (index === digest.length) {
      digest = digestOf(++block);
      index = 0;
    }
    const byte = digest[index++]!;
    if (byte < 248) out += BASE62[byte % 62];
  }
  return `ses_${hex}${out}`;
}

describe("portable shared code", () => {
  it("derives the same IDs as the node:crypto implementation did", () => {
    expect(deriveSessionId("job-4711")).toBe(deriveWithNodeCrypto("job-4711"));
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (key) => deriveSessionId(key) === deriveWithNodeCrypto(key)),
      { numRuns: 500 },
    );
  });

  it("fills random batches larger than Web Crypto's 65,536-byte limit per call", () => {
    const generate = createSessionIdGenerator({ batchBytes: 200_000 });
    const ids = new Set(Array.from({ length: 1000 }, () => generate()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isSessionId(id)).toBe(true);
  });

  it("encodes cursors exactly as Buffer's base64url did, and decodes them back", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 48 }),
        fc.constantFrom(...Array.from({ length: 20 }, (_, i) => deriveSessionId(`c${i}`))),
        (createdAt, id) => {
          const token = encodeCursor({ createdAt, id });
          expect(token).toBe(Buffer.from(`${createdAt}.${id}`).toString("base64url"));
          expect(decodeCursor(token)).toEqual({ createdAt, id });
        },
      ),
    );
  });

  it("refuses cursor tokens that are not base64 at all instead of throwing", () => {
    const token = encodeCursor({ createdAt: 1, id: deriveSessionId("x") });
    expect(decodeCursor(`${token}A`)).toBeNull(); // a length no base64 text has
    expect(decodeCursor("A")).toBeNull();
  });

  it("counts UTF-8 bytes as Buffer.byteLength does, lone surrogates included", () => {
    for (const text of ["", "a", "é", "€", "😀", "\ud800", "\udc00x", "a\ud83d", "\ud83d\ude00\ud83d"]) {
      expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text));
    }
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => utf8ByteLength(text) === Buffer.byteLength(text)),
      { numRuns: 2000 },
    );
  });
});
