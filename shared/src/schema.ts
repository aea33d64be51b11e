/**
 * The contract: what a Session is and what each procedure takes and returns. The server validates
 * input with these schemas; the client's types are inferred from the router built on them.
 *
 * Input schemas depend on the limits, which a server may configure: `createInputSchemas(limits)`
 * builds them; the exported `...InputSchema` constants are the ones for the default limits. The
 * types are the same whatever the limits.
 */
import { z } from "zod";
import { decodeCursor } from "./cursor.ts";
import { sessionIdProblem } from "./id.ts";
import { LIMITS, type Limits } from "./limits.ts";
import { utf8ByteLength } from "./utf8.ts";

export const SessionIdSchema = z.string().check((ctx) => {
  const problem = sessionIdProblem(ctx.value);
  if (problem) ctx.issues.push({ code: "custom", message: `Invalid session ID: ${problem}`, input: ctx.value });
});

/**
 * Characters a stored text may not hold: C0 and C1 control characters (a terminal acts on them, and
 * PostgreSQL refuses NUL), and the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069), which reorder the text around them where it is shown, so that a title can read
 * as something else in a list or a terminal ("Trojan Source"). The plain direction marks (U+200E,
 * U+200F, U+061C) stay allowed: right-to-left text needs no more than those.
 */
const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * Text that every engine stores exactly as sent: well-formed Unicode (a lone surrogate would be
 * replaced on the way to UTF-8) without the characters above.
 */
function plainText(label: string, maxLength: number) {
  return z
    .string()
    .min(1, `${label} must not be empty`)
    .max(maxLength, `${label} must be at most ${maxLength} characters`)
    .refine((text) => text.isWellFormed(), `${label} must be well-formed Unicode (no lone surrogates)`)
    .refine(
      (text) => !FORBIDDEN_CHARACTERS.test(text),
      `${label} must not contain control characters (U+0000-U+001F, U+007F-U+009F) or bidirectional overrides (U+202A-U+202E, U+2066-U+2069)`,
    );
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Metadata = { [key: string]: JsonValue };

/**
 * Keys that superjson refuses to serialize (a prototype-pollution guard): a session holding one
 * could never be sent back, so metadata may not use them. zod's record also silently drops
 * `__proto__`.
 */
export const UNSENDABLE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

type Inspection = { problem: string } | { problem?: undefined; value: unknown };

const NOT_JSON = "Metadata values must be JSON: plain objects, arrays, strings, numbers, booleans and null";

/**
 * One walk over metadata (iterative, stopping at the first problem): its depth, its keys, that
 * every value is JSON (what a JSON body can carry; superjson can also carry undefined, bigints,
 * NaN and class instances), and any -0. JSON has no -0: the stored copy says 0, so the value is
 * normalised here and the answer to a create is what a later read returns.
 */
function inspectMetadata(value: unknown, maxDepth: number): Inspection {
  let negativeZero = false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    switch (typeof current) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (!Number.isFinite(current)) return { problem: "Metadata numbers must be finite (JSON has no NaN or Infinity)" };
        if (Object.is(current, -0)) negativeZero = true;
        continue;
      case "object":
        break;
      default:
        return { problem: NOT_JSON };
    }
    if (current === null) continue;
    if (depth > maxDepth) return { problem: `Metadata must be nested at most ${maxDepth} levels deep` };
    if (!Array.isArray(current)) {
      // A `__proto__` key that a deserializer turned into a prototype shows only as one.
      const proto = Object.getPrototypeOf(current);
      if (proto !== Object.prototype && proto !== null) return { problem: NOT_JSON };
      for (const key of Object.keys(current)) {
        if (UNSENDABLE_KEYS.has(key)) return { problem: `Metadata keys must not be "${key}" (nor __proto__, constructor, prototype)` };
      }
    }
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1]);
  }
  return { value: negativeZero ? JSON.parse(JSON.stringify(value)) : value };
}

/**
 * The schema of one metadata value: any JSON value, which the walk above has checked. Not zod's
 * recursive `z.json()`: a schema that contains a cycle makes zod 4.6 track every object it parses
 * in WeakMaps, the create's whole input included (about 0.5 µs and garbage per create, with or
 * without metadata). The OpenAPI document states it as its JsonValue component.
 */
export const MetadataValueSchema = z.unknown();

function metadataSchema(maxBytes: number, maxDepth: number) {
  return z.preprocess(
    (value, ctx) => {
      const inspection = inspectMetadata(value, maxDepth);
      if (inspection.problem !== undefined) {
        ctx.issues.push({ code: "custom", message: inspection.problem, input: value });
        return value;
      }
      const text = JSON.stringify(inspection.value);
      const bytes = text === undefined ? 0 : utf8ByteLength(text);
      if (bytes > maxBytes) {
        ctx.issues.push({ code: "custom", message: `Metadata must be at most ${maxBytes} bytes of JSON, got ${bytes}`, input: value });
      }
      return inspection.value;
    },
    z.record(z.string(), MetadataValueSchema),
  ) as unknown as z.ZodType<Metadata, Metadata>;
}

export const MetadataSchema = metadataSchema(LIMITS.metadataMaxBytes, LIMITS.metadataMaxDepth);

export const SessionSchema = z.object({
  id: SessionIdSchema,
  /** Whose session this is (fixed at create): IDs are unique per owner. */
  owner: z.string(),
  title: z.string(),
  parentId: SessionIdSchema.nullable(),
  metadata: MetadataSchema,
  /** 1 on creation, +1 on every update. */
  revision: z.int().min(1),
  createdAt: z.date(),
  updatedAt: z.date(),
  archivedAt: z.date().nullable(),
});
export type Session = z.infer<typeof SessionSchema>;

