import { createSessionClient } from "@sessiond/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { EventSource } from "eventsource";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { readToken } from "./token.ts";
import { TRPCProvider } from "./trpc.ts";

// Where sessiond runs: ?server=... (the tests pass it), else VITE_SESSIOND_URL at build time, else this origin.
const server = new URLSearchParams(location.search).get("server") ?? import.meta.env.VITE_SESSIOND_URL ?? location.origin;

const queryClient = new QueryClient();
// The token is asked for before every call and every (re)connection of the live events, so a
// login that refreshes its short-lived token is followed. A browser's own EventSource cannot send
// the Authorization header: the `eventsource` package's can (it is built on fetch).
const trpcClient = createSessionClient({ url: server, token: readToken, EventSource });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <App />
      </TRPCProvider>
    </QueryClientProvider>
  </StrictMode>,
);
