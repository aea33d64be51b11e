/** What every bench server shares: --db, the {"url"} line the bench waits for, a clean stop on SIGTERM or when the bench goes. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export function dbArg(): string {
  const db = process.argv[process.argv.indexOf("--db") + 1];
  if (process.argv.includes("--db") && db) return db;
  process.stderr.write("usage: <server> --db <sqlite file or postgres:// URL>\n");
  process.exit(2);
}

export function announce(url: string, close: () => Promise<void> | void): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 5000).unref(); // a stuck close still ends the process
    Promise.resolve(close())
      .catch((error: unknown) => process.stderr.write(`close failed: ${String(error)}\n`))
      .finally(() => process.exit(0));
  };
  for (const event of ["SIGTERM", "SIGINT", "disconnect"]) process.on(event, stop);
  process.stdout.write(`${JSON.stringify({ url })}\n`);
}

/** Listens on a free loopback port and announces it; `closeRest` then closes what the server used. */
export async function listen(server: Server, closeRest: () => Promise<void> | void): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
    await closeRest();
  });
}
