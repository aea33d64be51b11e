/** Which calls the fast path takes (the rest go to tRPC's stock adapter), and what it answers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createContextInner } from "../context.ts";
import { createAppRouter } from "../router.ts";
import { createSessionService } from "../session/service.ts";
import { openStore } from "../store/open.ts";
import { publicProcedure, router as makeRouter } from "../trpc.ts";
import { createFastPath, type TRPCCall } from "./fast-path.ts";

const router = createAppRouter();
const sessions = createSessionService(await openStore(":memory:"), { version: "1.2.3" });
const fast = createFastPath({ router, onError: () => undefined });

function request(method: string, headers: Record<string, string> = {}) {
  return { method, headers } as unknown as IncomingMessage;
}

function call(paths: string[], search: string | null = null): TRPCCall {
  return {
    paths,
    isBatch: paths.length > 1,
    search: search === null ? null : new URLSearchParams(search),
    input: undefined,
    ctx: createContextInner({ sessions }),
  };
}

/** A response that records what is written to it. */
function response() {
  const written: { status?: number; headers?: Record<string, unknown>; body?: string } = {};
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  const listeners: Record<string, (() => void)[]> = {};
  const res = {
    headersSent: false,
    writableEnded: false,
    once(event: string, listener: () => void) {
      (listeners[event] ??= []).push(listener);
      return res;
    },
    /** The client goes away before the answer. */
    hangUp() {
      for (const listener of listeners.close ?? []) listener();
    },
    writeHead(status: number, headers: Record<string, unknown>) {
      written.status = status;
      written.headers = headers;
      return res;
    },
    end(body: string) {
      written.body = body;
      res.writableEnded = true;
      done();
    },
  };
  return { res: res as unknown as ServerResponse & { hangUp(): void }, written, ended };
}

describe("the fast path's routing decision", () => {
  it.each([
    ["an unknown procedure", request("GET"), call(["session.nope"])],
    ["a query by POST", request("POST"), call(["session.get"])],
    ["a mutation by GET", request("GET"), call(["session.create"])],
    ["a batch mixing a known and an unknown procedure", request("GET"), call(["health", "nope"])],
    ["a streaming request (trpc-accept)", request("GET", { "trpc-accept": "application/jsonl" }), call(["health"])],
    ["a streaming request (accept)", request("GET", { accept: "application/jsonl" }), call(["health"])],
    ["connection parameters", request("GET"), call(["health"], "connectionParams=1")],
    ["an odd path", request("GET"), call(["health/x"])],
  ])("leaves %s to the stock adapter", (_, req, trpcCall) => {
    const { res, written } = response();
    expect(fast(req, res, trpcCall)).toBe(false);
    expect(written.status).toBeUndefined();
  });

  it("answers a plain query itself, as tRPC would", async () => {
    const { res, written, ended } = response();
    expect(fast(request("GET"), res, call(["health"]))).toBe(true);
    await ended;
    expect(written.status).toBe(200);
    expect(written.headers).toMatchObject({ vary: "trpc-accept, accept", "content-type": "application/json" });
    expect(JSON.parse(written.body!)).toEqual({ result: { data: { json: { status: "ok", engine: "sqlite", version: "1.2.3" } } } });
  });
});

describe("the fast path's abort signal", () => {
  it("aborts a call's signal when the client goes away before the answer, as the stock adapter does", async () => {
    let seen: AbortSignal | undefined;
    const waiting = makeRouter({
      wait: publicProcedure.query(
        ({ signal }) =>
          new Promise<boolean>((resolve) => {
            seen = signal;
            signal?.addEventListener("abort", () => resolve(true));
          }),
      ),
    });
    const path = createFastPath({ router: waiting, onError: () => undefined });
    const { res, ended } = response();
    expect(path(request("GET"), res, call(["wait"]))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen?.aborted).toBe(false);
    res.hangUp();
    await ended;
    expect(seen?.aborted).toBe(true);
  });
});

describe("the fast path's calls", () => {
  it("runs a procedure's other middlewares and output parser through tRPC (only plain procedures are called directly)", async () => {
    const seen: string[] = [];
    const custom = makeRouter({
      plain: publicProcedure.input(z.object({ n: z.number() })).query(({ input }) => input.n + 1),
      wrapped: publicProcedure
        .use(({ next }) => {
          seen.push("middleware");
          return next({ ctx: { extra: 41 } });
        })
        .input(z.object({ n: z.number() }))
        .output(z.object({ value: z.number() }).transform((output) => ({ value: output.value * 2 })))
        .query(({ ctx, input }) => ({ value: (ctx as { extra: number }).extra + input.n })),
    });
    const path = createFastPath({ router: custom, onError: () => undefined });
    const answer = async (name: string, input: unknown) => {
      const { res, written, ended } = response();
      expect(path(request("GET"), res, { ...call([name]), input: { json: input } })).toBe(true);
      await ended;
      return { status: written.status, body: JSON.parse(written.body!) as unknown };
    };
    expect(await answer("plain", { n: 1 })).toEqual({ status: 200, body: { result: { data: { json: 2 } } } });
    expect(await answer("wrapped", { n: 1 })).toEqual({ status: 200, body: { result: { data: { json: { value: 84 } } } } });
    expect(seen).toEqual(["middleware"]);
    // The direct call refuses bad input as tRPC's input middleware does.
    const refused = await answer("plain", { n: "x" });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { json: { code: -32600, data: { code: "BAD_REQUEST" } } } });
  });
});
