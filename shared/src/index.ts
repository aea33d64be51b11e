export * from "./id.ts";
export * from "./cursor.ts";
export * from "./limits.ts";
export * from "./schema.ts";
export type * from "./errors.ts";
export { DEFAULT_MAX_BATCH_SIZE, OWNER_HEADER, TRPC_PATH, transformer } from "./transformer.ts";
export * from "./owner.ts";
export * from "./events.ts";
