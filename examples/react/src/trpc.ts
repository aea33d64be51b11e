// tRPC's TanStack Query integration, typed by sessiond's router (the client package carries its type).
import type { AppRouter } from "@sessiond/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();
