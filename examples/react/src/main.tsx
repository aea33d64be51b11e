import { createSessionClient } from "@sessiond/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { TRPCProvider } from "./trpc.ts";

// Where sessiond runs: ?server=... (the tests pass it), else VITE_SESSIOND_URL at build time, else this origin.
const server = new URLSearchParams(location.search).get("server") ?? import.meta.env.VITE_SESSIOND_URL ?? location.origin;

const queryClient = new QueryClient();
// Subscriptions use the browser's own EventSource.
const trpcClient = createSessionClient({ url: server });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <App />
      </TRPCProvider>
    </QueryClientProvider>
  </StrictMode>,
);
