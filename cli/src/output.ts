/** How the CLI prints results and errors: human-readable by default, JSON with --json. */
import { isSessionClientError } from "@sessiond/client";
import type { DeleteSessionOutput, Session, SessionEvent, SessionPage } from "@sessiond/shared";

function write(text: string): void {
  process.stdout.write(`${text}\n`);
}

function json(value: unknown): void {
  write(JSON.stringify(value, null, 2));
}

const when = (date: Date | null) => (date ? date.toISOString() : "-");

export function printSession(session: Session, asJson: boolean): void {
  if (asJson) return json(session);
  write(
    [
      `${session.id}  ${session.title}`,
      `  owner:    ${session.owner}`,
      `  parent:   ${session.parentId ?? "-"}`,
      `  revision: ${session.revision}`,
      `  created:  ${when(session.createdAt)}`,
      `  updated:  ${when(session.updatedAt)}`,
      `  archived: ${when(session.archivedAt)}`,
      `  metadata: ${JSON.stringify(session.metadata)}`,
    ].join("\n"),
  );
}

export function printPage(page: SessionPage, asJson: boolean): void {
  if (asJson) return json(page);
  if (page.items.length === 0) write("no sessions");
  for (const session of page.items) {
    write(`${session.id}  ${session.createdAt.toISOString()}  ${session.archivedAt ? "[archived] " : ""}${session.title}`);
  }
  if (page.nextCursor) write(`more: --cursor ${page.nextCursor}`);
}

export function printDeleted(result: DeleteSessionOutput, asJson: boolean): void {
  if (asJson) return json(result);
  write(`deleted ${result.deleted.length} session${result.deleted.length === 1 ? "" : "s"}: ${result.deleted.join(" ")}`);
}

/** One event per line: `<id> <type> <session id> <title>`, or a JSON line `{ id, type, properties }`. */
export function printEvent(id: string, event: SessionEvent, asJson: boolean): void {
  if (asJson) return write(JSON.stringify({ id, ...event }));
  const { info } = event.properties;
  write(`${id}  ${event.type.padEnd(15)}  ${info.id}  r${info.revision}  ${info.title}`);
}

/** One line saying what went wrong, in the caller's terms. */
export function describeError(error: unknown, url: string): string {
  if (isSessionClientError(error)) {
    const data = error.data;
    if (data?.code === "CONFLICT") return `session ${data.conflict.id} already exists`;
    if (data?.code === "NOT_FOUND" && data.notFound) return error.message.replace(/^Session/, "session").replace(/^Parent/, "parent");
    if (data?.code === "BAD_REQUEST") {
      const fields = Object.entries(data.fieldErrors).map(([field, messages]) => `${field}: ${messages.join("; ")}`);
      return `invalid input: ${[...data.formErrors, ...fields].join(" | ")}`;
    }
    if (data) return `${data.code.toLowerCase().replaceAll("_", " ")}: ${error.message}`;
    // No error data: the request did not get a tRPC answer (fetch's cause says why).
    const cause = (error.cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    if (cause?.code === "ECONNREFUSED") return `cannot reach ${url}: connection refused (is "sessiond serve" running?)`;
    return `cannot reach ${url}: ${cause?.message ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The error as JSON for --json: the server's error data (code, message, kind fields), or why the server was not reached. */
export function errorJson(error: unknown, url: string): { error: Record<string, unknown> } {
  if (isSessionClientError(error) && error.data) {
    const { path: _, ...data } = error.data;
    return { error: { ...data, message: error.message } };
  }
  const code = isSessionClientError(error) ? "UNREACHABLE" : ((error as { code?: unknown }).code ?? "FAILED");
  return { error: { code: typeof code === "string" ? code : "FAILED", message: describeError(error, url) } };
}
