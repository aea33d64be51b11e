/**
 * The standalone server (`sessiond serve`): the mountable handler on a `node:http` server of its
 * own, with timeouts against slow clients, pipelined requests served in order, and graceful
 * shutdown. A host that mounts the handler in its own server keeps its own rules for these.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";

export interface ListenOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  writeTimeoutMs: number;
  shutdownTimeoutMs: number;
}

export interface RunningHttpServer {
  server: Server;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  /**
   * Stops accepting connections, lets in-flight requests finish (each answered with
   * `connection: close`), and resolves when all connections are closed; connections still busy
   * after the shutdown timeout are cut.
   */
  close(): Promise<void>;
}

/**
 * Pipelined requests on one connection are served one after another, each once the previous
 * response has been sent: a request pipelined after a create sees the session (RFC 9112 §9.3.2
 * allows parallel processing only for safe methods). Connections that are not pipelining, the
 * usual case, pay one map look-up.
 */
function inOrder(handle: RequestListener): RequestListener {
  const lanes = new WeakMap<Socket, Lane>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let lane = lanes.get(socket);
    if (!lane) {
      lanes.set(socket, (lane = { open: 0, waiting: [], serving: null }));
      socket.once("end", endOfRequests.bind(null, socket, lane));
    }
    const current = lane;
    current.open++;
    res.once("close", () => {
      current.open--;
      current.serving = null;
      current.waiting.shift()?.();
    });
    if (current.open === 1) return serveOn(current, handle, req, res);
    // A request whose connection is gone by its turn is not served: nobody would read the answer.
    current.waiting.push(() => {
      if (!socket.destroyed) serveOn(current, handle, req, res);
    });
  };
}

interface Lane {
  /** Requests of the connection not yet answered, the one served included. */
  open: number;
  waiting: (() => void)[];
  /** The answer being served. */
  serving: ServerResponse | null;
}

function serveOn(lane: Lane, handle: RequestListener, req: IncomingMessage, res: ServerResponse): void {
  lane.serving = res;
  handle(req, res);
}

/**
 * The client sent its FIN. Node's server, told to allow half-open connections (listen), answers
 * what was asked and then closes; but a stream (live events: headers sent, no end) would go on
 * to a client that most likely closed the whole connection, holding a subscriber's place until a
 * write failed. A stream is cut at once, as Node does without half-open connections.
 */
function endOfRequests(socket: Socket, lane: Lane): void {
  const res = lane.serving;
  if (res?.headersSent && !res.writableEnded) socket.destroy();
}

export async function listen(handle: RequestListener, options: ListenOptions): Promise<RunningHttpServer> {
  const serve = inOrder(handle);
  let closing = false;
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // How often the timeouts above are checked (Node's default is every 30 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
    },
    (req, res) => {
      if (closing) res.setHeader("connection", "close");
      serve(req, res);
    },
  );
  // A client may half-close its side of the connection once its request is sent (shutdown(SHUT_WR):
  // `nc -N`, some HTTP/1.0 clients). Node's server would end the connection at that FIN and drop
  // every answer not yet written, such as a create's, which waits for its commit; with
  // `httpAllowHalfOpen` it ends the connection after the last answer instead (a stream is cut:
  // endOfRequests). The property is not in Node's documentation (its own tests and userland
  // servers set it), so it is set only where it is a boolean: a Node without it keeps its default.
  const halfOpen = server as Server & { httpAllowHalfOpen?: unknown };
  if (typeof halfOpen.httpAllowHalfOpen === "boolean") halfOpen.httpAllowHalfOpen = true;
  // A connection that makes no progress for this long (typically a client that stopped reading
  // its answer, so the answer sits in memory) is destroyed, which frees what it held.
  server.setTimeout(options.writeTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        const timer = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs);
        // Keep-alive connections whose request was in flight when the shutdown began turn idle
        // once answered: close them as they do (cheaper than a listener on every response).
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        server.close((error) => {
          clearTimeout(timer);
          clearInterval(sweep);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
