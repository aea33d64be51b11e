/**
 * What both engines do the same way, in one place: the keyset page query and the reason a
 * conditional update did not apply. Each engine passes its own placeholder syntax.
 */
import { RevisionMismatchError, SessionNotFoundError } from "../errors.ts";
import { COLUMNS } from "./row.ts";
import type { ListQuery } from "./types.ts";

export type ListParam = "owner" | "parentId" | "createdAt" | "id" | "cursorOwner" | "limit";

/**
 * A page of sessions, newest first then by ID descending, strictly after the cursor's position; or,
 * for a backward page (`before`), the ones strictly newer than it, nearest first (oldest first).
 * One owner's page reads the indexes that lead with the owner; a page of every owner's sessions
 * (`owner: null`) is ordered by owner after the ID (two owners may hold one ID) and reads the
 * index on (created_at, id, owner). `name` identifies the statement's shape (for prepared-statement
 * caches); `param` writes the placeholder for a value and is called in the same order for every
 * query of one shape.
 */
export function listQuery(query: ListQuery, param: (name: ListParam) => string): { name: string; sql: string } {
  const filter = query.parentId === undefined ? "all" : query.parentId === null ? "roots" : "parent";
  const everyOwner = query.owner === null;
  const where: string[] = [];
  if (!everyOwner) where.push(`owner = ${param("owner")}`);
  if (filter === "roots") where.push("parent_id IS NULL");
  if (filter === "parent") where.push(`parent_id = ${param("parentId")}`);
  const position = query.before ?? query.after;
  const backward = query.before != null;
  const byOwner = everyOwner && position?.owner !== undefined;
  if (position) {
    const keys = byOwner ? "(created_at, id, owner)" : "(created_at, id)";
    const values = byOwner ? `(${param("createdAt")}, ${param("id")}, ${param("cursorOwner")})` : `(${param("createdAt")}, ${param("id")})`;
    where.push(`${keys} ${backward ? ">" : "<"} ${values}`);
  }
  const order = backward ? "ASC" : "DESC";
  const sql = `SELECT ${COLUMNS} FROM session ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY created_at ${order}, id ${order}${everyOwner ? `, owner ${order}` : ""} LIMIT ${param("limit")}`;
  const at = backward ? "before" : position ? (byOwner ? "after_owner" : "after") : "first";
  return { name: `session_list_${everyOwner ? "every_" : ""}${filter}_${at}`, sql };
}

/** The value of each parameter of a list query. */
export function listValue(query: ListQuery, name: ListParam): string | number | null {
  if (name === "limit") return query.limit;
  if (name === "owner") return query.owner;
  if (name === "parentId") return query.parentId ?? null;
  const position = query.before ?? query.after;
  if (name === "cursorOwner") return position?.owner ?? null;
  return position?.[name] ?? null;
}

/** Whether a precondition on the revision holds: undefined is none; an empty list is one nothing meets. */
export function revisionMatches(revision: number, expected: readonly number[] | undefined): boolean {
  return expected === undefined || expected.includes(revision);
}

/**
 * Why a conditional update did not apply, from a read after it: the session is gone (or another
 * owner's, which reads the same), or it is at another revision than the caller expected.
 */
export function updateFailure(id: string, expected: readonly number[] | undefined, current: { revision: number } | undefined): Error {
  if (!current) return new SessionNotFoundError(id);
  return new RevisionMismatchError(id, expected ?? [], current.revision);
}
