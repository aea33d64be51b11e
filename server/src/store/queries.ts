/**
 * What both engines do the same way, in one place: the keyset page query and the reason a
 * conditional update did not apply. Each engine passes its own placeholder syntax.
 */
import { RevisionMismatchError, SessionNotFoundError } from "../errors.ts";
import { COLUMNS } from "./row.ts";
import type { ListQuery } from "./types.ts";

export type ListParam = "parentId" | "createdAt" | "id" | "limit";

/**
 * A page of sessions, newest first then by ID descending, strictly after the cursor's position; or,
 * for a backward page (`before`), the ones strictly newer than it, nearest first (oldest first).
 * `name` identifies the statement's shape (for prepared-statement caches); `param` writes the
 * placeholder for a value and is called in the same order for every query of one shape.
 */
export function listQuery(query: ListQuery, param: (name: ListParam) => string): { name: string; sql: string } {
  const filter = query.parentId === undefined ? "all" : query.parentId === null ? "roots" : "parent";
  const where: string[] = [];
  if (filter === "roots") where.push("parent_id IS NULL");
  if (filter === "parent") where.push(`parent_id = ${param("parentId")}`);
  const backward = query.before != null;
  if (backward || query.after) where.push(`(created_at, id) ${backward ? ">" : "<"} (${param("createdAt")}, ${param("id")})`);
  const order = backward ? "ASC" : "DESC";
  const sql = `SELECT ${COLUMNS} FROM session ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY created_at ${order}, id ${order} LIMIT ${param("limit")}`;
  return { name: `session_list_${filter}_${backward ? "before" : query.after ? "after" : "first"}`, sql };
}

/** The value of each parameter of a list query. */
export function listValue(query: ListQuery, name: ListParam): string | number | null {
  if (name === "limit") return query.limit;
  if (name === "parentId") return query.parentId ?? null;
  return (query.before ?? query.after)?.[name] ?? null;
}

/**
 * Why a conditional update did not apply, from a read after it: the session is gone, or it is at
 * another revision than the caller expected.
 */
export function updateFailure(id: string, expectedRevision: number | undefined, current: { revision: number } | undefined): Error {
  if (!current) return new SessionNotFoundError(id);
  return new RevisionMismatchError(id, expectedRevision ?? 0, current.revision);
}
