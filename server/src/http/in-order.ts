/**
 * Pipelined requests on one connection are served one after another, each once the previous
 * response has been sent: a request pipelined after a create sees the session (RFC 9112 §9.3.2
 * allows parallel processing only for safe methods). Connections that are not pipelining, the
 * usual case, pay one map look-up.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

interface Lane {
  /** Requests on the connection whose response is not closed yet. */
  open: number;
  waiting: (() => void)[];
}

const lanes = new WeakMap<Socket, Lane>();

export function serveInOrder(req: IncomingMessage, res: ServerResponse, serve: () => void): void {
  const socket = req.socket;
  let lane = lanes.get(socket);
  if (!lane) lanes.set(socket, (lane = { open: 0, waiting: [] }));
  const current = lane;
  current.open++;
  res.once("close", () => {
    current.open--;
    current.waiting.shift()?.();
  });
  if (current.open === 1) return serve();
  // A request whose connection is gone by its turn is not served: nobody would read the answer.
  current.waiting.push(() => {
    if (!socket.destroyed) serve();
  });
}
