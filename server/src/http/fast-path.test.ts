/** Which calls the fast path takes (the rest go to tRPC's stock path), and what it answers. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createContextInner } from "../context.ts";
import { createAppRouter } from "../router.ts";
import { createSessionService } from "../session/service.ts";
import { openStore } from "../store/open.ts";
import { createSessiondTRPC } from "../trpc.ts";
import { FetchExchange, NodeExchange } from "./exchange.ts";
import { createFastPath, type TRPCCall } from "./fast-path.ts";

const sessions = createSessionService(await openStore(":memory:"), { version: "1.2.3" });
const router = createAppRouter({ sessions });
const fast = createFastPath({ router, onError: () => undefined });
const t = createSessiondTRPC();

/** A request and its answer, through the fetch exchange (the abort controller is the client hanging up). */
function exchange(method: string, headers: Record<string, string> = {}) {
  const hangUp = new AbortController();
  const request = new Request("http://127.0.0.1/trpc/x", { method, headers, signal: hangUp.signal });
  const ex = new FetchExchange(request, "/trpc/x", "", "req-1");
  return { ex, hangUp: () => hangUp.abort() };
}

async function answer(ex: FetchExchange) {
  const response = await ex.response;
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

function call(paths: string[], search: string | null = null): TRPCCall {
  return {
    paths,
    isBatch: paths.length > 1,
    search: search === null ? null : new URLSearchParams(search),
    input: undefined,
    ctx: createContextInner(),
  };
}

describe("the fast path's routing decision", () => {
  it.each([
    ["an unknown procedure", "GET", {}, call(["session.nope"])],
    ["a query by POST", "POST", {}, call(["session.get"])],
    ["a mutation by GET", "GET", {}, call(["session.create"])],
    ["a batch mixing a known and an unknown procedure", "GET", {}, call(["health", "nope"])],
    ["a streaming request (trpc-accept)", "GET", { "trpc-accept": "application/jsonl" }, call(["health"])],
    ["a streaming request (accept)", "GET", { accept: "application/jsonl" }, call(["health"])],
    ["connection parameters", "GET", {}, call(["health"], "connectionParams=1")],
    ["an odd path", "GET", {}, call(["health/x"])],
  ])("leaves %s to the stock path", async (_, method, headers, trpcCall) => {
    const { ex } = exchange(method, headers);
    expect(fast(ex, trpcCall)).toBe(false);
    const nothing = Symbol("no answer");
    expect(await Promise.race([ex.response, new Promise((resolve) => setTimeout(resolve, 20, nothing))])).toBe(nothing);
  });

  it("answers a plain query itself, as tRPC would", async () => {
    const { ex } = exchange("GET");
    expect(fast(ex, call(["health"]))).toBe(true);
    const written = await answer(ex);
    expect(written.status).toBe(200);
    expect(written.headers).toMatchObject({ vary: "trpc-accept, accept", "content-type": "application/json" });
    expect(JSON.parse(written.body)).toEqual({ result: { data: { json: { status: "ok", engine: "sqlite", version: "1.2.3" } } } });
  });
});

/** A router whose one query waits until its call's signal aborts; `seen()` is the signal it got. */
function waitingRouter() {
  let seen: AbortSignal | undefined;
  const router = t.router({
    wait: t.procedure.query(
      ({ signal }) =>
        new Promise<boolean>((resolve) => {
          seen = signal;
          signal?.addEventListener("abort", () => resolve(true));
        }),
    ),
  });
  return { router, seen: () => seen };
}

describe("the fast path's abort signal", () => {
  it("aborts a call's signal when the client goes away before the answer, as the stock adapter does", async () => {
    const { router, seen } = waitingRouter();
    const path = createFastPath({ router, onError: () => undefined });
    const { ex, hangUp } = exchange("GET");
    expect(path(ex, call(["wait"]))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen()?.aborted).toBe(false);
    hangUp();
    await ex.response;
    expect(seen()?.aborted).toBe(true);
  });

  it("aborts it on node:http too, when the client closes the connection", async () => {
    const { router, seen } = waitingRouter();
    const path = createFastPath({ router, onError: () => undefined });
    const server = createServer((req, res) => path(new NodeExchange(req, res, "/trpc/wait", "", "req-1"), call(["wait"])));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = new AbortController();
    const request = fetch(`http://127.0.0.1:${port}/trpc/wait`, { signal: client.signal }).catch(() => undefined);
    while (!seen()) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen()!.aborted).toBe(false);
    client.abort();
    await request;
    while (!seen()!.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
    server.close();
  });
});

describe("the fast path's calls", () => {
  it("gives a plain procedure's resolver what tRPC gives it", async () => {
    let given: Record<string, unknown> = {};
    const recording = t.router({
      record: t.procedure.input(z.object({ n: z.number() })).query(async (opts) => {
        // tRPC's type names fewer of the options than tRPC passes.
        const untyped = opts as unknown as { type: string; getRawInput(): Promise<unknown> };
        const { ctx, path, input, signal } = opts;
        given = { ctx, path, type: untyped.type, input, aborted: signal?.aborted, raw: await untyped.getRawInput() };
        return 1;
      }),
    });
    const fastPath = createFastPath({ router: recording, onError: () => undefined });
    const { ex } = exchange("GET");
    const made = call(["record"]);
    expect(fastPath(ex, { ...made, input: { json: { n: 1 } } })).toBe(true);
    expect((await answer(ex)).status).toBe(200);
    expect(given).toEqual({ ctx: made.ctx, path: "record", type: "query", input: { n: 1 }, aborted: false, raw: { n: 1 } });
  });

  it("runs a procedure's other middlewares and output parser through tRPC (only plain procedures are called directly)", async () => {
    const seen: string[] = [];
    const custom = t.router({
      plain: t.procedure.input(z.object({ n: z.number() })).query(({ input }) => input.n + 1),
      wrapped: t.procedure
        .use(({ next }) => {
          seen.push("middleware");
          return next({ ctx: { extra: 41 } });
        })
        .input(z.object({ n: z.number() }))
        .output(z.object({ value: z.number() }).transform((output) => ({ value: output.value * 2 })))
        .query(({ ctx, input }) => ({ value: (ctx as { extra: number }).extra + input.n })),
    });
    const path = createFastPath({ router: custom, onError: () => undefined });
    const answerTo = async (name: string, input: unknown) => {
      const { ex } = exchange("GET");
      expect(path(ex, { ...call([name]), input: { json: input } })).toBe(true);
      const written = await answer(ex);
      return { status: written.status, body: JSON.parse(written.body) as unknown };
    };
    expect(await answerTo("plain", { n: 1 })).toEqual({ status: 200, body: { result: { data: { json: 2 } } } });
    expect(await answerTo("wrapped", { n: 1 })).toEqual({ status: 200, body: { result: { data: { json: { value: 84 } } } } });
    expect(seen).toEqual(["middleware"]);
    // The direct call refuses bad input as tRPC's input middleware does.
    const refused = await answerTo("plain", { n: "x" });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { json: { code: -32600, data: { code: "BAD_REQUEST" } } } });
  });
});
