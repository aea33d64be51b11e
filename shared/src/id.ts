/**
 * Session IDs, compatible with opencode's format:
 *
 *   ses_ + 12 lowercase hex + 14 base62  (30 characters)
 *
 * The 12 hex digits are the low 48 bits of `ms * 4096 + counter`, bitwise-inverted so that a newer
 * ID sorts first as a string. The 14 base62 characters are random.
 *
 * Compared with the reference generator this module keeps the format and fixes three flaws:
 * - the counter never spills into the milliseconds: past 4095 IDs in one millisecond the logical
 *   clock borrows the next millisecond, and a clock that goes backwards is ignored, so IDs made in
 *   one process are strictly decreasing;
 * - base62 characters are drawn by rejection sampling, so each is uniform (`byte % 62` is not);
 * - randomness is fetched in batches, not with one system call per ID.
 *
 * The format has room for 36 bits of milliseconds (about 795 days), so the time part wraps around
 * every 2^36 ms (next: 2028-10-17). Order is strictly decreasing between two wraps; `decodeTime`
 * recovers the full time by picking the most recent wrap that is not in the future.
 */
// Web Crypto and a pure-JS SHA-256, so that this module runs unchanged in browsers, Node >= 20,
// Deno and Bun (no `node:` imports); SHA-256 stays synchronous, so deriveSessionId does too.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

export const SESSION_ID_PREFIX = "ses";
export const SESSION_ID_PATTERN = /^ses_[0-9a-f]{12}[0-9A-Za-z]{14}$/;
export const SESSION_ID_LENGTH = 30;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_CHARS = 14;
/** Bytes at or above this value are rejected: 248 = 4 * 62, so `byte % 62` is uniform below it. */
const REJECT_FROM = 248;
const COUNTER_SPAN = 4096;
const TIME_SPAN = 2 ** 36; // milliseconds that fit in the 48-bit field beside the 12-bit counter
const MAX_48 = 2 ** 48 - 1;
/**
 * Three hex digits for each 12-bit value: the 48-bit field is four of them (Number's toString(16)
 * costs 8 times more). Built with the first ID, not when a page that never makes one loads this module.
 */
let hex3: string[] | undefined;
const BASE62_CODES = Array.from(BASE62, (char) => char.charCodeAt(0));

/** A 48-bit number as 12 lowercase hex digits. */
function hex48(value: number): string {
  const table = (hex3 ??= Array.from({ length: 4096 }, (_, digits) => digits.toString(16).padStart(3, "0")));
  const high = Math.floor(value / 2 ** 24);
  const low = value - high * 2 ** 24;
  return table[high >>> 12]! + table[high & 4095]! + table[low >>> 12]! + table[low & 4095]!;
}

export function isSessionId(value: unknown): value is string {
  return typeof value === "string" && SESSION_ID_PATTERN.test(value);
}

/** Why a string is not a session ID, in words a caller can act on; `null` when it is one. */
export function sessionIdProblem(value: string): string | null {
  if (SESSION_ID_PATTERN.test(value)) return null;
  if (!value.startsWith(`${SESSION_ID_PREFIX}_`)) return `must start with "${SESSION_ID_PREFIX}_"`;
  if (value.length !== SESSION_ID_LENGTH) {
    return `must be ${SESSION_ID_LENGTH} characters ("ses_" + 12 lowercase hex + 14 base62), got ${value.length}`;
  }
  if (!/^[0-9a-f]{12}$/.test(value.slice(4, 16))) return "characters 5-16 must be lowercase hex (0-9, a-f)";
  return "the last 14 characters must be base62 (0-9, A-Z, a-z)";
}

/** A source of random bytes; the default is the system CSPRNG. Tests pass a seeded one. */
export type RandomFill = (buffer: Uint8Array) => void;

