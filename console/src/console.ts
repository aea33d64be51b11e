/**
 * The console page: lists sessions newest first with paging (next, previous, first), shows one
 * with its metadata and its children (20 at a time, more on demand), creates one with or without a
 * chosen ID, and shows a duplicate's CONFLICT as such, with a way to open the session that exists.
 * Plain DOM on the typed client; same-origin, so it needs no CORS. A token, when the server asks
 * for one, is kept in sessionStorage: this tab only, gone when it closes. With a JWT the page shows
 * its owner's sessions; with the operator's token every owner's, and a session opened from the
 * list is read as its owner's (the Sessiond-Owner header).
 */
import { createSessionClient, isBadRequest, isConflict, isUnauthorized, type SessionClient } from "@sessiond/client";
import type { Metadata } from "@sessiond/shared";

type Session = Awaited<ReturnType<SessionClient["session"]["get"]["query"]>>;

const PAGE_SIZE = 20;
const TOKEN_KEY = "sessiond-token";

/** Where the server's surface is mounted: the page is served at its base path's "/". */
const BASE_URL = new URL(".", location.href).href.replace(/\/$/, "");

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let client = connect();
/** Clients that act for one owner (the operator reading another owner's session), by owner. */
let ownerClients = new Map<string, SessionClient>();
/** Cursors of the pages shown so far; the last one is the current page's. */
let cursors: (string | null)[] = [null];
let nextCursor: string | null = null;
/** The open session's children: where their next page starts, if there is one. */
let children: { parentId: string; owner: string | undefined; nextCursor: string | null } | null = null;

function connect(owner?: string): SessionClient {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  return createSessionClient({ url: BASE_URL, token, owner });
}

/** The client for a session of this owner (undefined: the caller's own). */
function clientFor(owner: string | undefined): SessionClient {
  if (owner === undefined) return client;
  let forOwner = ownerClients.get(owner);
  if (!forOwner) ownerClients.set(owner, (forOwner = connect(owner)));
  return forOwner;
}

function show(kind: "ok" | "conflict" | "error", text: string): void {
  const status = $("status");
  status.className = kind;
  status.textContent = text;
  $("open-existing").hidden = true;
}

/** Shows an error in words; a missing or wrong token opens the token form. */
function showError(error: unknown): void {
  if (isUnauthorized(error)) {
    $("token-form").classList.add("asking");
    show("error", "UNAUTHORIZED: this server needs a bearer token");
  } else if (isConflict(error)) {
    // Not a failure like the others: the session is there, so offer it.
    const { id } = error.data.conflict;
    show("conflict", `CONFLICT: session ${id} already exists`);
    const openExisting = $<HTMLButtonElement>("open-existing");
    openExisting.textContent = `Open ${id}`;
    openExisting.dataset.id = id;
    openExisting.hidden = false;
  } else if (isBadRequest(error)) {
    const fields = Object.entries(error.data.fieldErrors).map(([field, messages]) => `${field}: ${messages.join("; ")}`);
    show("error", `BAD_REQUEST: ${[...error.data.formErrors, ...fields].join(" | ")}`);
  } else {
    show("error", error instanceof Error ? error.message : String(error));
  }
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(session: Session): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.dataset.id = session.id;
  tr.append(cell(session.id, "id"), cell(session.title), cell(session.createdAt.toISOString()));
  tr.addEventListener("click", () => void open(session.id, session.owner));
  return tr;
}

/** The newest page asked for: an answer to an older request (clicks faster than the server) is dropped. */
let pageRequest = 0;

async function loadPage(): Promise<void> {
  const request = ++pageRequest;
  try {
    const page = await client.session.list.query({ limit: PAGE_SIZE, cursor: cursors.at(-1) ?? null });
    if (request !== pageRequest) return;
    $("sessions").replaceChildren(...page.items.map(row));
    nextCursor = page.nextCursor;
    $<HTMLButtonElement>("next").disabled = nextCursor === null;
    $<HTMLButtonElement>("first").disabled = cursors.length === 1;
    $<HTMLButtonElement>("previous").disabled = cursors.length === 1;
  } catch (error) {
    showError(error);
  }
}

