/** The session row as the schema stores it, and the JSON the bare servers answer with: written here, as a user would. */
export interface Row {
  id: string;
  owner: string;
  parent_id: string | null;
  title: string;
  metadata: string;
  revision: number;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

export const SELECT_SESSION = "SELECT id, owner, parent_id, title, metadata, revision, created_at, updated_at, archived_at FROM session";

/** The owner of every session a server without authentication makes (migration 5). */
export const DEFAULT_OWNER = "default";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const sessionJson = (r: Row) => ({
  id: r.id,
  owner: r.owner,
  title: r.title,
  parentId: r.parent_id,
  metadata: JSON.parse(r.metadata) as unknown,
  revision: r.revision,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  archivedAt: iso(r.archived_at),
});

/** A new session's row, as a create without fields stores it. */
export function newRow(id: string, now = Date.now()): Row {
  const title = `New session - ${iso(now)}`;
  return {
    id,
    owner: DEFAULT_OWNER,
    parent_id: null,
    title,
    metadata: "{}",
    revision: 1,
    created_at: now,
    updated_at: now,
    archived_at: null,
  };
}
