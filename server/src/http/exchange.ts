/**
 * One request and its answer, whichever server carries them: Node's `node:http` (a request
 * listener, Express-style middleware) or a fetch-based framework (`Request` in, `Response` out).
 * Every route of the HTTP surface is written once against this interface; the two adapters below
 * are the only code that knows the difference. The Node one writes straight to the socket (no
 * Request or Response is built for a plain call); the fetch one builds the Response the host
 * returns.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

export type HeaderMap = Record<string, string>;

/** A streamed answer (server-sent events). */
export interface StreamSink {
  /**
   * Queues a chunk; false when the peer's buffer is full (then wait for `drained`). `onTaken` is
   * called once the peer has taken this chunk and everything before it, or the stream closed.
   */
  write(chunk: Uint8Array | string, onTaken?: () => void): boolean;
  /** Resolves when the buffer has room again, or the stream closed. */
  drained(): Promise<void>;
  readonly closed: boolean;
  /** Ends the answer normally. */
  end(): void;
  /** Cuts the connection (a peer that stopped reading). */
  abort(): void;
}

export interface Exchange {
  /** The method as sent, upper-case; a HEAD is answered as its GET, without the body. */
  readonly method: string;
  /** The path below the handler's base path, starting with "/", still percent-encoded. */
  readonly path: string;
  /** The query string without its "?", or "". */
  readonly query: string;
  readonly requestId: string;
  /** What the request asked for, from a fixed set (access log and metric labels); set by the route. */
  label: string;
  /** Aborts when the client goes away before the answer ends. */
  readonly signal: AbortSignal;
  /** A request header (lower-case name); several of one name are joined with ", ". */
  header(name: string): string | undefined;
  /** How many times a header was sent (RFC 9112 §3.2: one Host, no more). */
  headerCount(name: string): number;
  /** The body as text, or undefined when it is larger than `limit` bytes (reading stops there). */
  readBody(limit: number): Promise<string | undefined>;
  /** A header of the answer; `vary` accumulates. */
  setHeader(name: string, value: string): void;
  /** Whether the request's body may still be unread: a refusal must then close the connection. */
  readonly bodyUnread: boolean;
  /** Sends the whole answer (for HEAD, its headers only; a 204 or 304 has neither body nor its headers). */
  send(status: number, body: string | Uint8Array, contentType: string): void;
  /** Starts a streamed answer. */
  stream(status: number): StreamSink;
  /** A fetch Request with the same URL, headers and (already read) body, for tRPC's stock path (a HEAD as its GET). */
  toRequest(body: string | undefined): Request;
  /** Writes a fetch Response (tRPC's stock path), streaming its body with backpressure. */
  sendResponse(response: Response): Promise<void>;
  /** Cuts the connection (a subscriber that stopped reading). */
  disconnect(): void;
}

const encoder = new TextEncoder();
const byteLength = (body: string | Uint8Array) => (typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);

function addVary(headers: HeaderMap, value: string): void {
  headers.vary = headers.vary ? `${headers.vary}, ${value}` : value;
}

/** Splits `/base/path?query` into the path below `basePath` and the query; null when outside it. */
export function splitTarget(target: string, basePath: string): { path: string; query: string } | null {
  const queryAt = target.indexOf("?");
  let path = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? "" : target.slice(queryAt + 1);
  if (basePath) {
    if (path !== basePath && !path.startsWith(`${basePath}/`)) return null;
    // The base path itself ("") is answered with a redirect to its "/".
    path = path.slice(basePath.length);
  }
  return { path, query };
}

/** Reads a Node request's body with a size limit. A BOM is dropped, as a fetch Request's text() does. */
function readNodeBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      cleanup();
      req.pause();
      resolve(undefined);
    };
    const onEnd = () => {
      cleanup();
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("the client closed the request before sending its body"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
  });
}

