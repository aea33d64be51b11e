export { createSessionClient, trpcEndpoint, type SessionClient, type SessionClientOptions } from "./client.ts";
export * from "./errors.ts";
export type { AppRouter, RouterInputs, RouterOutputs } from "@sessiond/server";