export const CursorSchema = z
  .string()
  .refine((token) => decodeCursor(token) !== null, "Invalid cursor: pass back a nextCursor from a previous page");

export const SessionRefSchema = z.strictObject({ id: SessionIdSchema });
export type SessionRef = z.infer<typeof SessionRefSchema>;

export const SessionPageSchema = z.object({
  /** Newest first. */
  items: z.array(SessionSchema),
  /** Pass as `cursor` for the next (older) page; `null` on the last page. */
  nextCursor: z.string().nullable(),
  /**
   * Pass as `cursor` with `direction: "backward"` for the page before this one (newer sessions);
   * `null` when there is none: on the first page, and on a backward page that reached the newest.
   */
  prevCursor: z.string().nullable(),
});
export type SessionPage = z.infer<typeof SessionPageSchema>;

/** The input schemas of every procedure, for the given limits. */
export function createInputSchemas(limits: Limits = LIMITS) {
  const title = plainText("Title", limits.titleMaxLength);
  const metadata = metadataSchema(limits.metadataMaxBytes, limits.metadataMaxDepth);
  const pageFields = {
    /** Page size; default 50, at most 200 (unless the server is configured otherwise). */
    limit: z.int().min(1, "Limit must be at least 1").max(limits.pageSizeMax, `Limit must be at most ${limits.pageSizeMax}`).optional(),
    /** `nextCursor` of the previous page (or `prevCursor`, going backward); null or absent for the first page. */
    cursor: CursorSchema.nullable().optional(),
    /**
     * "forward" (the default): the page after `cursor`, older sessions; "backward": the page before
     * it, newer ones. tRPC's infinite queries send it (with `cursor`) on every page.
     */
    direction: z.enum(["forward", "backward"]).optional(),
  };

  return {
    create: z
      .strictObject({
        /** Omit to let the server generate one. */
        id: SessionIdSchema.optional(),
        /** Default: "New session - <ISO time>", or "Child session - <ISO time>" with a parent. */
        title: title.optional(),
        parentId: SessionIdSchema.optional(),
        metadata: metadata.optional(),
        /**
         * The caller's key for this create (unique per owner while the session it made exists). A
         * retry with the same key and the same input returns the session the first attempt made,
         * instead of making a second one (no `id`) or answering CONFLICT (the same `id`); the same
         * key with other input is UNPROCESSABLE_CONTENT.
         */
        idempotencyKey: plainText("Idempotency key", limits.idempotencyKeyMaxLength).optional(),
      })
      .refine((input) => input.id === undefined || input.id !== input.parentId, {
        message: "A session cannot be its own parent",
        path: ["parentId"],
      })
      .optional(),

    get: SessionRefSchema,

    list: z
      .strictObject({
        ...pageFields,
        /** Only the direct children of this session. */
        parentId: SessionIdSchema.optional(),
        /** Only sessions without a parent. */
        roots: z.boolean().optional(),
      })
      .refine((input) => !(input.roots && input.parentId), {
        message: "Pass either roots or parentId, not both",
        path: ["roots"],
      })
      .optional(),

    children: z.strictObject({ id: SessionIdSchema, ...pageFields }),

    update: z
      .strictObject({
        id: SessionIdSchema,
        title: title.optional(),
        /** Replaces the whole metadata object. */
        metadata: metadata.optional(),
        /** true archives (keeping the first archive time), false unarchives. */
        archived: z.boolean().optional(),
        /** Apply only if the stored revision is this one, else PRECONDITION_FAILED. */
        expectedRevision: z.int().min(1).optional(),
      })
      .refine((input) => input.title !== undefined || input.metadata !== undefined || input.archived !== undefined, {
        message: "Nothing to update: pass title, metadata or archived",
      }),

    delete: z.strictObject({
      id: SessionIdSchema,
      /** Delete only if the session is at this revision, else PRECONDITION_FAILED (its descendants go with it either way). */
      expectedRevision: z.int().min(1).optional(),
    }),
  };
}

export type InputSchemas = ReturnType<typeof createInputSchemas>;
const defaults = createInputSchemas();

export const CreateSessionInputSchema = defaults.create;
export type CreateSessionInput = z.infer<InputSchemas["create"]>;
export const ListSessionsInputSchema = defaults.list;
export type ListSessionsInput = z.infer<InputSchemas["list"]>;
export const ListChildrenInputSchema = defaults.children;
export type ListChildrenInput = z.infer<InputSchemas["children"]>;
export const UpdateSessionInputSchema = defaults.update;
export type UpdateSessionInput = z.infer<InputSchemas["update"]>;
export const DeleteSessionInputSchema = defaults.delete;
export type DeleteSessionInput = z.infer<InputSchemas["delete"]>;

export const DeleteSessionOutputSchema = z.object({
  /** The deleted session first, then its descendants. */
  deleted: z.array(SessionIdSchema),
});
export type DeleteSessionOutput = z.infer<typeof DeleteSessionOutputSchema>;

/** The storage engines a server can run on. */
export const ENGINES = ["sqlite", "postgres"] as const;
export type Engine = (typeof ENGINES)[number];

export const HealthSchema = z.object({
  status: z.literal("ok"),
  engine: z.enum(ENGINES),
  version: z.string(),
});
export type Health = z.infer<typeof HealthSchema>;