/** The exchange of a Node request; the answer is written to `res` directly. */
export class NodeExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly requestId: string;
  label = "other";
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #headers: HeaderMap = {};
  #abort: AbortController | undefined;
  #bodyRead = false;

  constructor(req: IncomingMessage, res: ServerResponse, path: string, query: string, requestId: string) {
    this.#req = req;
    this.#res = res;
    this.method = req.method ?? "GET";
    this.path = path;
    this.query = query;
    this.requestId = requestId;
    this.#headers["x-request-id"] = requestId;
  }

  get signal(): AbortSignal {
    if (!this.#abort) {
      const abort = (this.#abort = new AbortController());
      const res = this.#res;
      if (res.destroyed) abort.abort();
      else
        res.once("close", () => {
          if (!res.writableEnded) abort.abort();
        });
    }
    return this.#abort.signal;
  }

  header(name: string): string | undefined {
    const value = this.#req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  }

  headerCount(name: string): number {
    const raw = this.#req.rawHeaders;
    let count = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) count++;
    return count;
  }

  get bodyUnread(): boolean {
    return !this.#bodyRead && this.method !== "GET" && this.method !== "HEAD" && !this.#req.readableEnded;
  }

  readBody(limit: number): Promise<string | undefined> {
    this.#bodyRead = true;
    return readNodeBody(this.#req, limit);
  }

  setHeader(name: string, value: string): void {
    if (name === "vary") addVary(this.#headers, value);
    else this.#headers[name] = value;
  }

  send(status: number, body: string | Uint8Array, contentType: string): void {
    const res = this.#res;
    const headers = this.#headers as OutgoingHttpHeaders;
    if (status !== 204 && status !== 304) {
      headers["content-type"] = contentType;
      headers["content-length"] = byteLength(body);
    }
    if (this.bodyUnread) headers.connection = "close";
    res.writeHead(status, headers);
    // Node writes no body for a HEAD request on its own.
    res.end(body);
  }

  stream(status: number): StreamSink {
    const res = this.#res;
    res.writeHead(status, this.#headers);
    if (this.method === "HEAD") res.end();
    return {
      write: (chunk, onTaken) => (onTaken ? res.write(chunk, () => onTaken()) : res.write(chunk)),
      drained: () =>
        res.destroyed || res.writableEnded || !res.writableNeedDrain
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const done = () => {
                res.off("drain", done);
                res.off("close", done);
                resolve();
              };
              res.on("drain", done);
              res.on("close", done);
            }),
      get closed() {
        return res.destroyed || res.writableEnded;
      },
      end: () => void res.end(),
      abort: () => void res.destroy(),
    };
  }

  toRequest(body: string | undefined): Request {
    const req = this.#req;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith(":") || value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else headers.append(name, value);
    }
    const url = `http://${/^[\w.:[\]-]+$/.test(req.headers.host ?? "") ? req.headers.host : "localhost"}${this.path}${this.query ? `?${this.query}` : ""}`;
    return new Request(url, {
      method: this.method === "HEAD" ? "GET" : this.method,
      headers,
      body: body === undefined ? undefined : body,
      signal: this.signal,
    });
  }

  async sendResponse(response: Response): Promise<void> {
    const res = this.#res;
    const headers: OutgoingHttpHeaders = { ...this.#headers };
    response.headers.forEach((value, name) => {
      if (name === "vary") headers.vary = headers.vary ? `${headers.vary}, ${value}` : value;
      else headers[name] = value;
    });
    res.writeHead(response.status, headers);
    if (!response.body || this.method === "HEAD") {
      await response.body?.cancel();
      res.end();
      return;
    }
    const reader = response.body.getReader();
    const cancel = () => void reader.cancel().catch(() => undefined);
    res.once("close", cancel);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || res.destroyed) break;
        if (!res.write(value)) {
          await new Promise<void>((resolve) => {
            const go = () => {
              res.off("drain", go);
              res.off("close", go);
              resolve();
            };
            res.on("drain", go);
            res.on("close", go);
          });
        }
      }
    } catch {
      // The stream was cancelled (the client went away) or failed after its head was sent.
      res.destroy();
    } finally {
      res.off("close", cancel);
      res.end();
    }
  }

  disconnect(): void {
    this.#res.destroy();
  }
}

/**
 * The exchange of a fetch Request; `response` resolves with the answer. A streamed answer is a
 * ReadableStream that hands the host one chunk per read: a chunk is "taken" when the host reads
 * it, and at most 16 KiB wait in between (the host's own writer applies its backpressure).
 */
