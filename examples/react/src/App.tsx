import { isBadRequest, isConflict } from "@sessiond/client";
import { generateSessionId } from "@sessiond/shared";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import { readToken, storeToken } from "./token.ts";
import { useTRPC } from "./trpc.ts";

/** Signs in with a token (your login's, in a real app), then shows the signed-in user's sessions. */
export function App() {
  const [token, setToken] = useState(() => readToken() ?? "");
  const [signedIn, setSignedIn] = useState<string | null>(() => readToken() ?? null);
  const queryClient = useQueryClient();
  return (
    <main>
      <h1>sessiond from React</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          storeToken(token);
          queryClient.clear();
          setSignedIn(token);
        }}
      >
        <input
          aria-label="token"
          placeholder="bearer token (a JWT)"
          value={token}
          onChange={(event) => setToken(event.target.value)}
          size={40}
        />
        <button type="submit">Sign in</button>
      </form>
      {/* Keyed by the token: a new sign-in starts the lists and the live events afresh. */}
      {signedIn !== null && <Sessions key={signedIn} />}
    </main>
  );
}

/** The signed-in user's sessions: the server answers with that owner's only. */
function Sessions() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [id, setId] = useState(generateSessionId);
  const [title, setTitle] = useState("From React");
  const [status, setStatus] = useState("");

  // Create with a chosen ID; a duplicate is a CONFLICT the client's helpers narrow.
  const create = useMutation(
    trpc.session.create.mutationOptions({
      onSuccess: (session) => {
        setStatus(`created ${session.id}`);
        void queryClient.invalidateQueries({ queryKey: trpc.session.list.pathKey() });
      },
      onError: (error) => {
        if (isConflict(error)) setStatus(`CONFLICT: ${error.data.conflict.id} already exists`);
        else if (isBadRequest(error)) setStatus(`BAD_REQUEST: ${JSON.stringify(error.data.fieldErrors)}`);
        else setStatus(error.message);
      },
    }),
  );

  // Newest first, five a page; tRPC adds the cursor (and direction) to each page's input.
  const sessions = useInfiniteQuery(trpc.session.list.infiniteQueryOptions({ limit: 5 }, { getNextPageParam: (page) => page.nextCursor }));

  // Live events; after a reconnect the link resumes from the last event it received.
  const [events, setEvents] = useState<{ id: string; text: string }[]>([]);
  useSubscription(
    trpc.session.events.subscriptionOptions(
      {},
      { onData: ({ id, data }) => setEvents((seen) => [{ id, text: `${data.type} ${data.properties.info.id}` }, ...seen].slice(0, 20)) },
    ),
  );

  return (
    <section>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({ id, title });
        }}
      >
        <input aria-label="id" value={id} onChange={(event) => setId(event.target.value)} size={34} />
        <input aria-label="title" value={title} onChange={(event) => setTitle(event.target.value)} />
        <button type="submit">Create</button>
        <button type="button" onClick={() => setId(generateSessionId())}>
          New ID
        </button>
      </form>
      <p role="status">{status}</p>

      <h2>Sessions</h2>
      <ul id="sessions">
        {sessions.data?.pages.flatMap((page) =>
          page.items.map((session) => (
            <li key={session.id}>
              {session.id} {session.title} {session.owner} {session.createdAt.toISOString()}
            </li>
          )),
        )}
      </ul>
      <p id="pages">{sessions.data?.pages.length ?? 0} pages</p>
      <button type="button" disabled={!sessions.hasNextPage || sessions.isFetchingNextPage} onClick={() => void sessions.fetchNextPage()}>
        More
      </button>

      <h2>Live events</h2>
      <ul id="events">
        {events.map((event) => (
          <li key={event.id}>{event.text}</li>
        ))}
      </ul>
    </section>
  );
}
