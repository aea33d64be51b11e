/**
 * Inputs the contract refuses (or accepts at its edge), shared by the tRPC and REST contract
 * suites so the two cannot drift apart: each suite sends them its own way.
 */
import { LIMITS } from "@sessiond/shared";

/** Strings that are not session IDs. */
export const INVALID_IDS: [string, string][] = [
  ["a wrong prefix", "msg_0123456789abABCDEFGHIJKLMN"],
  ["no prefix", "0123456789abABCDEFGHIJKLMN"],
  ["a wrong length", "ses_0123456789abABCDEFGHIJKLM"],
  ["too long", "ses_0123456789abABCDEFGHIJKLMNO"],
  ["uppercase hex", "ses_0123456789ABABCDEFGHIJKLMN"],
  ["a non-hex time part", "ses_0123456789agABCDEFGHIJKLMN"],
  ["a non-base62 character", "ses_0123456789abABCDEFGHIJKL_N"],
  ["a non-ASCII look-alike", "ses_0123456789abABCDEFGHIJKLMН"],
  ["leading whitespace", " ses_0123456789abABCDEFGHIJKLM"],
  ["trailing whitespace", "ses_0123456789abABCDEFGHIJKLMN "],
  ["the empty string", ""],
];

/** IDs that are not strings at all. */
export const NON_STRING_IDS: [string, unknown][] = [
  ["a number", 42],
  ["null", null],
  ["an array", ["ses_0123456789abABCDEFGHIJKLMN"]],
  ["an object", { id: "ses_0123456789abABCDEFGHIJKLMN" }],
];

export const INVALID_TITLES: [string, string][] = [
  ["empty", ""],
  ["too long", "x".repeat(LIMITS.titleMaxLength + 1)],
  ["a control character", "line\nbreak"],
  ["a NUL", "nul\u0000"],
  ["a lone surrogate", "broken \ud800"],
  ["a C1 control character (U+009B, the terminal's CSI)", "red \u009b31m"],
  ["a C1 next-line (U+0085)", "two\u0085lines"],
  ["a right-to-left override (U+202E)", "invoice \u202egnp.exe"],
  ["a first-strong isolate (U+2068)", "a\u2068b"],
];

/** Right-to-left text with the plain direction marks, which titles accept. */
export const RIGHT_TO_LEFT_TITLE = "שלום \u200fعالم\u200e \u061c";

export const INVALID_IDEMPOTENCY_KEYS: [string, string][] = [
  ["a C1 control character", "key\u009b"],
  ["a bidirectional override", "key\u202d"],
];

/** Metadata refused whatever the wire (JSON can carry each of these). */
export const INVALID_METADATA: [string, unknown][] = [
  ["an array", [1, 2]],
  ["a string", "meta"],
  ["null", null],
  ["larger than the limit", { blob: "x".repeat(LIMITS.metadataMaxBytes) }],
  ["nested too deep", JSON.parse(`${'{"a":'.repeat(LIMITS.metadataMaxDepth + 1)}1${"}".repeat(LIMITS.metadataMaxDepth + 1)}`)],
];

/** Metadata exactly at the depth limit, which is accepted. */
export const DEEPEST_METADATA = JSON.parse(`${'{"a":'.repeat(LIMITS.metadataMaxDepth - 1)}{}${"}".repeat(LIMITS.metadataMaxDepth - 1)}`);
