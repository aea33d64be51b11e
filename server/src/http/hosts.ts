/**
 * The `Host` header check. A page on an attacker's domain can re-point that name at 127.0.0.1 (DNS
 * rebinding) and then call a loopback server as its own origin: CORS sees a same-origin call. The
 * request still names the attacker's domain in `Host`, so a server that answers only the names it
 * is reachable by refuses it, as dev servers such as Vite do (`allowedHosts`). Two `Host` headers
 * are refused whatever the list (RFC 9112 §3.2).
 */
import { TRPCError } from "@trpc/server";
import type { Exchange } from "./exchange.ts";
import { sendRestError } from "./rest.ts";

/** A Host header's name: lower-case, without the port; an IPv6 address keeps its brackets. */
export function hostName(header: string): string {
  const host = header.trim().toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.indexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

const isLoopbackName = (name: string) =>
  name === "localhost" || name.endsWith(".localhost") || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);

/**
 * The names a standalone server answers to: loopback names, the address it listens on, and those
 * listed; null (any) when the list has "*", or when every caller needs credentials (an operator
 * token or JWT keys) and none are listed: a rebinding page has no credentials to send.
 */
export function allowedHostsFor(config: {
  host: string;
  token?: string;
  jwtSecret?: string;
  jwksFile?: string;
  jwksUrl?: string;
  allowedHosts: readonly string[];
}): string[] | null {
  if (config.allowedHosts.includes("*")) return null;
  const credentialsNeeded = Boolean(config.token || config.jwtSecret || config.jwksFile || config.jwksUrl);
  if (credentialsNeeded && config.allowedHosts.length === 0) return null;
  const bound = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  return [bound.toLowerCase(), ...config.allowedHosts];
}

/** A step of the handler: answers (and returns true) a request whose Host it refuses. */
export function createHostCheck(allowed: readonly string[] | null | undefined): (ex: Exchange) => boolean {
  const names = allowed ? new Set(allowed.map(hostName)) : null;
  return (ex) => {
    if (ex.headerCount("host") > 1) {
      sendRestError(
        ex,
        new TRPCError({ code: "BAD_REQUEST", message: "A request has one Host header (RFC 9112 §3.2)" }),
        ex.path.slice(0, 100),
      );
      return true;
    }
    if (!names) return false;
    const name = hostName(ex.header("host") ?? "");
    if (isLoopbackName(name) || names.has(name)) return false;
    const message = `This server does not answer to the host "${name.slice(0, 100)}": list it with --allowed-hosts`;
    sendRestError(ex, new TRPCError({ code: "FORBIDDEN", message }), ex.path.slice(0, 100));
    return true;
  };
}
