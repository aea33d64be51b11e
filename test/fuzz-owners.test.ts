/**
 * The isolation fuzz (issue 19): random operations by three owners and the operator, on both
 * engines, through real HTTP. The three owners draw their IDs, parents and idempotency keys from
 * one small pool, so they collide all the time. Every answer is predicted from a model of the
 * acting owner's sessions alone, so an answer that depended on another owner's data would differ;
 * after every step each owner's list is exactly its model, and its live events exactly the changes
 * it made (the operator acts for an owner through the owner header, or lists every owner's).
 *
 * SESSIOND_FUZZ_RUNS scales it: sequences per engine = runs / 25 (default 1500 → 60 sequences of up
 * to 20 operations each).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { hasErrorCode, type SessionClient } from "@sessiond/client";
import { deriveSessionId, type Session, type SessionEvent } from "@sessiond/shared";
import { startTestServer, type TestServer } from "@sessiond/testing";
import { listAll } from "./support/owners.ts";
import { engineTargets, freshPostgresDatabase } from "./support/targets.ts";

const RUNS_PER_ENGINE = Math.max(5, Math.round(Number(process.env.SESSIOND_FUZZ_RUNS ?? 1500) / 25));
const SEED = 20_261_205;
const OWNERS = 3;
const POOL = 3;

type Actor = "self" | "operator";
type Operation =
  | { kind: "create"; owner: number; actor: Actor; id: number | null; parent: number | null; key: number | null; title: string }
  | { kind: "get" | "children"; owner: number; actor: Actor; id: number }
  | { kind: "update"; owner: number; actor: Actor; id: number; title: string; expected: number | null }
  | { kind: "delete"; owner: number; actor: Actor; id: number; expected: number | null };

const owner = fc.integer({ min: 0, max: OWNERS - 1 });
const actor = fc.constantFrom<Actor>("self", "self", "operator");
const index = fc.integer({ min: 0, max: POOL - 1 });
/** `null` (the field left out) `nulls` times as often as a value. */
const maybe = <T>(arbitrary: fc.Arbitrary<T>, nulls = 1) =>
  fc.oneof({ weight: nulls, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("create" as const),
      owner,
      actor,
      id: fc.oneof({ weight: 4, arbitrary: index }, { weight: 1, arbitrary: fc.constant(null) }),
      parent: maybe(index, 3),
      key: maybe(fc.integer({ min: 0, max: 1 }), 2),
      title: fc.constantFrom("a", "b"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("get" as const, "children" as const), owner, actor, id: index }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("update" as const),
      owner,
      actor,
      id: index,
      title: fc.constantFrom("x", "y"),
      expected: maybe(fc.integer({ min: 1, max: 3 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      owner,
      actor,
      id: index,
      expected: maybe(fc.integer({ min: 1, max: 3 })),
    }),
  },
);

/** One owner's sessions as the model knows them. */
interface ModelSession {
  id: string;
  parentId: string | null;
  title: string;
  revision: number;
  key: string | null;
  /** The create's input but its key, as JSON with sorted keys: what a retry must repeat. */
  input: string | null;
}

type Outcome = { ok: unknown } | { code: string; data?: Record<string, unknown> };

const canonical = (value: Record<string, unknown>) =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  );

/** How often each answer came, to show the fuzz reaches every case. */
const tally = new Map<string, number>();

async function outcomeOf(call: Promise<unknown>, kind: string): Promise<Outcome> {
  let outcome: Outcome;
  try {
    outcome = { ok: await call };
  } catch (error) {
    if (!hasErrorCode(error, "NOT_FOUND") && !(error as { data?: { code?: string } }).data?.code) throw error;
    const data = (error as { data: Record<string, unknown> & { code: string } }).data;
    outcome = { code: data.code, data };
  }
  const name = `${kind} ${"ok" in outcome ? "ok" : outcome.code}`;
  tally.set(name, (tally.get(name) ?? 0) + 1);
  return outcome;
}

/** Collects one client's live events from now on. */
function collect(client: SessionClient) {
  const events: SessionEvent[] = [];
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const subscription = client.session.events.subscribe(undefined, {
    onStarted: () => started(),
    onData: ({ data }) => void events.push(data),
  });
  return { events, ready, stop: () => subscription.unsubscribe() };
}

