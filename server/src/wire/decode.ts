/**
 * Decoding inputs from the wire, with the work bounded by the size of the body.
 *
 * superjson's own `deserialize` trusts its `meta`: a 90-byte envelope can mark index 4294967294 of
 * an empty array (V8 runs out of memory building it), or alias one object at every level with
 * `referentialEqualities` (a "billion laughs": validating the result never ends). sessiond's inputs
 * are JSON values plus `undefined` and the non-finite numbers superjson sends as strings, so this
 * decoder accepts exactly that part of superjson's format and refuses the rest with BAD_REQUEST:
 * - the envelope is `{"json": <input>}` with an optional `"meta"`, nothing else;
 * - `meta.values` may mark only "undefined" (on a null) and "number" (on "NaN", "Infinity",
 *   "-Infinity" or "-0"), only at paths the input has, each path once;
 * - no `meta.referentialEqualities`: nothing in a sessiond input needs one object twice;
 * - the input is at most MAX_INPUT_DEPTH levels deep (validation recurses).
 * Each check walks the parsed JSON or the meta once, so a request costs time and memory linear in
 * its size.
 */
import { InvalidInputError } from "../errors.ts";

/** Deeper than any valid input: metadata may nest 64 levels at most (config), inside its input. */
export const MAX_INPUT_DEPTH = 100;

const ENVELOPE_HINT = 'Send each input as a superjson envelope: {"json": <input>} (the typed client does this)';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** The body or query input as JSON; BAD_REQUEST with a caller-readable reason when it is not. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : "it cannot be parsed";
    throw new InvalidInputError(`The ${what} is not valid JSON: ${reason}`);
  }
}

/**
 * Checks that a JSON value nests at most `maxDepth` levels and returns how many values it holds.
 * Iterative, so a deeply nested body cannot exhaust the stack.
 */
export function measureJson(value: unknown, maxDepth: number = MAX_INPUT_DEPTH): number {
  let nodes = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    nodes++;
    if (typeof current !== "object" || current === null) continue;
    if (depth > maxDepth) throw new InvalidInputError(`The input is nested more than ${maxDepth} levels deep`);
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1]);
  }
  return nodes;
}

/**
 * A batch's input is `{"<index>": <envelope>}` for indexes below the number of calls; any other
 * key would be silently ignored (and its call run without input), so it is refused.
 */
export function checkBatchInput(input: unknown, calls: number): void {
  const shape = `A batch's input is an object {"0": {"json": <input>}, ...} with one entry per call (indexes 0 to ${calls - 1})`;
  if (!isPlainObject(input)) throw new InvalidInputError(`${shape}, got ${describe(input)}`);
  for (const key of Object.keys(input)) {
    if (!/^(0|[1-9]\d{0,5})$/.test(key) || Number(key) >= calls) {
      throw new InvalidInputError(`${shape}, got the key ${JSON.stringify(key.slice(0, 40))}`);
    }
  }
}

/** superjson's path syntax: dot-separated, `\.` and (from version 1) `\\` escaped. */
function parsePath(path: string, legacy: boolean): string[] {
  const segments: string[] = [];
  let segment = "";
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    if (char === "\\" && path[i + 1] === ".") {
      segment += ".";
      i++;
    } else if (char === "\\" && !legacy) {
      if (path[i + 1] !== "\\") throw new InvalidInputError(`Invalid path in the envelope's meta: ${JSON.stringify(path.slice(0, 80))}`);
      segment += "\\";
      i++;
    } else if (char === ".") {
      segments.push(segment);
      segment = "";
    } else {
      segment += char;
    }
  }
  segments.push(segment);
  return segments;
}

const NUMBERS: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
  "-0": -0,
};