export class FetchExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly requestId: string;
  label = "other";
  readonly response: Promise<Response>;
  readonly #request: Request;
  readonly #headers: HeaderMap = {};
  readonly #abort = new AbortController();
  readonly signal: AbortSignal;
  #respond!: (response: Response) => void;
  #bodyRead = false;

  constructor(request: Request, path: string, query: string, requestId: string) {
    this.#request = request;
    this.method = request.method;
    this.path = path;
    this.query = query;
    this.requestId = requestId;
    this.#headers["x-request-id"] = requestId;
    this.signal = AbortSignal.any([request.signal, this.#abort.signal]);
    this.response = new Promise((resolve) => (this.#respond = resolve));
  }

  header(name: string): string | undefined {
    return this.#request.headers.get(name) ?? undefined;
  }

  headerCount(name: string): number {
    // A Headers object has joined repeated fields; a Host (or :authority) the host parsed is one.
    return this.#request.headers.has(name) ? 1 : 0;
  }

  get bodyUnread(): boolean {
    return !this.#bodyRead && this.#request.body !== null && !this.#request.bodyUsed;
  }

  async readBody(limit: number): Promise<string | undefined> {
    this.#bodyRead = true;
    const body = this.#request.body;
    if (!body) return "";
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  setHeader(name: string, value: string): void {
    if (name === "vary") addVary(this.#headers, value);
    else this.#headers[name] = value;
  }

  send(status: number, body: string | Uint8Array, contentType: string): void {
    const empty = status === 204 || status === 304;
    const headers = empty ? this.#headers : { ...this.#headers, "content-type": contentType, "content-length": String(byteLength(body)) };
    // As DOM's BodyInit types it (the console's type-check reaches this file through the router's type).
    const payload = body as string | Uint8Array<ArrayBuffer>;
    this.#respond(new Response(this.method === "HEAD" || empty ? null : payload, { status, headers }));
  }

  stream(status: number): StreamSink {
    const HIGH_WATER_BYTES = 16 * 1024;
    const queue: { chunk: Uint8Array; onTaken?: () => void }[] = [];
    let queued = 0;
    let closed = this.method === "HEAD";
    let wantsMore: (() => void) | undefined;
    let roomWaiters: (() => void)[] = [];
    const wakeRoom = () => {
      const waiters = roomWaiters;
      roomWaiters = [];
      for (const resolve of waiters) resolve();
    };
    const close = () => {
      closed = true;
      for (const item of queue.splice(0)) item.onTaken?.();
      queued = 0;
      wakeRoom();
      wantsMore?.();
    };
    this.signal.addEventListener("abort", close, { once: true });
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => void (controller = c),
        pull: async () => {
          while (queue.length === 0 && !closed) await new Promise<void>((resolve) => (wantsMore = resolve));
          wantsMore = undefined;
          const item = queue.shift();
          if (!item) return void controller.close();
          queued -= item.chunk.byteLength;
          controller.enqueue(item.chunk);
          item.onTaken?.();
          if (queued < HIGH_WATER_BYTES) wakeRoom();
        },
        cancel: close,
      },
      { highWaterMark: 0 },
    );
    this.#respond(new Response(this.method === "HEAD" ? null : body, { status, headers: this.#headers }));
    return {
      write(chunk, onTaken) {
        if (closed) {
          onTaken?.();
          return false;
        }
        const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
        queue.push({ chunk: bytes, onTaken });
        queued += bytes.byteLength;
        wantsMore?.();
        return queued < HIGH_WATER_BYTES;
      },
      drained: () => (closed || queued < HIGH_WATER_BYTES ? Promise.resolve() : new Promise((resolve) => roomWaiters.push(resolve))),
      get closed() {
        return closed;
      },
      end: () => {
        if (closed) return;
        closed = true;
        wantsMore?.();
      },
      abort: () => {
        if (!closed) controller.error(new Error("disconnected: the subscriber stopped reading"));
        close();
      },
    };
  }

  toRequest(body: string | undefined): Request {
    const url = new URL(this.#request.url);
    return new Request(`${url.origin}${this.path}${this.query ? `?${this.query}` : ""}`, {
      method: this.method === "HEAD" ? "GET" : this.method,
      headers: this.#request.headers,
      body: body === undefined ? undefined : body,
      signal: this.signal,
    });
  }

  async sendResponse(response: Response): Promise<void> {
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(this.#headers)) {
      if (name === "vary" && headers.has("vary")) headers.set("vary", `${headers.get("vary")}, ${value}`);
      else headers.set(name, value);
    }
    // A body the handler can cut (disconnect) without waiting for tRPC's stream to notice.
    const body =
      response.body && this.method !== "HEAD" ? response.body.pipeThrough(new TransformStream(), { signal: this.#abort.signal }) : null;
    if (response.body && !body) await response.body.cancel();
    this.#respond(new Response(body, { status: response.status, headers }));
  }

  disconnect(): void {
    this.#abort.abort();
  }
}
