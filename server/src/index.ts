// Library mode: open sessiond, mount its procedures in a host's tRPC app, or its HTTP surface in a host's server.
export {
  openSessiond,
  startSessiond,
  VERSION,
  type Sessiond,
  type RunningSessiond,
  type SessiondOverrides,
  type OpenSessiondOptions,
} from "./sessiond.ts";
export {
  createSessionProcedures,
  SESSION_PROCEDURE_NAMES,
  type SessionProcedures,
  type SessionProceduresOptions,
  type SessiondParts,
  type CallScope,
} from "./session/procedures.ts";
export { sessiondErrorFormatter } from "./trpc.ts";
export { createSessiondHandler, type SessiondHandler, type SessiondHandlerOptions } from "./http/handler.ts";
export { createRouteTable, type Route } from "./http/routes.ts";
export { createOpenApiDocument, type OpenApiDocument } from "./http/openapi.ts";
// sessiond's own router, as its /trpc serves it (the client's types).
export { createAppRouter, type AppRouter, type RouterInputs, type RouterOutputs } from "./router.ts";
export { createContextInner, ReadBudget, type Context } from "./context.ts";
export {
  resolveConfig,
  defaultDbPath,
  ConfigError,
  HTTP_HANDLERS,
  type HttpHandler,
  type ServerConfig,
  type ServerFlags,
} from "./config.ts";
export { createSessionService, type SessionService } from "./session/service.ts";
export { openStore } from "./store/open.ts";
export type { SessionStore, Engine } from "./store/types.ts";
export type { EventService } from "./events/types.ts";
export { createLogger, type Logger, type LogLevel } from "./log.ts";
export * from "./errors.ts";
