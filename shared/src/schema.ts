/**
 * The contract: what a Session is and what each procedure takes and returns. The server validates
 * input with these schemas; the client's types are inferred from the router built on them.
 */
import { z } from "zod";
import { decodeCursor } from "./cursor.ts";
import { sessionIdProblem } from "./id.ts";
import { LIMITS } from "./limits.ts";

export const SessionIdSchema = z.string().check((ctx) => {
  const problem = sessionIdProblem(ctx.value);
  if (problem) ctx.issues.push({ code: "custom", message: `Invalid session ID: ${problem}`, input: ctx.value });
});

/**
 * Text that every engine stores exactly as sent: well-formed Unicode (a lone surrogate would be
 * replaced on the way to UTF-8) without control characters (PostgreSQL refuses NUL).
 */
function plainText(label: string, maxLength: number) {
  return z
    .string()
    .min(1, `${label} must not be empty`)
    .max(maxLength, `${label} must be at most ${maxLength} characters`)
    .refine((text) => text.isWellFormed(), `${label} must be well-formed Unicode (no lone surrogates)`)
    .refine((text) => !/[\u0000-\u001f\u007f]/.test(text), `${label} must not contain control characters`);
}

export const TitleSchema = plainText("Title", LIMITS.titleMaxLength);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Metadata = { [key: string]: JsonValue };

/**
 * Keys that superjson refuses to serialize (a prototype-pollution guard): a session holding one
 * could never be sent back. zod's record also silently drops `__proto__`. So they are rejected.
 */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Depth of a JSON value and the first forbidden key in it, stopping early past the depth limit. */
function inspectJson(value: unknown, depth = 0): { depth: number; forbiddenKey?: string } {
  if (value === null || typeof value !== "object") return { depth };
  let deepest = depth + 1;
  if (!Array.isArray(value)) {
    // A `__proto__` key that a deserializer turned into a prototype shows only as one.
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return { depth: deepest, forbiddenKey: "__proto__" };
    for (const key of Object.keys(value)) if (FORBIDDEN_KEYS.has(key)) return { depth: deepest, forbiddenKey: key };
  }
  for (const child of Object.values(value)) {
    const inner = inspectJson(child, depth + 1);
    if (inner.forbiddenKey) return inner;
    if (inner.depth > deepest) deepest = inner.depth;
    if (deepest > LIMITS.metadataMaxDepth) break;
  }
  return { depth: deepest };
}

export const MetadataSchema = z.preprocess(
  (value, ctx) => {
    const found = inspectJson(value);
    if (found.forbiddenKey) {
      ctx.issues.push({ code: "custom", message: `Metadata keys must not be "${found.forbiddenKey}" (nor __proto__, constructor, prototype)`, input: value });
    }
    else if (found.depth > LIMITS.metadataMaxDepth) {
      ctx.issues.push({ code: "custom", message: `Metadata must be nested at most ${LIMITS.metadataMaxDepth} levels deep`, input: value });
    }
    return value;
  },
  z.record(z.string(), z.json()).check((ctx) => {
    const bytes = Buffer.byteLength(JSON.stringify(ctx.value));
    if (bytes > LIMITS.metadataMaxBytes) {
      ctx.issues.push({
        code: "custom",
        message: `Metadata must be at most ${LIMITS.metadataMaxBytes} bytes of JSON, got ${bytes}`,
        input: ctx.value,
      });
    }
  }),
) as unknown as z.ZodType<Metadata, Metadata>;

export const SessionSchema = z.object({
  id: SessionIdSchema,
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

export const CreateSessionInputSchema = z
  .strictObject({
    /** Omit to let the server generate one. */
    id: SessionIdSchema.optional(),
    /** Default: "New session - <ISO time>", or "Child session - <ISO time>" with a parent. */
    title: TitleSchema.optional(),
    parentId: SessionIdSchema.optional(),
    metadata: MetadataSchema.optional(),
    /**
     * The caller's key for this create. A retry with the same `id` and key returns the session the
     * first attempt made instead of CONFLICT, so a caller whose response was lost can tell its own
     * success from someone else's session.
     */
    idempotencyKey: plainText("Idempotency key", LIMITS.idempotencyKeyMaxLength).optional(),
  })
  .optional();
export type CreateSessionInput = z.infer<typeof CreateSessionInputSchema>;

export const SessionRefSchema = z.strictObject({ id: SessionIdSchema });
export type SessionRef = z.infer<typeof SessionRefSchema>;

const PageSizeSchema = z
  .int()
  .min(1, "Limit must be at least 1")
  .max(LIMITS.pageSizeMax, `Limit must be at most ${LIMITS.pageSizeMax}`);

export const CursorSchema = z
  .string()
  .refine((token) => decodeCursor(token) !== null, "Invalid cursor: pass back a nextCursor from a previous page");

const pageFields = {
  /** Page size; default 50, at most 200. */
  limit: PageSizeSchema.optional(),
  /** `nextCursor` of the previous page; null or absent for the first page. */
  cursor: CursorSchema.nullable().optional(),
};

export const ListSessionsInputSchema = z
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
  .optional();
export type ListSessionsInput = z.infer<typeof ListSessionsInputSchema>;

export const ListChildrenInputSchema = z.strictObject({ id: SessionIdSchema, ...pageFields });
export type ListChildrenInput = z.infer<typeof ListChildrenInputSchema>;

export const SessionPageSchema = z.object({
  /** Newest first. */
  items: z.array(SessionSchema),
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: z.string().nullable(),
});
export type SessionPage = z.infer<typeof SessionPageSchema>;

export const UpdateSessionInputSchema = z
  .strictObject({
    id: SessionIdSchema,
    title: TitleSchema.optional(),
    /** Replaces the whole metadata object. */
    metadata: MetadataSchema.optional(),
    /** true archives (keeping the first archive time), false unarchives. */
    archived: z.boolean().optional(),
    /** Apply only if the stored revision is this one, else PRECONDITION_FAILED. */
    expectedRevision: z.int().min(1).optional(),
  })
  .refine((input) => input.title !== undefined || input.metadata !== undefined || input.archived !== undefined, {
    message: "Nothing to update: pass title, metadata or archived",
  });
export type UpdateSessionInput = z.infer<typeof UpdateSessionInputSchema>;

export const DeleteSessionOutputSchema = z.object({
  /** The deleted session first, then its descendants. */
  deleted: z.array(SessionIdSchema),
});
export type DeleteSessionOutput = z.infer<typeof DeleteSessionOutputSchema>;

export const HealthSchema = z.object({
  status: z.literal("ok"),
  engine: z.enum(["sqlite", "postgres"]),
  version: z.string(),
});
export type Health = z.infer<typeof HealthSchema>;
