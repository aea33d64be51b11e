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
import { isoDate } from "./iso-date.ts";

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
    return isoDate(value);
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

/**
 * Whether a value is JSON that superjson writes as it is, with no meta: JSON primitives (no -0),
 * arrays without holes and plain objects without the keys superjson refuses, each object once
 * (it marks them in `seen`, as the generic walk does). Without the walk's path strings.
 */
function plainJson(value: unknown, seen: Set<object>): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    switch (typeof current) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (Number.isFinite(current) && !Object.is(current, -0)) continue;
        return false;
      case "object":
        break;
      default:
        return false;
    }
    if (current === null) continue;
    if (seen.has(current)) return false;
    seen.add(current);
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index++) {
        if (!(index in current)) return false;
        stack.push(current[index]);
      }
      continue;
    }
    const proto = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) return false;
    for (const key of Object.keys(current)) {
      if (UNSENDABLE_KEYS.has(key)) return false;
      stack.push((current as Record<string, unknown>)[key]);
    }
  }
  return true;
}

/** The keys of a session as the stores and the service build it, in their order. */
const SESSION_KEYS = ["id", "owner", "title", "parentId", "metadata", "revision", "createdAt", "updatedAt", "archivedAt"];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
const isValidDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());
const isSendableNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && !Object.is(value, -0);

/**
 * A session's JSON text, with its metadata written by `metadataText` (undefined gives up), or
 * undefined when the value is not exactly a session as the stores and the service build it. Dates
 * are ISO strings, as JSON.stringify writes them; written field by field, without JSON.stringify's
 * slow path for objects with a toJSON (every Date).
 */
function sessionFields(value: Record<string, unknown>, metadataText: (metadata: unknown) => string | undefined): string | undefined {
  const keys = Object.keys(value);
  if (keys.length !== SESSION_KEYS.length) return undefined;
  for (let index = 0; index < keys.length; index++) if (keys[index] !== SESSION_KEYS[index]) return undefined;
  const { id, owner, title, parentId, metadata, revision, createdAt, updatedAt, archivedAt } = value;
  if (typeof id !== "string" || typeof owner !== "string" || typeof title !== "string") return undefined;
  if (parentId !== null && typeof parentId !== "string") return undefined;
  if (!isSendableNumber(revision) || !isValidDate(createdAt) || !isValidDate(updatedAt)) return undefined;
  if (archivedAt !== null && !isValidDate(archivedAt)) return undefined;
  const metadataJson = metadataText(metadata);
  if (metadataJson === undefined) return undefined;
  return `{"id":${JSON.stringify(id)},"owner":${JSON.stringify(owner)},"title":${JSON.stringify(title)},"parentId":${parentId === null ? "null" : JSON.stringify(parentId)},"metadata":${metadataJson},"revision":${revision},"createdAt":"${isoDate(createdAt)}","updatedAt":"${isoDate(updatedAt)}","archivedAt":${archivedAt === null ? "null" : `"${isoDate(archivedAt)}"`}}`;
}

/** A page of sessions' JSON text, each written by `sessionText` (undefined gives up), or undefined. */
function pageFields(value: unknown, sessionText: (session: unknown, index: number) => string | undefined): string | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 3 || keys[0] !== "items" || keys[1] !== "nextCursor" || keys[2] !== "prevCursor") return undefined;
  const { items, nextCursor, prevCursor } = value;
  if (
    !Array.isArray(items) ||
    Object.getPrototypeOf(items) !== Array.prototype ||
    (nextCursor !== null && typeof nextCursor !== "string") ||
    (prevCursor !== null && typeof prevCursor !== "string")
  ) {
    return undefined;
  }
  const texts: string[] = [];
  for (let index = 0; index < items.length; index++) {
    if (!(index in items)) return undefined;
    const text = sessionText(items[index], index);
    if (text === undefined) return undefined;
    texts.push(text);
  }
  const cursor = (text: string | null) => (text === null ? "null" : JSON.stringify(text));
  return `{"items":[${texts.join(",")}],"nextCursor":${cursor(nextCursor)},"prevCursor":${cursor(prevCursor)}}`;
}

