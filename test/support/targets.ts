/**
 * The servers the contract suite runs against. Every behaviour is written once and runs on each
 * target: a real server over real HTTP, reached through the typed client.
 */
import { afterAll, beforeAll, describe } from "vitest";
import { startTestServer, type TestServer } from "@sessiond/server/testing";
import type { Session } from "@sessiond/shared";

export interface Target {
  name: string;
  start(): Promise<TestServer>;
}

export const targets: Target[] = [{ name: "sqlite", start: () => startTestServer() }];

/** A describe block per target; `server()` is that target's running server. */
export function describeContract(title: string, body: (server: () => TestServer) => void): void {
  describe.each(targets)(`${title} [$name]`, (target) => {
    let running: TestServer | undefined;
    beforeAll(async () => {
      running = await target.start();
    });
    afterAll(async () => {
      await running?.close();
    });
    body(() => {
      if (!running) throw new Error("the target server is not running");
      return running;
    });
  });
}

/** Every stored session, read straight from the store: to show that a rejected call changed nothing. */
export async function storedSessions(server: TestServer): Promise<Session[]> {
  return server.sessions.store.list({ limit: 1_000_000, after: null });
}