/** Web Crypto's CSPRNG; it fills at most 65,536 bytes per call, so a larger batch takes several. */
function fillRandom(buffer: Uint8Array): void {
  for (let start = 0; start < buffer.length; start += 65_536) {
    // The DOM's typing wants a view of a plain ArrayBuffer; a SharedArrayBuffer's would do too.
    globalThis.crypto.getRandomValues(buffer.subarray(start, start + 65_536) as Uint8Array<ArrayBuffer>);
  }
}

export interface SessionIdGeneratorOptions {
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  now?: () => number;
  random?: RandomFill;
  /** Random bytes fetched per refill. */
  batchBytes?: number;
}

export type SessionIdGenerator = () => string;

/**
 * Makes an independent generator. Each generator keeps its own logical clock: IDs from one
 * generator are strictly decreasing as strings (between two wraps of the time field).
 */
export function createSessionIdGenerator(options: SessionIdGeneratorOptions = {}): SessionIdGenerator {
  const now = options.now ?? Date.now;
  const random = options.random ?? fillRandom;
  const pool = new Uint8Array(options.batchBytes ?? 4096);
  let poolIndex = pool.length;
  let lastMs = -Infinity;
  let counter = 0;

  const codes = new Array<number>(RANDOM_CHARS);
  function randomChars(): string {
    let count = 0;
    while (count < RANDOM_CHARS) {
      if (poolIndex === pool.length) {
        random(pool);
        poolIndex = 0;
      }
      const byte = pool[poolIndex++]!;
      if (byte < REJECT_FROM) codes[count++] = BASE62_CODES[byte % 62]!;
    }
    return String.fromCharCode(...codes);
  }

  return function generateSessionId(): string {
    const ms = Math.floor(now());
    if (ms > lastMs) {
      lastMs = ms;
      counter = 0;
    } else if (++counter === COUNTER_SPAN) {
      // More than 4096 IDs in one millisecond, or the clock went backwards and we are still
      // ahead of it: borrow the next millisecond rather than reuse or overflow a counter.
      lastMs += 1;
      counter = 0;
    }
    const stamp = (lastMs % TIME_SPAN) * COUNTER_SPAN + counter;
    return `${SESSION_ID_PREFIX}_${hex48(MAX_48 - stamp)}${randomChars()}`;
  };
}

/** The process-wide generator. */
export const generateSessionId: SessionIdGenerator = createSessionIdGenerator();

/**
 * The creation time encoded in a generated ID, to the millisecond. The ID holds the time modulo
 * 2^36 ms, so the result is the latest matching time not after `reference` (default: now) plus a
 * minute of clock skew. Meaningless for IDs that were not generated (chosen or derived ones).
 */
export function decodeSessionIdTime(id: string, reference: number = Date.now()): Date {
  if (!isSessionId(id)) throw new TypeError(`not a session ID: ${JSON.stringify(id)}`);
  const stamp = MAX_48 - Number.parseInt(id.slice(4, 16), 16);
  const low = Math.floor(stamp / COUNTER_SPAN);
  const limit = reference + 60_000;
  let ms = Math.floor(limit / TIME_SPAN) * TIME_SPAN + low;
  if (ms > limit) ms -= TIME_SPAN;
  return new Date(ms);
}

/**
 * A valid session ID derived from a caller's own key: the same key always gives the same ID, and
 * different keys give the same ID only if 131 bits of their SHA-256 hashes collide. For orchestrators that
 * precompute IDs. The time field of a derived ID is not a creation time.
 */
export function deriveSessionId(key: string): string {
  let block = 0;
  let digest = sha256(utf8ToBytes(`sessiond:derive:v1:${block}:${key}`));
  const hex = bytesToHex(digest.subarray(0, 6));
  let out = "";
  let index = 6;
  while (out.length < RANDOM_CHARS) {
    if (index === digest.length) {
      block += 1;
      digest = sha256(utf8ToBytes(`sessiond:derive:v1:${block}:${key}`));
      index = 0;
    }
    const byte = digest[index++]!;
    if (byte < REJECT_FROM) out += BASE62[byte % 62];
  }
  return `${SESSION_ID_PREFIX}_${hex}${out}`;
}
