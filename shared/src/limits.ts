/** Input limits. These are the defaults; a server may be configured with others (see its config). */
export interface Limits {
  titleMaxLength: number;
  /** Serialized JSON size of a session's metadata, in bytes (UTF-8). */
  metadataMaxBytes: number;
  /** Nesting depth of metadata: `{}` is depth 1, `{a: {}}` depth 2. */
  metadataMaxDepth: number;
  idempotencyKeyMaxLength: number;
  pageSizeDefault: number;
  pageSizeMax: number;
}

export const LIMITS: Readonly<Limits> = {
  titleMaxLength: 512,
  metadataMaxBytes: 16 * 1024,
  metadataMaxDepth: 8,
  idempotencyKeyMaxLength: 128,
  pageSizeDefault: 50,
  pageSizeMax: 200,
};
