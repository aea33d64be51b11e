import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What every bench server entry shares: the --db argument, the URL line on stdout that the parent
 * waits for, RSS on request over the IPC channel (bench only, never in the product), and a clean
 * stop on SIGTERM or when the parent goes away.
 */

export function dbArg(): string {
  const index = process.argv.indexOf("--db");
  const db = index === -1 ? undefined : process.argv[index + 1];
  if (!db) {
    process.stderr.write("usage: <entry> --db <sqlite file>\n");
    process.exit(2);
  }
  return db;
}

interface RssRequest {
  type: "rss";
  seq: number;
}

function isRssRequest(message: unknown): message is RssRequest {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "rss";
}

/** Announces the server and wires up the bench protocol. `close` stops the server and its store. */
export function announce(url: string, close: () => Promise<void>): void {
  process.on("message", (message: unknown) => {
    if (!isRssRequest(message)) return;
    const usage = process.memoryUsage();
    process.send?.({ type: "rss", seq: message.seq, rss: usage.rss, heapUsed: usage.heapUsed });
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Never hang: a stuck close still ends the process.
    setTimeout(() => process.exit(0), 5000).unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("disconnect", stop);
  process.stdout.write(`${JSON.stringify({ url })}\n`);
}

/** Listens on a free loopback port and announces it; `closeRest` then closes what the server used. */
export async function listenAndAnnounce(server: Server, closeRest: () => Promise<void> | void): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  announce(`http://127.0.0.1:${port}`, async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await closeRest();
  });
}
