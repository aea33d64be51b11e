/** Input limits enforced by the contract. The server may lower some of them by configuration. */
export const LIMITS = {
  titleMaxLength: 512,
  /** Serialized JSON size of a session's metadata, in bytes (UTF-8). */
  metadataMaxBytes: 16 * 1024,
  /** Nesting depth of metadata: `{}` is depth 1, `{a: {}}` depth 2. */
  metadataMaxDepth: 8,
  idempotencyKeyMaxLength: 128,
  pageSizeDefault: 50,
  pageSizeMax: 200,
} as const;
