/**
 * A raw server-sent-events reader over node:http, for `GET /event` without any SSE library: it
 * parses frames as the spec says, exposes comments (heartbeats), and can cut the connection.
 */
import { request, type IncomingMessage } from "node:http";

export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
}

export interface SseConnection {
  status: number;
  headers: IncomingMessage["headers"];
  /** The body of a non-200 answer. */
  body: string;
  frames: SseFrame[];
  comments: string[];
  /** Resolves once `count` frames have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseFrame[]>;
  /** Resolves once the frame with this ID (or a later one) has arrived. */
  waitForId(id: number, timeoutMs?: number): Promise<SseFrame[]>;
  /** Resolves when the server ends or cuts the stream. */
  ended: Promise<void>;
  /** Destroys the socket, as a crashing client or a broken network would. */
  kill(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      const frames: SseFrame[] = [];
      const comments: string[] = [];
      const waiters: (() => void)[] = [];
      let buffer = "";
      let body = "";
      let endedResolve: () => void;
      const ended = new Promise<void>((done) => (endedResolve = done));
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (res.statusCode !== 200) {
          body += chunk;
          return;
        }
        buffer += chunk;
        for (let cut = buffer.indexOf("\n\n"); cut !== -1; cut = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const frame: SseFrame = { data: "" };
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else if (line.startsWith("id: ")) frame.id = line.slice(4);
            else if (line.startsWith("event: ")) frame.event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length > 0 || frame.event) {
            frame.data = data.join("\n");
            frames.push(frame);
          }
        }
        for (const wake of waiters.splice(0)) wake();
      });
      const finish = () => {
        endedResolve();
        for (const wake of waiters.splice(0)) wake();
      };
      res.on("end", finish);
      res.on("close", finish);
      res.on("error", finish);
      const connection: SseConnection = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        get body() {
          return body;
        },
        frames,
        comments,
        async waitFor(count, timeoutMs = 20_000) {
          const deadline = Date.now() + timeoutMs;
          while (frames.length < count) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} frames; have ${frames.length}`);
            await new Promise<void>((wake) => {
              const timer = setTimeout(wake, 100);
              waiters.push(() => {
                clearTimeout(timer);
                wake();
              });
            });
          }
          return frames.slice(0, count);
        },
        async waitForId(id, timeoutMs = 20_000) {
          const deadline = Date.now() + timeoutMs;
          while (!frames.some((frame) => Number(frame.id) >= id)) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for event ${id}; have ${frames.length} frames`);
            await new Promise<void>((wake) => {
              const timer = setTimeout(wake, 100);
              waiters.push(() => {
                clearTimeout(timer);
                wake();
              });
            });
          }
          return frames.slice();
        },
        ended,
        kill: () => {
          req.destroy();
          res.destroy();
        },
      };
      if (res.statusCode !== 200) res.on("end", () => resolve(connection));
      else resolve(connection);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The events of a frame list as `{ id, type, info }`, dates still ISO strings. */
export function decodeFrames(
  frames: SseFrame[],
): { id: number; type: string; info: { id: string; parentId: string | null; title: string; [key: string]: unknown } }[] {
  return frames
    .filter((frame) => frame.event === undefined)
    .map((frame) => {
      const { type, properties } = JSON.parse(frame.data) as {
        type: string;
        properties: { info: { id: string; parentId: string | null; title: string } };
      };
      return { id: Number(frame.id), type, info: properties.info };
    });
}
