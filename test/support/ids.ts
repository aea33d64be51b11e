import { randomUUID } from "node:crypto";
import { deriveSessionId } from "@sessiond/shared";

/** A fresh valid session ID chosen by the "caller" (not the server's generator). */
export function freshId(): string {
  return deriveSessionId(randomUUID());
}
