/**
 * superjson's `serialize`, with a shortcut for the values sessiond answers with. The profile of a
 * list call put 61 % of the server's time in superjson's generic walk (type registry look-ups,
 * path escaping, identity tracking) for what is plain JSON plus a few Dates. For a value made only
 * of JSON primitives, arrays, plain objects and valid Dates, each object reached once (Dates may
 * repeat: they are values), this builds exactly what superjson builds (same `json`, same
 * `meta.values` in the same order, `v: 1`);
 * anything else (undefined, -0, NaN, Maps, shared references, keys superjson refuses, ...) is
 * handed to superjson itself. test/serializer.test.ts compares the two on generated values.
 */
import { UNSENDABLE_KEYS } from "@sessiond/shared";
import superjson from "superjson";

type SuperJSONResult = ReturnType<typeof superjson.serialize>;

const GIVE_UP = Symbol("not plain");

interface Walk {
  values: Record<string, ["Date"]> | undefined;
  seen: Set<object>;
}

/** A path of keys that superjson would have to escape (dots, backslashes): Dates below it give up. */
const ESCAPED = "\u0000escaped";

/** The value as superjson's `json` part (the same value if nothing in it changes), or GIVE_UP. */
function plain(value: unknown, path: string, walk: Walk): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? value : GIVE_UP;
    case "object":
      break;
    default:
      return GIVE_UP;
  }
  if (value === null) return null;
  // A Date is a value: one reached twice (createdAt and updatedAt of a new session) is written
  // twice, where superjson would note a referential equality. Decoded, both give equal Dates.
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()) || path.startsWith(ESCAPED)) return GIVE_UP;
    (walk.values ??= {})[path] = ["Date"];
    return value.toISOString();
  }
  if (walk.seen.has(value)) return GIVE_UP; // superjson would record a referential equality
  walk.seen.add(value);

  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item = value[index] as unknown;
      const result = plain(item, path.startsWith(ESCAPED) ? ESCAPED : path === "" ? String(index) : `${path}.${index}`, walk);
      if (result === GIVE_UP) return GIVE_UP;
      if (result !== item) (copy ??= value.slice())[index] = result;
    }
    return copy ?? value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return GIVE_UP;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    if (UNSENDABLE_KEYS.has(key)) return GIVE_UP;
    const item = (value as Record<string, unknown>)[key];
    const escaped = path.startsWith(ESCAPED) || key.includes(".") || key.includes("\\");
    const result = plain(item, escaped ? ESCAPED : path === "" ? key : `${path}.${key}`, walk);
    if (result === GIVE_UP) return GIVE_UP;
    if (result !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = result;
  }
  return copy ?? value;
}

export function serialize(value: unknown): SuperJSONResult {
  const walk: Walk = { values: undefined, seen: new Set() };
  const json = plain(value, "", walk);
  if (json === GIVE_UP || walk.values?.[""]) return superjson.serialize(value);
  return (walk.values ? { json, meta: { values: walk.values, v: 1 } } : { json }) as SuperJSONResult;
}
