export * from "./id.ts";
export * from "./cursor.ts";
export * from "./limits.ts";
export * from "./schema.ts";
export type * from "./errors.ts";
export { transformer } from "./transformer.ts";
export * from "./events.ts";
