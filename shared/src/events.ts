/**
 * Live events: every change to a session is an event with an ID that grows with each change in
 * the database. The shape is opencode's (`{ type, properties: { info } }`), on tRPC and on REST.
 */
import { z } from "zod";
import { SessionIdSchema, type Session } from "./schema.ts";

export const SESSION_EVENT_TYPES = ["session.created", "session.updated", "session.deleted"] as const;
export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

export interface SessionEvent {
  type: SessionEventType;
  /** The session as stored by this change; for a delete, its last state. */
  properties: { info: Session };
}

/** An event ID as sent on the wire: decimal digits ("0" is the point before every event). */
export const EventIdSchema = z.string().regex(/^\d{1,15}$/, "Invalid event ID: decimal digits, as an event's id");

export const SessionEventsInputSchema = z
  .strictObject({
    /**
     * Deliver the events after this one (the tRPC client fills it in when it reconnects); absent:
     * from now on. "0" replays every retained event.
     */
    lastEventId: EventIdSchema.nullish(),
    /** Only this session and its descendants. */
    sessionId: SessionIdSchema.optional(),
    /** Only sessions without a parent. */
    roots: z.boolean().optional(),
  })
  .refine((input) => !(input.roots && input.sessionId), { message: "Pass either roots or sessionId, not both", path: ["roots"] })
  .optional();
export type SessionEventsInput = z.infer<typeof SessionEventsInputSchema>;
