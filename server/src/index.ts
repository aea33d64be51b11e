export { createAppRouter, type AppRouter, type RouterInputs, type RouterOutputs } from "./router.ts";
export { createOpenApiDocument } from "./http/openapi.ts";
export { createContextInner, type Context } from "./context.ts";
export { createCallerFactory } from "./trpc.ts";
export {
  resolveConfig,
  defaultDbPath,
  ConfigError,
  HTTP_HANDLERS,
  type HttpHandler,
  type ServerConfig,
  type ServerFlags,
} from "./config.ts";
export { startSessiond, VERSION, type Sessiond, type SessiondOverrides } from "./sessiond.ts";
export { createSessionService, type SessionService } from "./session/service.ts";
export { openStore } from "./store/open.ts";
export type { SessionStore, Engine } from "./store/types.ts";
export { createLogger, type Logger, type LogLevel } from "./log.ts";
export * from "./errors.ts";
