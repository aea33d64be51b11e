/**
 * How the bare handler (servers/raw.ts) answers with a stored session: the row as superjson sends
 * it, built by hand (ISO strings for the Dates, their paths in `meta.values`). list-stages.ts
 * times the same step.
 */
import type { SessionRow } from "../../server/src/store/row.ts";

export type DateMeta = Record<string, ["Date"]>;

/** A row as the session superjson sends, its Date paths recorded under `prefix`. */
export function bareSessionJson(row: SessionRow, prefix: string, meta: DateMeta) {
  meta[`${prefix}createdAt`] = ["Date"];
  meta[`${prefix}updatedAt`] = ["Date"];
  if (row.archived_at !== null) meta[`${prefix}archivedAt`] = ["Date"];
  return {
    id: row.id,
    title: row.title,
    parentId: row.parent_id,
    metadata: JSON.parse(row.metadata) as unknown,
    revision: row.revision,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    archivedAt: row.archived_at === null ? null : new Date(row.archived_at).toISOString(),
  };
}