/**
 * A session's superjson `json` text, its Dates' paths appended to `meta` (as `"path":["Date"]`), or
 * undefined when the value is not exactly a session (then the generic walk decides). The same text
 * as the generic walk plus JSON.stringify, written without building the copy.
 */
function sessionText(value: unknown, prefix: string, meta: string[], walk: Walk): string | undefined {
  if (!isPlainObject(value) || walk.seen.has(value)) return undefined;
  walk.seen.add(value);
  // Metadata is JSON (the stores parse it from text), which superjson writes as it is; anything
  // else in it (a -0, a shared object, a key superjson refuses) leaves the value to superjson.
  const text = sessionFields(value, (metadata) => (plainJson(metadata, walk.seen) ? JSON.stringify(metadata) : undefined));
  if (text === undefined) return undefined;
  meta.push(`"${prefix}createdAt":["Date"]`, `"${prefix}updatedAt":["Date"]`);
  if (value.archivedAt !== null) meta.push(`"${prefix}archivedAt":["Date"]`);
  return text;
}

/** A page of sessions' superjson `json` text (see sessionText), or undefined. */
function pageText(value: unknown, meta: string[], walk: Walk): string | undefined {
  if (!isPlainObject(value)) return undefined;
  walk.seen.add(value).add(value.items as object);
  return pageFields(value, (session, index) => sessionText(session, `items.${index}.`, meta, walk));
}

/** A lone session's metadata as superjson writes it (plain JSON), or undefined (then the generic walk decides). */
const metadataPlain = (metadata: unknown) =>
  isPlainObject(metadata) && isEmpty(metadata) ? "{}" : plainJson(metadata, new Set()) ? JSON.stringify(metadata) : undefined;
const SESSION_DATES = '"createdAt":["Date"],"updatedAt":["Date"]';
const ARCHIVED_SESSION_DATES = `${SESSION_DATES},"archivedAt":["Date"]`;

function isEmpty(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

/**
 * `JSON.stringify(serialize(value))`: for a session or a page of sessions, the text is written
 * straight from the fields (no copy of the value, no second walk by JSON.stringify).
 */
export function serializeText(value: unknown): string {
  // One session (a get, a create, an update): its Dates are always these paths.
  if (isPlainObject(value)) {
    const session = sessionFields(value, metadataPlain);
    if (session !== undefined) {
      return `{"json":${session},"meta":{"values":{${value.archivedAt === null ? SESSION_DATES : ARCHIVED_SESSION_DATES}},"v":1}}`;
    }
  }
  const meta: string[] = [];
  const walk: Walk = { values: undefined, seen: new Set() };
  // A session the lines above did not write is one the generic walk decides (sessionText would refuse it too).
  const json = pageText(value, meta, walk);
  if (json === undefined) return JSON.stringify(serialize(value));
  return meta.length === 0 ? `{"json":${json}}` : `{"json":${json},"meta":{"values":{${meta.join(",")}},"v":1}}`;
}

/** A session's metadata as plain JSON text: it is JSON (the schema, or the store's JSON.parse, made it so). */
const metadataJson = (metadata: unknown) => JSON.stringify(metadata);
const plainSession = (value: unknown) => (isPlainObject(value) ? sessionFields(value, metadataJson) : undefined);

/**
 * `JSON.stringify(value)`, the same bytes: for a session or a page of sessions (REST answers, event
 * frames) written field by field, about twice as fast for a page of 50 as JSON.stringify, whose
 * Dates (their toJSON) take it off its fast path.
 */
export function jsonText(value: unknown): string {
  return plainSession(value) ?? pageFields(value, plainSession) ?? JSON.stringify(value);
}

export function serialize(value: unknown): SuperJSONResult {
  const walk: Walk = { values: undefined, seen: new Set() };
  const json = plain(value, "", walk);
  if (json === GIVE_UP || walk.values?.[""]) return superjson.serialize(value);
  return (walk.values ? { json, meta: { values: walk.values, v: 1 } } : { json }) as SuperJSONResult;
}