/** Applies one value annotation in place; returns the new root (which changes only for a root annotation). */
function annotate(root: Json | undefined, segments: string[], type: unknown, shown: string): unknown {
  if (type !== "undefined" && type !== "number") {
    const name = Array.isArray(type) ? String(type[0]) : typeof type === "string" ? type : describe(type);
    const message = `Unsupported value type ${JSON.stringify(name.slice(0, 40))} at ${shown}: inputs are JSON values (and undefined)`;
    throw new InvalidInputError(message, segments[0]);
  }
  let parent: unknown;
  let key = "";
  let value: unknown = root;
  for (const segment of segments) {
    const own = Array.isArray(value)
      ? /^(0|[1-9]\d*)$/.test(segment) && Number(segment) < value.length
      : isPlainObject(value) && segment !== "__proto__" && Object.hasOwn(value, segment);
    if (!own) throw new InvalidInputError(`The envelope's meta refers to ${shown}, which the input does not have`);
    parent = value;
    key = segment;
    value = (value as Record<string, unknown>)[segment];
  }
  let decoded: unknown;
  if (type === "undefined") {
    if (value !== null) throw new InvalidInputError(`The envelope's meta marks ${shown} undefined, but it is not null`);
    decoded = undefined;
  } else {
    if (typeof value !== "string" || !Object.hasOwn(NUMBERS, value)) {
      throw new InvalidInputError(`The envelope's meta marks ${shown} as a number, but it is not "NaN", "Infinity", "-Infinity" or "-0"`);
    }
    decoded = NUMBERS[value];
  }
  if (parent === undefined) return decoded;
  (parent as Record<string, unknown>)[key] = decoded;
  return root;
}

/**
 * One superjson envelope to the input it carries (the server transformer's `deserialize`). The
 * parsed JSON is decoded in place: it is the request's own copy.
 */
export function decodeEnvelope(envelope: unknown): unknown {
  if (!isPlainObject(envelope) || !Object.hasOwn(envelope, "json")) {
    throw new InvalidInputError(`${ENVELOPE_HINT}; got ${isPlainObject(envelope) ? 'an object without "json"' : describe(envelope)}`);
  }
  for (const key of Object.keys(envelope)) {
    if (key !== "json" && key !== "meta")
      throw new InvalidInputError(`${ENVELOPE_HINT}; got the unknown key ${JSON.stringify(key.slice(0, 40))}`);
  }
  let input = envelope.json as Json;
  const nodes = measureJson(input);
  const meta = envelope.meta;
  if (meta === undefined) return input;
  measureJson(meta);
  if (!isPlainObject(meta)) throw new InvalidInputError(`The envelope's "meta" must be an object, got ${describe(meta)}`);
  for (const key of Object.keys(meta)) {
    if (key === "referentialEqualities") {
      throw new InvalidInputError("The input repeats an object (superjson referentialEqualities): send each value once");
    }
    if (key !== "values" && key !== "v")
      throw new InvalidInputError(`The envelope's "meta" has the unknown key ${JSON.stringify(key.slice(0, 40))}`);
  }
  if (meta.v !== undefined && meta.v !== 1) throw new InvalidInputError('The envelope\'s "meta.v" must be 1');
  const legacy = meta.v === undefined;
  if (meta.values === undefined) return input;

  // The annotation tree: a `[type, children?]` node, or a map from (escaped) path to a tree. At most
  // one annotation per value of the input, each at a path it has.
  let budget = nodes;
  const pending: [tree: unknown, origin: string[]][] = [[meta.values, []]];
  while (pending.length > 0) {
    const [tree, origin] = pending.pop()!;
    if (--budget < 0) throw new InvalidInputError("The envelope's meta has more annotations than the input has values");
    if (Array.isArray(tree)) {
      const [type, children] = tree as [unknown, unknown];
      if (tree.length > 2 || (children !== undefined && !isPlainObject(children))) {
        throw new InvalidInputError("The envelope's meta.values is malformed");
      }
      if (children) for (const [path, child] of Object.entries(children)) pending.push([child, [...origin, ...parsePath(path, legacy)]]);
      const shown = origin.length ? JSON.stringify(origin.join(".").slice(0, 80)) : "the input itself";
      input = annotate(input, origin, type, shown) as Json;
    } else if (isPlainObject(tree)) {
      for (const [path, child] of Object.entries(tree)) pending.push([child, [...origin, ...parsePath(path, legacy)]]);
    } else {
      throw new InvalidInputError("The envelope's meta.values is malformed");
    }
  }
  return input;
}
