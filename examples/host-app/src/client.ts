/**
 * The host's typed client, as the host's frontend or services use it: its own router's type, and
 * sessiond's error helpers to narrow what the mounted procedures answer.
 *
 *   node src/client.ts http://127.0.0.1:3000
 */
import { isConflict, isUnauthorized } from "@sessiond/client";
import { deriveSessionId } from "@sessiond/shared";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import superjson from "superjson";
import type { AppRouter } from "./app.ts";

const base = process.argv[2] ?? "http://127.0.0.1:3000";

function clientFor(token?: string) {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const url = `${base}/api/trpc`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url,
          transformer: superjson,
          EventSource,
          eventSourceOptions: { fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }) },
        }),
        false: httpBatchLink({ url, transformer: superjson, headers }),
      }),
    ],
  });
}

const anonymous = clientFor();
const alice = clientFor("alice-token");
const result: Record<string, unknown> = {};

// The host's auth runs before sessiond's procedures: no token, no session.
try {
  await anonymous.sessions.create.mutate({ title: "anonymous" });
  result.anonymous = "created";
} catch (error) {
  result.anonymous = isUnauthorized(error) ? "UNAUTHORIZED" : String(error);
}

// Live events through the host's router, then a create with a chosen ID and its duplicate.
const id = deriveSessionId(`host-app-${base}`);
const event = new Promise<string>((resolve, reject) => {
  const subscription = alice.sessions.events.subscribe(
    {},
    {
      onStarted: () =>
        void alice.sessions.create.mutate({ id, title: "through the host" }).then((session) => (result.created = session.id)),
      onData: ({ data }) => {
        if (data.properties.info.id !== id) return;
        subscription.unsubscribe();
        resolve(`${data.type} ${data.properties.info.id}`);
      },
      onError: reject,
    },
  );
});
result.event = await event;
try {
  await alice.sessions.create.mutate({ id });
  result.duplicate = "created";
} catch (error) {
  result.duplicate = isConflict(error) ? { code: error.data.code, conflict: error.data.conflict.id } : String(error);
}
result.createdAt = (await alice.sessions.get.query({ id })).createdAt instanceof Date ? "a Date" : "not a Date";
result.whoami = await alice.whoami.query();

console.log(JSON.stringify(result));