async function open(id: string, owner?: string): Promise<void> {
  try {
    const [session, firstChildren] = await Promise.all([
      clientFor(owner).session.get.query({ id }),
      clientFor(owner).session.children.query({ id, limit: PAGE_SIZE }),
    ]);
    $("detail").hidden = false;
    $("detail-id").textContent = session.id;
    const fields: [string, string][] = [
      ["Title", session.title],
      ["Owner", session.owner],
      ["Parent", session.parentId ?? "-"],
      ["Revision", String(session.revision)],
      ["Created", session.createdAt.toISOString()],
      ["Updated", session.updatedAt.toISOString()],
      ["Archived", session.archivedAt?.toISOString() ?? "-"],
    ];
    $("detail-fields").replaceChildren(
      ...fields.map(([name, value]) => {
        const line = document.createElement("div");
        line.textContent = `${name}: ${value}`;
        return line;
      }),
    );
    $("detail-metadata").textContent = JSON.stringify(session.metadata, null, 2);
    $("children").replaceChildren(
      ...(firstChildren.items.length
        ? firstChildren.items.map(row)
        : [Object.assign(document.createElement("tr"), { textContent: "none" })]),
    );
    showMoreChildren(id, owner, firstChildren.nextCursor);
  } catch (error) {
    showError(error);
  }
}

/** Whether the open session has more children than shown: the "More children" button says so. */
function showMoreChildren(parentId: string, owner: string | undefined, nextCursor: string | null): void {
  children = { parentId, owner, nextCursor };
  $("more-children").hidden = nextCursor === null;
}

async function loadMoreChildren(): Promise<void> {
  if (!children?.nextCursor) return;
  const { parentId, owner, nextCursor } = children;
  try {
    const page = await clientFor(owner).session.children.query({ id: parentId, limit: PAGE_SIZE, cursor: nextCursor });
    if (children.parentId !== parentId) return; // another session was opened meanwhile
    $("children").append(...page.items.map(row));
    showMoreChildren(parentId, owner, page.nextCursor);
  } catch (error) {
    showError(error);
  }
}

/** The create form's input; blank fields are left out, so the server applies its defaults. */
function createInput(): Parameters<SessionClient["session"]["create"]["mutate"]>[0] | null {
  const value = (id: string) => $<HTMLInputElement>(id).value.trim() || undefined;
  const metadataText = value("create-metadata");
  let metadata: Metadata | undefined;
  if (metadataText) {
    try {
      metadata = JSON.parse(metadataText);
    } catch {
      show("error", "Metadata must be a JSON object");
      return null;
    }
  }
  return { id: value("create-id"), title: value("create-title"), parentId: value("create-parent"), metadata };
}

$("create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = createInput();
  if (!input) return;
  try {
    const session = await client.session.create.mutate(input);
    show("ok", `Created ${session.id}`);
    cursors = [null];
    await loadPage();
    await open(session.id);
  } catch (error) {
    showError(error);
  }
});

$("next").addEventListener("click", () => {
  if (nextCursor === null) return;
  cursors.push(nextCursor);
  // Until that page arrives there is no next one: a second click must not push the same cursor again.
  nextCursor = null;
  void loadPage();
});

$("previous").addEventListener("click", () => {
  if (cursors.length === 1) return;
  cursors.pop();
  void loadPage();
});

$("more-children").addEventListener("click", () => void loadMoreChildren());

$("open-existing").addEventListener("click", () => {
  const id = $("open-existing").dataset.id;
  if (id) void open(id);
});

$("first").addEventListener("click", () => {
  cursors = [null];
  void loadPage();
});

$("token").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $<HTMLInputElement>("token-input").value);
  $("token-form").classList.remove("asking");
  client = connect();
  ownerClients = new Map();
  show("ok", "Token set for this tab");
  void loadPage();
});

$("server").textContent = BASE_URL;
void loadPage();
