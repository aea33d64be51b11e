import { randomBytes } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A fresh valid session ID chosen by the "caller" (not the server's generator). */
export function freshId(): string {
  const hex = randomBytes(6).toString("hex");
  const tail = Array.from(randomBytes(14), (byte) => BASE62[byte % 62]).join("");
  return `ses_${hex}${tail}`;
}
