/** opencode's session ID generator, reimplemented (a counter per millisecond, randomBytes(14) mapped with `byte % 62`). */
import { randomBytes } from "node:crypto";

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function createOpencodeIdGenerator(): () => string {
  let lastTimestamp = 0;
  let counter = 0;
  return () => {
    const currentTimestamp = Date.now();
    if (currentTimestamp !== lastTimestamp) {
      lastTimestamp = currentTimestamp;
      counter = 0;
    }
    counter++;
    const now = ~(BigInt(currentTimestamp) * BigInt(0x1000) + BigInt(counter));
    const timeBytes = Buffer.alloc(6);
    for (let i = 0; i < 6; i++) timeBytes[i] = Number((now >> BigInt(40 - 8 * i)) & BigInt(0xff));
    const bytes = randomBytes(14);
    let random = "";
    for (let i = 0; i < 14; i++) random += BASE62[bytes[i]! % 62];
    return `ses_${timeBytes.toString("hex")}${random}`;
  };
}