describe.each(engineTargets)("isolation fuzz: three owners and the operator [$name]", (target) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ db: target.engine === "postgres" ? await freshPostgresDatabase() : undefined, owners: true });
  });
  afterAll(() => server?.close());

  it(`keeps ${RUNS_PER_ENGINE} random sequences of every owner's operations to that owner's sessions and events`, async () => {
    let run = 0;
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 4, maxLength: 20, size: "max" }), async (operations) => {
        run++;
        const names = Array.from({ length: OWNERS }, (_, i) => `fuzz-${run}-${i}-${Math.random().toString(36).slice(2, 8)}`);
        const ids = Array.from({ length: POOL }, (_, i) => deriveSessionId(`isolation-${run}-${i}-${names[0]}`));
        const keys = ["job-a", "job-b"];
        const models = names.map(() => new Map<string, ModelSession>());
        const expectedEvents: string[][] = names.map(() => []);
        const clients = names.map((name) => ({ self: server.clientFor(name), operator: server.operatorFor(name) }));
        const streams = names.map((name) => collect(server.clientFor(name)));
        const everyone = collect(server.operator);
        await Promise.all([...streams, everyone].map((stream) => stream.ready));
        const describeEvent = (event: SessionEvent) =>
          `${event.type} ${event.properties.info.owner} ${event.properties.info.id} r${event.properties.info.revision} ${event.properties.info.title}`;
        const record = (who: number, type: string, session: ModelSession) =>
          expectedEvents[who]!.push(`${type} ${names[who]} ${session.id} r${session.revision} ${session.title}`);
        const asSession = (who: number, session: ModelSession) => ({
          id: session.id,
          owner: names[who],
          title: session.title,
          parentId: session.parentId,
          revision: session.revision,
        });

        try {
          for (const op of operations) {
            steps++;
            const model = models[op.owner]!;
            const client = clients[op.owner]![op.actor];
            const context = `${JSON.stringify(op)} in run ${run}`;
            const id = op.kind === "create" ? (op.id === null ? undefined : ids[op.id]) : ids[op.id]!;
            if (op.kind === "create") {
              const parentId = op.parent === null ? undefined : ids[op.parent];
              const key = op.key === null ? undefined : keys[op.key];
              const input = canonical({ id, title: op.title, parentId });
              const outcome = await outcomeOf(
                client.session.create.mutate({ id, title: op.title, parentId, idempotencyKey: key }),
                op.kind,
              );
              const keyed = key === undefined ? undefined : [...model.values()].find((session) => session.key === key);
              if (id !== undefined && id === parentId) expect(outcome, context).toMatchObject({ code: "BAD_REQUEST" });
              else if (keyed && keyed.input === input) expect(outcome, context).toMatchObject({ ok: asSession(op.owner, keyed) });
              else if (keyed)
                expect(outcome, context).toMatchObject({ code: "UNPROCESSABLE_CONTENT", data: { idempotencyKeyReused: { key } } });
              else if (id !== undefined && model.has(id))
                expect(outcome, context).toMatchObject({ code: "CONFLICT", data: { conflict: { id } } });
              else if (parentId !== undefined && !model.has(parentId)) {
                expect(outcome, context).toMatchObject({ code: "NOT_FOUND", data: { notFound: { id: parentId } } });
              } else {
                expect(outcome, context).toHaveProperty("ok");
                const made = (outcome as { ok: Session }).ok;
                if (id !== undefined) expect(made.id, context).toBe(id);
                expect(model.has(made.id), context).toBe(false);
                const session: ModelSession = {
                  id: made.id,
                  parentId: parentId ?? null,
                  title: op.title,
                  revision: 1,
                  key: key ?? null,
                  input,
                };
                expect(made, context).toMatchObject(asSession(op.owner, session));
                model.set(made.id, session);
                record(op.owner, "session.created", session);
              }
            } else if (op.kind === "get" || op.kind === "children") {
              const session = model.get(id!);
              const outcome = await outcomeOf(
                op.kind === "get" ? client.session.get.query({ id: id! }) : client.session.children.query({ id: id!, limit: 200 }),
                op.kind,
              );
              if (!session) expect(outcome, context).toMatchObject({ code: "NOT_FOUND", data: { notFound: { id } } });
              else if (op.kind === "get") expect(outcome, context).toMatchObject({ ok: asSession(op.owner, session) });
              else {
                const children = [...model.values()].filter((child) => child.parentId === id).map((child) => child.id);
                const items = (outcome as { ok: { items: Session[] } }).ok.items;
                expect(items.map((item) => item.id).sort(), context).toEqual(children.sort());
              }
            } else if (op.kind === "update") {
              const session = model.get(id!);
              const outcome = await outcomeOf(
                client.session.update.mutate({ id: id!, title: op.title, expectedRevision: op.expected ?? undefined }),
                op.kind,
              );
              if (!session) expect(outcome, context).toMatchObject({ code: "NOT_FOUND", data: { notFound: { id } } });
              else if (op.expected !== null && op.expected !== session.revision) {
                expect(outcome, context).toMatchObject({
                  code: "PRECONDITION_FAILED",
                  data: { precondition: { id, expectedRevision: op.expected, actualRevision: session.revision } },
                });
              } else {
                session.revision++;
                session.title = op.title;
                expect(outcome, context).toMatchObject({ ok: asSession(op.owner, session) });
                record(op.owner, "session.updated", session);
              }
            } else if (op.kind === "delete") {
              const session = model.get(id!);
              const outcome = await outcomeOf(
                client.session.delete.mutate({ id: id!, expectedRevision: op.expected ?? undefined }),
                op.kind,
              );
              if (!session) expect(outcome, context).toMatchObject({ code: "NOT_FOUND", data: { notFound: { id } } });
              else if (op.expected !== null && op.expected !== session.revision) {
                expect(outcome, context).toMatchObject({ code: "PRECONDITION_FAILED" });
              } else {
                // The session, then its descendants level by level, each level by ID (as the stores walk).
                const walk = [session];
                for (let level = [session]; level.length > 0; ) {
                  level = [...model.values()]
                    .filter((child) => level.some((parent) => parent.id === child.parentId))
                    .sort((a, b) => (a.id < b.id ? -1 : 1));
                  walk.push(...level);
                }
                expect(outcome, context).toEqual({ ok: { deleted: walk.map((gone) => gone.id) } });
                for (const gone of walk) {
                  model.delete(gone.id);
                  record(op.owner, "session.deleted", gone);
                }
              }
            }

            // Each owner's view: exactly its own sessions (through its token and the operator acting for it)...
            for (const [who, name] of names.entries()) {
              const listed = await listAll(clients[who]!.self);
              expect(listed.map((session) => session.id).sort(), `${name}'s list after ${context}`).toEqual(
                [...models[who]!.keys()].sort(),
              );
              for (const session of listed)
                expect(session, `${name}'s ${session.id}`).toMatchObject(asSession(who, models[who]!.get(session.id)!));
            }
            // ...and exactly the events of its own changes, in order.
            for (const [who, stream] of streams.entries()) {
              const deadline = Date.now() + 10_000;
              while (stream.events.length < expectedEvents[who]!.length && Date.now() < deadline) {
                await new Promise((resolve) => setTimeout(resolve, 10));
              }
              expect(stream.events.map(describeEvent), `${names[who]}'s events after ${context}`).toEqual(expectedEvents[who]);
            }
          }
          // The operator's list of every owner: these three owners' sessions, each once.
          const everyOwner = (await listAll(server.operator)).filter((session) => names.includes(session.owner));
          const union = names.flatMap((name, who) => [...models[who]!.values()].map((session) => `${name} ${session.id}`));
          expect(everyOwner.map((session) => `${session.owner} ${session.id}`).sort()).toEqual(union.sort());
          // The operator's events: every one of theirs, none lost, none doubled.
          const total = expectedEvents.flat().length;
          const deadline = Date.now() + 10_000;
          const theirs = () => everyone.events.filter((event) => names.includes(event.properties.info.owner));
          while (theirs().length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
          expect(theirs().map(describeEvent).sort()).toEqual(expectedEvents.flat().sort());
        } finally {
          for (const stream of [...streams, everyone]) stream.stop();
        }
      }),
      { numRuns: RUNS_PER_ENGINE, seed: SEED, endOnFailure: true },
    );
    const answers = [...tally].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, count]) => `${name} ${count}`);
    console.info(`isolation fuzz [${target.name}]: ${run} sequences, ${steps} operations; answers: ${answers.join(", ")}`);
    tally.clear();
  }, 300_000);
});
